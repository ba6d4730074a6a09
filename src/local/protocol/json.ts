/**
 * AWS JSON 1.0 / 1.1 codec: `POST /` with `X-Amz-Target: <Prefix>.<Operation>` and a JSON body.
 * Decodes the input, encodes results (Dates become epoch seconds, as the protocol wants) and
 * errors (`{"__type","message"}` plus the `x-amzn-ErrorType` header).
 */
import type { AwsResponse } from '../types.js';
import { AwsError } from '../core/errors.js';

export type JsonVersion = '1.0' | '1.1';

export function parseTarget(target: string): { prefix: string; operation: string } | undefined {
  const dot = target.lastIndexOf('.');
  if (dot <= 0 || dot === target.length - 1) return undefined;
  return { prefix: target.slice(0, dot), operation: target.slice(dot + 1) };
}

export function decodeJsonBody(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('SerializationException', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/** JSON.stringify replacer: the JSON protocols send timestamps as epoch seconds. */
function replacer(this: unknown, key: string, value: unknown): unknown {
  const holder = this as Record<string, unknown>;
  const original = holder[key];
  if (original instanceof Date) return original.getTime() / 1000;
  return value;
}

export function encodeJsonResult(result: unknown, version: JsonVersion, requestId: string): AwsResponse {
  return {
    status: 200,
    headers: {
      'content-type': `application/x-amz-json-${version}`,
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify(result ?? {}, replacer),
  };
}

export function encodeJsonError(error: AwsError, version: JsonVersion, requestId: string): AwsResponse {
  return {
    status: error.status,
    headers: {
      'content-type': `application/x-amz-json-${version}`,
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': error.code,
    },
    body: JSON.stringify({ __type: error.code, message: error.message, ...error.fields }),
  };
}
