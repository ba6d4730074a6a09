/**
 * AWS JSON 1.0 / 1.1 codec: `POST /` with `X-Amz-Target: <Prefix>.<Operation>` and a JSON body.
 * Decodes the input, encodes results (Dates become epoch seconds, as the protocol wants) and
 * errors (`{"__type","message"}` plus the `x-amzn-ErrorType` header).
 *
 * Decoded objects have no prototype: a member named `__proto__`, `constructor` or `prototype` is
 * data like any other, so no later copy or merge of the input can write into a shared prototype.
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
    value = JSON.parse(text, withoutPrototype);
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AwsError('SerializationException', 'The request body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

/** JSON.parse reviver: every object becomes a null-prototype copy with the same own members. */
function withoutPrototype(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out = Object.create(null) as Record<string, unknown>;
  // defineProperty, not assignment: `__proto__` stays an own member even on an ordinary object.
  for (const [key, member] of Object.entries(value))
    Object.defineProperty(out, key, { value: member, enumerable: true, writable: true, configurable: true });
  return out;
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
