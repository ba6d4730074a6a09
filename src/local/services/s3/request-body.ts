/**
 * What a request claims about its body, read from AWS-shaped members: `ContentLength`,
 * `ContentMD5`, the `Checksum<ALGORITHM>` values, the `ChecksumAlgorithm` the SDK announced, and
 * the two facts only an HTTP request carries (checksums that arrive in the aws-chunked trailer, the
 * SHA-256 its signature covers). S3's rules on those claims live here once: one checksum per
 * request, algorithms the local stack cannot compute refused by name, the announced algorithm
 * agreeing with the value sent. `S3Service` verifies a streamed body against them as it stores it;
 * `verifyBufferedBody` does the same for the small XML and JSON bodies the REST binding reads whole.
 */
import { Readable } from 'node:stream';
import { AwsError } from '../../core/errors.js';
import type { BodyInput, ChecksumClaim } from './api-types.js';
import {
  CHECKSUM_ALGORITHMS,
  UNSUPPORTED_CHECKSUM_ALGORITHMS,
  checksumHeaderName,
  checksumOf,
  isUnsupportedChecksumAlgorithm,
  isValidChecksumValue,
  parseChecksumAlgorithm,
  type ChecksumAlgorithm,
} from './checksums.js';

/** Every algorithm the SDK has a `Checksum<ALGORITHM>` member for, served or not. */
export const CHECKSUM_MEMBER_ALGORITHMS = [...CHECKSUM_ALGORITHMS, ...UNSUPPORTED_CHECKSUM_ALGORITHMS];

/**
 * What an HTTP request adds to the SDK's request shapes (the `$` marks members AWS does not
 * have): the REST binding fills them; in-process callers leave them out.
 */
export interface HttpBodyFacts {
  /**
   * Checksums sent after the body (`x-amz-trailer`): their lower-case names, and their values,
   * readable once the body has ended.
   */
  $trailers?: { readonly names: readonly string[]; values(): Readonly<Record<string, string>> };
  /** Hex SHA-256 the request's SigV4 signature covers: the body must hash to it. */
  $payloadSha256?: string;
}

/** The members that describe a body, as the SDK's request types name them. */
export interface BodyClaimMembers extends HttpBodyFacts {
  ContentLength?: number | undefined;
  ContentMD5?: string | undefined;
  /** The algorithm the SDK announced (`x-amz-sdk-checksum-algorithm`). */
  ChecksumAlgorithm?: string | undefined;
  /** The `Checksum<ALGORITHM>` values: one at most, checked against the body. */
  ChecksumCRC32?: string | undefined;
  ChecksumCRC32C?: string | undefined;
  ChecksumCRC64NVME?: string | undefined;
  ChecksumSHA1?: string | undefined;
  ChecksumSHA256?: string | undefined;
  ChecksumSHA512?: string | undefined;
  ChecksumMD5?: string | undefined;
  ChecksumXXHASH64?: string | undefined;
  ChecksumXXHASH3?: string | undefined;
  ChecksumXXHASH128?: string | undefined;
}

/** The value of a `Checksum<ALGORITHM>` member. */
export function checksumMember(members: object, algorithm: string): string | undefined {
  const value = (members as Record<string, unknown>)[`Checksum${algorithm}`];
  return typeof value === 'string' ? value : undefined;
}

export function unsupportedAlgorithm(name: string): AwsError {
  return new AwsError(
    'InvalidRequest',
    `The mlpipe local stack does not support the ${name.toUpperCase()} checksum algorithm; use ${CHECKSUM_ALGORITHMS.join(', ')}.`,
    400,
  );
}

/** An algorithm name from a request, where `header` names where S3 says it came from. */
export function requireAlgorithm(value: string, header: string): ChecksumAlgorithm {
  const algorithm = parseChecksumAlgorithm(value);
  if (algorithm !== undefined) return algorithm;
  if (isUnsupportedChecksumAlgorithm(value)) throw unsupportedAlgorithm(value);
  throw new AwsError('InvalidRequest', `Value for ${header} header is invalid.`, 400);
}

