/**
 * The local stack's S3 as a plain TypeScript API: typed inputs in, typed outputs out, `AwsError`s
 * with S3's codes, messages and statuses out of every failure. Owns S3's semantics — bucket and
 * key rules, checksum and digest verification, conditional requests, ranges, listing order and
 * pagination, multipart assembly rules — on top of the persistence in `store.ts`. Knows nothing
 * about HTTP; `protocol/s3-rest.ts` maps the wire format onto this class.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { AwsError } from '../../core/errors.js';
import type { LocalContext, LocalCredentials } from '../../types.js';
import {
  checksumHeaderName,
  checksumTypeAllowed,
  combineCrcs,
  compositeChecksum,
  createDigest,
  defaultChecksumType,
  isValidChecksumValue,
  type ChecksumAlgorithm,
  type ChecksumType,
  type Digest,
} from './checksums.js';
import {
  BUCKET_NAME_PATTERN,
  BucketGoneError,
  compareKeys,
  endOfPrefix,
  lowerBound,
  S3Store,
  type BucketState,
  type ObjectRecord,
  type PartRecord,
  type PublicAccessBlockConfiguration,
  type Segment,
  type StoredChecksum,
  type TempFile,
  type UploadState,
} from './store.js';

export type { ChecksumAlgorithm, ChecksumType } from './checksums.js';
export type { PublicAccessBlockConfiguration, StoredChecksum } from './store.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** Largest single PutObject / UploadPart body. */
export const MAX_OBJECT_PUT_SIZE = 5 * GiB;
/** Smallest size of every multipart part but the last. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PARTS = 10000;
export const MAX_KEY_BYTES = 1024;
const MAX_USER_METADATA_BYTES = 2 * KiB;
const MAX_LIST = 1000;
const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

// --- Inputs and outputs

/** A checksum the client sent for a body: in a header (`value`) or in the aws-chunked trailer. */
export interface ChecksumClaim {
  algorithm: ChecksumAlgorithm;
  /** Base64 value from the `x-amz-checksum-*` header. */
  value?: string;
  /** Reads the value from the body's trailer; called only after the body has ended. */
  trailer?: () => string | undefined;
}

export interface BodyInput {
  body: Readable;
  /** Exact (decoded) byte count the body must have, when the client announced one. */
  contentLength?: number;
  /** Base64 MD5 from `Content-MD5`. */
  contentMd5?: string;
  checksum?: ChecksumClaim;
  /** Hex SHA-256 the request signature covers; the body must hash to it. */
  expectedSha256?: string;
}

/** What S3 stores with an object besides its bytes. */
export interface ObjectAttributes {
  contentType?: string;
  /** Representation headers to store and return: cache-control, content-disposition, … */
  headers?: Record<string, string>;
  /** User metadata (`x-amz-meta-<name>`), names without the prefix. */
  metadata?: Record<string, string>;
}

export interface PutObjectInput extends BodyInput, ObjectAttributes {
  bucket: string;
  key: string;
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface PutObjectOutput {
  etag: string;
  size: number;
  checksum?: StoredChecksum;
}

export interface ReadConditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date;
  ifUnmodifiedSince?: Date;
}

export interface GetObjectInput extends ReadConditions {
  bucket: string;
  key: string;
  /** Raw `Range` header value. */
  range?: string;
  partNumber?: number;
  /** `x-amz-checksum-mode: ENABLED`: return the stored checksum. */
  checksumMode?: boolean;
}

export interface ObjectDescription {
  key: string;
  etag: string;
  lastModified: Date;
  /** Size of the whole object. */
  size: number;
  contentType: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  /** Present when requested and it describes the bytes returned. */
  checksum?: StoredChecksum;
  /** Multipart objects: their part count. */
  partsCount?: number;
  /** 200, or 206 for ranges and parts. */
  status: 200 | 206;
  /** Bytes returned. */
  contentLength: number;
  /** `bytes a-b/size` for 206 responses. */
  contentRange?: string;
}

export interface GetObjectOutput extends ObjectDescription {
  body: Readable;
}

export interface ObjectSummary {
  key: string;
  lastModified: Date;
  etag: string;
  size: number;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface Owner {
  id: string;
  displayName: string;
}

export interface ListObjectsV2Input {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
  continuationToken?: string;
  startAfter?: string;
}

export interface ListObjectsV2Output {
  name: string;
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  keyCount: number;
  isTruncated: boolean;
  contents: ObjectSummary[];
  commonPrefixes: string[];
  continuationToken?: string;
  nextContinuationToken?: string;
  startAfter?: string;
  owner: Owner;
}

export interface ListObjectsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  marker?: string;
  maxKeys?: number;
}

export interface ListObjectsOutput {
  name: string;
  prefix: string;
  delimiter?: string;
  marker: string;
  maxKeys: number;
  isTruncated: boolean;
  contents: ObjectSummary[];
  commonPrefixes: string[];
  nextMarker?: string;
  owner: Owner;
}

