// S3's AWS operations called in-process through the registry (as the Step Functions task binder
// will call them), checked against what the real SDK client sees over HTTP: one operation table
// serves both, every operation the HTTP binding routes is in it, bodies come back as streams, and
// errors are the AwsErrors S3 answers with.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  GetBucketPolicyCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AwsError } from '../../src/local/core/errors.js';
import { BINDINGS } from '../../src/local/protocol/s3/bindings.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';

const MiB = 1024 * 1024;

/** The operations the README says the local S3 serves. */
const SERVED = [
  'AbortMultipartUpload',
  'CompleteMultipartUpload',
  'CopyObject',
  'CreateBucket',
  'CreateMultipartUpload',
  'DeleteBucket',
  'DeleteBucketPolicy',
  'DeleteObject',
  'DeleteObjects',
  'DeletePublicAccessBlock',
  'GetBucketLocation',
  'GetBucketPolicy',
  'GetBucketVersioning',
  'GetObject',
  'GetPublicAccessBlock',
  'HeadBucket',
  'HeadObject',
  'ListBuckets',
  'ListMultipartUploads',
  'ListObjectVersions',
  'ListObjects',
  'ListObjectsV2',
  'ListParts',
  'PutBucketPolicy',
  'PutObject',
  'PutPublicAccessBlock',
  'UploadPart',
  'UploadPartCopy',
];

