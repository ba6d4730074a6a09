/**
 * S3's AWS operations: every operation the local S3 serves, AWS-shaped input (members as
 * @aws-sdk/client-s3's `…Request` types name them; bodies as streams, bytes or text) to
 * `S3Service` calls, and the outputs back as the `…Output` types name them (dates as Dates, keys
 * URL-encoded when `EncodingType` is `url`, as S3 returns them). This table is what
 * `invoke('s3', …)` serves in-process (Step Functions' `aws-sdk:s3:*` tasks, provisioners) and
 * what the REST-XML binding (protocol/s3/) calls for every request over HTTP, so both behave alike.
 * Besides the AWS members, HTTP requests carry the few facts in `HttpBodyFacts` (checksum
 * trailers, the signed payload hash) and header values kept as sent (`Expires`).
 */
import type {
  AbortMultipartUploadRequest,
  CompleteMultipartUploadOutput,
  CompleteMultipartUploadRequest,
  CopyObjectOutput,
  CopyObjectRequest,
  CreateBucketOutput,
  CreateBucketRequest,
  CreateMultipartUploadOutput,
  CreateMultipartUploadRequest,
  DeleteBucketPolicyRequest,
  DeleteBucketRequest,
  DeleteObjectRequest,
  DeleteObjectsOutput,
  DeleteObjectsRequest,
  DeletePublicAccessBlockRequest,
  GetBucketLocationOutput,
  GetBucketLocationRequest,
  GetBucketPolicyOutput,
  GetBucketPolicyRequest,
  GetBucketVersioningOutput,
  GetBucketVersioningRequest,
  GetObjectOutput,
  GetObjectRequest,
  GetPublicAccessBlockOutput,
  GetPublicAccessBlockRequest,
  HeadBucketOutput,
  HeadBucketRequest,
  HeadObjectOutput,
  HeadObjectRequest,
  ListBucketsOutput,
  ListBucketsRequest,
  ListMultipartUploadsOutput,
  ListMultipartUploadsRequest,
  ListObjectsOutput,
  ListObjectsRequest,
  ListObjectsV2Output,
  ListObjectsV2Request,
  ListObjectVersionsOutput,
  ListObjectVersionsRequest,
  ListPartsOutput,
  ListPartsRequest,
  Owner as AwsOwner,
  PutBucketPolicyRequest,
  PutObjectOutput,
  PutObjectRequest,
  PutPublicAccessBlockRequest,
  UploadPartCopyOutput,
  UploadPartCopyRequest,
  UploadPartOutput,
  UploadPartRequest,
  _Object,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { AwsError } from '../../core/errors.js';
import type { OperationTable } from '../../core/service.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type ChecksumType } from './checksums.js';
import { bodyInput, checksumClaim, requireAlgorithm, type BodyClaimMembers } from './request-body.js';
import type {
  ObjectAttributes,
  ObjectDescription,
  ObjectSummary,
  Owner,
  ReadConditions,
  S3Service,
  StoredChecksum,
} from './s3-service.js';

export type { BodyClaimMembers, HttpBodyFacts } from './request-body.js';

const XML_MALFORMED_MESSAGE =
  'The XML you provided was not well-formed or did not validate against our published schema';

/** A header value S3 stores as sent; the SDK types it as a Date, HTTP carries it as text. */
type HttpDate = Date | string;

/** Representation headers S3 stores with an object, by the member that carries each. */
const STORED_MEMBERS = [
  ['CacheControl', 'cache-control'],
  ['ContentDisposition', 'content-disposition'],
  ['ContentEncoding', 'content-encoding'],
  ['ContentLanguage', 'content-language'],
  ['Expires', 'expires'],
  ['WebsiteRedirectLocation', 'x-amz-website-redirect-location'],
  ['StorageClass', 'x-amz-storage-class'],
] as const;

type StoredMember = (typeof STORED_MEMBERS)[number][0];
type AttributeMembers = {
  [M in StoredMember]?: M extends 'Expires' ? HttpDate | undefined : string | undefined;
} & {
  ContentType?: string | undefined;
  Metadata?: Record<string, string> | undefined;
};

/** GetObject's `Response…` members: headers the response carries instead of the stored ones. */
const RESPONSE_OVERRIDES = [
  ['ResponseCacheControl', 'CacheControl'],
  ['ResponseContentDisposition', 'ContentDisposition'],
  ['ResponseContentEncoding', 'ContentEncoding'],
  ['ResponseContentLanguage', 'ContentLanguage'],
  ['ResponseContentType', 'ContentType'],
] as const;

// --- The AWS-shaped inputs as the REST binding fills them (SDK request types, plus HTTP's facts)

/** PutObject's input: the SDK's, with the body's claims as they arrive (checked here) and HTTP's facts. */
export type PutObjectInput = Omit<PutObjectRequest, 'Expires' | 'Body' | keyof BodyClaimMembers> &
  BodyClaimMembers & { Body?: unknown; Expires?: HttpDate | undefined };
export type UploadPartInput = Omit<UploadPartRequest, 'Body' | keyof BodyClaimMembers> &
  BodyClaimMembers & { Body?: unknown };
export type GetObjectInput = Omit<GetObjectRequest, 'ResponseExpires'> & {
  ResponseExpires?: HttpDate | undefined;
};
export type HeadObjectInput = Omit<HeadObjectRequest, 'ResponseExpires'> & {
  ResponseExpires?: HttpDate | undefined;
};
export type CopyObjectInput = Omit<CopyObjectRequest, 'Expires'> & { Expires?: HttpDate | undefined };
export type CreateMultipartUploadInput = Omit<CreateMultipartUploadRequest, 'Expires'> & {
  Expires?: HttpDate | undefined;
};
export type GetObjectResult = Omit<GetObjectOutput, 'Body'> & { Body: Readable };

// --- Member readers

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '')
    throw new AwsError('InvalidArgument', `${name} is required.`, 400, { ArgumentName: name });
  return value;
}

