/**
 * S3's rules as plain functions shared by the bucket/object and multipart halves of `S3Service`:
 * its errors, bucket name and key checks, user metadata limits, conditional request evaluation,
 * ranges, and the listing walk over the sorted key index with its continuation tokens.
 */
import { AwsError } from '../../core/errors.js';
import { type ChecksumAlgorithm } from './checksums.js';
import {
  BUCKET_NAME_PATTERN,
  compareKeys,
  endOfPrefix,
  lowerBound,
  type ObjectRecord,
  type TempFile,
} from './object-store.js';

export type { ChecksumAlgorithm, ChecksumType } from './checksums.js';
export type { PublicAccessBlockConfiguration, StoredChecksum } from './object-store.js';
import {
  MAX_KEY_BYTES,
  MAX_LIST,
  MAX_OBJECT_PUT_SIZE,
  MAX_PARTS,
  MAX_USER_METADATA_BYTES,
  type CompletedPartInput,
  type ObjectSummary,
  type ReadConditions,
} from './api-types.js';

// --- Errors S3 sends

export function noSuchBucket(bucket: string): AwsError {
  return new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
}

export function noSuchKey(key: string): AwsError {
  return new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
}

export function noSuchUpload(uploadId: string): AwsError {
  return new AwsError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    404,
    { UploadId: uploadId },
  );
}

export function preconditionFailed(condition: string): AwsError {
  return new AwsError(
    'PreconditionFailed',
    'At least one of the pre-conditions you specified did not hold',
    412,
    {
      Condition: condition,
    },
  );
}

export function invalidArgument(message: string, name: string, value: string): AwsError {
  return new AwsError('InvalidArgument', message, 400, { ArgumentName: name, ArgumentValue: value });
}

export function invalidPart(uploadId: string, part: CompletedPartInput): AwsError {
  return new AwsError(
    'InvalidPart',
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    400,
    { UploadId: uploadId, PartNumber: String(part.partNumber), ETag: part.etag },
  );
}

/** A checksum the client sent that does not match the bytes received. */
export function badDigest(algorithm: ChecksumAlgorithm): AwsError {
  return new AwsError(
    'BadDigest',
    `The ${algorithm} you specified did not match the calculated checksum.`,
    400,
  );
}

// --- Validation helpers

export function isValidBucketName(name: string): boolean {
  if (!BUCKET_NAME_PATTERN.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return false;
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name)) return false;
  return !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name);
}

export function checkKey(key: string): void {
  const size = Buffer.byteLength(key, 'utf8');
  if (size === 0) throw new AwsError('InvalidArgument', 'Object key must not be empty.', 400);
  if (size > MAX_KEY_BYTES) {
    throw new AwsError('KeyTooLongError', 'Your key is too long', 400, {
      Size: String(size),
      MaxSizeAllowed: String(MAX_KEY_BYTES),
    });
  }
}

export function checkMetadata(metadata: Record<string, string> | undefined): void {
  if (metadata === undefined) return;
  let size = 0;
  for (const [name, value] of Object.entries(metadata)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (size > MAX_USER_METADATA_BYTES) {
    throw new AwsError(
      'MetadataTooLarge',
      'Your metadata headers exceed the maximum allowed metadata size.',
      400,
      { Size: String(size), MaxSizeAllowed: String(MAX_USER_METADATA_BYTES) },
    );
  }
}

export function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      String(partNumber),
    );
  }
}

export function unquote(etag: string): string {
  const trimmed = etag.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2
    ? trimmed.slice(1, -1)
    : trimmed;
}

