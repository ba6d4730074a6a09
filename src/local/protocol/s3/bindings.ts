/**
 * S3's REST-XML bindings, one per served operation: how the operation's AWS-shaped input is read
 * from the request (path, query parameters, headers and body, bound to the members S3's model
 * binds them to) and how its AWS-shaped output is written back (status, headers, XML document).
 * Only the wire format lives here; what an input means is `services/s3/wire.ts`'s.
 */
import type {
  AbortMultipartUploadRequest,
  CompleteMultipartUploadOutput,
  CompleteMultipartUploadRequest,
  CopyObjectOutput,
  CreateBucketOutput,
  CreateBucketRequest,
  CreateMultipartUploadOutput,
  DeleteObjectsOutput,
  DeleteObjectsRequest,
  GetBucketLocationOutput,
  GetBucketPolicyOutput,
  GetBucketVersioningOutput,
  GetPublicAccessBlockOutput,
  HeadBucketOutput,
  HeadObjectOutput,
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
  Owner,
  PutBucketPolicyRequest,
  PutObjectOutput,
  PutPublicAccessBlockRequest,
  UploadPartCopyOutput,
  UploadPartCopyRequest,
  UploadPartOutput,
  _Object,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type {
  CopyObjectInput,
  CreateMultipartUploadInput,
  GetObjectInput,
  GetObjectResult,
  HeadObjectInput,
  PutObjectInput,
  UploadPartInput,
} from '../../services/s3/wire.js';
import type { AwsResponse } from '../../types.js';
import { stripAwsChunked } from '../aws-chunked.js';
import type { S3HttpRequest } from './request.js';
import {
  child,
  children,
  malformedXml,
  parseXmlDocument,
  text,
  xmlDocument,
  type XmlElement,
} from './xml.js';

/** Largest bucket policy S3 accepts (20 KB). */
const MAX_POLICY_BYTES = 20 * 1024;
const CHECKSUM_ALGORITHMS = [
  'CRC32',
  'CRC32C',
  'CRC64NVME',
  'SHA1',
  'SHA256',
  'SHA512',
  'MD5',
  'XXHASH64',
  'XXHASH3',
  'XXHASH128',
];
const PUBLIC_ACCESS_BLOCK_FLAGS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
] as const;

export interface Binding<I = never, O = never> {
  /** The operation's AWS-shaped input, read from the request. */
  decode(r: S3HttpRequest): I | Promise<I>;
  /** The response for the operation's AWS-shaped output. */
  encode(output: O, r: S3HttpRequest): AwsResponse;
}

function binding<I, O>(b: Binding<I, O>): Binding<unknown, unknown> {
  return b as unknown as Binding<unknown, unknown>;
}

// --- Reading

/** Stored representation headers, Content-Type and user metadata, by the members that carry them. */
function attributeHeaders(
  r: S3HttpRequest,
): Pick<
  PutObjectInput,
  | 'ContentType'
  | 'CacheControl'
  | 'ContentDisposition'
  | 'ContentEncoding'
  | 'ContentLanguage'
  | 'Expires'
  | 'WebsiteRedirectLocation'
  | 'StorageClass'
  | 'Metadata'
> {
  return {
    ContentType: r.header('content-type'),
    CacheControl: r.header('cache-control'),
    ContentDisposition: r.header('content-disposition'),
    // aws-chunked is how this request's body travelled, not how the object is encoded.
    ContentEncoding: stripAwsChunked(r.header('content-encoding')),
    ContentLanguage: r.header('content-language'),
    // Kept as sent: S3 stores and returns the header's text.
    Expires: r.header('expires'),
    WebsiteRedirectLocation: r.header('x-amz-website-redirect-location'),
    StorageClass: r.header('x-amz-storage-class') as PutObjectInput['StorageClass'],
    Metadata: r.metadata(),
  };
}