async function readAll(body: unknown): Promise<Buffer> {
  assert.ok(body instanceof Readable, 'GetObject in-process returns the body as a stream');
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function isAwsError(code: string, status: number): (error: unknown) => boolean {
  return (error: unknown) => error instanceof AwsError && error.code === code && error.status === status;
}

describe('S3 operations in-process', () => {
  let stack: TestStack;
  let s3: S3Client;
  const invoke = (operation: string, input: object): Promise<unknown> =>
    stack.server.registry.invoke('s3', operation, input);

  before(async () => {
    stack = await startTestStack();
    s3 = new S3Client(sdkConfig(stack));
  });
  after(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  it('serves every operation the REST binding routes, from the same table', () => {
    const served = stack.server.registry.restXml();
    assert.ok(served !== undefined, 'S3 is the REST-XML service');
    assert.deepEqual(Object.keys(served.operations).sort(), Object.keys(BINDINGS).sort());
    assert.deepEqual(Object.keys(BINDINGS).sort(), SERVED);
  });

  it('buckets, policies and public access blocks by AWS member names', async () => {
    assert.deepEqual(await invoke('CreateBucket', { Bucket: 'inproc' }), { Location: '/inproc' });
    const head = (await invoke('HeadBucket', { Bucket: 'inproc' })) as { BucketRegion?: string };
    assert.equal(head.BucketRegion, 'us-east-1');
    const listed = (await invoke('ListBuckets', {})) as { Buckets: { Name: string; CreationDate: Date }[] };
    assert.deepEqual(
      listed.Buckets.map((bucket) => bucket.Name),
      ['inproc'],
    );
    assert.ok(listed.Buckets[0]!.CreationDate instanceof Date);

    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::inproc' },
      ],
    });
    await invoke('PutBucketPolicy', { Bucket: 'inproc', Policy: policy });
    const seen = await s3.send(new GetBucketPolicyCommand({ Bucket: 'inproc' }));
    assert.deepEqual(JSON.parse(seen.Policy!), JSON.parse(policy));
    await invoke('DeleteBucketPolicy', { Bucket: 'inproc' });
    await assert.rejects(
      invoke('GetBucketPolicy', { Bucket: 'inproc' }),
      isAwsError('NoSuchBucketPolicy', 404),
    );

    await invoke('PutPublicAccessBlock', {
      Bucket: 'inproc',
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, RestrictPublicBuckets: false },
    });
    const block = (await invoke('GetPublicAccessBlock', { Bucket: 'inproc' })) as {
      PublicAccessBlockConfiguration: Record<string, boolean>;
    };
    assert.equal(block.PublicAccessBlockConfiguration.BlockPublicAcls, true);
    assert.equal(block.PublicAccessBlockConfiguration.RestrictPublicBuckets, false);
    await assert.rejects(
      invoke('PutPublicAccessBlock', {
        Bucket: 'inproc',
        PublicAccessBlockConfiguration: { BlockPublicAcls: 'yes' },
      }),
      isAwsError('MalformedXML', 400),
    );
    await invoke('DeletePublicAccessBlock', { Bucket: 'inproc' });
    await assert.rejects(
      invoke('HeadBucket', { Bucket: 'no-such-inproc' }),
      (error: unknown) => error instanceof AwsError && error.status === 404,
    );
  });

  it('objects: put with attributes, get as a stream with ranges and overrides, copy, list, delete', async () => {
    const put = (await invoke('PutObject', {
      Bucket: 'inproc',
      Key: 'dir/a b.txt',
      Body: Buffer.from('hello in-process'),
      ContentType: 'text/plain',
      CacheControl: 'max-age=60',
      Metadata: { origin: 'invoke' },
      ChecksumSHA256: createHash('sha256').update('hello in-process').digest('base64'),
    })) as { ETag: string; ChecksumSHA256?: string };
    assert.equal(put.ETag, `"${createHash('md5').update('hello in-process').digest('hex')}"`);
    assert.equal(put.ChecksumSHA256, createHash('sha256').update('hello in-process').digest('base64'));

    // What the SDK sees over HTTP is what was put in-process.
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'inproc', Key: 'dir/a b.txt' }));
    assert.equal(head.ContentType, 'text/plain');
    assert.equal(head.CacheControl, 'max-age=60');
    assert.deepEqual(head.Metadata, { origin: 'invoke' });

    const ranged = (await invoke('GetObject', {
      Bucket: 'inproc',
      Key: 'dir/a b.txt',
      Range: 'bytes=6-',
      ResponseContentType: 'application/octet-stream',
    })) as { Body: unknown; ContentRange?: string; ContentLength?: number; ContentType?: string };
    assert.equal(ranged.ContentRange, 'bytes 6-15/16');
    assert.equal(ranged.ContentLength, 10);
    assert.equal(ranged.ContentType, 'application/octet-stream');
    assert.equal((await readAll(ranged.Body)).toString(), 'in-process');
    await assert.rejects(
      invoke('GetObject', { Bucket: 'inproc', Key: 'dir/a b.txt', IfNoneMatch: put.ETag }),
      isAwsError('NotModified', 304),
    );

    const copied = (await invoke('CopyObject', {
      Bucket: 'inproc',
      Key: 'copy.txt',
      CopySource: 'inproc/dir/a%20b.txt',
    })) as { CopyObjectResult: { ETag: string; LastModified: Date } };
    assert.equal(copied.CopyObjectResult.ETag, put.ETag);
    assert.ok(copied.CopyObjectResult.LastModified instanceof Date);

    const listed = (await invoke('ListObjectsV2', { Bucket: 'inproc', EncodingType: 'url' })) as {
      Contents: { Key: string; Size: number }[];
      KeyCount: number;
    };
    assert.deepEqual(
      listed.Contents.map((object) => object.Key),
      ['copy.txt', 'dir/a%20b.txt'],
    );
    const v1 = (await invoke('ListObjects', { Bucket: 'inproc', Delimiter: '/' })) as {
      Contents: { Key: string }[];
      CommonPrefixes: { Prefix: string }[];
    };
    assert.deepEqual(
      v1.CommonPrefixes.map((prefix) => prefix.Prefix),
      ['dir/'],
    );
    await assert.rejects(
      invoke('ListObjectsV2', { Bucket: 'inproc', EncodingType: 'base64' }),
      isAwsError('InvalidArgument', 400),
    );

    const deleted = (await invoke('DeleteObjects', {
      Bucket: 'inproc',
      Delete: { Objects: [{ Key: 'copy.txt' }, { Key: 'never-there' }] },
    })) as { Deleted: { Key: string }[] };
    assert.deepEqual(deleted.Deleted.map((entry) => entry.Key).sort(), ['copy.txt', 'never-there']);
    await invoke('DeleteObject', { Bucket: 'inproc', Key: 'dir/a b.txt' });
    await assert.rejects(
      invoke('GetObject', { Bucket: 'inproc', Key: 'dir/a b.txt' }),
      isAwsError('NoSuchKey', 404),
    );
  });

  it('multipart: streamed parts, a part copy, list, complete; the whole object reads back over HTTP', async () => {
    const part1 = Buffer.alloc(5 * MiB, 'a');
    const tail = Buffer.from('the tail');
    await invoke('PutObject', { Bucket: 'inproc', Key: 'source', Body: Buffer.alloc(5 * MiB, 'b') });
    const { UploadId } = (await invoke('CreateMultipartUpload', {
      Bucket: 'inproc',
      Key: 'big',
      ContentType: 'application/x-test',
    })) as { UploadId: string };
    const uploads = (await invoke('ListMultipartUploads', { Bucket: 'inproc' })) as {
      Uploads: { Key: string; UploadId: string }[];
    };
    assert.deepEqual(uploads.Uploads, [
      { ...uploads.Uploads[0], Key: 'big', UploadId },
    ] as typeof uploads.Uploads);

    // A stream with no announced length, in 64 KiB pieces: the body is never handed over whole.
    const pieces = Array.from({ length: part1.length / (64 * 1024) }, (_, i) =>
      part1.subarray(i * 64 * 1024, (i + 1) * 64 * 1024),
    );
    const first = (await invoke('UploadPart', {
      Bucket: 'inproc',
      Key: 'big',
      UploadId,
      PartNumber: 1,
      Body: Readable.from(pieces),
    })) as { ETag: string };
    const second = (await invoke('UploadPartCopy', {
      Bucket: 'inproc',
      Key: 'big',
      UploadId,
      PartNumber: 2,
      CopySource: '/inproc/source',
    })) as { CopyPartResult: { ETag: string } };
    const third = (await invoke('UploadPart', {
      Bucket: 'inproc',
      Key: 'big',
      UploadId,
      PartNumber: 3,
      Body: tail,
    })) as {
      ETag: string;
    };
    const parts = await s3.send(new ListPartsCommand({ Bucket: 'inproc', Key: 'big', UploadId }));
    assert.deepEqual(
      parts.Parts?.map((part) => [part.PartNumber, part.Size]),
      [
        [1, 5 * MiB],
        [2, 5 * MiB],
        [3, tail.length],
      ],
    );
    const listedParts = (await invoke('ListParts', {
      Bucket: 'inproc',
      Key: 'big',
      UploadId,
      MaxParts: 2,
    })) as {
      IsTruncated: boolean;
      NextPartNumberMarker: string;
    };
    assert.equal(listedParts.IsTruncated, true);
    assert.equal(listedParts.NextPartNumberMarker, '2');

    const completed = (await invoke('CompleteMultipartUpload', {
      Bucket: 'inproc',
      Key: 'big',
      UploadId,
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: first.ETag },
          { PartNumber: 2, ETag: second.CopyPartResult.ETag },
          { PartNumber: 3, ETag: third.ETag },
        ],
      },
    })) as { ETag: string; Bucket: string; Key: string };
    assert.match(completed.ETag, /^"[0-9a-f]{32}-3"$/);
    assert.equal(completed.Key, 'big');

    const object = await s3.send(new GetObjectCommand({ Bucket: 'inproc', Key: 'big' }));
    assert.equal(object.ContentType, 'application/x-test');
    assert.equal(object.ETag, completed.ETag);
    const bytes = Buffer.from(await object.Body!.transformToByteArray());
    assert.equal(bytes.length, 10 * MiB + tail.length);
    assert.ok(bytes.subarray(0, 5 * MiB).equals(part1));
    assert.ok(bytes.subarray(5 * MiB, 10 * MiB).equals(Buffer.alloc(5 * MiB, 'b')));
    assert.ok(bytes.subarray(10 * MiB).equals(tail));

    const { UploadId: aborted } = (await invoke('CreateMultipartUpload', {
      Bucket: 'inproc',
      Key: 'gone',
    })) as {
      UploadId: string;
    };
    await invoke('AbortMultipartUpload', { Bucket: 'inproc', Key: 'gone', UploadId: aborted });
    await assert.rejects(
      invoke('UploadPart', { Bucket: 'inproc', Key: 'gone', UploadId: aborted, PartNumber: 1, Body: 'x' }),
      isAwsError('NoSuchUpload', 404),
    );
  });

  it('refuses bad input with the error S3 gives, naming the member', async () => {
    await assert.rejects(
      invoke('GetObject', { Bucket: 'inproc' }),
      (error: unknown) => error instanceof AwsError && error.status === 400 && /Key/.test(error.message),
    );
    await assert.rejects(
      invoke('PutObject', {
        Bucket: 'inproc',
        Key: 'k',
        Body: 'abc',
        ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==',
      }),
      isAwsError('BadDigest', 400),
    );
    await assert.rejects(
      invoke('CopyObject', { Bucket: 'inproc', Key: 'k', CopySource: 'no-key' }),
      isAwsError('InvalidArgument', 400),
    );
    // A body the client claims is longer than it is does not become an object.
    await assert.rejects(
      invoke('PutObject', { Bucket: 'inproc', Key: 'short', Body: 'abc', ContentLength: 10 }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'inproc', Key: 'over-http', Body: 'x' }));
    await assert.rejects(invoke('DeleteBucket', { Bucket: 'inproc' }), isAwsError('BucketNotEmpty', 409));
  });
});