function malformedXml(): AwsError {
  return new AwsError('MalformedXML', XML_MALFORMED_MESSAGE, 400);
}

/** `EncodingType`: true when keys in the answer must be URL-encoded. */
function urlEncoding(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value.toLowerCase() !== 'url') {
    throw new AwsError('InvalidArgument', 'Invalid Encoding Method specified in Request', 400, {
      ArgumentName: 'encoding-type',
      ArgumentValue: value,
    });
  }
  return true;
}

/** S3's `encoding-type=url`: percent-encoding clients undo with unquote_plus / decodeURIComponent. */
export function urlEncodeKey(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}

function httpDateText(value: HttpDate): string {
  return typeof value === 'string' ? value : value.toUTCString();
}

/** Content-Type, stored representation headers and user metadata from a request's members. */
function attributesOf(input: AttributeMembers): ObjectAttributes {
  const headers: Record<string, string> = {};
  for (const [member, header] of STORED_MEMBERS) {
    const value = input[member];
    if (value === undefined) continue;
    // STANDARD is what every object here is; S3 returns no storage class header for it.
    if (member === 'StorageClass' && value === 'STANDARD') continue;
    headers[header] = typeof value === 'string' ? value : httpDateText(value);
  }
  const attributes: ObjectAttributes = { headers, metadata: { ...(input.Metadata ?? {}) } };
  if (input.ContentType !== undefined) attributes.contentType = input.ContentType;
  return attributes;
}

function readConditions(input: {
  IfMatch?: string | undefined;
  IfNoneMatch?: string | undefined;
  IfModifiedSince?: Date | undefined;
  IfUnmodifiedSince?: Date | undefined;
}): ReadConditions {
  const conditions: ReadConditions = {};
  if (input.IfMatch !== undefined) conditions.ifMatch = input.IfMatch;
  if (input.IfNoneMatch !== undefined) conditions.ifNoneMatch = input.IfNoneMatch;
  if (input.IfModifiedSince !== undefined) conditions.ifModifiedSince = input.IfModifiedSince;
  if (input.IfUnmodifiedSince !== undefined) conditions.ifUnmodifiedSince = input.IfUnmodifiedSince;
  return conditions;
}

function sourceConditions(input: {
  CopySourceIfMatch?: string | undefined;
  CopySourceIfNoneMatch?: string | undefined;
  CopySourceIfModifiedSince?: Date | undefined;
  CopySourceIfUnmodifiedSince?: Date | undefined;
}): ReadConditions {
  return readConditions({
    IfMatch: input.CopySourceIfMatch,
    IfNoneMatch: input.CopySourceIfNoneMatch,
    IfModifiedSince: input.CopySourceIfModifiedSince,
    IfUnmodifiedSince: input.CopySourceIfUnmodifiedSince,
  });
}

function writeConditions(input: { IfMatch?: string | undefined; IfNoneMatch?: string | undefined }): {
  ifMatch?: string;
  ifNoneMatch?: string;
} {
  const conditions: { ifMatch?: string; ifNoneMatch?: string } = {};
  if (input.IfMatch !== undefined) conditions.ifMatch = input.IfMatch;
  if (input.IfNoneMatch !== undefined) conditions.ifNoneMatch = input.IfNoneMatch;
  return conditions;
}

