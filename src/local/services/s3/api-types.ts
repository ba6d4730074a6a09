/**
 * The S3 API's typed inputs and outputs (what `S3Service` takes and returns) and its size limits.
 */
import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm, ChecksumType } from './checksums.js';
import type { StoredChecksum } from './object-store.js';

export type { ChecksumAlgorithm, ChecksumType } from './checksums.js';
export type { PublicAccessBlockConfiguration, StoredChecksum } from './object-store.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
/** Largest single PutObject / UploadPart body. */
export const MAX_OBJECT_PUT_SIZE = 5 * GiB;
/** Smallest size of every multipart part but the last. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PARTS = 10000;
export const MAX_KEY_BYTES = 1024;
export const MAX_USER_METADATA_BYTES = 2 * KiB;
export const MAX_LIST = 1000;
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

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

export interface ListObjectVersionsInput {
  bucket: string;
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys?: number;
}

/** ListObjectVersions of a bucket never versioned: each object is its one, latest, `null` version. */
export interface ListObjectVersionsOutput {
  name: string;
  prefix: string;
  delimiter?: string;
  keyMarker: string;
  versionIdMarker: string;
  maxKeys: number;
  isTruncated: boolean;
  versions: ObjectSummary[];
  commonPrefixes: string[];
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
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
