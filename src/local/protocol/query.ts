/**
 * AWS Query protocol codec (form-encoded `Action=…&Version=…` POSTs, XML responses), used by
 * CloudFormation. Decodes the flattened parameter names (`Parameters.member.1.ParameterKey`,
 * `Tags.member.2.Value`, `Capabilities.member.1`, `X.entry.1.key`) into a tree, offers typed
 * accessors over that tree, and encodes results and errors the way the Query services do:
 * `<XResponse xmlns><XResult>…</XResult><ResponseMetadata>`, lists as `<member>` elements,
 * timestamps as ISO-8601, booleans as `true`/`false`.
 *
 * Every structure the decoder builds has no prototype: a parameter named `__proto__.X`,
 * `constructor.X` or `prototype.X` becomes an ordinary member, never a write into a shared prototype.
 */
import { escapeXml } from './xml.js';
import type { AwsResponse } from '../types.js';
import { AwsError } from '../core/errors.js';
import { isQueryObject, type QueryObject, type QueryValue } from '../core/query-input.js';

export type { QueryObject, QueryValue } from '../core/query-input.js';

export interface QueryRequest {
  action: string;
  version: string | undefined;
  /** Every parameter except Action and Version, as a tree. */
  input: QueryObject;
}

export function decodeQueryBody(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString('utf8'));
}

/**
 * Builds the tree. `member.N` / `entry.N` (1-based) become list positions; a map's
 * `entry.N.key` / `entry.N.value` pairs become object keys. A bare `Name=` stays the empty
 * string: AWS SDKs send it for an empty list, and `queryList` reads it as one.
 */
/** A structure with no prototype (see the module header). */
function structure(): QueryObject {
  return Object.create(null) as QueryObject;
}

export function decodeQueryRequest(params: URLSearchParams): QueryRequest {
  const root = structure();
  let action = '';
  let version: string | undefined;
  for (const [name, value] of params) {
    if (name === 'Action') {
      action = value;
      continue;
    }
    if (name === 'Version') {
      version = value;
      continue;
    }
    setPath(root, name.split('.'), value);
  }
  return { action, version, input: convertMaps(root) as QueryObject };
}

function setPath(root: QueryObject, parts: string[], value: string): void {
  let node: QueryObject = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    if (last) {
      // A later scalar never overwrites a structure (`Tags=` followed by `Tags.member.1.Key`).
      if (!(Object.hasOwn(node, part) && isQueryObject(node[part]))) node[part] = value;
      return;
    }
    const existing = Object.hasOwn(node, part) ? node[part] : undefined;
    if (!isQueryObject(existing)) {
      const created = structure();
      node[part] = created;
      node = created;
    } else {
      node = existing;
    }
  }
}

/** `{member: {1: a, 2: b}}` → `[a, b]`; `{entry: {1: {key, value}}}` → `{key: value}`; recursively. */
function convertMaps(value: QueryValue): QueryValue {
  if (!isQueryObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && (keys[0] === 'member' || keys[0] === 'entry') && isQueryObject(value[keys[0]])) {
    const indexed = value[keys[0]] as QueryObject;
    const positions = Object.keys(indexed)
      .filter((key) => /^[1-9]\d*$/.test(key))
      .sort((a, b) => Number(a) - Number(b));
    const items = positions.map((key) => convertMaps(indexed[key] as QueryValue));
    if (keys[0] === 'member') return items;
    const map = structure();
    for (const item of items) {
      if (isQueryObject(item) && typeof item.key === 'string') map[item.key] = item.value ?? '';
    }
    return map;
  }
  const out = structure();
  for (const key of keys) out[key] = convertMaps(value[key] as QueryValue);
  return out;
}

// --- Responses

/** Serializes one value as the children of an element (objects) or its text (scalars). */
function encodeValue(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return escapeXml(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) {
    return value
      .filter((item) => item !== undefined && item !== null)
      .map((item) => `<member>${encodeValue(item)}</member>`)
      .join('');
  }
  if (typeof value === 'object' && value !== null) {
    let xml = '';
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      if (item === undefined || item === null) continue;
      const inner = encodeValue(item);
      xml += inner === '' ? `<${key}/>` : `<${key}>${inner}</${key}>`;
    }
    return xml;
  }
  return '';
}

/**
 * A successful Query response. `result` undefined means the operation has no output shape
 * (e.g. DeleteStack): only `ResponseMetadata` is sent, as AWS does.
 */
export function encodeQueryResult(
  action: string,
  result: unknown,
  requestId: string,
  xmlns: string,
): AwsResponse {
  const body = result === undefined ? '' : `<${action}Result>${encodeValue(result)}</${action}Result>`;
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${escapeXml(xmlns)}">` +
    `${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: xml,
  };
}

export function encodeQueryError(error: AwsError, requestId: string, xmlns: string): AwsResponse {
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${escapeXml(xmlns)}"><Error>` +
    `<Type>${error.isServerFault ? 'Receiver' : 'Sender'}</Type>` +
    `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>` +
    `</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: xml,
  };
}
