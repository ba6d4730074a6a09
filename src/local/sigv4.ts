/**
 * AWS Signature Version 4 verification for the local stack: parses the `Authorization` header
 * (or a presigned URL's `X-Amz-*` query parameters), rebuilds the canonical request exactly as
 * the signer did, and compares signatures in constant time. Requests signed with anything other
 * than the local stack's own credentials are refused the way AWS refuses them; so are Signature
 * Version 2 (header or presigned URL) and presigned URLs valid for more than a week.
 *
 * Header values are bytes on the wire. A client that sends UTF-8 metadata (`x-amz-meta-*`) signs
 * those bytes; the SDKs for JavaScript and Python sign the value's UTF-8 but send each character as
 * one Latin-1 byte. Both are accepted: the canonical request is checked as the bytes received and,
 * when a signed header holds non-ASCII bytes, also as those bytes read as Latin-1 characters.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** AWS rejects requests whose signing time is further than this from the server's clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned URL may be valid: seven days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604800;

export interface ParsedSignature {
  accessKeyId: string;
  /** `YYYYMMDD` from the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** `YYYYMMDDTHHMMSSZ` signing time. */
  amzDate: string;
  presigned: boolean;
  /** Presigned URLs only: seconds the URL stays valid. */
  expiresSeconds: number | undefined;
}

export type SignatureProblem =
  | { kind: 'missing' }
  | { kind: 'malformed'; message: string }
  | { kind: 'unknown-key'; accessKeyId: string }
  | { kind: 'mismatch'; stringToSign: string; canonicalRequest: string }
  | { kind: 'skewed'; amzDate: string }
  | { kind: 'expired' }
  /** Signature Version 2: an `AWS key:signature` header or `AWSAccessKeyId`/`Signature` query. */
  | { kind: 'sigv2' }
  /** A presigned URL's X-Amz-* parameters are invalid (S3: AuthorizationQueryParametersError). */
  | { kind: 'query-parameters'; message: string }
  /** The credential scope names another region or service than this endpoint serves. */
  | { kind: 'scope'; part: 'region' | 'service'; given: string; expected: string; presigned: boolean };

export interface SignedRequestParts {
  method: string;
  rawPath: string;
  rawQuery: string;
  /** Node's `rawHeaders`: alternating names and values, as received. */
  rawHeaders: string[];
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters is %-escaped. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function parseAmzDate(amzDate: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

function headerValue(rawHeaders: string[], name: string): string | undefined {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  }
  return values.length === 0 ? undefined : values.join(',');
}

/**
 * Reads the signature from the request. Returns `undefined` when the request carries none
 * (anonymous), or a problem when it is there but malformed.
 */
export function parseSignature(
  parts: SignedRequestParts,
  query: URLSearchParams,
): ParsedSignature | undefined | SignatureProblem {
  const authorization = headerValue(parts.rawHeaders, 'authorization');
  if (authorization !== undefined) {
    const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authorization.trim());
    if (!m) {
      if (/^AWS [^:\s]+:/.test(authorization.trim())) return { kind: 'sigv2' };
      return {
        kind: 'malformed',
        message: authorization.startsWith('AWS ')
          ? 'Signature Version 2 is not supported; sign requests with Signature Version 4.'
          : 'The authorization header is malformed; expected AWS4-HMAC-SHA256.',
      };
    }
    const fields = new Map<string, string>();
    for (const piece of m[1]!.split(',')) {
      const eq = piece.indexOf('=');
      if (eq > 0) fields.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
    }
    const credential = fields.get('Credential');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    const amzDate = headerValue(parts.rawHeaders, 'x-amz-date');
    if (!credential || !signedHeaders || !signature) {
      return {
        kind: 'malformed',
        message:
          'The authorization header is malformed; Credential, SignedHeaders and Signature are required.',
      };
    }
    if (!amzDate) return { kind: 'malformed', message: 'The request is missing the X-Amz-Date header.' };
    return finish(credential, signedHeaders, signature, amzDate.trim(), false, undefined);
  }
  if (query.get('X-Amz-Algorithm') !== null) {
    if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
      return { kind: 'malformed', message: 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".' };
    }
    const credential = query.get('X-Amz-Credential');
    const signedHeaders = query.get('X-Amz-SignedHeaders');
    const signature = query.get('X-Amz-Signature');
    const amzDate = query.get('X-Amz-Date');
    const expiresText = query.get('X-Amz-Expires') ?? String(MAX_PRESIGNED_EXPIRES_SECONDS);
    if (!/^-?\d+$/.test(expiresText))
      return { kind: 'query-parameters', message: 'X-Amz-Expires should be a number' };
    const expires = Number(expiresText);
    if (expires < 0) return { kind: 'query-parameters', message: 'X-Amz-Expires must be non-negative' };
    if (expires > MAX_PRESIGNED_EXPIRES_SECONDS) {
      return {
        kind: 'query-parameters',
        message: `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}`,
      };
    }
    if (!credential || !signedHeaders || !signature || !amzDate) {
      return {
        kind: 'malformed',
        message:
          'Query-string authentication requires X-Amz-Credential, X-Amz-SignedHeaders, X-Amz-Signature and X-Amz-Date.',
      };
    }
    return finish(credential, signedHeaders, signature, amzDate, true, expires);
  }
  // Signature Version 2 query authentication (what AWS CLI v1 presigns for a custom endpoint).
  if (query.get('AWSAccessKeyId') !== null && query.get('Signature') !== null) return { kind: 'sigv2' };
  return undefined;
}