/** `CopySource`: `[/]bucket/key[?versionId=…]`, the key URL-encoded. */
export function parseCopySource(raw: string | undefined): {
  bucket: string;
  key: string;
  versionId?: string;
} {
  const text = required(raw, 'CopySource');
  let value = text;
  let versionId: string | undefined;
  const q = value.indexOf('?');
  if (q >= 0) {
    versionId = new URLSearchParams(value.slice(q + 1)).get('versionId') ?? undefined;
    value = value.slice(0, q);
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw new AwsError('InvalidArgument', 'Invalid copy source encoding.', 400, {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: text,
    });
  }
  if (decoded.startsWith('/')) decoded = decoded.slice(1);
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new AwsError('InvalidArgument', 'Invalid copy source object key', 400, {
      ArgumentName: 'x-amz-copy-source',
      ArgumentValue: text,
    });
  }
  const source: { bucket: string; key: string; versionId?: string } = {
    bucket: decoded.slice(0, slash),
    key: decoded.slice(slash + 1),
  };
  if (versionId !== undefined) source.versionId = versionId;
  return source;
}

function checksumAlgorithmMember(value: string | undefined, header: string): ChecksumAlgorithm | undefined {
  return value === undefined ? undefined : requireAlgorithm(value, header);
}

function partNumberOf(value: number | undefined): number {
  if (value === undefined || !Number.isInteger(value) || value < 0) {
    throw new AwsError(
      'InvalidArgument',
      'Part number must be an integer between 1 and 10000, inclusive',
      400,
      {
        ArgumentName: 'partNumber',
        ArgumentValue: String(value ?? ''),
      },
    );
  }
  return value;
}

// --- Output shapes

function ownerMembers(owner: Owner): AwsOwner {
  return { ID: owner.id, DisplayName: owner.displayName };
}

/** `Checksum<ALGORITHM>` and `ChecksumType` members for a checksum. */
function checksumMembers(
  checksum: StoredChecksum | { algorithm: ChecksumAlgorithm; value: string } | undefined,
): { ChecksumType?: ChecksumType } & Record<string, string> {
  if (checksum === undefined) return {};
  const members: Record<string, string> = { [`Checksum${checksum.algorithm}`]: checksum.value };
  if ('type' in checksum) members.ChecksumType = checksum.type;
  return members;
}

function summaryMembers(summary: ObjectSummary, encodeKey: (key: string) => string, owner?: Owner): _Object {
  const object: _Object = {
    Key: encodeKey(summary.key),
    LastModified: summary.lastModified,
    ETag: summary.etag,
  };
  if (summary.checksumAlgorithm !== undefined)
    object.ChecksumAlgorithm = [
      summary.checksumAlgorithm as NonNullable<_Object['ChecksumAlgorithm']>[number],
    ];
  if (summary.checksumType !== undefined) object.ChecksumType = summary.checksumType;
  object.Size = summary.size;
  if (owner !== undefined) object.Owner = ownerMembers(owner);
  object.StorageClass = 'STANDARD';
  return object;
}

function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length === 0 ? undefined : items;
}

/** GetObject/HeadObject's members from what the service describes, with `Response…` overrides applied. */
function describedMembers(
  object: ObjectDescription,
  overrides: GetObjectInput | HeadObjectInput,
): Omit<GetObjectOutput, 'Body'> {
  const output: Omit<GetObjectOutput, 'Body'> & Record<string, unknown> = {
    AcceptRanges: 'bytes',
    LastModified: object.lastModified,
    ContentLength: object.contentLength,
    ETag: object.etag,
    ContentType: object.contentType,
    ...checksumMembers(object.checksum),
  };
  if (object.partsCount !== undefined) output.PartsCount = object.partsCount;
  if (object.contentRange !== undefined) output.ContentRange = object.contentRange;
  for (const [member, header] of STORED_MEMBERS) {
    const value = object.headers[header];
    if (value === undefined) continue;
    if (member === 'Expires') setExpires(output, value);
    else (output as Record<string, unknown>)[member] = value;
  }
  output.Metadata = { ...object.metadata };
  for (const [request, member] of RESPONSE_OVERRIDES) {
    const value = overrides[request];
    if (value !== undefined) output[member] = value;
  }
  if (overrides.ResponseExpires !== undefined) setExpires(output, httpDateText(overrides.ResponseExpires));
  return output;
}