function readConditionHeaders(
  r: S3HttpRequest,
): Pick<GetObjectInput, 'IfMatch' | 'IfNoneMatch' | 'IfModifiedSince' | 'IfUnmodifiedSince'> {
  return {
    IfMatch: r.header('if-match'),
    IfNoneMatch: r.header('if-none-match'),
    IfModifiedSince: r.dateHeader('if-modified-since'),
    IfUnmodifiedSince: r.dateHeader('if-unmodified-since'),
  };
}

function sourceConditionHeaders(
  r: S3HttpRequest,
): Pick<
  UploadPartCopyRequest,
  'CopySourceIfMatch' | 'CopySourceIfNoneMatch' | 'CopySourceIfModifiedSince' | 'CopySourceIfUnmodifiedSince'
> {
  return {
    CopySourceIfMatch: r.header('x-amz-copy-source-if-match'),
    CopySourceIfNoneMatch: r.header('x-amz-copy-source-if-none-match'),
    CopySourceIfModifiedSince: r.dateHeader('x-amz-copy-source-if-modified-since'),
    CopySourceIfUnmodifiedSince: r.dateHeader('x-amz-copy-source-if-unmodified-since'),
  };
}

function writeConditionHeaders(r: S3HttpRequest): { IfMatch?: string; IfNoneMatch?: string } {
  return { IfMatch: r.header('if-match'), IfNoneMatch: r.header('if-none-match') };
}

function objectReadInput(r: S3HttpRequest): GetObjectInput & HeadObjectInput {
  return {
    Bucket: r.bucket,
    Key: r.key,
    ...readConditionHeaders(r),
    Range: r.header('range'),
    PartNumber: r.partNumber(),
    ChecksumMode: r.header('x-amz-checksum-mode') as GetObjectInput['ChecksumMode'],
    ResponseCacheControl: r.query('response-cache-control'),
    ResponseContentDisposition: r.query('response-content-disposition'),
    ResponseContentEncoding: r.query('response-content-encoding'),
    ResponseContentLanguage: r.query('response-content-language'),
    ResponseContentType: r.query('response-content-type'),
    ResponseExpires: r.query('response-expires'),
  };
}

function booleanText(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim().toLowerCase();
  if (trimmed !== 'true' && trimmed !== 'false') throw malformedXml();
  return trimmed === 'true';
}

// --- Writing

/** Headers without the members the output left out. */
function definedHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const defined: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) defined[name] = value;
  return defined;
}

function empty(status: number, headers: Record<string, string | undefined> = {}): AwsResponse {
  return { status, headers: definedHeaders(headers) };
}

function xmlResponse(root: string, content: Record<string, unknown>): AwsResponse {
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: xmlDocument(root, content) };
}

function ownerXml(owner: Owner | undefined): Record<string, unknown> | undefined {
  return owner === undefined ? undefined : { ID: owner.ID, DisplayName: owner.DisplayName };
}

/** `Checksum<ALGORITHM>` and `ChecksumType` members in the order S3 writes them. */
function checksumXml(output: object): Record<string, unknown> {
  const members = output as Record<string, unknown>;
  const xml: Record<string, unknown> = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = members[`Checksum${algorithm}`];
    if (value !== undefined) xml[`Checksum${algorithm}`] = value;
  }
  if (members.ChecksumType !== undefined) xml.ChecksumType = members.ChecksumType;
  return xml;
}

/** `x-amz-checksum-*` and `x-amz-checksum-type` response headers. */
function checksumHeaders(output: object): Record<string, string> {
  const members = output as Record<string, unknown>;
  const headers: Record<string, string> = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = members[`Checksum${algorithm}`];
    if (typeof value === 'string') headers[`x-amz-checksum-${algorithm.toLowerCase()}`] = value;
  }
  if (typeof members.ChecksumType === 'string') headers['x-amz-checksum-type'] = members.ChecksumType;
  return headers;
}

