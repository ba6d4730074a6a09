/**
 * S3's AWS operations in-process (what `invoke('s3', …)` serves: Step Functions' `aws-sdk:s3:*`
 * tasks, provisioners): AWS-shaped members (`Bucket`, `Key`, `Body`, `ContinuationToken`, typed
 * with @aws-sdk/client-s3's types) to `S3Service` calls, and the outputs back in AWS's member
 * names. Bodies are streams. Over HTTP, S3's REST-XML binding (protocol/s3-rest.ts) reads headers,
 * sub-resources and XML into the same `S3Service` calls.
 */
import { Readable } from 'node:stream';
import type {
  CreateBucketRequest,
  DeleteBucketRequest,
  DeleteObjectRequest,
  GetObjectRequest,
  HeadBucketRequest,
  HeadObjectRequest,
  ListObjectsV2Request,
  PutObjectRequest,
} from '@aws-sdk/client-s3';
import { AwsError } from '../../core/errors.js';
import type { OperationTable } from '../../core/service.js';
import type { ObjectDescription, S3Service } from './s3-service.js';

function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '')
    throw new AwsError('InvalidArgument', `${name} is required.`, 400, { ArgumentName: name });
  return value;
}

/** An in-process Body: a stream, bytes or text. */
function bodyOf(body: unknown): { body: Readable; contentLength?: number } {
  if (body === undefined || body === null) return { body: Readable.from([]), contentLength: 0 };
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = Buffer.from(body);
    return { body: Readable.from([bytes]), contentLength: bytes.length };
  }
  if (body instanceof Readable) return { body };
  throw new AwsError('InvalidArgument', 'Body must be a stream, bytes or a string.', 400, {
    ArgumentName: 'Body',
  });
}

function described(object: ObjectDescription): Record<string, unknown> {
  return {
    ETag: object.etag,
    LastModified: object.lastModified,
    ContentLength: object.contentLength,
    ContentType: object.contentType,
    Metadata: object.metadata,
    ...(object.contentRange === undefined ? {} : { ContentRange: object.contentRange }),
    ...(object.partsCount === undefined ? {} : { PartsCount: object.partsCount }),
  };
}

export function s3Operations(s3: S3Service): OperationTable {
  return {
    CreateBucket: async (input: CreateBucketRequest) => {
      const location = input.CreateBucketConfiguration?.LocationConstraint;
      return {
        Location: (
          await s3.createBucket({
            bucket: required(input.Bucket, 'Bucket'),
            ...(location === undefined ? {} : { locationConstraint: location }),
          })
        ).location,
      };
    },
    HeadBucket: async (input: HeadBucketRequest) => ({
      BucketRegion: (await s3.headBucket({ bucket: required(input.Bucket, 'Bucket') })).region,
    }),
    DeleteBucket: async (input: DeleteBucketRequest) => {
      await s3.deleteBucket({ bucket: required(input.Bucket, 'Bucket') });
      return {};
    },
    PutObject: async (input: PutObjectRequest) => {
      const out = await s3.putObject({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        ...bodyOf(input.Body),
        ...(input.ContentType === undefined ? {} : { contentType: input.ContentType }),
        ...(input.Metadata === undefined ? {} : { metadata: input.Metadata }),
      });
      return { ETag: out.etag, Size: out.size };
    },
    GetObject: async (input: GetObjectRequest) => {
      const object = await s3.getObject({
        bucket: required(input.Bucket, 'Bucket'),
        key: required(input.Key, 'Key'),
        ...(input.Range === undefined ? {} : { range: input.Range }),
      });
      return { ...described(object), Body: object.body };
    },
    HeadObject: async (input: HeadObjectRequest) =>
      described(
        await s3.headObject({ bucket: required(input.Bucket, 'Bucket'), key: required(input.Key, 'Key') }),
      ),
    DeleteObject: async (input: DeleteObjectRequest) => {
      await s3.deleteObject({ bucket: required(input.Bucket, 'Bucket'), key: required(input.Key, 'Key') });
      return {};
    },
    ListObjectsV2: async (input: ListObjectsV2Request) => {
      const page = await s3.listObjectsV2({
        bucket: required(input.Bucket, 'Bucket'),
        ...(input.Prefix === undefined ? {} : { prefix: input.Prefix }),
        ...(input.Delimiter === undefined ? {} : { delimiter: input.Delimiter }),
        ...(input.MaxKeys === undefined ? {} : { maxKeys: input.MaxKeys }),
        ...(input.ContinuationToken === undefined ? {} : { continuationToken: input.ContinuationToken }),
        ...(input.StartAfter === undefined ? {} : { startAfter: input.StartAfter }),
      });
      return {
        Name: page.name,
        Prefix: page.prefix,
        MaxKeys: page.maxKeys,
        KeyCount: page.keyCount,
        IsTruncated: page.isTruncated,
        Contents: page.contents.map((o) => ({
          Key: o.key,
          LastModified: o.lastModified,
          ETag: o.etag,
          Size: o.size,
        })),
        CommonPrefixes: page.commonPrefixes.map((prefix) => ({ Prefix: prefix })),
        ...(page.nextContinuationToken === undefined
          ? {}
          : { NextContinuationToken: page.nextContinuationToken }),
      };
    },
  };
}
