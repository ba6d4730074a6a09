/**
 * REST-JSON codec (Personalize Runtime: `POST /recommendations`, `POST /personalize-ranking`): the
 * route names the operation, the JSON body and the path's `{member}` segments are its input, the
 * output is a JSON body, errors carry `x-amzn-errortype` and `{"message"}` as restJson1 services
 * send them. Timestamps are epoch seconds, as in AWS JSON.
 */
import type { AwsResponse } from '../types.js';
import { AwsError } from '../core/errors.js';
import { decodeJsonBody } from './json.js';

export function decodeRestJsonInput(
  body: Buffer,
  pathMembers: Record<string, string>,
): Record<string, unknown> {
  // Null prototype, like the JSON body itself (json.ts).
  const input = decodeJsonBody(body);
  for (const [key, value] of Object.entries(pathMembers))
    Object.defineProperty(input, key, { value, enumerable: true, writable: true, configurable: true });
  return input;
}

/** JSON.stringify replacer: Dates become epoch seconds. */
function replacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  return original instanceof Date ? original.getTime() / 1000 : value;
}

export function encodeRestJsonResult(result: unknown, status: number, requestId: string): AwsResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
    body: JSON.stringify(result ?? {}, replacer),
  };
}

export function encodeRestJsonError(error: AwsError, requestId: string): AwsResponse {
  return {
    status: error.status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': error.code,
    },
    body: JSON.stringify({ message: error.message, ...error.fields }),
  };
}