/** `ExpiresString` is the header as stored; `Expires` its date, when it is one (as the SDK reads it). */
function setExpires(
  output: { Expires?: Date | undefined; ExpiresString?: string | undefined },
  text: string,
): void {
  output.ExpiresString = text;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) delete output.Expires;
  else output.Expires = date;
}

function deleteEntry(entry: { key: string; versionId?: string }): { Key: string; VersionId?: string } {
  return entry.versionId === undefined ? { Key: entry.key } : { Key: entry.key, VersionId: entry.versionId };
}

// --- The operations

export function s3Operations(s3: S3Service): OperationTable {
  return {
    ListBuckets: async (input: ListBucketsRequest): Promise<ListBucketsOutput> => {
      const output = await s3.listBuckets({
        ...(input.MaxBuckets === undefined ? {} : { maxBuckets: input.MaxBuckets }),
        ...(input.Prefix === undefined ? {} : { prefix: input.Prefix }),
        ...(input.ContinuationToken === undefined ? {} : { continuationToken: input.ContinuationToken }),
      });
      return {
        Owner: ownerMembers(output.owner),
        Buckets: output.buckets.map((bucket) => ({
          Name: bucket.name,
          CreationDate: bucket.creationDate,
          BucketRegion: bucket.region,
        })),
        ...(output.continuationToken === undefined ? {} : { ContinuationToken: output.continuationToken }),
        ...(output.prefix === undefined ? {} : { Prefix: output.prefix }),
      };
    },

    CreateBucket: async (input: CreateBucketRequest): Promise<CreateBucketOutput> => {
      const location = input.CreateBucketConfiguration?.LocationConstraint;
      const output = await s3.createBucket({
        bucket: required(input.Bucket, 'Bucket'),
        ...(location === undefined ? {} : { locationConstraint: location }),
      });
      return { Location: output.location };
    },

    HeadBucket: async (input: HeadBucketRequest): Promise<HeadBucketOutput> => {
      const output = await s3.headBucket({ bucket: required(input.Bucket, 'Bucket') });
      return { BucketRegion: output.region, AccessPointAlias: false };
    },

    DeleteBucket: async (input: DeleteBucketRequest): Promise<Record<string, never>> => {
      await s3.deleteBucket({ bucket: required(input.Bucket, 'Bucket') });
      return {};
    },

    GetBucketLocation: async (input: GetBucketLocationRequest): Promise<GetBucketLocationOutput> => {
      const { locationConstraint } = await s3.getBucketLocation({ bucket: required(input.Bucket, 'Bucket') });
      return locationConstraint === undefined
        ? {}
        : { LocationConstraint: locationConstraint as GetBucketLocationOutput['LocationConstraint'] };
    },

    GetBucketVersioning: async (input: GetBucketVersioningRequest): Promise<GetBucketVersioningOutput> => {
      const { status } = await s3.getBucketVersioning({ bucket: required(input.Bucket, 'Bucket') });
      return status === undefined ? {} : { Status: status };
    },

    PutBucketPolicy: async (input: PutBucketPolicyRequest): Promise<Record<string, never>> => {
      await s3.putBucketPolicy({ bucket: required(input.Bucket, 'Bucket'), policy: input.Policy ?? '' });
      return {};
    },

    GetBucketPolicy: async (input: GetBucketPolicyRequest): Promise<GetBucketPolicyOutput> => {
      const { policy } = await s3.getBucketPolicy({ bucket: required(input.Bucket, 'Bucket') });
      return { Policy: policy };
    },

    DeleteBucketPolicy: async (input: DeleteBucketPolicyRequest): Promise<Record<string, never>> => {
      await s3.deleteBucketPolicy({ bucket: required(input.Bucket, 'Bucket') });
      return {};
    },

    PutPublicAccessBlock: async (input: PutPublicAccessBlockRequest): Promise<Record<string, never>> => {
      const given = input.PublicAccessBlockConfiguration ?? {};
      const configuration: Record<string, boolean> = {};
      for (const name of [
        'BlockPublicAcls',
        'IgnorePublicAcls',
        'BlockPublicPolicy',
        'RestrictPublicBuckets',
      ] as const) {
        const value = given[name];
        if (value === undefined) continue;
        if (typeof value !== 'boolean') throw malformedXml();
        configuration[name] = value;
      }
      await s3.putPublicAccessBlock({ bucket: required(input.Bucket, 'Bucket'), configuration });
      return {};
    },

    GetPublicAccessBlock: async (input: GetPublicAccessBlockRequest): Promise<GetPublicAccessBlockOutput> => {
      const { configuration } = await s3.getPublicAccessBlock({ bucket: required(input.Bucket, 'Bucket') });
      return { PublicAccessBlockConfiguration: { ...configuration } };
    },

    DeletePublicAccessBlock: async (
      input: DeletePublicAccessBlockRequest,
    ): Promise<Record<string, never>> => {
      await s3.deletePublicAccessBlock({ bucket: required(input.Bucket, 'Bucket') });
      return {};
    },

    ListObjectsV2: async (input: ListObjectsV2Request): Promise<ListObjectsV2Output> => {
      const encode = urlEncoding(input.EncodingType);
      const enc = encode ? urlEncodeKey : (key: string): string => key;
      const output = await s3.listObjectsV2({
        bucket: required(input.Bucket, 'Bucket'),
        ...(input.Prefix === undefined ? {} : { prefix: input.Prefix }),
        ...(input.Delimiter === undefined ? {} : { delimiter: input.Delimiter }),
        ...(input.ContinuationToken === undefined ? {} : { continuationToken: input.ContinuationToken }),
        ...(input.StartAfter === undefined ? {} : { startAfter: input.StartAfter }),
        ...(input.MaxKeys === undefined ? {} : { maxKeys: input.MaxKeys }),
      });
      return {
        Name: output.name,
        Prefix: enc(output.prefix),
        ...(output.continuationToken === undefined ? {} : { ContinuationToken: output.continuationToken }),
        ...(output.startAfter === undefined ? {} : { StartAfter: enc(output.startAfter) }),
        KeyCount: output.keyCount,
        MaxKeys: output.maxKeys,
        ...(output.delimiter === undefined ? {} : { Delimiter: enc(output.delimiter) }),
        ...(encode ? { EncodingType: 'url' } : {}),
        IsTruncated: output.isTruncated,
        ...(output.nextContinuationToken === undefined
          ? {}
          : { NextContinuationToken: output.nextContinuationToken }),
        Contents: nonEmpty(
          output.contents.map((summary) =>
            summaryMembers(summary, enc, input.FetchOwner === true ? output.owner : undefined),
          ),
        ),
        CommonPrefixes: nonEmpty(output.commonPrefixes.map((prefix) => ({ Prefix: enc(prefix) }))),
      };
    },

    ListObjects: async (input: ListObjectsRequest): Promise<ListObjectsOutput> => {
      const encode = urlEncoding(input.EncodingType);
      const enc = encode ? urlEncodeKey : (key: string): string => key;
      const output = await s3.listObjects({
        bucket: required(input.Bucket, 'Bucket'),
        ...(input.Prefix === undefined ? {} : { prefix: input.Prefix }),
        ...(input.Delimiter === undefined ? {} : { delimiter: input.Delimiter }),
        ...(input.Marker === undefined ? {} : { marker: input.Marker }),
        ...(input.MaxKeys === undefined ? {} : { maxKeys: input.MaxKeys }),
      });
      return {
        Name: output.name,
        Prefix: enc(output.prefix),
        Marker: enc(output.marker),
        ...(output.nextMarker === undefined ? {} : { NextMarker: enc(output.nextMarker) }),
        MaxKeys: output.maxKeys,
        ...(output.delimiter === undefined ? {} : { Delimiter: enc(output.delimiter) }),
        ...(encode ? { EncodingType: 'url' } : {}),
        IsTruncated: output.isTruncated,
        Contents: nonEmpty(output.contents.map((summary) => summaryMembers(summary, enc, output.owner))),
        CommonPrefixes: nonEmpty(output.commonPrefixes.map((prefix) => ({ Prefix: enc(prefix) }))),
      };
    },

    ListObjectVersions: async (input: ListObjectVersionsRequest): Promise<ListObjectVersionsOutput> => {
      const encode = urlEncoding(input.EncodingType);
      const enc = encode ? urlEncodeKey : (key: string): string => key;
      const output = await s3.listObjectVersions({
        bucket: required(input.Bucket, 'Bucket'),
        ...(input.Prefix === undefined ? {} : { prefix: input.Prefix }),
        ...(input.Delimiter === undefined ? {} : { delimiter: input.Delimiter }),
        ...(input.KeyMarker === undefined ? {} : { keyMarker: input.KeyMarker }),
        ...(input.VersionIdMarker === undefined ? {} : { versionIdMarker: input.VersionIdMarker }),
        ...(input.MaxKeys === undefined ? {} : { maxKeys: input.MaxKeys }),
      });
      return {
        Name: output.name,
        Prefix: enc(output.prefix),
        KeyMarker: enc(output.keyMarker),
        VersionIdMarker: output.versionIdMarker,
        ...(output.nextKeyMarker === undefined ? {} : { NextKeyMarker: enc(output.nextKeyMarker) }),
        ...(output.nextVersionIdMarker === undefined
          ? {}
          : { NextVersionIdMarker: output.nextVersionIdMarker }),
        MaxKeys: output.maxKeys,
        ...(output.delimiter === undefined ? {} : { Delimiter: enc(output.delimiter) }),
        ...(encode ? { EncodingType: 'url' } : {}),
        IsTruncated: output.isTruncated,
        Versions: nonEmpty(
          output.versions.map((summary) => {
            const { Key, LastModified, ETag, ChecksumAlgorithm, ChecksumType, Size } = summaryMembers(
              summary,
              enc,
            );
            return {
              Key,
              VersionId: 'null',
              IsLatest: true,
              LastModified,
              ETag,
              ...(ChecksumAlgorithm === undefined ? {} : { ChecksumAlgorithm }),
              ...(ChecksumType === undefined ? {} : { ChecksumType }),
              Size,
              StorageClass: 'STANDARD' as const,
              Owner: ownerMembers(output.owner),
            };
          }),
        ),
        CommonPrefixes: nonEmpty(output.commonPrefixes.map((prefix) => ({ Prefix: enc(prefix) }))),
      };
    },

    PutObject: async (input: PutObjectInput): Promise<PutObjectOutput> => {
      const output = await s3.putObject({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        ...bodyInput(input),
        ...attributesOf(input),
        ...writeConditions(input),
      });
      return { ETag: output.etag, Size: output.size, ...checksumMembers(output.checksum) };
    },

    GetObject: async (input: GetObjectInput): Promise<GetObjectResult> => {
      const object = await s3.getObject({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        ...readConditions(input),
        ...(input.Range === undefined ? {} : { range: input.Range }),
        ...(input.PartNumber === undefined ? {} : { partNumber: partNumberOf(input.PartNumber) }),
        checksumMode: (input.ChecksumMode ?? '').toUpperCase() === 'ENABLED',
      });
      return { ...describedMembers(object, input), Body: object.body };
    },

    HeadObject: async (input: HeadObjectInput): Promise<HeadObjectOutput> => {
      const object = await s3.headObject({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        ...readConditions(input),
        ...(input.Range === undefined ? {} : { range: input.Range }),
        ...(input.PartNumber === undefined ? {} : { partNumber: partNumberOf(input.PartNumber) }),
        checksumMode: (input.ChecksumMode ?? '').toUpperCase() === 'ENABLED',
      });
      return describedMembers(object, input) as HeadObjectOutput;
    },

    DeleteObject: async (input: DeleteObjectRequest): Promise<Record<string, never>> => {
      await s3.deleteObject({ bucket: required(input.Bucket, 'Bucket'), key: required(input.Key, 'Key') });
      return {};
    },

    DeleteObjects: async (input: DeleteObjectsRequest): Promise<DeleteObjectsOutput> => {
      const objects = (input.Delete?.Objects ?? []).map((object) => {
        if (typeof object.Key !== 'string') throw malformedXml();
        return object.VersionId === undefined
          ? { key: object.Key }
          : { key: object.Key, versionId: object.VersionId };
      });
      if (objects.length === 0) throw malformedXml();
      const output = await s3.deleteObjects({ bucket: required(input.Bucket, 'Bucket'), objects });
      return {
        Deleted: input.Delete?.Quiet === true ? undefined : nonEmpty(output.deleted.map(deleteEntry)),
        Errors: nonEmpty(
          output.errors.map((entry) => ({ ...deleteEntry(entry), Code: entry.code, Message: entry.message })),
        ),
      };
    },

    CopyObject: async (input: CopyObjectInput): Promise<CopyObjectOutput> => {
      const source = parseCopySource(input.CopySource);
      const directive = (input.MetadataDirective ?? 'COPY').toUpperCase();
      if (directive !== 'COPY' && directive !== 'REPLACE') {
        throw new AwsError('InvalidArgument', 'Unknown metadata directive.', 400, {
          ArgumentName: 'x-amz-metadata-directive',
          ArgumentValue: directive,
        });
      }
      const checksumAlgorithm = checksumAlgorithmMember(input.ChecksumAlgorithm, 'x-amz-checksum-algorithm');
      const output = await s3.copyObject({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        sourceBucket: source.bucket,
        sourceKey: source.key,
        ...(source.versionId === undefined ? {} : { sourceVersionId: source.versionId }),
        metadataDirective: directive,
        ...(directive === 'REPLACE' ? attributesOf(input) : {}),
        sourceConditions: sourceConditions(input),
        ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }),
        changesOtherAttributes:
          input.StorageClass !== undefined ||
          input.ServerSideEncryption !== undefined ||
          input.WebsiteRedirectLocation !== undefined,
        ...writeConditions(input),
      });
      return {
        CopyObjectResult: {
          ETag: output.etag,
          LastModified: output.lastModified,
          ...checksumMembers(output.checksum),
        },
      };
    },

    CreateMultipartUpload: async (
      input: CreateMultipartUploadInput,
    ): Promise<CreateMultipartUploadOutput> => {
      const checksumAlgorithm = checksumAlgorithmMember(input.ChecksumAlgorithm, 'x-amz-checksum-algorithm');
      let checksumType: ChecksumType | undefined;
      if (input.ChecksumType !== undefined) {
        const upper = input.ChecksumType.trim().toUpperCase();
        if (upper !== 'COMPOSITE' && upper !== 'FULL_OBJECT') {
          throw new AwsError('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.', 400);
        }
        checksumType = upper;
      }
      const output = await s3.createMultipartUpload({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        ...attributesOf(input),
        ...(checksumAlgorithm === undefined ? {} : { checksumAlgorithm }),
        ...(checksumType === undefined ? {} : { checksumType }),
      });
      return {
        Bucket: output.bucket,
        Key: output.key,
        UploadId: output.uploadId,
        ...(output.checksumAlgorithm === undefined
          ? {}
          : {
              ChecksumAlgorithm: output.checksumAlgorithm as CreateMultipartUploadOutput['ChecksumAlgorithm'],
            }),
        ...(output.checksumType === undefined ? {} : { ChecksumType: output.checksumType }),
      };
    },

    UploadPart: async (input: UploadPartInput): Promise<UploadPartOutput> => {
      const output = await s3.uploadPart({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        uploadId: required(input.UploadId, 'UploadId'),
        partNumber: partNumberOf(input.PartNumber),
        ...bodyInput(input),
      });
      return { ETag: output.etag, ...checksumMembers(output.checksum) };
    },

    UploadPartCopy: async (input: UploadPartCopyRequest): Promise<UploadPartCopyOutput> => {
      const source = parseCopySource(input.CopySource);
      const output = await s3.uploadPartCopy({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        uploadId: required(input.UploadId, 'UploadId'),
        partNumber: partNumberOf(input.PartNumber),
        sourceBucket: source.bucket,
        sourceKey: source.key,
        ...(source.versionId === undefined ? {} : { sourceVersionId: source.versionId }),
        ...(input.CopySourceRange === undefined ? {} : { sourceRange: input.CopySourceRange }),
        sourceConditions: sourceConditions(input),
      });
      return {
        CopyPartResult: {
          ETag: output.etag,
          LastModified: output.lastModified,
          ...checksumMembers(output.checksum),
        },
      };
    },

    CompleteMultipartUpload: async (
      input: CompleteMultipartUploadRequest,
    ): Promise<CompleteMultipartUploadOutput> => {
      const parts = (input.MultipartUpload?.Parts ?? []).map((part) => {
        if (part.PartNumber === undefined || part.ETag === undefined) throw malformedXml();
        const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
        for (const algorithm of CHECKSUM_ALGORITHMS) {
          const value = (part as Record<string, unknown>)[`Checksum${algorithm}`];
          if (typeof value === 'string' && value.trim() !== '') checksums[algorithm] = value.trim();
        }
        return { partNumber: part.PartNumber, etag: part.ETag, checksums };
      });
      const claim = checksumClaim(input);
      const type = input.ChecksumType?.trim().toUpperCase();
      const output = await s3.completeMultipartUpload({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        uploadId: required(input.UploadId, 'UploadId'),
        parts,
        ...(claim?.value === undefined
          ? {}
          : { checksum: { algorithm: claim.algorithm, value: claim.value } }),
        ...(type === 'COMPOSITE' || type === 'FULL_OBJECT' ? { checksumType: type } : {}),
        ...(input.MpuObjectSize === undefined ? {} : { objectSize: input.MpuObjectSize }),
        ...writeConditions(input),
      });
      return {
        Bucket: output.bucket,
        Key: output.key,
        ETag: output.etag,
        ...checksumMembers(output.checksum),
      };
    },

    AbortMultipartUpload: async (input: AbortMultipartUploadRequest): Promise<Record<string, never>> => {
      await s3.abortMultipartUpload({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        uploadId: required(input.UploadId, 'UploadId'),
      });
      return {};
    },

    ListParts: async (input: ListPartsRequest): Promise<ListPartsOutput> => {
      const marker = input.PartNumberMarker;
      if (marker !== undefined && !/^-?\d+$/.test(marker.trim())) {
        throw new AwsError(
          'InvalidArgument',
          'Provided part-number-marker not an integer or within integer range',
          400,
          { ArgumentName: 'part-number-marker', ArgumentValue: marker },
        );
      }
      const output = await s3.listParts({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        uploadId: required(input.UploadId, 'UploadId'),
        ...(input.MaxParts === undefined ? {} : { maxParts: input.MaxParts }),
        ...(marker === undefined ? {} : { partNumberMarker: Number(marker) }),
      });
      return {
        Bucket: output.bucket,
        Key: output.key,
        UploadId: output.uploadId,
        PartNumberMarker: String(output.partNumberMarker),
        ...(output.nextPartNumberMarker === undefined
          ? {}
          : { NextPartNumberMarker: String(output.nextPartNumberMarker) }),
        MaxParts: output.maxParts,
        IsTruncated: output.isTruncated,
        Parts: nonEmpty(
          output.parts.map((part) => ({
            PartNumber: part.partNumber,
            LastModified: part.lastModified,
            ETag: part.etag,
            Size: part.size,
            ...checksumMembers(part.checksum),
          })),
        ),
        Initiator: ownerMembers(output.owner),
        Owner: ownerMembers(output.owner),
        StorageClass: 'STANDARD',
        ...(output.checksumAlgorithm === undefined
          ? {}
          : { ChecksumAlgorithm: output.checksumAlgorithm as ListPartsOutput['ChecksumAlgorithm'] }),
        ...(output.checksumType === undefined ? {} : { ChecksumType: output.checksumType }),
      };
    },

    ListMultipartUploads: async (input: ListMultipartUploadsRequest): Promise<ListMultipartUploadsOutput> => {
      const encode = urlEncoding(input.EncodingType);
      const enc = encode ? urlEncodeKey : (key: string): string => key;
      const output = await s3.listMultipartUploads({
        bucket: required(input.Bucket, 'Bucket'),
        ...(input.Prefix === undefined ? {} : { prefix: input.Prefix }),
        ...(input.Delimiter === undefined ? {} : { delimiter: input.Delimiter }),
        ...(input.KeyMarker === undefined ? {} : { keyMarker: input.KeyMarker }),
        ...(input.UploadIdMarker === undefined ? {} : { uploadIdMarker: input.UploadIdMarker }),
        ...(input.MaxUploads === undefined ? {} : { maxUploads: input.MaxUploads }),
      });
      return {
        Bucket: output.bucket,
        KeyMarker: enc(output.keyMarker),
        UploadIdMarker: output.uploadIdMarker,
        ...(output.nextKeyMarker === undefined ? {} : { NextKeyMarker: enc(output.nextKeyMarker) }),
        ...(output.nextUploadIdMarker === undefined ? {} : { NextUploadIdMarker: output.nextUploadIdMarker }),
        Prefix: enc(output.prefix),
        ...(output.delimiter === undefined ? {} : { Delimiter: enc(output.delimiter) }),
        MaxUploads: output.maxUploads,
        ...(encode ? { EncodingType: 'url' } : {}),
        IsTruncated: output.isTruncated,
        Uploads: nonEmpty(
          output.uploads.map((upload) => ({
            Key: enc(upload.key),
            UploadId: upload.uploadId,
            Initiator: ownerMembers(output.owner),
            Owner: ownerMembers(output.owner),
            StorageClass: 'STANDARD' as const,
            Initiated: upload.initiated,
            ...(upload.checksumAlgorithm === undefined
              ? {}
              : {
                  ChecksumAlgorithm: upload.checksumAlgorithm as NonNullable<
                    ListMultipartUploadsOutput['Uploads']
                  >[number]['ChecksumAlgorithm'],
                }),
            ...(upload.checksumType === undefined ? {} : { ChecksumType: upload.checksumType }),
          })),
        ),
        CommonPrefixes: nonEmpty(output.commonPrefixes.map((prefix) => ({ Prefix: enc(prefix) }))),
      };
    },
  };
}