/** The one checksum a request claims for its body: a value, a trailer, or only the SDK's announcement. */
export function checksumClaim(members: BodyClaimMembers): ChecksumClaim | undefined {
  const claims: ChecksumClaim[] = [];
  for (const name of CHECKSUM_MEMBER_ALGORITHMS) {
    const value = checksumMember(members, name);
    if (value === undefined) continue;
    const algorithm = parseChecksumAlgorithm(name);
    if (algorithm === undefined) throw unsupportedAlgorithm(name);
    claims.push({ algorithm, value: value.trim() });
  }
  const trailers = members.$trailers;
  for (const name of trailers?.names ?? []) {
    if (!name.startsWith('x-amz-checksum-')) continue;
    const suffix = name.slice('x-amz-checksum-'.length);
    const algorithm = parseChecksumAlgorithm(suffix);
    if (algorithm === undefined) {
      if (isUnsupportedChecksumAlgorithm(suffix)) throw unsupportedAlgorithm(suffix);
      throw new AwsError('InvalidRequest', `The trailer ${name} is not a supported checksum.`, 400);
    }
    claims.push({ algorithm, trailer: () => trailers?.values()[name] });
  }
  if (claims.length > 1) {
    throw new AwsError(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      400,
    );
  }
  const hint = members.ChecksumAlgorithm;
  const hinted = hint === undefined ? undefined : requireAlgorithm(hint, 'x-amz-sdk-checksum-algorithm');
  const claim = claims[0];
  if (claim !== undefined && hinted !== undefined && hinted !== claim.algorithm) {
    throw new AwsError(
      'InvalidRequest',
      `Value for x-amz-sdk-checksum-algorithm header is invalid: the request carries a ${claim.algorithm} checksum.`,
      400,
    );
  }
  return claim ?? (hinted === undefined ? undefined : { algorithm: hinted });
}

/** An in-process Body: a stream, bytes or text. */
function bodyStream(body: unknown): { body: Readable; length?: number } {
  if (body === undefined || body === null) return { body: Readable.from([]), length: 0 };
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = Buffer.from(body);
    return { body: Readable.from([bytes]), length: bytes.length };
  }
  if (body instanceof Readable) return { body };
  throw new AwsError('InvalidArgument', 'Body must be a stream, bytes or a string.', 400, {
    ArgumentName: 'Body',
  });
}

/** The `BodyInput` S3Service stores and verifies, from a streaming operation's members. */
export function bodyInput(members: BodyClaimMembers & { Body?: unknown }): BodyInput {
  const { body, length } = bodyStream(members.Body);
  const input: BodyInput = { body };
  const contentLength = members.ContentLength ?? length;
  if (contentLength !== undefined) input.contentLength = contentLength;
  if (members.ContentMD5 !== undefined) input.contentMd5 = members.ContentMD5;
  const claim = checksumClaim(members);
  if (claim !== undefined) input.checksum = claim;
  if (members.$payloadSha256 !== undefined) input.expectedSha256 = members.$payloadSha256;
  return input;
}

/** Digest checks for a body read into memory (streamed bodies are checked by S3Service as they are stored). */
export function verifyBufferedBody(body: Buffer, members: BodyClaimMembers): void {
  if (members.ContentLength !== undefined && body.length !== members.ContentLength) {
    throw new AwsError(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header.',
      400,
    );
  }
  const expectedSha256 = members.$payloadSha256;
  if (expectedSha256 !== undefined) {
    const computed = digestOf('SHA256', body).toString('hex');
    if (computed !== expectedSha256) {
      throw new AwsError(
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        400,
        { ClientComputedContentSHA256: expectedSha256, S3ComputedContentSHA256: computed },
      );
    }
  }
  if (
    members.ContentMD5 !== undefined &&
    digestOf('MD5', body).toString('base64') !== members.ContentMD5.trim()
  ) {
    throw new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400);
  }
  const claim = checksumClaim(members);
  if (claim === undefined) return;
  const expected = claim.value ?? claim.trailer?.();
  const name = checksumHeaderName(claim.algorithm);
  if (expected === undefined) {
    if (claim.trailer !== undefined) {
      throw new AwsError(
        'InvalidRequest',
        `The ${name} trailer announced in x-amz-trailer was not sent.`,
        400,
      );
    }
    return;
  }
  if (!isValidChecksumValue(claim.algorithm, expected)) {
    throw new AwsError('InvalidRequest', `Value for ${name} header is invalid.`, 400);
  }
  if (digestOf(claim.algorithm, body).toString('base64') !== expected) {
    throw new AwsError(
      'BadDigest',
      `The ${claim.algorithm} you specified did not match the calculated checksum.`,
      400,
    );
  }
}

function digestOf(algorithm: ChecksumAlgorithm, body: Buffer): Buffer {
  return Buffer.from(checksumOf(algorithm, body), 'base64');
}