export interface CopyObjectInput extends ObjectAttributes {
  bucket: string;
  key: string;
  sourceBucket: string;
  sourceKey: string;
  sourceVersionId?: string;
  /** COPY (default) keeps the source's metadata; REPLACE takes it from this request. */
  metadataDirective?: 'COPY' | 'REPLACE';
  /** Conditions on the source (`x-amz-copy-source-if-*`). */
  sourceConditions?: ReadConditions;
  /** `x-amz-checksum-algorithm`: the checksum the copy should carry. */
  checksumAlgorithm?: ChecksumAlgorithm;
  /** Anything besides metadata that makes a copy onto itself legal (storage class, encryption, …). */
  changesOtherAttributes?: boolean;
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface CopyObjectOutput {
  etag: string;
  lastModified: Date;
  checksum?: StoredChecksum;
}

export interface DeleteObjectsOutput {
  deleted: { key: string; versionId?: string }[];
  errors: { key: string; versionId?: string; code: string; message: string }[];
}

export interface CreateMultipartUploadInput extends ObjectAttributes {
  bucket: string;
  key: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface CreateMultipartUploadOutput {
  bucket: string;
  key: string;
  uploadId: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface UploadPartInput extends BodyInput {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
}

export interface UploadPartOutput {
  etag: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export interface UploadPartCopyInput {
  bucket: string;
  key: string;
  uploadId: string;
  partNumber: number;
  sourceBucket: string;
  sourceKey: string;
  sourceVersionId?: string;
  /** `bytes=a-b` from `x-amz-copy-source-range`. */
  sourceRange?: string;
  sourceConditions?: ReadConditions;
}

export interface UploadPartCopyOutput {
  etag: string;
  lastModified: Date;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export interface CompletedPartInput {
  partNumber: number;
  etag: string;
  /** Part checksums the client listed, by algorithm. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export interface CompleteMultipartUploadInput {
  bucket: string;
  key: string;
  uploadId: string;
  parts: CompletedPartInput[];
  /** Whole-object checksum header (`x-amz-checksum-*`) sent with the Complete request. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
  /** `x-amz-checksum-type` on the Complete request. */
  checksumType?: ChecksumType;
  /** `x-amz-mp-object-size`. */
  objectSize?: number;
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface CompleteMultipartUploadOutput {
  bucket: string;
  key: string;
  etag: string;
  checksum?: StoredChecksum;
}

export interface PartDescription {
  partNumber: number;
  lastModified: Date;
  etag: string;
  size: number;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export interface ListPartsOutput {
  bucket: string;
  key: string;
  uploadId: string;
  partNumberMarker: number;
  nextPartNumberMarker?: number;
  maxParts: number;
  isTruncated: boolean;
  parts: PartDescription[];
  owner: Owner;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface UploadDescription {
  uploadId: string;
  key: string;
  initiated: Date;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface ListMultipartUploadsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads?: number;
}

export interface ListMultipartUploadsOutput {
  bucket: string;
  prefix: string;
  delimiter?: string;
  keyMarker: string;
  uploadIdMarker: string;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
  maxUploads: number;
  isTruncated: boolean;
  uploads: UploadDescription[];
  commonPrefixes: string[];
  owner: Owner;
}

export interface BucketDescription {
  name: string;
  creationDate: Date;
  region: string;
}

export interface ListBucketsInput {
  prefix?: string;
  maxBuckets?: number;
  continuationToken?: string;
}

export interface ListBucketsOutput {
  buckets: BucketDescription[];
  owner: Owner;
  prefix?: string;
  continuationToken?: string;
}

// --- Errors S3 sends

export function noSuchBucket(bucket: string): AwsError {
  return new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { BucketName: bucket });
}

export function noSuchKey(key: string): AwsError {
  return new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { Key: key });
}

function noSuchUpload(uploadId: string): AwsError {
  return new AwsError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    404,
    { UploadId: uploadId },
  );
}

function preconditionFailed(condition: string): AwsError {
  return new AwsError(
    'PreconditionFailed',
    'At least one of the pre-conditions you specified did not hold',
    412,
    {
      Condition: condition,
    },
  );
}

function invalidArgument(message: string, name: string, value: string): AwsError {
  return new AwsError('InvalidArgument', message, 400, { ArgumentName: name, ArgumentValue: value });
}

function invalidPart(uploadId: string, part: CompletedPartInput): AwsError {
  return new AwsError(
    'InvalidPart',
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    400,
    { UploadId: uploadId, PartNumber: String(part.partNumber), ETag: part.etag },
  );
}

/** A checksum the client sent that does not match the bytes received. */
function badDigest(algorithm: ChecksumAlgorithm): AwsError {
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

function checkKey(key: string): void {
  const size = Buffer.byteLength(key, 'utf8');
  if (size === 0) throw new AwsError('InvalidArgument', 'Object key must not be empty.', 400);
  if (size > MAX_KEY_BYTES) {
    throw new AwsError('KeyTooLongError', 'Your key is too long', 400, {
      Size: String(size),
      MaxSizeAllowed: String(MAX_KEY_BYTES),
    });
  }
}

function checkMetadata(metadata: Record<string, string> | undefined): void {
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

function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
    throw invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      String(partNumber),
    );
  }
}

function unquote(etag: string): string {
  const trimmed = etag.trim();
  return trimmed.startsWith('"') && trimmed.endsWith('"') && trimmed.length >= 2
    ? trimmed.slice(1, -1)
    : trimmed;
}

/** Does an `If-Match`/`If-None-Match` list (`"a", "b"`, `*`) match the ETag? */
function etagMatches(condition: string, etag: string): boolean {
  const bare = unquote(etag);
  return condition.split(',').some((candidate) => {
    const value = candidate.trim().replace(/^W\//, '');
    return value === '*' || unquote(value) === bare;
  });
}

/** HTTP dates have second precision; compare at that precision. */
function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** GetObject/HeadObject/CopyObject source conditions, in S3's order of precedence. */
function checkReadConditions(
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
function checkWriteConditions(
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
function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined {
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

function toSummary(record: ObjectRecord): ObjectSummary {
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

type ListEntry = { key: string } | { prefix: string };

/**
 * The listing walk shared by ListObjects and ListObjectsV2: entries (keys and common prefixes)
 * after `marker`, in UTF-8 order, at most `maxKeys`. A common prefix equal to the marker was the
 * last entry of the previous page, so the whole group under it is skipped.
 */
function walkKeys(
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

function entryName(entry: ListEntry): string {
  return 'key' in entry ? entry.key : entry.prefix;
}

function clampMax(value: number | undefined, name: string): number {
  if (value === undefined) return MAX_LIST;
  if (!Number.isInteger(value) || value < 0) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, String(value));
  }
  return Math.min(value, MAX_LIST);
}

function encodeToken(marker: string): string {
  return Buffer.from(`1:${marker}`, 'utf8').toString('base64');
}

function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64').toString('utf8');
  if (!text.startsWith('1:') || encodeToken(text.slice(2)) !== token) {
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  return text.slice(2);
}

/** What receiving a body produced: the temp file and every digest computed on the way. */
interface ReceivedBody {
  temp: TempFile;
  md5: Buffer;
  checksums: Map<ChecksumAlgorithm, string>;
}

export class S3Service {
  private readonly owner: Owner;

  private constructor(
    private readonly ctx: LocalContext,
    private readonly store: S3Store,
  ) {
    this.owner = {
      id: createHash('sha256').update(`mlpipe-local:${ctx.accountId}`).digest('hex'),
      displayName: 'mlpipe-local',
    };
  }

  /** Opens (and recovers) the S3 state under `<ctx.dataDir>/s3/`. */
  static async open(ctx: LocalContext): Promise<S3Service> {
    const store = await S3Store.open(path.join(ctx.dataDir, 's3'), ctx.log);
    return new S3Service(ctx, store);
  }

  stats(): { buckets: number; objects: number; bytes: number } {
    return this.store.stats();
  }

  log(line: string): void {
    this.ctx.log(line);
  }

  get region(): string {
    return this.ctx.region;
  }

  /** The stack's own credentials: the REST binding verifies streaming chunk signatures with them. */
  get credentials(): LocalCredentials {
    return this.ctx.credentials;
  }

  private bucketState(name: string): BucketState {
    const bucket = this.store.buckets.get(name);
    if (bucket === undefined) throw noSuchBucket(name);
    return bucket;
  }

  /** Maps a bucket deleted mid-operation to the NoSuchBucket S3 would have answered. */
  private async guard<T>(bucket: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof BucketGoneError) throw noSuchBucket(bucket);
      throw error;
    }
  }

  private now(): Date {
    return this.ctx.now();
  }

  // --- Buckets

  async createBucket(input: { bucket: string; locationConstraint?: string }): Promise<{ location: string }> {
    const name = input.bucket;
    if (!isValidBucketName(name)) {
      throw new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, {
        BucketName: name,
      });
    }
    if (this.store.buckets.has(name)) {
      throw new AwsError(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        409,
        { BucketName: name },
      );
    }
    const constraint = input.locationConstraint;
    if (constraint !== undefined && constraint !== '' && !/^[a-z]{2}(-[a-z]+)+-\d+$|^EU$/.test(constraint)) {
      throw new AwsError('InvalidLocationConstraint', 'The specified location-constraint is not valid', 400, {
        LocationConstraint: constraint,
      });
    }
    await this.store.createBucket({
      name,
      creationDate: this.now().toISOString(),
      region: constraint === undefined || constraint === '' ? this.ctx.region : constraint,
    });
    return { location: `/${name}` };
  }

  async headBucket(input: { bucket: string }): Promise<{ region: string }> {
    return { region: this.bucketState(input.bucket).record.region };
  }

  async listBuckets(input: ListBucketsInput = {}): Promise<ListBucketsOutput> {
    const prefix = input.prefix ?? '';
    const max = input.maxBuckets === undefined ? Infinity : input.maxBuckets;
    if (input.maxBuckets !== undefined && (!Number.isInteger(max) || max < 1 || max > 10000)) {
      throw invalidArgument('max-buckets must be an integer between 1 and 10000', 'max-buckets', String(max));
    }
    const after = input.continuationToken === undefined ? undefined : decodeToken(input.continuationToken);
    const names = [...this.store.buckets.keys()]
      .filter((name) => name.startsWith(prefix) && (after === undefined || compareKeys(name, after) > 0))
      .sort(compareKeys);
    const page = names.slice(0, max);
    const output: ListBucketsOutput = {
      buckets: page.map((name) => {
        const record = this.store.buckets.get(name)!.record;
        return { name, creationDate: new Date(record.creationDate), region: record.region };
      }),
      owner: this.owner,
    };
    if (input.prefix !== undefined) output.prefix = input.prefix;
    if (names.length > page.length) output.continuationToken = encodeToken(page[page.length - 1]!);
    return output;
  }

  async deleteBucket(input: { bucket: string }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    if (bucket.objects.size > 0 || bucket.pendingCommits > 0) {
      throw new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, {
        BucketName: input.bucket,
      });
    }
    await this.store.deleteBucket(bucket);
  }

  /** The bucket's LocationConstraint; undefined for us-east-1, which S3 reports as empty. */
  async getBucketLocation(input: { bucket: string }): Promise<{ locationConstraint: string | undefined }> {
    const region = this.bucketState(input.bucket).record.region;
    return { locationConstraint: region === 'us-east-1' ? undefined : region };
  }

  async putBucketPolicy(input: { bucket: string; policy: string }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    let parsed: unknown;
    try {
      parsed = JSON.parse(input.policy);
    } catch {
      throw new AwsError(
        'MalformedPolicy',
        "Policies must be valid JSON and the first byte must be '{'",
        400,
      );
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      !input.policy.trimStart().startsWith('{')
    ) {
      throw new AwsError(
        'MalformedPolicy',
        "Policies must be valid JSON and the first byte must be '{'",
        400,
      );
    }
    const statement = (parsed as { Statement?: unknown }).Statement;
    if (statement === undefined || (typeof statement !== 'object' && !Array.isArray(statement))) {
      throw new AwsError('MalformedPolicy', 'Missing required field Statement', 400);
    }
    await this.store.saveBucket(bucket, { ...bucket.record, policy: input.policy });
  }

  async getBucketPolicy(input: { bucket: string }): Promise<{ policy: string }> {
    const bucket = this.bucketState(input.bucket);
    if (bucket.record.policy === undefined) {
      throw new AwsError('NoSuchBucketPolicy', 'The bucket policy does not exist', 404, {
        BucketName: input.bucket,
      });
    }
    return { policy: bucket.record.policy };
  }

  async deleteBucketPolicy(input: { bucket: string }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    if (bucket.record.policy === undefined) return;
    const { policy: _removed, ...rest } = bucket.record;
    await this.store.saveBucket(bucket, rest);
  }

  async putPublicAccessBlock(input: {
    bucket: string;
    configuration: Partial<PublicAccessBlockConfiguration>;
  }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    const c = input.configuration;
    const configuration: PublicAccessBlockConfiguration = {
      BlockPublicAcls: c.BlockPublicAcls ?? false,
      IgnorePublicAcls: c.IgnorePublicAcls ?? false,
      BlockPublicPolicy: c.BlockPublicPolicy ?? false,
      RestrictPublicBuckets: c.RestrictPublicBuckets ?? false,
    };
    await this.store.saveBucket(bucket, { ...bucket.record, publicAccessBlock: configuration });
  }

  async getPublicAccessBlock(input: {
    bucket: string;
  }): Promise<{ configuration: PublicAccessBlockConfiguration }> {
    const bucket = this.bucketState(input.bucket);
    if (bucket.record.publicAccessBlock === undefined) {
      throw new AwsError(
        'NoSuchPublicAccessBlockConfiguration',
        'The public access block configuration was not found',
        404,
        { BucketName: input.bucket },
      );
    }
    return { configuration: bucket.record.publicAccessBlock };
  }

  async deletePublicAccessBlock(input: { bucket: string }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    if (bucket.record.publicAccessBlock === undefined) return;
    const { publicAccessBlock: _removed, ...rest } = bucket.record;
    await this.store.saveBucket(bucket, rest);
  }

  // --- Receiving bodies

  /**
   * Streams a body into a temp file, computing MD5 (the ETag) and any checksums in the same
   * pass, then verifies every digest the client claimed. The temp file is removed on failure.
   */
  private async receiveBody(input: BodyInput, extra: ChecksumAlgorithm[] = []): Promise<ReceivedBody> {
    if (input.contentLength !== undefined && input.contentLength > MAX_OBJECT_PUT_SIZE) {
      throw tooLarge(input.contentLength);
    }
    if (input.contentMd5 !== undefined && !/^[A-Za-z0-9+/]{22}==$/.test(input.contentMd5.trim())) {
      throw new AwsError('InvalidDigest', 'The Content-MD5 you specified was not valid.', 400, {
        'Content-MD5': input.contentMd5,
      });
    }
    const claim = input.checksum;
    if (claim?.value !== undefined && !isValidChecksumValue(claim.algorithm, claim.value)) {
      throw new AwsError(
        'InvalidRequest',
        `Value for ${checksumHeaderName(claim.algorithm)} header is invalid.`,
        400,
      );
    }
    const algorithms = new Set<ChecksumAlgorithm>(['MD5', ...extra]);
    if (claim !== undefined) algorithms.add(claim.algorithm);
    if (input.expectedSha256 !== undefined) algorithms.add('SHA256');
    // Every digest in one pass over the body as it streams to disk, on this thread. (Hashing on a
    // worker thread was measured on 2 cores with SDK clients: ~20% slower for single PUTs, within
    // noise for 4-way multipart; the SDK client, not this server, is the bottleneck there.)
    const digests: [ChecksumAlgorithm, Digest][] = [...algorithms].map((algorithm) => [
      algorithm,
      createDigest(algorithm),
    ]);
    const temp = await this.store.receive(input.body, (chunk, total) => {
      if (total > MAX_OBJECT_PUT_SIZE) throw tooLarge(total);
      for (const [, digest] of digests) digest.update(chunk);
    });
    try {
      const values = new Map<ChecksumAlgorithm, Buffer>(
        digests.map(([algorithm, digest]) => [algorithm, digest.digest()]),
      );
      if (input.contentLength !== undefined && temp.size !== input.contentLength) {
        throw new AwsError(
          'IncompleteBody',
          'You did not provide the number of bytes specified by the Content-Length HTTP header.',
          400,
        );
      }
      if (input.expectedSha256 !== undefined) {
        const computed = values.get('SHA256')!.toString('hex');
        if (computed !== input.expectedSha256.toLowerCase()) {
          throw new AwsError(
            'XAmzContentSHA256Mismatch',
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
            400,
            { ClientComputedContentSHA256: input.expectedSha256, S3ComputedContentSHA256: computed },
          );
        }
      }
      const md5 = values.get('MD5')!;
      if (input.contentMd5 !== undefined && md5.toString('base64') !== input.contentMd5.trim()) {
        throw new AwsError(
          'BadDigest',
          'The Content-MD5 you specified did not match what we received.',
          400,
          {
            ExpectedDigest: Buffer.from(input.contentMd5.trim(), 'base64').toString('hex'),
            CalculatedDigest: md5.toString('hex'),
          },
        );
      }
      const checksums = new Map<ChecksumAlgorithm, string>();
      for (const [algorithm, value] of values) checksums.set(algorithm, value.toString('base64'));
      if (claim !== undefined) {
        let expected = claim.value;
        if (expected === undefined && claim.trailer !== undefined) {
          expected = claim.trailer();
          const name = checksumHeaderName(claim.algorithm);
          if (expected === undefined) {
            throw new AwsError(
              'InvalidRequest',
              `The ${name} trailer announced in x-amz-trailer was not sent.`,
              400,
            );
          }
          if (!isValidChecksumValue(claim.algorithm, expected)) {
            throw new AwsError('InvalidRequest', `Value for ${name} trailing header is invalid.`, 400);
          }
        }
        if (expected !== undefined && expected !== checksums.get(claim.algorithm)) {
          throw badDigest(claim.algorithm);
        }
      }
      return { temp, md5, checksums };
    } catch (error) {
      await this.store.discard(temp);
      throw error;
    }
  }

  // --- Objects

  async putObject(input: PutObjectInput): Promise<PutObjectOutput> {
    const bucket = this.bucketState(input.bucket);
    checkKey(input.key);
    checkMetadata(input.metadata);
    return this.guard(input.bucket, async () => {
      const received = await this.receiveBody(input);
      const algorithm = input.checksum?.algorithm;
      const checksum: StoredChecksum | undefined =
        algorithm === undefined
          ? undefined
          : { algorithm, value: received.checksums.get(algorithm)!, type: 'FULL_OBJECT' };
      const segments = await this.commitBody(bucket, received.temp);
      const record: ObjectRecord = {
        key: input.key,
        size: received.temp.size,
        etag: `"${received.md5.toString('hex')}"`,
        lastModified: this.now().toISOString(),
        contentType: input.contentType ?? DEFAULT_CONTENT_TYPE,
        headers: input.headers ?? {},
        metadata: input.metadata ?? {},
        segments,
      };
      if (checksum !== undefined) record.checksum = checksum;
      await this.commitOrRelease(bucket, input.key, segments, (previous) => {
        checkWriteConditions(previous, input.key, input.ifMatch, input.ifNoneMatch);
        return record;
      });
      const output: PutObjectOutput = { etag: record.etag, size: record.size };
      if (checksum !== undefined) output.checksum = checksum;
      return output;
    });
  }

  /** Moves a received body into the bucket's data area (empty bodies need no file). */
  private async commitBody(bucket: BucketState, temp: TempFile): Promise<Segment[]> {
    if (temp.size === 0) {
      await this.store.discard(temp);
      return [];
    }
    return [{ file: await this.store.commitData(bucket, temp), size: temp.size }];
  }

  /** Commits a record whose segments are already in place, removing them if the commit fails. */
  private async commitOrRelease(
    bucket: BucketState,
    key: string,
    segments: Segment[],
    build: (previous: ObjectRecord | undefined) => ObjectRecord,
  ): Promise<ObjectRecord> {
    try {
      return (await this.store.commitObject(bucket, key, build)).record;
    } catch (error) {
      await this.store.removeFiles(
        bucket,
        segments.map((segment) => segment.file),
      );
      throw error;
    }
  }

  private objectRecord(bucket: BucketState, key: string): ObjectRecord {
    const record = bucket.objects.get(key);
    if (record === undefined) throw noSuchKey(key);
    return record;
  }

  /** Works out what GetObject/HeadObject return, without opening anything. */
  private describe(
    record: ObjectRecord,
    input: GetObjectInput,
  ): ObjectDescription & { start: number; end: number } {
    checkReadConditions(record, input, () => new AwsError('NotModified', 'Not Modified', 304));
    const size = record.size;
    const description: ObjectDescription & { start: number; end: number } = {
      key: record.key,
      etag: record.etag,
      lastModified: new Date(record.lastModified),
      size,
      contentType: record.contentType,
      headers: record.headers,
      metadata: record.metadata,
      status: 200,
      contentLength: size,
      start: 0,
      end: size - 1,
    };
    if (record.multipart) description.partsCount = record.segments.length;
    if (input.partNumber !== undefined) {
      if (input.range !== undefined) {
        throw new AwsError(
          'InvalidRequest',
          'Cannot specify both Range header and partNumber query parameter',
          400,
        );
      }
      checkPartNumber(input.partNumber);
      const count = record.multipart ? record.segments.length : 1;
      if (input.partNumber > count) {
        throw new AwsError('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416, {
          PartNumberRequested: String(input.partNumber),
          ActualPartCount: String(count),
        });
      }
      if (record.multipart) {
        let start = 0;
        for (let i = 0; i < input.partNumber - 1; i++) start += record.segments[i]!.size;
        const segment = record.segments[input.partNumber - 1]!;
        description.start = start;
        description.end = start + segment.size - 1;
        description.contentLength = segment.size;
        description.status = 206;
        description.contentRange = `bytes ${start}-${description.end}/${size}`;
        if (input.checksumMode && segment.checksum !== undefined && record.checksum !== undefined) {
          description.checksum = {
            algorithm: record.checksum.algorithm,
            value: segment.checksum,
            type: 'COMPOSITE',
          };
        }
        return description;
      }
    }
    const range = parseRange(input.range, size);
    if (range !== undefined) {
      description.start = range.start;
      description.end = range.end;
      description.contentLength = range.end - range.start + 1;
      description.status = 206;
      description.contentRange = `bytes ${range.start}-${range.end}/${size}`;
      // A whole-object checksum does not describe a range: S3 leaves it out.
      return description;
    }
    if (input.checksumMode && record.checksum !== undefined) description.checksum = record.checksum;
    return description;
  }

  async getObject(input: GetObjectInput): Promise<GetObjectOutput> {
    const bucket = this.bucketState(input.bucket);
    const record = this.objectRecord(bucket, input.key);
    const { start, end, ...description } = this.describe(record, input);
    // Opened synchronously with the lookup: the files are pinned before any overwrite can run.
    const body = this.store.openRead(bucket, record, start, end);
    return { ...description, body };
  }

  async headObject(input: GetObjectInput): Promise<ObjectDescription> {
    const bucket = this.bucketState(input.bucket);
    const record = this.objectRecord(bucket, input.key);
    const { start: _start, end: _end, ...description } = this.describe(record, input);
    return description;
  }

  /** Idempotent, as in S3: deleting a missing key succeeds. */
  async deleteObject(input: { bucket: string; key: string }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    checkKey(input.key);
    await this.store.deleteObject(bucket, input.key);
  }

  async deleteObjects(input: {
    bucket: string;
    objects: { key: string; versionId?: string }[];
  }): Promise<DeleteObjectsOutput> {
    const bucket = this.bucketState(input.bucket);
    if (input.objects.length > MAX_LIST) {
      throw new AwsError(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema',
        400,
      );
    }
    const output: DeleteObjectsOutput = { deleted: [], errors: [] };
    for (const object of input.objects) {
      const entry =
        object.versionId === undefined
          ? { key: object.key }
          : { key: object.key, versionId: object.versionId };
      try {
        checkKey(object.key);
        if (object.versionId !== undefined && object.versionId !== 'null') {
          throw new AwsError('NoSuchVersion', 'The specified version does not exist.', 404);
        }
        await this.store.deleteObject(bucket, object.key);
        output.deleted.push(entry);
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        output.errors.push({ ...entry, code: error.code, message: error.message });
      }
    }
    return output;
  }

  async listObjectsV2(input: ListObjectsV2Input): Promise<ListObjectsV2Output> {
    const bucket = this.bucketState(input.bucket);
    const maxKeys = clampMax(input.maxKeys, 'max-keys');
    const prefix = input.prefix ?? '';
    const token = input.continuationToken === undefined ? undefined : decodeToken(input.continuationToken);
    let marker = token ?? input.startAfter;
    if (token === undefined && input.startAfter === '') marker = undefined;
    const { entries, truncated } = walkKeys(bucket.keys, {
      prefix,
      delimiter: input.delimiter,
      marker,
      maxKeys,
    });
    const output: ListObjectsV2Output = {
      name: bucket.name,
      prefix,
      maxKeys,
      keyCount: entries.length,
      isTruncated: truncated,
      contents: [],
      commonPrefixes: [],
      owner: this.owner,
    };
    this.fillEntries(bucket, entries, output);
    if (input.delimiter !== undefined) output.delimiter = input.delimiter;
    if (input.continuationToken !== undefined) output.continuationToken = input.continuationToken;
    if (input.startAfter !== undefined) output.startAfter = input.startAfter;
    if (truncated && entries.length > 0) {
      output.nextContinuationToken = encodeToken(entryName(entries[entries.length - 1]!));
    }
    return output;
  }

  async listObjects(input: ListObjectsInput): Promise<ListObjectsOutput> {
    const bucket = this.bucketState(input.bucket);
    const maxKeys = clampMax(input.maxKeys, 'max-keys');
    const prefix = input.prefix ?? '';
    const marker = input.marker === '' ? undefined : input.marker;
    const { entries, truncated } = walkKeys(bucket.keys, {
      prefix,
      delimiter: input.delimiter,
      marker,
      maxKeys,
    });
    const output: ListObjectsOutput = {
      name: bucket.name,
      prefix,
      marker: input.marker ?? '',
      maxKeys,
      isTruncated: truncated,
      contents: [],
      commonPrefixes: [],
      owner: this.owner,
    };
    this.fillEntries(bucket, entries, output);
    if (input.delimiter !== undefined) output.delimiter = input.delimiter;
    // S3 sends NextMarker only with a delimiter; clients otherwise continue from the last key.
    if (truncated && input.delimiter !== undefined && input.delimiter !== '' && entries.length > 0) {
      output.nextMarker = entryName(entries[entries.length - 1]!);
    }
    return output;
  }

  private fillEntries(
    bucket: BucketState,
    entries: ListEntry[],
    output: { contents: ObjectSummary[]; commonPrefixes: string[] },
  ): void {
    for (const entry of entries) {
      if ('key' in entry) output.contents.push(toSummary(bucket.objects.get(entry.key)!));
      else output.commonPrefixes.push(entry.prefix);
    }
  }

  async copyObject(input: CopyObjectInput): Promise<CopyObjectOutput> {
    const target = this.bucketState(input.bucket);
    const source = this.bucketState(input.sourceBucket);
    checkKey(input.key);
    checkKey(input.sourceKey);
    const replace = input.metadataDirective === 'REPLACE';
    if (replace) checkMetadata(input.metadata);
    if (input.sourceVersionId !== undefined && input.sourceVersionId !== 'null') {
      throw new AwsError('NoSuchVersion', 'The specified version does not exist.', 404, {
        Key: input.sourceKey,
        VersionId: input.sourceVersionId,
      });
    }
    const sourceRecord = this.objectRecord(source, input.sourceKey);
    if (
      input.bucket === input.sourceBucket &&
      input.key === input.sourceKey &&
      !replace &&
      !input.changesOtherAttributes &&
      (input.checksumAlgorithm === undefined || input.checksumAlgorithm === sourceRecord.checksum?.algorithm)
    ) {
      throw new AwsError(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        400,
      );
    }
    checkReadConditions(sourceRecord, input.sourceConditions ?? {}, () =>
      preconditionFailed('x-amz-copy-source-If-None-Match'),
    );
    // Pinned synchronously with the lookup: an overwrite of the source cannot unlink its data
    // while we digest or link it.
    return this.withPinned(source, sourceRecord, () =>
      this.guard(input.bucket, async () => {
        let checksum = sourceRecord.checksum;
        if (input.checksumAlgorithm !== undefined && input.checksumAlgorithm !== checksum?.algorithm) {
          // A different algorithm than the source carries: compute it over the data.
          const value = await this.digestObject(source, sourceRecord, input.checksumAlgorithm);
          checksum = { algorithm: input.checksumAlgorithm, value, type: 'FULL_OBJECT' };
        }
        const files = await this.store.linkData(
          source,
          sourceRecord.segments.map((segment) => segment.file),
          target,
        );
        const segments: Segment[] = sourceRecord.segments.map((segment, i) => ({
          ...segment,
          file: files[i]!,
        }));
        const record: ObjectRecord = {
          key: input.key,
          size: sourceRecord.size,
          etag: sourceRecord.etag,
          lastModified: this.now().toISOString(),
          contentType: replace ? (input.contentType ?? DEFAULT_CONTENT_TYPE) : sourceRecord.contentType,
          headers: replace ? (input.headers ?? {}) : sourceRecord.headers,
          metadata: replace ? (input.metadata ?? {}) : sourceRecord.metadata,
          segments,
        };
        if (sourceRecord.multipart) record.multipart = true;
        if (checksum !== undefined) record.checksum = checksum;
        await this.commitOrRelease(target, input.key, segments, (previous) => {
          checkWriteConditions(previous, input.key, input.ifMatch, input.ifNoneMatch);
          return record;
        });
        const output: CopyObjectOutput = { etag: record.etag, lastModified: new Date(record.lastModified) };
        if (checksum !== undefined) output.checksum = checksum;
        return output;
      }),
    );
  }

  /** Runs `fn` with the record's data files pinned (not unlinked even if the key is overwritten). */
  private async withPinned<T>(bucket: BucketState, record: ObjectRecord, fn: () => Promise<T>): Promise<T> {
    // Synchronous up to here: callers rely on the pin being taken in the same tick as their lookup.
    const release = this.store.pinRecord(bucket, record);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private async digestObject(
    bucket: BucketState,
    record: ObjectRecord,
    algorithm: ChecksumAlgorithm,
  ): Promise<string> {
    const digest = createDigest(algorithm);
    for await (const chunk of this.store.openRead(bucket, record, 0, record.size - 1))
      digest.update(chunk as Buffer);
    return digest.digest().toString('base64');
  }

  // --- Multipart uploads

  async createMultipartUpload(input: CreateMultipartUploadInput): Promise<CreateMultipartUploadOutput> {
    const bucket = this.bucketState(input.bucket);
    checkKey(input.key);
    checkMetadata(input.metadata);
    let checksumType = input.checksumType;
    if (checksumType !== undefined && input.checksumAlgorithm === undefined) {
      throw new AwsError(
        'InvalidRequest',
        'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
        400,
      );
    }
    if (input.checksumAlgorithm !== undefined) {
      checksumType ??= defaultChecksumType(input.checksumAlgorithm);
      if (!checksumTypeAllowed(input.checksumAlgorithm, checksumType)) {
        throw new AwsError(
          'InvalidRequest',
          `The ${checksumType} checksum type cannot be used with the ${input.checksumAlgorithm.toLowerCase()} checksum algorithm.`,
          400,
        );
      }
    }
    const uploadId = randomBytes(36).toString('base64url');
    const record = {
      uploadId,
      key: input.key,
      initiated: this.now().toISOString(),
      contentType: input.contentType ?? DEFAULT_CONTENT_TYPE,
      headers: input.headers ?? {},
      metadata: input.metadata ?? {},
      ...(input.checksumAlgorithm !== undefined
        ? { checksumAlgorithm: input.checksumAlgorithm, checksumType }
        : {}),
    };
    await this.guard(input.bucket, () => this.store.createUpload(bucket, record));
    const output: CreateMultipartUploadOutput = { bucket: input.bucket, key: input.key, uploadId };
    if (input.checksumAlgorithm !== undefined) {
      output.checksumAlgorithm = input.checksumAlgorithm;
      output.checksumType = checksumType!;
    }
    return output;
  }

  private uploadState(bucket: BucketState, key: string, uploadId: string): UploadState {
    const upload = bucket.uploads.get(uploadId);
    if (upload === undefined || upload.closed || upload.record.key !== key) throw noSuchUpload(uploadId);
    return upload;
  }

  async uploadPart(input: UploadPartInput): Promise<UploadPartOutput> {
    const bucket = this.bucketState(input.bucket);
    checkPartNumber(input.partNumber);
    const upload = this.uploadState(bucket, input.key, input.uploadId);
    const algorithm = upload.record.checksumAlgorithm;
    if (algorithm !== undefined && input.checksum !== undefined && input.checksum.algorithm !== algorithm) {
      throw new AwsError(
        'InvalidRequest',
        `Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${input.checksum.algorithm.toLowerCase()}`,
        400,
      );
    }
    return this.guard(input.bucket, async () => {
      const received = await this.receiveBody(input, algorithm === undefined ? [] : [algorithm]);
      const partAlgorithm = algorithm ?? input.checksum?.algorithm;
      const part: PartRecord = {
        partNumber: input.partNumber,
        file: '',
        size: received.temp.size,
        etag: `"${received.md5.toString('hex')}"`,
        lastModified: this.now().toISOString(),
      };
      if (partAlgorithm !== undefined) {
        part.checksum = { algorithm: partAlgorithm, value: received.checksums.get(partAlgorithm)! };
      }
      await this.commitPart(bucket, upload, part, received.temp);
      const output: UploadPartOutput = { etag: part.etag };
      if (part.checksum !== undefined) output.checksum = part.checksum;
      return output;
    });
  }

  private async commitPart(
    bucket: BucketState,
    upload: UploadState,
    part: PartRecord,
    temp: TempFile,
  ): Promise<void> {
    const uploadId = upload.record.uploadId;
    if (upload.closed) {
      await this.store.discard(temp);
      throw noSuchUpload(uploadId);
    }
    let file: string;
    try {
      file = await this.store.commitPartData(bucket, uploadId, temp);
    } catch (error) {
      if (error instanceof BucketGoneError && !bucket.deleted) throw noSuchUpload(uploadId);
      throw error;
    }
    part.file = file;
    await this.store.withUpload(bucket, uploadId, async () => {
      if (upload.closed) {
        await this.store.removeFiles(bucket, [file]);
        throw noSuchUpload(uploadId);
      }
      await this.store.commitPart(bucket, upload, part);
    });
  }

  async uploadPartCopy(input: UploadPartCopyInput): Promise<UploadPartCopyOutput> {
    const bucket = this.bucketState(input.bucket);
    const source = this.bucketState(input.sourceBucket);
    checkPartNumber(input.partNumber);
    const upload = this.uploadState(bucket, input.key, input.uploadId);
    if (input.sourceVersionId !== undefined && input.sourceVersionId !== 'null') {
      throw new AwsError('NoSuchVersion', 'The specified version does not exist.', 404);
    }
    const sourceRecord = this.objectRecord(source, input.sourceKey);
    checkReadConditions(sourceRecord, input.sourceConditions ?? {}, () =>
      preconditionFailed('x-amz-copy-source-If-None-Match'),
    );
    let start = 0;
    let end = sourceRecord.size - 1;
    if (input.sourceRange !== undefined) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(input.sourceRange.trim());
      if (!m || Number(m[1]) > Number(m[2]) || Number(m[2]) >= sourceRecord.size) {
        throw new AwsError(
          'InvalidArgument',
          'Range specified is not valid for source object of size: ' + sourceRecord.size,
          400,
          { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: input.sourceRange },
        );
      }
      start = Number(m[1]);
      end = Number(m[2]);
    }
    const algorithm = upload.record.checksumAlgorithm;
    return this.guard(input.bucket, async () => {
      const body = this.store.openRead(source, sourceRecord, start, end);
      const received = await this.receiveBody(
        { body, contentLength: end - start + 1 },
        algorithm ? [algorithm] : [],
      );
      const part: PartRecord = {
        partNumber: input.partNumber,
        file: '',
        size: received.temp.size,
        etag: `"${received.md5.toString('hex')}"`,
        lastModified: this.now().toISOString(),
      };
      if (algorithm !== undefined) part.checksum = { algorithm, value: received.checksums.get(algorithm)! };
      await this.commitPart(bucket, upload, part, received.temp);
      const output: UploadPartCopyOutput = { etag: part.etag, lastModified: new Date(part.lastModified) };
      if (part.checksum !== undefined) output.checksum = part.checksum;
      return output;
    });
  }

  async completeMultipartUpload(input: CompleteMultipartUploadInput): Promise<CompleteMultipartUploadOutput> {
    const bucket = this.bucketState(input.bucket);
    const upload = this.uploadState(bucket, input.key, input.uploadId);
    if (input.parts.length === 0) {
      throw new AwsError(
        'MalformedXML',
        'The XML you provided was not well-formed or did not validate against our published schema',
        400,
      );
    }
    return this.guard(input.bucket, () =>
      this.store.withUpload(bucket, input.uploadId, async () => {
        if (upload.closed) throw noSuchUpload(input.uploadId);
        const parts = this.checkCompletedParts(upload, input);
        const md5s = Buffer.concat(parts.map((part) => Buffer.from(unquote(part.etag), 'hex')));
        const etag = `"${createHash('md5').update(md5s).digest('hex')}-${parts.length}"`;
        const size = parts.reduce((total, part) => total + part.size, 0);
        if (input.objectSize !== undefined && input.objectSize !== size) {
          throw new AwsError(
            'InvalidRequest',
            `The provided 'x-amz-mp-object-size' header value ${input.objectSize} does not match what was computed: ${size}`,
            400,
          );
        }
        const checksum = this.multipartChecksum(upload, parts, input);
        const files = await this.store.linkData(
          bucket,
          parts.map((part) => part.file),
          bucket,
        );
        const segments: Segment[] = parts.map((part, i) => {
          const segment: Segment = { file: files[i]!, size: part.size, etag: part.etag };
          if (part.checksum !== undefined) segment.checksum = part.checksum.value;
          return segment;
        });
        const record: ObjectRecord = {
          key: input.key,
          size,
          etag,
          lastModified: this.now().toISOString(),
          contentType: upload.record.contentType,
          headers: upload.record.headers,
          metadata: upload.record.metadata,
          multipart: true,
          segments,
        };
        if (checksum !== undefined) record.checksum = checksum;
        await this.commitOrRelease(bucket, input.key, segments, (previous) => {
          checkWriteConditions(previous, input.key, input.ifMatch, input.ifNoneMatch);
          return record;
        });
        await this.store.removeUpload(bucket, upload);
        const output: CompleteMultipartUploadOutput = { bucket: input.bucket, key: input.key, etag };
        if (checksum !== undefined) output.checksum = checksum;
        return output;
      }),
    );
  }

  /** S3's checks on a Complete request's part list; returns the stored parts in order. */
  private checkCompletedParts(upload: UploadState, input: CompleteMultipartUploadInput): PartRecord[] {
    const algorithm = upload.record.checksumAlgorithm;
    const parts: PartRecord[] = [];
    let previous = 0;
    for (const requested of input.parts) {
      checkPartNumber(requested.partNumber);
      if (requested.partNumber <= previous) {
        throw new AwsError(
          'InvalidPartOrder',
          'The list of parts was not in ascending order. Parts must be ordered by part number.',
          400,
          { UploadId: input.uploadId },
        );
      }
      previous = requested.partNumber;
      const part = upload.parts.get(requested.partNumber);
      if (part === undefined || unquote(part.etag) !== unquote(requested.etag))
        throw invalidPart(input.uploadId, requested);
      for (const [name, value] of Object.entries(requested.checksums)) {
        if (
          part.checksum === undefined ||
          part.checksum.algorithm !== name ||
          part.checksum.value !== value
        ) {
          throw invalidPart(input.uploadId, requested);
        }
      }
      if (
        algorithm !== undefined &&
        upload.record.checksumType === 'COMPOSITE' &&
        requested.checksums[algorithm] === undefined
      ) {
        throw new AwsError(
          'InvalidRequest',
          `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${requested.partNumber} in the request.`,
          400,
        );
      }
      parts.push(part);
    }
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      if (part.size < MIN_PART_SIZE) {
        throw new AwsError(
          'EntityTooSmall',
          'Your proposed upload is smaller than the minimum allowed size',
          400,
          {
            ProposedSize: String(part.size),
            MinSizeAllowed: String(MIN_PART_SIZE),
            PartNumber: String(part.partNumber),
            ETag: part.etag,
          },
        );
      }
    }
    return parts;
  }

  private multipartChecksum(
    upload: UploadState,
    parts: PartRecord[],
    input: CompleteMultipartUploadInput,
  ): StoredChecksum | undefined {
    const algorithm = upload.record.checksumAlgorithm;
    const type = upload.record.checksumType;
    if (input.checksumType !== undefined && input.checksumType !== type) {
      throw new AwsError(
        'InvalidRequest',
        `The upload was created using the ${type ?? 'null'} checksum mode. The complete request must use the same checksum mode.`,
        400,
      );
    }
    if (algorithm === undefined || type === undefined) {
      if (input.checksum !== undefined) {
        throw new AwsError(
          'InvalidRequest',
          'The upload was created without a checksum algorithm; the complete request cannot carry a checksum.',
          400,
        );
      }
      return undefined;
    }
    const partChecksums = parts.map((part) => part.checksum?.value ?? '');
    const value =
      type === 'COMPOSITE'
        ? compositeChecksum(algorithm, partChecksums)
        : combineCrcs(
            algorithm,
            parts.map((part, i) => ({ checksum: partChecksums[i]!, size: part.size })),
          );
    if (input.checksum !== undefined) {
      if (input.checksum.algorithm !== algorithm) {
        throw new AwsError(
          'InvalidRequest',
          `Checksum Type mismatch occurred, expected checksum Type: ${algorithm.toLowerCase()}, actual checksum Type: ${input.checksum.algorithm.toLowerCase()}`,
          400,
        );
      }
      const given = input.checksum.value;
      const comparable = type === 'COMPOSITE' && !given.includes('-') ? value.replace(/-\d+$/, '') : value;
      if (given !== comparable) throw badDigest(algorithm);
    }
    return { algorithm, value, type };
  }

  async abortMultipartUpload(input: { bucket: string; key: string; uploadId: string }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    const upload = this.uploadState(bucket, input.key, input.uploadId);
    await this.store.withUpload(bucket, input.uploadId, async () => {
      if (upload.closed) throw noSuchUpload(input.uploadId);
      await this.store.removeUpload(bucket, upload);
    });
  }

  async listParts(input: {
    bucket: string;
    key: string;
    uploadId: string;
    maxParts?: number;
    partNumberMarker?: number;
  }): Promise<ListPartsOutput> {
    const bucket = this.bucketState(input.bucket);
    const upload = this.uploadState(bucket, input.key, input.uploadId);
    const maxParts = clampMax(input.maxParts, 'max-parts');
    const marker = input.partNumberMarker ?? 0;
    const all = [...upload.parts.values()]
      .filter((part) => part.partNumber > marker)
      .sort((a, b) => a.partNumber - b.partNumber);
    const page = all.slice(0, maxParts);
    const output: ListPartsOutput = {
      bucket: input.bucket,
      key: input.key,
      uploadId: input.uploadId,
      partNumberMarker: marker,
      maxParts,
      isTruncated: all.length > page.length,
      parts: page.map((part) => {
        const description: PartDescription = {
          partNumber: part.partNumber,
          lastModified: new Date(part.lastModified),
          etag: part.etag,
          size: part.size,
        };
        if (part.checksum !== undefined) description.checksum = part.checksum;
        return description;
      }),
      owner: this.owner,
    };
    if (page.length > 0) output.nextPartNumberMarker = page[page.length - 1]!.partNumber;
    if (upload.record.checksumAlgorithm !== undefined)
      output.checksumAlgorithm = upload.record.checksumAlgorithm;
    if (upload.record.checksumType !== undefined) output.checksumType = upload.record.checksumType;
    return output;
  }

  async listMultipartUploads(input: ListMultipartUploadsInput): Promise<ListMultipartUploadsOutput> {
    const bucket = this.bucketState(input.bucket);
    const maxUploads = clampMax(input.maxUploads, 'max-uploads');
    const prefix = input.prefix ?? '';
    const keyMarker = input.keyMarker ?? '';
    const uploadIdMarker = input.uploadIdMarker ?? '';
    const delimiter = input.delimiter === '' ? undefined : input.delimiter;
    const sorted = [...bucket.uploads.values()]
      .filter((upload) => !upload.closed && upload.record.key.startsWith(prefix))
      .sort(
        (a, b) =>
          compareKeys(a.record.key, b.record.key) ||
          a.record.initiated.localeCompare(b.record.initiated) ||
          a.record.uploadId.localeCompare(b.record.uploadId),
      );
    const after = (upload: UploadState): boolean => {
      if (keyMarker === '') return true;
      const c = compareKeys(upload.record.key, keyMarker);
      if (c !== 0) return c > 0;
      if (uploadIdMarker === '') return false;
      // Same key: uploads listed after the marker's upload.
      const markerIndex = sorted.findIndex((u) => u.record.uploadId === uploadIdMarker);
      return markerIndex >= 0 && sorted.indexOf(upload) > markerIndex;
    };
    const uploads: UploadDescription[] = [];
    const commonPrefixes: string[] = [];
    let truncated = false;
    let last: { key: string; uploadId?: string } | undefined;
    for (const upload of sorted) {
      if (!after(upload)) continue;
      const key = upload.record.key;
      if (delimiter !== undefined) {
        const at = key.indexOf(delimiter, prefix.length);
        if (at >= 0) {
          const common = key.slice(0, at + delimiter.length);
          if (commonPrefixes[commonPrefixes.length - 1] === common || common === keyMarker) continue;
          if (uploads.length + commonPrefixes.length >= maxUploads) {
            truncated = true;
            break;
          }
          commonPrefixes.push(common);
          last = { key: common };
          continue;
        }
      }
      if (uploads.length + commonPrefixes.length >= maxUploads) {
        truncated = true;
        break;
      }
      const description: UploadDescription = {
        uploadId: upload.record.uploadId,
        key,
        initiated: new Date(upload.record.initiated),
      };
      if (upload.record.checksumAlgorithm !== undefined)
        description.checksumAlgorithm = upload.record.checksumAlgorithm;
      if (upload.record.checksumType !== undefined) description.checksumType = upload.record.checksumType;
      uploads.push(description);
      last = { key, uploadId: upload.record.uploadId };
    }
    const output: ListMultipartUploadsOutput = {
      bucket: input.bucket,
      prefix,
      keyMarker,
      uploadIdMarker,
      maxUploads,
      isTruncated: truncated,
      uploads,
      commonPrefixes,
      owner: this.owner,
    };
    if (delimiter !== undefined) output.delimiter = delimiter;
    if (truncated && last !== undefined) {
      output.nextKeyMarker = last.key;
      if (last.uploadId !== undefined) output.nextUploadIdMarker = last.uploadId;
    }
    return output;
  }
}

function tooLarge(size: number): AwsError {
  return new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
    ProposedSize: String(size),
    MaxSizeAllowed: String(MAX_OBJECT_PUT_SIZE),
  });
}