function objectXml(object: _Object): Record<string, unknown> {
  return {
    Key: object.Key,
    LastModified: object.LastModified,
    ETag: object.ETag,
    ChecksumAlgorithm: object.ChecksumAlgorithm,
    ChecksumType: object.ChecksumType,
    Size: object.Size,
    Owner: ownerXml(object.Owner),
    StorageClass: object.StorageClass,
  };
}

function prefixesXml(prefixes: { Prefix?: string | undefined }[] | undefined): Record<string, unknown>[] {
  return (prefixes ?? []).map((prefix) => ({ Prefix: prefix.Prefix }));
}

/** GetObject/HeadObject's headers: representation, user metadata, range, parts, checksums. */
function objectHeaders(output: HeadObjectOutput): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    'content-type': output.ContentType,
    'content-length': output.ContentLength === undefined ? undefined : String(output.ContentLength),
    etag: output.ETag,
    'last-modified': output.LastModified?.toUTCString(),
    'accept-ranges': output.AcceptRanges,
    'cache-control': output.CacheControl,
    'content-disposition': output.ContentDisposition,
    'content-encoding': output.ContentEncoding,
    'content-language': output.ContentLanguage,
    expires: output.ExpiresString ?? output.Expires?.toUTCString(),
    'x-amz-website-redirect-location': output.WebsiteRedirectLocation,
    'x-amz-storage-class': output.StorageClass,
  };
  for (const [name, value] of Object.entries(output.Metadata ?? {})) headers[`x-amz-meta-${name}`] = value;
  headers['content-range'] = output.ContentRange;
  headers['x-amz-mp-parts-count'] = output.PartsCount === undefined ? undefined : String(output.PartsCount);
  return { ...definedHeaders(headers), ...checksumHeaders(output) };
}

/** Where a completed object can be fetched from on this endpoint (path style). */
function objectLocation(r: S3HttpRequest, bucket: string, key: string): string {
  const host = r.header('host') ?? 'localhost';
  const encode = (segment: string): string =>
    encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `http://${host}/${bucket}/${key.split('/').map(encode).join('/')}`;
}

// --- The bindings

