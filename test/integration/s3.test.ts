// The local stack's S3 driven over HTTP by the real SDK v3 client (forcePathStyle), raw signed
// requests, and the AWS CLI v1 when it is installed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createHmac, randomBytes, type Hash, type Hmac } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeletePublicAccessBlockCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
  UploadPartCommand,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath, sdkError } from '../helpers/sdk.js';
import { checkRestXml, loadBotocoreModel, type ServiceModel } from '../helpers/botocore.js';
import { signedRequest } from '../helpers/signing.js';

const MiB = 1024 * 1024;

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBytes(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The SDK signer's hash interface over node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

async function bodyBytes(output: {
  Body?: { transformToByteArray(): Promise<Uint8Array> };
}): Promise<Buffer> {
  return Buffer.from(await output.Body!.transformToByteArray());
}

/** Request headers the SDK actually sent, captured after signing. */
function captureHeaders(client: S3Client): Record<string, string>[] {
  const seen: Record<string, string>[] = [];
  client.middlewareStack.add(
    (next) => async (args) => {
      seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'captureHeaders' },
  );
  return seen;
}

describe('S3 on the local stack', () => {
  let stack: TestStack;
  let s3: S3Client;
  const bucket = 'integration';

  before(async () => {
    stack = await startTestStack();
    s3 = new S3Client({ ...sdkConfig(stack), maxAttempts: 1 });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    s3.destroy();
    await stack.stop();
  });

  /** Signs a raw request to the stack the way the SDK would. */
  async function signed(request: {
    method: string;
    path: string;
    query?: Record<string, string>;
    headers: Record<string, string>;
  }): Promise<{ headers: Record<string, string>; path: string }> {
    const url = new URL(stack.endpoint);
    const signer = new SignatureV4({
      credentials: stack.credentials,
      region: stack.region,
      service: 's3',
      sha256: NodeSha256,
      uriEscapePath: false,
    });
    const result = await signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path: request.path,
        query: request.query ?? {},
        headers: { host: url.host, ...request.headers },
      }),
    );
    const query = new URLSearchParams(request.query ?? {}).toString();
    return { headers: result.headers, path: query === '' ? request.path : `${request.path}?${query}` };
  }

  it('creates, lists, heads and locates buckets', async () => {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === bucket));
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }));
    assert.equal(location.LocationConstraint ?? '', '');
    // Re-creating your own bucket in us-east-1 succeeds (200); in another region it is 409.
    const recreated = await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    assert.equal(recreated.$metadata.httpStatusCode, 200);
    const again = await sdkError(
      s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      ),
    );
    assert.equal(again.name, 'BucketAlreadyOwnedByYou');
    assert.equal(again.$metadata.httpStatusCode, 409);
    const invalid = await sdkError(s3.send(new CreateBucketCommand({ Bucket: 'Invalid_Name' })));
    assert.equal(invalid.name, 'InvalidBucketName');
  });

  it('round-trips small and empty objects byte for byte, with metadata', async () => {
    const small = randomBytes(1000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'small.bin',
        Body: small,
        ContentType: 'application/x-small',
        Metadata: { origin: 'test', 'mixed-case': 'Value With Spaces' },
      }),
    );
    assert.equal(put.ETag, `"${md5Hex(small)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small.bin' }));
    assert.ok((await bodyBytes(got)).equals(small));
    assert.equal(got.ContentType, 'application/x-small');
    assert.deepEqual(got.Metadata, { origin: 'test', 'mixed-case': 'Value With Spaces' });
    assert.equal(got.ETag, put.ETag);
    assert.ok(got.LastModified instanceof Date);

    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }));
    const empty = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' }));
    assert.equal((await bodyBytes(empty)).length, 0);
    assert.equal(empty.ContentLength, 0);
  });

  it('decodes a 20 MB stream body sent aws-chunked with a CRC32 trailer', async () => {
    const client = new S3Client({ ...sdkConfig(stack), maxAttempts: 1 });
    const headers = captureHeaders(client);
    const data = randomBytes(20 * MiB);
    const pieces = Array.from({ length: 20 }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'stream.bin',
        Body: Readable.from(pieces),
        ContentLength: data.length,
      }),
    );
    const sent = headers.at(-1)!;
    assert.equal(sent['content-encoding'], 'aws-chunked');
    assert.equal(sent['x-amz-content-sha256'], 'STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    assert.equal(sent['x-amz-trailer'], 'x-amz-checksum-crc32');
    const got = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'stream.bin', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(got.ContentLength, data.length);
    assert.equal(got.ContentEncoding, undefined, 'aws-chunked is not stored as a content encoding');
    assert.ok(got.ChecksumCRC32, 'the trailer checksum is stored');
    assert.ok((await bodyBytes(got)).equals(data));
    assert.equal(got.ETag, `"${md5Hex(data)}"`);
    client.destroy();
  });

  it('uploads multipart with lib-storage Upload (3 x 5 MiB + tail) and serves ranges', async () => {
    const data = randomBytes(15 * MiB + 12345);
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'multi/part.bin', Body: data, ContentType: 'application/x-mp' },
      partSize: 5 * MiB,
      queueSize: 3,
    });
    const result = await upload.done();
    const expected = md5Hex(
      Buffer.concat(
        [0, 1, 2, 3].map((i) =>
          createHash('md5')
            .update(data.subarray(i * 5 * MiB, (i + 1) * 5 * MiB))
            .digest(),
        ),
      ),
    );
    assert.equal(result.ETag, `"${expected}-4"`);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'multi/part.bin', ChecksumMode: 'ENABLED' }),
    );
    assert.equal(head.ContentLength, data.length);
    assert.equal(head.ContentType, 'application/x-mp');
    assert.equal(head.PartsCount, 4);
    assert.match(head.ChecksumCRC32 ?? '', /-4$/);
    assert.equal(head.ChecksumType, 'COMPOSITE');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'multi/part.bin' }));
    assert.ok((await bodyBytes(got)).equals(data));

    const range = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: 'multi/part.bin',
        Range: `bytes=${5 * MiB - 3}-${5 * MiB + 2}`,
      }),
    );
    assert.equal(range.$metadata.httpStatusCode, 206);
    assert.equal(range.ContentRange, `bytes ${5 * MiB - 3}-${5 * MiB + 2}/${data.length}`);
    assert.ok((await bodyBytes(range)).equals(data.subarray(5 * MiB - 3, 5 * MiB + 3)));
    const suffix = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'multi/part.bin', Range: 'bytes=-10' }),
    );
    assert.ok((await bodyBytes(suffix)).equals(data.subarray(data.length - 10)));
    const unsatisfiable = await sdkError(
      s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: 'multi/part.bin', Range: `bytes=${data.length}-` }),
      ),
    );
    assert.equal(unsatisfiable.name, 'InvalidRange');
    assert.equal(unsatisfiable.$metadata.httpStatusCode, 416);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    assert.equal(uploads.Uploads, undefined);
  });

  it('paginates 2,500 keys with paginateListObjectsV2 and groups common prefixes', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'many-keys' }));
    const keys = Array.from({ length: 2500 }, (_, i) => `group-${i % 5}/item-${String(i).padStart(5, '0')}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < keys.length) {
          const key = keys[next++]!;
          await s3.send(new PutObjectCommand({ Bucket: 'many-keys', Key: key, Body: key }));
        }
      }),
    );
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 1000 }, { Bucket: 'many-keys' })) {
      pages++;
      assert.equal(page.KeyCount, page.Contents?.length ?? 0);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...keys].sort());

    const small: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 333 },
      { Bucket: 'many-keys', Prefix: 'group-3/' },
    )) {
      small.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    assert.equal(small.length, 500);

    const grouped: string[] = [];
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 2 },
      { Bucket: 'many-keys', Delimiter: '/' },
    )) {
      assert.equal(page.Contents, undefined);
      grouped.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
    }
    assert.deepEqual(grouped, ['group-0/', 'group-1/', 'group-2/', 'group-3/', 'group-4/']);

    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'many-keys', Delimiter: '/', MaxKeys: 3 }));
    assert.equal(v1.IsTruncated, true);
    assert.equal(v1.NextMarker, 'group-2/');
  });

  it('round-trips and lists hostile keys', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'hostile' }));
    const keys = [
      'a',
      'a/b',
      '..',
      '../../etc/passwd',
      'with space',
      'ünïcödé/日本語/😀',
      '100%',
      '%2F',
      'plus+sign',
      'question?mark',
      'hash#tag',
      'trailing/',
      '//double',
      'amp&lt;',
      'x'.repeat(1024),
    ];
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: 'hostile', Key: key, Body: `v:${key}` }));
    for (const key of keys) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'hostile', Key: key }));
      assert.equal((await bodyBytes(got)).toString(), `v:${key}`, key);
    }
    const listed: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 4 }, { Bucket: 'hostile' })) {
      listed.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    assert.deepEqual(
      listed,
      [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
    );
    const tooLong = await sdkError(
      s3.send(new PutObjectCommand({ Bucket: 'hostile', Key: 'x'.repeat(1025), Body: 'x' })),
    );
    assert.equal(tooLong.name, 'KeyTooLongError');
    // Nothing was written outside the stack's s3 directory.
    const walk = async (dir: string): Promise<string[]> =>
      (await readdir(dir, { withFileTypes: true, recursive: true }))
        .filter((e) => e.isFile())
        .map((e) => path.join(e.parentPath, e.name));
    for (const file of await walk(stack.dataDir)) {
      assert.ok(!file.includes('passwd') && !file.includes('日本語'), file);
    }
  });

  it('copies objects (same ETag, COPY and REPLACE metadata)', async () => {
    const data = randomBytes(4096);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'copy/src key+1',
        Body: data,
        Metadata: { a: '1' },
        ContentType: 'text/x-a',
      }),
    );
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy/dst',
        CopySource: `${bucket}/${encodeURIComponent('copy/src key+1')}`,
      }),
    );
    assert.equal(copied.CopyObjectResult?.ETag, put.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'copy/dst' }));
    assert.ok((await bodyBytes(got)).equals(data));
    assert.deepEqual(got.Metadata, { a: '1' });
    assert.equal(got.ContentType, 'text/x-a');
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: 'copy/replaced',
        CopySource: `/${bucket}/copy/src%20key%2B1`,
        MetadataDirective: 'REPLACE',
        Metadata: { b: '2' },
        ContentType: 'text/x-b',
      }),
    );
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'copy/replaced' }));
    assert.deepEqual(replaced.Metadata, { b: '2' });
    assert.equal(replaced.ContentType, 'text/x-b');
    const self = await sdkError(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy/dst', CopySource: `${bucket}/copy/dst` })),
    );
    assert.equal(self.name, 'InvalidRequest');
    const missing = await sdkError(
      s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'x', CopySource: `${bucket}/nope` })),
    );
    assert.equal(missing.name, 'NoSuchKey');
  });

  it('deletes objects singly and in bulk (quiet and verbose)', async () => {
    for (const key of ['del/1', 'del/2', 'del/3', 'del/4']) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    }
    const verbose = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: [{ Key: 'del/1' }, { Key: 'del/2' }, { Key: 'del/none' }] },
      }),
    );
    assert.deepEqual(verbose.Deleted?.map((d) => d.Key).sort(), ['del/1', 'del/2', 'del/none']);
    const quiet = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: 'del/3' }], Quiet: true } }),
    );
    assert.equal(quiet.Deleted, undefined);
    const single = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/4' }));
    assert.equal(single.$metadata.httpStatusCode, 204);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'del/4' }));
    const left = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'del/' }));
    assert.equal(left.Contents, undefined);
  });

  it("lists an unversioned bucket's objects as null versions (ListObjectVersions, GetBucketVersioning)", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versions' }));
    const keys = ['v/a', 'v/b/1', 'v/b/2', 'v/c', 'v/d e', 'w'];
    const etags = new Map<string, string>();
    for (const key of keys) {
      const put = await s3.send(
        new PutObjectCommand({ Bucket: 'versions', Key: key, Body: `body of ${key}` }),
      );
      etags.set(key, put.ETag!);
    }
    const all = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versions' }));
    assert.deepEqual(
      all.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest, v.ETag, v.Size, v.StorageClass]),
      keys.map((key) => [key, 'null', true, etags.get(key), `body of ${key}`.length, 'STANDARD']),
    );
    assert.ok(all.Versions!.every((v) => v.LastModified instanceof Date && v.Owner?.ID !== undefined));
    assert.equal(all.DeleteMarkers, undefined);
    assert.equal(all.IsTruncated, false);
    assert.equal(all.KeyMarker, '');
    assert.equal(all.VersionIdMarker, '');
    assert.equal(all.MaxKeys, 1000);

    const grouped = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'versions', Prefix: 'v/', Delimiter: '/' }),
    );
    assert.deepEqual(
      grouped.Versions?.map((v) => v.Key),
      ['v/a', 'v/c', 'v/d e'],
    );
    assert.deepEqual(grouped.CommonPrefixes, [{ Prefix: 'v/b/' }]);
    assert.equal(grouped.Delimiter, '/');

    // With a delimiter, a page may end on a common prefix: the next page goes on after its group.
    const first = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'versions', MaxKeys: 1, Delimiter: '/' }),
    );
    assert.deepEqual(first.CommonPrefixes, [{ Prefix: 'v/' }]);
    assert.equal(first.Versions, undefined);
    assert.equal(first.IsTruncated, true);
    assert.equal(first.NextKeyMarker, 'v/');
    assert.equal(first.NextVersionIdMarker, undefined, 'a prefix has no version');
    const second = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'versions', MaxKeys: 1, Delimiter: '/', KeyMarker: 'v/' }),
    );
    assert.deepEqual(
      second.Versions?.map((v) => v.Key),
      ['w'],
    );
    assert.equal(second.IsTruncated, false);
    // Pages of two, each going on from the last page's markers.
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    const paged: string[] = [];
    const markers: Array<[string | undefined, string | undefined]> = [];
    for (;;) {
      const page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: 'versions',
          MaxKeys: 2,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      paged.push(...(page.Versions ?? []).map((v) => v.Key!));
      if (!page.IsTruncated) break;
      markers.push([page.NextKeyMarker, page.NextVersionIdMarker]);
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    assert.deepEqual(paged, keys);
    assert.deepEqual(markers, [
      ['v/b/1', 'null'],
      ['v/c', 'null'],
    ]);
    // A key marker alone lists from the next key.
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versions', KeyMarker: 'v/c' }));
    assert.deepEqual(
      after.Versions?.map((v) => v.Key),
      ['v/d e', 'w'],
    );
    assert.equal(after.KeyMarker, 'v/c');

    const encoded = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'versions', Prefix: 'v/d', EncodingType: 'url' }),
    );
    assert.deepEqual(
      encoded.Versions?.map((v) => v.Key),
      ['v/d%20e'],
      'keys come back url-encoded (this SDK leaves them so)',
    );
    const rawEncoded = await signedRequest(stack, {
      service: 's3',
      method: 'GET',
      path: '/versions',
      query: { versions: '', prefix: 'v/d', 'encoding-type': 'url' },
    });
    assert.match(rawEncoded.body, /<Key>v\/d%20e<\/Key>/);
    assert.match(rawEncoded.body, /<EncodingType>url<\/EncodingType>/);

    const orphan = await sdkError(
      s3.send(new ListObjectVersionsCommand({ Bucket: 'versions', VersionIdMarker: 'null' })),
    );
    assert.equal(orphan.name, 'InvalidArgument');
    assert.equal(orphan.message, 'A version-id marker cannot be specified without a key marker.');
    const unknown = await sdkError(
      s3.send(new ListObjectVersionsCommand({ Bucket: 'versions', KeyMarker: 'v/a', VersionIdMarker: 'x1' })),
    );
    assert.equal(unknown.name, 'InvalidArgument');
    assert.equal(unknown.message, 'Invalid version id specified');
    const noBucket = await sdkError(s3.send(new ListObjectVersionsCommand({ Bucket: 'no-such-bucket' })));
    assert.equal(noBucket.name, 'NoSuchBucket');

    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: 'versions' }));
    assert.equal(versioning.Status, undefined, 'never versioned: no Status, not Suspended');
    assert.equal(versioning.MFADelete, undefined);
    const rawVersioning = await signedRequest(stack, {
      service: 's3',
      method: 'GET',
      path: '/versions',
      query: { versioning: '' },
    });
    assert.equal(rawVersioning.status, 200);
    assert.match(
      rawVersioning.body,
      /<VersioningConfiguration xmlns="http:\/\/s3\.amazonaws\.com\/doc\/2006-03-01\/"(\s*\/>|><\/VersioningConfiguration>)$/,
    );
    const versioningGone = await sdkError(
      s3.send(new GetBucketVersioningCommand({ Bucket: 'no-such-bucket' })),
    );
    assert.equal(versioningGone.name, 'NoSuchBucket');
  });

  it("answers ListObjectVersions and GetBucketVersioning in the shapes of botocore's s3 model", async (t) => {
    const loaded = loadBotocoreModel('s3');
    if ('skip' in loaded) {
      t.skip(loaded.skip);
      return;
    }
    const model: ServiceModel = loaded.model;
    await s3.send(new CreateBucketCommand({ Bucket: 'versions-shape' }));
    for (const key of ['p/a', 'p/q/1', 'z'])
      await s3.send(
        new PutObjectCommand({ Bucket: 'versions-shape', Key: key, Body: key, ChecksumAlgorithm: 'CRC32' }),
      );
    const queries: Record<string, string>[] = [
      { versions: '' },
      { versions: '', prefix: 'p/', delimiter: '/', 'encoding-type': 'url' },
      { versions: '', 'max-keys': '1', 'key-marker': 'p/a', 'version-id-marker': 'null' },
    ];
    for (const query of queries) {
      const reply = await signedRequest(stack, {
        service: 's3',
        method: 'GET',
        path: '/versions-shape',
        query,
      });
      assert.equal(reply.status, 200, reply.body);
      assert.deepEqual(
        checkRestXml(
          model,
          model.operations.ListObjectVersions!.output!.shape,
          reply.body,
          'ListObjectVersions',
        ),
        [],
      );
      assert.match(reply.body, /^<\?xml[^>]*>\s*<ListVersionsResult /);
    }
    const versioning = await signedRequest(stack, {
      service: 's3',
      method: 'GET',
      path: '/versions-shape',
      query: { versioning: '' },
    });
    assert.deepEqual(
      checkRestXml(
        model,
        model.operations.GetBucketVersioning!.output!.shape,
        versioning.body,
        'GetBucketVersioning',
      ),
      [],
    );
  });

  it('answers aws s3api list-object-versions and get-bucket-versioning (AWS CLI v1)', async (t) => {
    if (!awsCliAvailable()) {
      t.skip('aws CLI not installed');
      return;
    }
    const work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-s3-versions-'));
    const aws = (...args: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(
          awsCliPath(),
          ['--endpoint-url', stack.endpoint, '--output', 'json', ...args],
          { env: awsCliEnv(stack, work) },
          (error, stdout, stderr) => {
            if (error) reject(new Error(`aws ${args.join(' ')} failed: ${stderr}`));
            else resolve(stdout);
          },
        );
      });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'versions-cli' }));
      const keys = ['a b', 'dir/1', 'dir/2', 'z'];
      for (const key of keys)
        await s3.send(new PutObjectCommand({ Bucket: 'versions-cli', Key: key, Body: key }));
      // --page-size 1: the CLI's paginator asks for one key at a time and goes on from each page's
      // NextKeyMarker/NextVersionIdMarker; botocore decodes the url-encoded keys.
      const listed = JSON.parse(
        await aws('s3api', 'list-object-versions', '--bucket', 'versions-cli', '--page-size', '1'),
      ) as { Versions: { Key: string; VersionId: string; IsLatest: boolean; Size: number }[] };
      assert.deepEqual(
        listed.Versions.map((v) => [v.Key, v.VersionId, v.IsLatest, v.Size]),
        keys.map((key) => [key, 'null', true, key.length]),
      );
      const grouped = JSON.parse(
        await aws('s3api', 'list-object-versions', '--bucket', 'versions-cli', '--delimiter', '/'),
      ) as { Versions: { Key: string }[]; CommonPrefixes: { Prefix: string }[] };
      assert.deepEqual(
        grouped.Versions.map((v) => v.Key),
        ['a b', 'z'],
      );
      assert.deepEqual(grouped.CommonPrefixes, [{ Prefix: 'dir/' }]);
      // A bucket never versioned: the CLI prints nothing.
      assert.equal((await aws('s3api', 'get-bucket-versioning', '--bucket', 'versions-cli')).trim(), '');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('round-trips a bucket policy and a public access block', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: `arn:aws:s3:::${bucket}/*` }],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, policy);
    const malformed = await sdkError(
      s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: '{oops' })),
    );
    assert.equal(malformed.name, 'MalformedPolicy');
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    const noPolicy = await sdkError(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })));
    assert.equal(noPolicy.name, 'NoSuchBucketPolicy');
    assert.equal(noPolicy.$metadata.httpStatusCode, 404);

    const configuration = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    };
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: configuration }),
    );
    const got = await s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
    assert.deepEqual(got.PublicAccessBlockConfiguration, configuration);
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
    const none = await sdkError(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })));
    assert.equal(none.name, 'NoSuchPublicAccessBlockConfiguration');
    assert.equal(none.$metadata.httpStatusCode, 404);
  });

  it('validates bucket policies as S3 does, naming what is wrong (MalformedPolicy, 400)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'policed' }));
    const statement = {
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::policed/*',
    };
    const doc = (statements: unknown, extra: Record<string, unknown> = {}): string =>
      JSON.stringify({ Version: '2012-10-17', ...extra, Statement: statements });
    const refused: Array<[string, string]> = [
      ['', "Policies must be valid JSON and the first byte must be '{'"],
      [' [1]', "Policies must be valid JSON and the first byte must be '{'"],
      ['{"Version": "2012-10-17"}', 'Missing required field Statement'],
      [doc([]), 'Could not parse the policy: Statement is empty!'],
      [doc([statement], { Version: '2020-01-01' }), 'The policy must contain a valid version string'],
      [doc([statement], { Statment: [] }), 'Unknown field Statment'],
      [doc(['Deny']), 'This policy contains invalid Json'],
      [doc([{ ...statement, Effect: undefined }]), 'Missing required field Effect'],
      [doc([{ ...statement, Effect: 'Maybe' }]), 'Invalid effect: Maybe'],
      [doc([{ ...statement, Principal: undefined }]), 'Missing required field Principal'],
      [doc([{ ...statement, Principal: { AWS: 'somebody' } }]), 'Invalid principal in policy'],
      [doc([{ ...statement, Principal: { Robot: '*' } }]), 'Invalid principal in policy'],
      [
        doc([
          {
            ...statement,
            Effect: 'Allow',
            Principal: undefined,
            NotPrincipal: { AWS: 'arn:aws:iam::123456789012:root' },
          },
        ]),
        'Invalid principal in policy',
      ],
      [doc([{ ...statement, Action: undefined }]), 'Missing required field Action'],
      [doc([{ ...statement, Action: 'ec2:RunInstances' }]), 'Policy has invalid action'],
      [doc([{ ...statement, Resource: undefined }]), 'Missing required field Resource'],
      [doc([{ ...statement, Resource: 'arn:aws:s3:::another-bucket/*' }]), 'Policy has invalid resource'],
      [doc([{ ...statement, Resource: 'policed/*' }]), 'Policy has invalid resource'],
      [doc([{ ...statement, Condition: { Bool: 'yes' } }]), 'Policy has an invalid condition block'],
      [doc([{ ...statement, Sid: 'x', Extra: 1 }]), 'Unknown field Extra'],
    ];
    for (const [policy, message] of refused) {
      const error = await sdkError(
        s3.send(new PutBucketPolicyCommand({ Bucket: 'policed', Policy: policy })),
      );
      assert.equal(error.name, 'MalformedPolicy', policy);
      assert.equal(error.$metadata.httpStatusCode, 400, policy);
      assert.equal(error.message, message, policy);
    }
    const none = await sdkError(s3.send(new GetBucketPolicyCommand({ Bucket: 'policed' })));
    assert.equal(none.name, 'NoSuchBucketPolicy', 'nothing refused was stored');

    // Accepted: a single statement object, NotPrincipal with Deny, NotAction/NotResource, wildcard
    // resources naming this bucket, service, account and ARN principals, conditions.
    const accepted = [
      JSON.stringify({ Statement: statement }),
      doc([{ ...statement, Principal: undefined, NotPrincipal: { AWS: 'arn:aws:iam::123456789012:root' } }]),
      doc([{ ...statement, Action: undefined, NotAction: ['s3:Get*', 's3:ListBucket'] }]),
      doc([{ ...statement, Resource: undefined, NotResource: 'arn:aws:s3:::policed' }]),
      doc([{ ...statement, Resource: ['arn:aws:s3:::*', 'arn:aws:s3:::pol*/*', 'arn:aws:s3:::policed'] }]),
      doc([
        {
          Effect: 'Allow',
          Principal: {
            Service: 'personalize.amazonaws.com',
            AWS: ['123456789012', 'arn:aws:iam::123456789012:role/r'],
          },
          Action: '*',
          Resource: 'arn:aws:s3:::policed/data/*',
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            Bool: { 'aws:SecureTransport': true },
          },
        },
      ]),
    ];
    for (const policy of accepted) {
      await s3.send(new PutBucketPolicyCommand({ Bucket: 'policed', Policy: policy }));
      assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'policed' }))).Policy, policy);
    }
  });

  it('refuses a public bucket policy while BlockPublicPolicy is on (AccessDenied, 403)', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'blocked' }));
    const allowEveryone = (principal: unknown, condition?: unknown): string =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: principal,
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::blocked/*',
            ...(condition === undefined ? {} : { Condition: condition }),
          },
        ],
      });
    const publicPolicies = [
      allowEveryone('*'),
      allowEveryone({ AWS: '*' }),
      allowEveryone({ AWS: ['arn:aws:iam::123456789012:root', '*'] }),
      // Conditions that do not fix who or where the request comes from keep it public.
      allowEveryone('*', { StringLike: { 'aws:Referer': 'http://www.example.com/*' } }),
      allowEveryone('*', { StringLike: { 'aws:SourceAccount': '12345678*' } }),
      allowEveryone('*', { StringEqualsIfExists: { 'aws:SourceAccount': '123456789012' } }),
      allowEveryone('*', { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }),
    ];
    const privatePolicies = [
      allowEveryone({ AWS: 'arn:aws:iam::123456789012:root' }),
      allowEveryone({ Service: 'personalize.amazonaws.com' }),
      allowEveryone('*', { StringEquals: { 'aws:SourceAccount': '123456789012' } }),
      allowEveryone('*', { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } }),
      allowEveryone('*', { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } }),
      JSON.stringify({
        Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::blocked/*' }],
      }),
    ];
    // Without a block, public policies are stored like any other.
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'blocked', Policy: publicPolicies[0] }));
    await s3.send(
      new PutPublicAccessBlockCommand({
        Bucket: 'blocked',
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: false,
          IgnorePublicAcls: false,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: false,
        },
      }),
    );
    for (const policy of publicPolicies) {
      const error = await sdkError(
        s3.send(new PutBucketPolicyCommand({ Bucket: 'blocked', Policy: policy })),
      );
      assert.equal(error.name, 'AccessDenied', policy);
      assert.equal(error.$metadata.httpStatusCode, 403, policy);
      assert.equal(
        error.message,
        `User: arn:aws:iam::${stack.server.context.accountId}:root is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::blocked" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
      );
    }
    assert.equal(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: 'blocked' }))).Policy,
      publicPolicies[0],
      'a refused policy leaves the stored one as it was',
    );
    for (const policy of privatePolicies) {
      await s3.send(new PutBucketPolicyCommand({ Bucket: 'blocked', Policy: policy }));
      assert.equal((await s3.send(new GetBucketPolicyCommand({ Bucket: 'blocked' }))).Policy, policy);
    }
    // The other flags are stored as given; with BlockPublicPolicy off, public policies go in again.
    const flags = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: true,
    };
    await s3.send(
      new PutPublicAccessBlockCommand({ Bucket: 'blocked', PublicAccessBlockConfiguration: flags }),
    );
    assert.deepEqual(
      (await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'blocked' }))).PublicAccessBlockConfiguration,
      flags,
    );
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'blocked', Policy: publicPolicies[1] }));
    await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'blocked' }));
  });

  it('reports S3 errors the way the SDK expects them', async () => {
    const noBucket = await sdkError(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })));
    assert.equal(noBucket.name, 'NoSuchBucket');
    assert.equal(noBucket.$metadata.httpStatusCode, 404);
    assert.equal(noBucket.BucketName, 'no-such-bucket');
    const noKey = await sdkError(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'no/such key' })));
    assert.equal(noKey.name, 'NoSuchKey');
    assert.equal(noKey.$metadata.httpStatusCode, 404);
    assert.equal(noKey.Key, 'no/such key');
    const headMissing = await sdkError(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'no/such key' })),
    );
    assert.equal(headMissing.name, 'NotFound');
    assert.equal(headMissing.$metadata.httpStatusCode, 404);
    const headBucket = await sdkError(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })));
    assert.equal(headBucket.$metadata.httpStatusCode, 404);
    const notEmpty = await sdkError(s3.send(new DeleteBucketCommand({ Bucket: bucket })));
    assert.equal(notEmpty.name, 'BucketNotEmpty');
    assert.equal(notEmpty.$metadata.httpStatusCode, 409);
    const unimplemented = await sdkError(
      s3.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      ),
    );
    assert.equal(unimplemented.name, 'NotImplemented');
    assert.equal(unimplemented.$metadata.httpStatusCode, 501);
    assert.match(unimplemented.message, /PutBucketVersioning/);

    await s3.send(new CreateBucketCommand({ Bucket: 'short-lived' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'short-lived' }));
    const gone = await sdkError(s3.send(new HeadBucketCommand({ Bucket: 'short-lived' })));
    assert.equal(gone.$metadata.httpStatusCode, 404);
  });

  it('answers MalformedXML (400) to hostile XML: entities, deep nesting, forbidden characters', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'w', Body: 'kept' }));
    const send = async (
      query: Record<string, string>,
      xml: string,
    ): Promise<{ status: number; body: string }> => {
      const body = Buffer.from(xml);
      const request = await signed({
        method: query.delete !== undefined ? 'POST' : 'PUT',
        path: `/${bucket}`,
        query,
        headers: {
          'content-type': 'application/xml',
          'content-length': String(body.length),
          'content-md5': createHash('md5').update(body).digest('base64'),
          'x-amz-content-sha256': createHash('sha256').update(body).digest('hex'),
        },
      });
      const url = new URL(stack.endpoint);
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            method: query.delete !== undefined ? 'POST' : 'PUT',
            path: request.path,
            headers: request.headers,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    };
    const hostile = [
      [
        { publicAccessBlock: '' },
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "true">]>' +
          '<PublicAccessBlockConfiguration><BlockPublicAcls>&a;</BlockPublicAcls></PublicAccessBlockConfiguration>',
      ],
      [
        { publicAccessBlock: '' },
        `<PublicAccessBlockConfiguration>${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}</PublicAccessBlockConfiguration>`,
      ],
      [{ delete: '' }, '<Delete><Object><Key>w&#1;</Key></Object></Delete>'],
      [{ delete: '' }, '<Delete><Object><Key>w&#x0;</Key></Object></Delete>'],
      [{ delete: '' }, '<Delete><Object><Key>w\u0001</Key></Object></Delete>'],
    ] as const;
    for (const [query, xml] of hostile) {
      const answer = await send(query, xml);
      assert.equal(answer.status, 400, `${xml.slice(0, 80)} → ${answer.status} ${answer.body}`);
      assert.match(answer.body, /<Code>MalformedXML<\/Code>/);
    }
    // Nothing was deleted in place of the key the client did not send, and nothing was configured.
    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'w' }));
    assert.equal((await bodyBytes(kept)).toString(), 'kept');
    const error = await sdkError(s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })));
    assert.equal(error.name, 'NoSuchPublicAccessBlockConfiguration');
    // Well-formed documents still work.
    const ok = await send({ delete: '' }, '<Delete><Object><Key>w</Key></Object></Delete>');
    assert.equal(ok.status, 200);
    assert.match(ok.body, /<Deleted><Key>w<\/Key><\/Deleted>/);
  });

  it('answers as S3 does: 304 with validators, no empty Delimiter, Content-Encoding kept as sent', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'validated',
        Body: 'abc',
        ContentEncoding: 'deflate, gzip',
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'validated' }));
    assert.equal(head.ContentEncoding, 'deflate, gzip');

    const request = await signed({
      method: 'GET',
      path: `/${bucket}/validated`,
      headers: {
        'if-none-match': put.ETag!,
        'x-amz-content-sha256': createHash('sha256').update('').digest('hex'),
      },
    });
    const url = new URL(stack.endpoint);
    const notModified = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const req = http.request(
        { host: url.hostname, port: url.port, method: 'GET', path: request.path, headers: request.headers },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(notModified.statusCode, 304);
    assert.equal(notModified.headers.etag, put.ETag);
    assert.equal(notModified.headers['last-modified'], head.LastModified!.toUTCString());

    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'validated', Delimiter: '' }),
    );
    assert.equal(listed.Delimiter, undefined);
    assert.deepEqual(
      listed.Contents?.map((object) => object.Key),
      ['validated'],
    );
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'validated', Delimiter: '' }));
    assert.equal(v1.Delimiter, undefined);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Delimiter: '' }));
    assert.equal(uploads.Delimiter, undefined);
  });

  it('answers a repeated CompleteMultipartUpload with the same object (SDKs retry it)', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'retried' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: 'retried', UploadId, PartNumber: 1, Body: 'only part' }),
    );
    const complete = new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'retried',
      UploadId,
      MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] },
    });
    const first = await s3.send(complete);
    const again = await s3.send(complete);
    assert.equal(again.ETag, first.ETag);
    assert.equal(again.Key, 'retried');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'retried' }));
    assert.equal((await bodyBytes(got)).toString(), 'only part');
    // Once the key holds another object, the upload is gone for good.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'retried', Body: 'replaced' }));
    const gone = await sdkError(s3.send(complete));
    assert.equal(gone.name, 'NoSuchUpload');
    assert.equal(gone.$metadata.httpStatusCode, 404);
  });

  it('rejects a wrong x-amz-checksum-crc32 and keeps the old object', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'original' }));
    const wrong = await sdkError(
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'guarded', Body: 'tampered', ChecksumCRC32: 'AAAAAA==' }),
      ),
    );
    assert.equal(wrong.name, 'BadDigest');
    assert.equal(wrong.$metadata.httpStatusCode, 400);
    const malformed = await sdkError(
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: 'guarded',
          Body: 'tampered',
          ChecksumCRC32: 'not base64!',
        }),
      ),
    );
    assert.equal(malformed.name, 'InvalidRequest');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'guarded' }));
    assert.equal((await bodyBytes(got)).toString(), 'original');
  });

  it('discards an upload whose client dies mid-body (SDK abort and raw socket abort)', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fragile', Body: 'survivor' }));
    // Through the SDK: the body stalls after 768 KiB and the request is aborted, which destroys
    // the socket mid-body. (A body stream that errors instead crashes the process in this SDK
    // version: its aws-chunked wrapper re-emits the error with no listener attached.)
    const controller = new AbortController();
    let sent = 0;
    const stalling = new Readable({
      read() {
        if (sent < 3) {
          sent++;
          this.push(randomBytes(256 * 1024));
        } else {
          setTimeout(() => controller.abort(), 50);
        }
      },
    });
    await assert.rejects(
      s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'fragile', Body: stalling, ContentLength: 10 * MiB }),
        {
          abortSignal: controller.signal,
        },
      ),
    );
    stalling.destroy();

    // A signed raw PUT that announces 8 MiB, sends 1 MiB, then drops the connection.
    const request = await signed({
      method: 'PUT',
      path: `/${bucket}/fragile`,
      headers: { 'content-length': String(8 * MiB), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    await new Promise<void>((resolve) => {
      const url = new URL(stack.endpoint);
      const req = http.request({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: request.path,
        headers: request.headers,
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(randomBytes(MiB), () => setTimeout(() => req.destroy(), 50));
      req.on('close', () => resolve());
    });
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'fragile' }));
    assert.equal((await bodyBytes(got)).toString(), 'survivor');
    // The server removes the partial body once it sees the socket close: wait for that, however
    // long a busy machine takes (the test's own timeout bounds it), rather than a fixed pause.
    const tmp = path.join(stack.dataDir, 's3', 'tmp');
    while ((await readdir(tmp)).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(await readdir(tmp), []);
  });

  it('accepts STREAMING-AWS4-HMAC-SHA256-PAYLOAD uploads and checks their chunk signatures', async () => {
    const data = randomBytes(100_000);
    const amzDate = new Date()
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const scopeDate = amzDate.slice(0, 8);
    const scope = `${scopeDate}/${stack.region}/s3/aws4_request`;
    const chunkSize = 64 * 1024;
    const hmac = (key: Buffer | string, value: string): Buffer =>
      createHmac('sha256', key).update(value).digest();
    const key = hmac(
      hmac(hmac(hmac(`AWS4${stack.credentials.secretAccessKey}`, scopeDate), stack.region), 's3'),
      'aws4_request',
    );
    const emptyHash = createHash('sha256').update('').digest('hex');
    /** Frames the data with chunk signatures chained from `seed` (the zero chunk ends the body). */
    const frame = (seed: string): Buffer => {
      let previous = seed;
      const parts: Buffer[] = [];
      const chunk = (piece: Buffer): void => {
        const stringToSign = [
          'AWS4-HMAC-SHA256-PAYLOAD',
          amzDate,
          scope,
          previous,
          emptyHash,
          createHash('sha256').update(piece).digest('hex'),
        ].join('\n');
        previous = createHmac('sha256', key).update(stringToSign).digest('hex');
        parts.push(
          Buffer.from(`${piece.length.toString(16)};chunk-signature=${previous}\r\n`),
          piece,
          Buffer.from('\r\n'),
        );
      };
      for (let offset = 0; offset < data.length; offset += chunkSize)
        chunk(data.subarray(offset, offset + chunkSize));
      chunk(Buffer.alloc(0));
      return Buffer.concat(parts);
    };
    // Signatures have a fixed length, so a placeholder framing gives the Content-Length to sign.
    const request = await signed({
      method: 'PUT',
      path: `/${bucket}/signed-stream`,
      headers: {
        'content-encoding': 'aws-chunked',
        'content-length': String(frame('0'.repeat(64)).length),
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-date': amzDate,
      },
    });
    const seed = /Signature=([0-9a-f]{64})/.exec(request.headers.authorization!)![1]!;
    const send = (payload: Buffer): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const url = new URL(stack.endpoint);
        const req = http.request(
          { host: url.hostname, port: url.port, method: 'PUT', path: request.path, headers: request.headers },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    const ok = await send(frame(seed));
    assert.equal(ok.status, 200, ok.body);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'signed-stream' }));
    assert.ok((await bodyBytes(got)).equals(data));
    const tamperedBody = frame(seed);
    tamperedBody[200] = tamperedBody[200]! ^ 1;
    const tampered = await send(tamperedBody);
    assert.equal(tampered.status, 403, tampered.body);
    assert.match(tampered.body, /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  it('interoperates with the AWS CLI v1 (s3 cp/ls, s3api, multipart, download to stdout)', async (t) => {
    if (!awsCliAvailable()) {
      t.skip('aws CLI not installed');
      return;
    }
    const work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-s3-cli-'));
    const env = awsCliEnv(stack, work);
    const aws = (...args: string[]): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        execFile(
          awsCliPath(),
          ['--endpoint-url', stack.endpoint, ...args],
          { env, encoding: 'buffer', maxBuffer: 64 * MiB },
          (error, stdout, stderr) => {
            if (error) reject(new Error(`aws ${args.join(' ')} failed: ${stderr.toString()}`));
            else resolve(stdout);
          },
        );
      });
    try {
      await aws('s3', 'mb', 's3://cli-bucket');
      const small = path.join(work, 'small file.txt');
      await writeFile(small, 'hello from the cli\n');
      await aws('s3', 'cp', small, 's3://cli-bucket/dir/small file+1.txt');
      const big = randomBytes(12 * MiB + 7);
      const bigFile = path.join(work, 'big.bin');
      await writeFile(bigFile, big);
      await aws('s3', 'cp', bigFile, 's3://cli-bucket/big.bin');

      const ls = (await aws('s3', 'ls', 's3://cli-bucket/')).toString();
      assert.match(ls, /PRE dir\//);
      assert.match(ls, /12582919 big\.bin/);
      const recursive = (await aws('s3', 'ls', '--recursive', 's3://cli-bucket/')).toString();
      assert.match(recursive, /dir\/small file\+1\.txt/);

      const listed = JSON.parse(
        (await aws('s3api', 'list-objects-v2', '--bucket', 'cli-bucket')).toString(),
      ) as {
        Contents: { Key: string; Size: number; ETag: string }[];
      };
      assert.deepEqual(
        listed.Contents.map((c) => c.Key),
        ['big.bin', 'dir/small file+1.txt'],
      );
      assert.match(listed.Contents[0]!.ETag, /-\d+"$/, 'the >8 MB file went up multipart');

      const downloaded = await aws('s3', 'cp', 's3://cli-bucket/big.bin', '-');
      assert.ok(downloaded.equals(big));
      const smallBack = await aws('s3', 'cp', 's3://cli-bucket/dir/small file+1.txt', '-');
      assert.equal(smallBack.toString(), 'hello from the cli\n');

      // The SDK sees what the CLI wrote.
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'cli-bucket', Key: 'big.bin' }));
      assert.equal(head.ContentLength, big.length);
      await aws('s3', 'rm', '--recursive', 's3://cli-bucket/');
      await aws('s3', 'rb', 's3://cli-bucket');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