function finish(
  credential: string,
  signedHeaders: string,
  signature: string,
  amzDate: string,
  presigned: boolean,
  expiresSeconds: number | undefined,
): ParsedSignature | SignatureProblem {
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return {
      kind: 'malformed',
      message: `The credential "${credential}" is malformed; expected "<key>/<date>/<region>/<service>/aws4_request".`,
    };
  }
  if (parseAmzDate(amzDate) === undefined) {
    return { kind: 'malformed', message: `X-Amz-Date "${amzDate}" is not in the format YYYYMMDDTHHMMSSZ.` };
  }
  return {
    accessKeyId: scope[0]!,
    scopeDate: scope[1]!,
    region: scope[2]!,
    service: scope[3]!,
    signedHeaders: signedHeaders.split(';').map((h) => h.trim().toLowerCase()),
    signature: signature.toLowerCase(),
    amzDate,
    presigned,
    expiresSeconds,
  };
}

function canonicalQuery(rawQuery: string, dropSignature: boolean): string {
  const pairs: Array<[string, string]> = [];
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = safeDecode(eq < 0 ? piece : piece.slice(0, eq));
    const value = eq < 0 ? '' : safeDecode(piece.slice(eq + 1));
    if (dropSignature && key === 'X-Amz-Signature') continue;
    pairs.push([uriEncode(key), uriEncode(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function canonicalPath(rawPath: string, isS3: boolean): string {
  const p = rawPath === '' ? '/' : rawPath;
  // S3 signs the path exactly as sent; every other service signs it escaped once more.
  if (isS3) return p;
  return p
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

export function signingKey(
  secretAccessKey: string,
  scopeDate: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac(`AWS4${secretAccessKey}`, scopeDate);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

export interface VerifyOptions {
  /** Hex SHA-256 of the payload, or the literal the client signed (UNSIGNED-PAYLOAD, STREAMING-…). */
  payloadHash: string;
  secretAccessKey: string;
  now: Date;
}

/** Checks a parsed signature against the request. Returns undefined when it is valid. */
export function verifySignature(
  parts: SignedRequestParts,
  sig: ParsedSignature,
  options: VerifyOptions,
): SignatureProblem | undefined {
  const signedAt = parseAmzDate(sig.amzDate)!;
  if (sig.presigned) {
    const expires = sig.expiresSeconds ?? 604800;
    if (options.now.getTime() > signedAt.getTime() + expires * 1000) return { kind: 'expired' };
    if (signedAt.getTime() - options.now.getTime() > MAX_CLOCK_SKEW_MS)
      return { kind: 'skewed', amzDate: sig.amzDate };
  } else if (Math.abs(options.now.getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
    return { kind: 'skewed', amzDate: sig.amzDate };
  }
  const isS3 = sig.service === 's3';
  const headerLines = sig.signedHeaders.map((name) => {
    const value = headerValue(parts.rawHeaders, name) ?? '';
    return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
  });
  const canonicalRequest = [
    parts.method,
    canonicalPath(parts.rawPath, isS3),
    canonicalQuery(parts.rawQuery, sig.presigned),
    headerLines.join(''),
    sig.signedHeaders.join(';'),
    options.payloadHash,
  ].join('\n');
  const scope = `${sig.scopeDate}/${sig.region}/${sig.service}/aws4_request`;
  const key = signingKey(options.secretAccessKey, sig.scopeDate, sig.region, sig.service);
  const given = Buffer.from(sig.signature, 'hex');
  const matches = (canonicalBytes: Buffer): string | undefined => {
    const stringToSign = [
      'AWS4-HMAC-SHA256',
      sig.amzDate,
      scope,
      createHash('sha256').update(canonicalBytes).digest('hex'),
    ].join('\n');
    const expected = createHmac('sha256', key).update(stringToSign, 'utf8').digest();
    return given.length === expected.length && timingSafeEqual(given, expected) ? undefined : stringToSign;
  };
  // Node hands header values over as Latin-1 (one character per byte received): the bytes as sent…
  const asSent = matches(Buffer.from(canonicalRequest, 'latin1'));
  if (asSent === undefined) return undefined;
  // …or, when a value holds non-ASCII bytes, the UTF-8 of those characters (JS and Python SDKs).
  if (
    /[\u0080-\uffff]/.test(canonicalRequest) &&
    matches(Buffer.from(canonicalRequest, 'utf8')) === undefined
  )
    return undefined;
  return { kind: 'mismatch', stringToSign: asSent, canonicalRequest };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