export const BINDINGS: Readonly<Record<string, Binding<unknown, unknown>>> = {
  ListBuckets: binding<ListBucketsRequest, ListBucketsOutput>({
    decode: (r) => ({
      MaxBuckets: r.intQuery('max-buckets'),
      Prefix: r.query('prefix'),
      ContinuationToken: r.query('continuation-token'),
    }),
    encode: (output) =>
      xmlResponse('ListAllMyBucketsResult', {
        Owner: ownerXml(output.Owner),
        Buckets: {
          Bucket: (output.Buckets ?? []).map((bucket) => ({
            Name: bucket.Name,
            CreationDate: bucket.CreationDate,
            BucketRegion: bucket.BucketRegion,
          })),
        },
        ContinuationToken: output.ContinuationToken,
        Prefix: output.Prefix,
      }),
  }),

  CreateBucket: binding<CreateBucketRequest, CreateBucketOutput>({
    decode: async (r) => {
      const body = await r.readSmallBody(64 * 1024);
      if (body.length === 0) return { Bucket: r.bucket };
      const xml = parseXmlDocument(body.toString('utf8'), 'CreateBucketConfiguration', {
        optionalRoot: true,
      });
      const location = child(xml, 'LocationConstraint');
      return {
        Bucket: r.bucket,
        ...(typeof location === 'string'
          ? {
              CreateBucketConfiguration: {
                LocationConstraint: location.trim() as NonNullable<
                  CreateBucketRequest['CreateBucketConfiguration']
                >['LocationConstraint'],
              },
            }
          : {}),
      };
    },
    encode: (output) => empty(200, { location: output.Location }),
  }),

  HeadBucket: binding<{ Bucket: string }, HeadBucketOutput>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: (output) =>
      empty(200, {
        'x-amz-bucket-region': output.BucketRegion,
        'x-amz-access-point-alias':
          output.AccessPointAlias === undefined ? undefined : String(output.AccessPointAlias),
      }),
  }),

  DeleteBucket: binding<{ Bucket: string }, unknown>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: () => empty(204),
  }),

  GetBucketLocation: binding<{ Bucket: string }, GetBucketLocationOutput>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: (output) => xmlResponse('LocationConstraint', { '#text': output.LocationConstraint ?? '' }),
  }),

  GetBucketVersioning: binding<{ Bucket: string }, GetBucketVersioningOutput>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: (output) =>
      xmlResponse('VersioningConfiguration', { Status: output.Status, MfaDelete: output.MFADelete }),
  }),

  PutBucketPolicy: binding<PutBucketPolicyRequest, unknown>({
    decode: async (r) => ({
      Bucket: r.bucket,
      Policy: (await r.readSmallBody(MAX_POLICY_BYTES)).toString('utf8'),
    }),
    encode: () => empty(204),
  }),

  GetBucketPolicy: binding<{ Bucket: string }, GetBucketPolicyOutput>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: (output) => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: output.Policy ?? '',
    }),
  }),

  DeleteBucketPolicy: binding<{ Bucket: string }, unknown>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: () => empty(204),
  }),

  PutPublicAccessBlock: binding<PutPublicAccessBlockRequest, unknown>({
    decode: async (r) => {
      const xml = await r.readXml('PublicAccessBlockConfiguration');
      const configuration: Record<string, boolean | undefined> = {};
      for (const name of PUBLIC_ACCESS_BLOCK_FLAGS) configuration[name] = booleanText(text(xml, name));
      return { Bucket: r.bucket, PublicAccessBlockConfiguration: configuration };
    },
    encode: () => empty(200),
  }),

  GetPublicAccessBlock: binding<{ Bucket: string }, GetPublicAccessBlockOutput>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: (output) => {
      const configuration = output.PublicAccessBlockConfiguration ?? {};
      const content: Record<string, unknown> = {};
      for (const name of PUBLIC_ACCESS_BLOCK_FLAGS) content[name] = configuration[name];
      return xmlResponse('PublicAccessBlockConfiguration', content);
    },
  }),

  DeletePublicAccessBlock: binding<{ Bucket: string }, unknown>({
    decode: (r) => ({ Bucket: r.bucket }),
    encode: () => empty(204),
  }),

  ListObjectsV2: binding<ListObjectsV2Request, ListObjectsV2Output>({
    decode: (r) => ({
      Bucket: r.bucket,
      EncodingType: r.query('encoding-type') as ListObjectsV2Request['EncodingType'],
      MaxKeys: r.intQuery('max-keys'),
      Prefix: r.query('prefix'),
      Delimiter: r.query('delimiter'),
      ContinuationToken: r.query('continuation-token'),
      StartAfter: r.query('start-after'),
      FetchOwner: r.query('fetch-owner') === undefined ? undefined : r.query('fetch-owner') === 'true',
    }),
    encode: (output) =>
      xmlResponse('ListBucketResult', {
        Name: output.Name,
        Prefix: output.Prefix,
        ContinuationToken: output.ContinuationToken,
        StartAfter: output.StartAfter,
        KeyCount: output.KeyCount,
        MaxKeys: output.MaxKeys,
        Delimiter: output.Delimiter,
        EncodingType: output.EncodingType,
        IsTruncated: output.IsTruncated,
        NextContinuationToken: output.NextContinuationToken,
        Contents: (output.Contents ?? []).map(objectXml),
        CommonPrefixes: prefixesXml(output.CommonPrefixes),
      }),
  }),

  ListObjects: binding<ListObjectsRequest, ListObjectsOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      EncodingType: r.query('encoding-type') as ListObjectsRequest['EncodingType'],
      MaxKeys: r.intQuery('max-keys'),
      Prefix: r.query('prefix'),
      Delimiter: r.query('delimiter'),
      Marker: r.query('marker'),
    }),
    encode: (output) =>
      xmlResponse('ListBucketResult', {
        Name: output.Name,
        Prefix: output.Prefix,
        Marker: output.Marker,
        NextMarker: output.NextMarker,
        MaxKeys: output.MaxKeys,
        Delimiter: output.Delimiter,
        EncodingType: output.EncodingType,
        IsTruncated: output.IsTruncated,
        Contents: (output.Contents ?? []).map(objectXml),
        CommonPrefixes: prefixesXml(output.CommonPrefixes),
      }),
  }),

  ListObjectVersions: binding<ListObjectVersionsRequest, ListObjectVersionsOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      EncodingType: r.query('encoding-type') as ListObjectVersionsRequest['EncodingType'],
      MaxKeys: r.intQuery('max-keys'),
      Prefix: r.query('prefix'),
      Delimiter: r.query('delimiter'),
      KeyMarker: r.query('key-marker'),
      VersionIdMarker: r.query('version-id-marker'),
    }),
    encode: (output) =>
      xmlResponse('ListVersionsResult', {
        Name: output.Name,
        Prefix: output.Prefix,
        KeyMarker: output.KeyMarker,
        VersionIdMarker: output.VersionIdMarker,
        NextKeyMarker: output.NextKeyMarker,
        NextVersionIdMarker: output.NextVersionIdMarker,
        MaxKeys: output.MaxKeys,
        Delimiter: output.Delimiter,
        EncodingType: output.EncodingType,
        IsTruncated: output.IsTruncated,
        Version: (output.Versions ?? []).map((version) => ({
          Key: version.Key,
          VersionId: version.VersionId,
          IsLatest: version.IsLatest,
          LastModified: version.LastModified,
          ETag: version.ETag,
          ChecksumAlgorithm: version.ChecksumAlgorithm,
          ChecksumType: version.ChecksumType,
          Size: version.Size,
          StorageClass: version.StorageClass,
          Owner: ownerXml(version.Owner),
        })),
        CommonPrefixes: prefixesXml(output.CommonPrefixes),
      }),
  }),

  PutObject: binding<PutObjectInput, PutObjectOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      Key: r.key,
      ...r.streamingBody(),
      ...attributeHeaders(r),
      ...writeConditionHeaders(r),
    }),
    encode: (output) => empty(200, { etag: output.ETag, ...checksumHeaders(output) }),
  }),

  GetObject: binding<GetObjectInput, GetObjectResult>({
    decode: objectReadInput,
    encode: (output) => {
      const { Body, ...described } = output;
      return {
        status: described.ContentRange === undefined ? 200 : 206,
        headers: objectHeaders(described),
        body: Body as Readable,
      };
    },
  }),

  HeadObject: binding<HeadObjectInput, HeadObjectOutput>({
    decode: objectReadInput,
    encode: (output) => empty(output.ContentRange === undefined ? 200 : 206, objectHeaders(output)),
  }),

  DeleteObject: binding<{ Bucket: string; Key: string }, unknown>({
    decode: (r) => ({ Bucket: r.bucket, Key: r.key }),
    encode: () => empty(204),
  }),

  DeleteObjects: binding<DeleteObjectsRequest, DeleteObjectsOutput>({
    decode: async (r) => {
      const xml = await r.readXml('Delete');
      const objects = children(xml, 'Object').map((object) => {
        const key = text(object, 'Key');
        if (key === undefined) throw malformedXml();
        const versionId = child(object, 'VersionId');
        return typeof versionId === 'string' ? { Key: key, VersionId: versionId } : { Key: key };
      });
      const quiet = child(xml, 'Quiet');
      return {
        Bucket: r.bucket,
        Delete: {
          Objects: objects,
          Quiet: typeof quiet === 'string' && quiet.trim().toLowerCase() === 'true',
        },
      };
    },
    encode: (output) =>
      xmlResponse('DeleteResult', {
        Deleted: (output.Deleted ?? []).map((entry) => ({ Key: entry.Key, VersionId: entry.VersionId })),
        Error: (output.Errors ?? []).map((entry) => ({
          Key: entry.Key,
          VersionId: entry.VersionId,
          Code: entry.Code,
          Message: entry.Message,
        })),
      }),
  }),

  CopyObject: binding<CopyObjectInput, CopyObjectOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      Key: r.key,
      CopySource: r.header('x-amz-copy-source'),
      MetadataDirective: r.header('x-amz-metadata-directive') as CopyObjectInput['MetadataDirective'],
      ...attributeHeaders(r),
      ...sourceConditionHeaders(r),
      ChecksumAlgorithm: r.header('x-amz-checksum-algorithm') as CopyObjectInput['ChecksumAlgorithm'],
      ServerSideEncryption: r.header(
        'x-amz-server-side-encryption',
      ) as CopyObjectInput['ServerSideEncryption'],
      ...writeConditionHeaders(r),
    }),
    encode: (output) =>
      xmlResponse('CopyObjectResult', {
        ETag: output.CopyObjectResult?.ETag,
        LastModified: output.CopyObjectResult?.LastModified,
        ...checksumXml(output.CopyObjectResult ?? {}),
      }),
  }),

  CreateMultipartUpload: binding<CreateMultipartUploadInput, CreateMultipartUploadOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      Key: r.key,
      ...attributeHeaders(r),
      ChecksumAlgorithm: r.header(
        'x-amz-checksum-algorithm',
      ) as CreateMultipartUploadInput['ChecksumAlgorithm'],
      ChecksumType: r.header('x-amz-checksum-type') as CreateMultipartUploadInput['ChecksumType'],
    }),
    encode: (output) => {
      const response = xmlResponse('InitiateMultipartUploadResult', {
        Bucket: output.Bucket,
        Key: output.Key,
        UploadId: output.UploadId,
      });
      if (output.ChecksumAlgorithm !== undefined)
        response.headers['x-amz-checksum-algorithm'] = output.ChecksumAlgorithm;
      if (output.ChecksumType !== undefined) response.headers['x-amz-checksum-type'] = output.ChecksumType;
      return response;
    },
  }),

  UploadPart: binding<UploadPartInput, UploadPartOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      Key: r.key,
      UploadId: r.query('uploadId'),
      PartNumber: r.partNumber(),
      ...r.streamingBody(),
    }),
    encode: (output) => empty(200, { etag: output.ETag, ...checksumHeaders(output) }),
  }),

  UploadPartCopy: binding<UploadPartCopyRequest, UploadPartCopyOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      Key: r.key,
      UploadId: r.query('uploadId'),
      PartNumber: r.partNumber(),
      CopySource: r.header('x-amz-copy-source'),
      CopySourceRange: r.header('x-amz-copy-source-range'),
      ...sourceConditionHeaders(r),
    }),
    encode: (output) =>
      xmlResponse('CopyPartResult', {
        ETag: output.CopyPartResult?.ETag,
        LastModified: output.CopyPartResult?.LastModified,
        ...checksumXml(output.CopyPartResult ?? {}),
      }),
  }),

  CompleteMultipartUpload: binding<CompleteMultipartUploadRequest, CompleteMultipartUploadOutput>({
    decode: async (r) => {
      // The x-amz-checksum-* headers here are the whole object's checksum, not this document's.
      const xml: XmlElement = await r.readXml('CompleteMultipartUpload', { checksumValues: false });
      const parts = children(xml, 'Part').map((part) => {
        const number = text(part, 'PartNumber')?.trim() ?? '';
        const etag = text(part, 'ETag')?.trim();
        if (!/^\d+$/.test(number) || etag === undefined) throw malformedXml();
        const completed: Record<string, unknown> = { PartNumber: Number(number), ETag: etag };
        for (const algorithm of CHECKSUM_ALGORITHMS) {
          const value = child(part, `Checksum${algorithm}`);
          if (typeof value === 'string' && value.trim() !== '')
            completed[`Checksum${algorithm}`] = value.trim();
        }
        return completed;
      });
      const objectSize = r.header('x-amz-mp-object-size');
      return {
        Bucket: r.bucket,
        Key: r.key,
        UploadId: r.query('uploadId'),
        MultipartUpload: { Parts: parts },
        ...r.checksumValues(),
        ChecksumType: r.header('x-amz-checksum-type') as CompleteMultipartUploadRequest['ChecksumType'],
        MpuObjectSize: objectSize !== undefined && /^\d+$/.test(objectSize) ? Number(objectSize) : undefined,
        ...writeConditionHeaders(r),
      };
    },
    encode: (output, r) =>
      xmlResponse('CompleteMultipartUploadResult', {
        Location: output.Location ?? objectLocation(r, output.Bucket ?? r.bucket, output.Key ?? r.key),
        Bucket: output.Bucket,
        Key: output.Key,
        ETag: output.ETag,
        ...checksumXml(output),
      }),
  }),

  AbortMultipartUpload: binding<AbortMultipartUploadRequest, unknown>({
    decode: (r) => ({ Bucket: r.bucket, Key: r.key, UploadId: r.query('uploadId') }),
    encode: () => empty(204),
  }),

  ListParts: binding<ListPartsRequest, ListPartsOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      Key: r.key,
      UploadId: r.query('uploadId'),
      MaxParts: r.intQuery('max-parts'),
      PartNumberMarker: r.query('part-number-marker'),
    }),
    encode: (output) =>
      xmlResponse('ListPartsResult', {
        Bucket: output.Bucket,
        Key: output.Key,
        UploadId: output.UploadId,
        PartNumberMarker: output.PartNumberMarker,
        NextPartNumberMarker: output.NextPartNumberMarker,
        MaxParts: output.MaxParts,
        IsTruncated: output.IsTruncated,
        Part: (output.Parts ?? []).map((part) => ({
          PartNumber: part.PartNumber,
          LastModified: part.LastModified,
          ETag: part.ETag,
          Size: part.Size,
          ...checksumXml(part),
        })),
        Initiator: ownerXml(output.Initiator),
        Owner: ownerXml(output.Owner),
        StorageClass: output.StorageClass,
        ChecksumAlgorithm: output.ChecksumAlgorithm,
        ChecksumType: output.ChecksumType,
      }),
  }),

  ListMultipartUploads: binding<ListMultipartUploadsRequest, ListMultipartUploadsOutput>({
    decode: (r) => ({
      Bucket: r.bucket,
      EncodingType: r.query('encoding-type') as ListMultipartUploadsRequest['EncodingType'],
      MaxUploads: r.intQuery('max-uploads'),
      Prefix: r.query('prefix'),
      Delimiter: r.query('delimiter'),
      KeyMarker: r.query('key-marker'),
      UploadIdMarker: r.query('upload-id-marker'),
    }),
    encode: (output) =>
      xmlResponse('ListMultipartUploadsResult', {
        Bucket: output.Bucket,
        KeyMarker: output.KeyMarker,
        UploadIdMarker: output.UploadIdMarker,
        NextKeyMarker: output.NextKeyMarker,
        NextUploadIdMarker: output.NextUploadIdMarker,
        Prefix: output.Prefix,
        Delimiter: output.Delimiter,
        MaxUploads: output.MaxUploads,
        EncodingType: output.EncodingType,
        IsTruncated: output.IsTruncated,
        Upload: (output.Uploads ?? []).map((upload) => ({
          Key: upload.Key,
          UploadId: upload.UploadId,
          Initiator: ownerXml(upload.Initiator),
          Owner: ownerXml(upload.Owner),
          StorageClass: upload.StorageClass,
          Initiated: upload.Initiated,
          ChecksumAlgorithm: upload.ChecksumAlgorithm,
          ChecksumType: upload.ChecksumType,
        })),
        CommonPrefixes: prefixesXml(output.CommonPrefixes),
      }),
  }),
};