/** Does an `If-Match`/`If-None-Match` list (`"a", "b"`, `*`) match the ETag? */
export function etagMatches(condition: string, etag: string): boolean {
  const bare = unquote(etag);
  return condition.split(',').some((candidate) => {
    const value = candidate.trim().replace(/^W\//, '');
    return value === '*' || unquote(value) === bare;
  });
}

/** HTTP dates have second precision; compare at that precision. */
export function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** GetObject/HeadObject/CopyObject source conditions, in S3's order of precedence. */
export function checkReadConditions(
  record: ObjectRecord,
  conditions: ReadConditions,
  notModified: () => AwsError,
): void {
  const modified = seconds(new Date(record.lastModified));
  if (conditions.ifMatch !== undefined) {
    if (!etagMatches(conditions.ifMatch, record.etag)) throw preconditionFailed('If-Match');
  } else if (conditions.ifUnmodifiedSince !== undefined && modified > seconds(conditions.ifUnmodifiedSince)) {
    throw preconditionFailed('If-Unmodified-Since');
  }
  if (conditions.ifNoneMatch !== undefined) {
    if (etagMatches(conditions.ifNoneMatch, record.etag)) throw notModified();
  } else if (conditions.ifModifiedSince !== undefined && modified <= seconds(conditions.ifModifiedSince)) {
    throw notModified();
  }
}

/** PutObject / CompleteMultipartUpload / CopyObject conditional writes against the current object. */
export function checkWriteConditions(
  previous: ObjectRecord | undefined,
  key: string,
  ifMatch?: string,
  ifNoneMatch?: string,
): void {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') {
      throw new AwsError('NotImplemented', 'If-None-Match on writes only supports "*".', 501, {
        Header: 'If-None-Match',
      });
    }
    if (previous !== undefined) throw preconditionFailed('If-None-Match');
  }
  if (ifMatch !== undefined) {
    if (previous === undefined) throw noSuchKey(key);
    if (!etagMatches(ifMatch, previous.etag)) throw preconditionFailed('If-Match');
  }
}

/** Resolves a `Range` header against a size: undefined means "whole object" (absent or ignorable). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  // Malformed and multi-range headers are ignored, as S3 (and HTTP) do.
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = (): AwsError =>
    new AwsError('InvalidRange', 'The requested range is not satisfiable', 416, {
      RangeRequested: header,
      ActualObjectSize: String(size),
    });
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end };
}

export function toSummary(record: ObjectRecord): ObjectSummary {
  const summary: ObjectSummary = {
    key: record.key,
    lastModified: new Date(record.lastModified),
    etag: record.etag,
    size: record.size,
  };
  if (record.checksum !== undefined) {
    summary.checksumAlgorithm = record.checksum.algorithm;
    summary.checksumType = record.checksum.type;
  }
  return summary;
}

export type ListEntry = { key: string } | { prefix: string };

/**
 * The listing walk shared by ListObjects and ListObjectsV2: entries (keys and common prefixes)
 * after `marker`, in UTF-8 order, at most `maxKeys`. A common prefix equal to the marker was the
 * last entry of the previous page, so the whole group under it is skipped.
 */
export function walkKeys(
  keys: readonly string[],
  options: { prefix: string; delimiter: string | undefined; marker: string | undefined; maxKeys: number },
): { entries: ListEntry[]; truncated: boolean } {
  const { prefix, delimiter, marker, maxKeys } = options;
  let i =
    marker !== undefined && compareKeys(marker, prefix) >= 0
      ? lowerBound(keys, marker, true)
      : lowerBound(keys, prefix);
  const entries: ListEntry[] = [];
  if (maxKeys <= 0) return { entries, truncated: false };
  while (i < keys.length && entries.length < maxKeys) {
    const key = keys[i]!;
    if (!key.startsWith(prefix)) break;
    if (delimiter !== undefined && delimiter !== '') {
      const at = key.indexOf(delimiter, prefix.length);
      if (at >= 0) {
        const common = key.slice(0, at + delimiter.length);
        i = endOfPrefix(keys, i, common);
        if (common !== marker) entries.push({ prefix: common });
        continue;
      }
    }
    entries.push({ key });
    i++;
  }
  const truncated = i < keys.length && keys[i]!.startsWith(prefix);
  return { entries, truncated };
}

export function entryName(entry: ListEntry): string {
  return 'key' in entry ? entry.key : entry.prefix;
}

export function clampMax(value: number | undefined, name: string): number {
  if (value === undefined) return MAX_LIST;
  if (!Number.isInteger(value) || value < 0) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, String(value));
  }
  return Math.min(value, MAX_LIST);
}

export function encodeToken(marker: string): string {
  return Buffer.from(`1:${marker}`, 'utf8').toString('base64');
}

export function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64').toString('utf8');
  if (!text.startsWith('1:') || encodeToken(text.slice(2)) !== token) {
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  return text.slice(2);
}

/** What receiving a body produced: the temp file and every digest computed on the way. */
export interface ReceivedBody {
  temp: TempFile;
  md5: Buffer;
  checksums: Map<ChecksumAlgorithm, string>;
}

export function tooLarge(size: number): AwsError {
  return new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
    ProposedSize: String(size),
    MaxSizeAllowed: String(MAX_OBJECT_PUT_SIZE),
  });
}
