// S3Service driven directly (no HTTP) against a temp data dir: S3 semantics, hostile keys,
// persistence across restarts, and atomicity when bodies fail half-way.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { AwsError } from '../../src/local/core/errors.js';
import { checksumOf, combineCrcs } from '../../src/local/services/s3/checksums.js';
import { S3Service, type PutObjectInput } from '../../src/local/services/s3/s3-service.js';
import { compareKeys } from '../../src/local/services/s3/object-store.js';
import type { LocalContext } from '../../src/local/types.js';

const MiB = 1024 * 1024;

function context(dataDir: string): LocalContext {
  return {
    dataDir,
    region: 'us-east-1',
    accountId: '000000000000',
    credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' },
    now: () => new Date(),
    log: () => undefined,
  };
}

function body(data: Buffer | string): Readable {
  return Readable.from([Buffer.from(data)]);
}

function md5Hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

function crc32(data: Buffer | string): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(zlib.crc32(Buffer.from(data)));
  return out.toString('base64');
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function rejects(promise: Promise<unknown>, code: string, status?: number): Promise<AwsError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AwsError, `expected AwsError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (status !== undefined) assert.equal(error.status, status);
    return error;
  }
  assert.fail(`expected ${code}`);
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out;
}

/** A body that sends `first`, then fails like a dropped connection. */
function failingBody(first: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(first);
        return;
      }
      setImmediate(() => this.destroy(new Error('connection reset by peer')));
    },
  });
}

describe('S3Service', () => {
  let dataDir: string;
  let s3: S3Service;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-s3-unit-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir, { recursive: true });
    s3 = await S3Service.open(context(dataDir));
    await s3.createBucket({ bucket: 'bkt' });
  });

  async function put(
    key: string,
    data: Buffer | string,
    extra: Partial<PutObjectInput> = {},
  ): Promise<string> {
    return (await s3.putObject({ bucket: 'bkt', key, body: body(data), ...extra })).etag;
  }

  async function get(key: string, bucket = 'bkt'): Promise<Buffer> {
    return read((await s3.getObject({ bucket, key })).body);
  }

  describe('buckets', () => {
    it('validates bucket names like S3', async () => {
      for (const name of [
        'ab',
        'UPPER',
        'a_b',
        '-ab',
        'ab-',
        'a..b',
        '192.168.1.1',
        'xn--abc',
        'x'.repeat(64),
        'ab.-c',
      ]) {
        await rejects(s3.createBucket({ bucket: name }), 'InvalidBucketName', 400);
      }
      await s3.createBucket({ bucket: 'a.b-c.123' });
    });

    it('answers BucketAlreadyOwnedByYou, NoSuchBucket and BucketNotEmpty with their fields', async () => {
      // In us-east-1 re-creating your own bucket succeeds; asking for it in another region does not.
      assert.deepEqual(await s3.createBucket({ bucket: 'bkt' }), { location: '/bkt' });
      const owned = await rejects(
        s3.createBucket({ bucket: 'bkt', locationConstraint: 'eu-west-1' }),
        'BucketAlreadyOwnedByYou',
        409,
      );
      assert.equal(owned.fields.BucketName, 'bkt');
      const missing = await rejects(s3.headBucket({ bucket: 'nope' }), 'NoSuchBucket', 404);
      assert.equal(missing.fields.BucketName, 'nope');
      await put('k', 'v');
      const notEmpty = await rejects(s3.deleteBucket({ bucket: 'bkt' }), 'BucketNotEmpty', 409);
      assert.equal(notEmpty.fields.BucketName, 'bkt');
      await s3.deleteObject({ bucket: 'bkt', key: 'k' });
      await s3.deleteBucket({ bucket: 'bkt' });
      await rejects(s3.headBucket({ bucket: 'bkt' }), 'NoSuchBucket');
      assert.deepEqual((await s3.listBuckets()).buckets, []);
    });

    it('re-creates a deleted bucket empty and usable', async () => {
      await put('k', 'v');
      await s3.deleteObject({ bucket: 'bkt', key: 'k' });
      await s3.deleteBucket({ bucket: 'bkt' });
      await s3.createBucket({ bucket: 'bkt' });
      assert.equal((await s3.listObjectsV2({ bucket: 'bkt' })).keyCount, 0);
      await put('k', 'again');
      assert.equal((await get('k')).toString(), 'again');
    });

    it('lists buckets and reports their location', async () => {
      await s3.createBucket({ bucket: 'eu-bucket', locationConstraint: 'eu-west-1' });
      const names = (await s3.listBuckets()).buckets.map((bucket) => bucket.name);
      assert.deepEqual(names, ['bkt', 'eu-bucket']);
      assert.equal((await s3.getBucketLocation({ bucket: 'bkt' })).locationConstraint, undefined);
      assert.equal((await s3.getBucketLocation({ bucket: 'eu-bucket' })).locationConstraint, 'eu-west-1');
    });

    it('stores bucket policies and public access blocks', async () => {
      await rejects(s3.getBucketPolicy({ bucket: 'bkt' }), 'NoSuchBucketPolicy', 404);
      await rejects(s3.putBucketPolicy({ bucket: 'bkt', policy: '{not json' }), 'MalformedPolicy', 400);
      await rejects(s3.putBucketPolicy({ bucket: 'bkt', policy: '[1]' }), 'MalformedPolicy', 400);
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Deny', Principal: '*', Action: 's3:DeleteBucket', Resource: 'arn:aws:s3:::bkt' },
        ],
      });
      await s3.putBucketPolicy({ bucket: 'bkt', policy });
      assert.equal((await s3.getBucketPolicy({ bucket: 'bkt' })).policy, policy);
      await s3.deleteBucketPolicy({ bucket: 'bkt' });
      await rejects(s3.getBucketPolicy({ bucket: 'bkt' }), 'NoSuchBucketPolicy');

      await rejects(s3.getPublicAccessBlock({ bucket: 'bkt' }), 'NoSuchPublicAccessBlockConfiguration', 404);
      await s3.putPublicAccessBlock({
        bucket: 'bkt',
        configuration: { BlockPublicAcls: true, RestrictPublicBuckets: true },
      });
      assert.deepEqual((await s3.getPublicAccessBlock({ bucket: 'bkt' })).configuration, {
        BlockPublicAcls: true,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: true,
      });
      await s3.deletePublicAccessBlock({ bucket: 'bkt' });
      await rejects(s3.getPublicAccessBlock({ bucket: 'bkt' }), 'NoSuchPublicAccessBlockConfiguration');
    });
  });

  describe('objects', () => {
    it('round-trips bytes, content type and user metadata; ETag is the quoted MD5', async () => {
      const data = randomBytes(100_000);
      const output = await s3.putObject({
        bucket: 'bkt',
        key: 'dir/file.bin',
        body: body(data),
        contentType: 'application/x-test',
        metadata: { owner: 'me', 'two-words': 'a b' },
        headers: { 'cache-control': 'no-cache' },
      });
      assert.equal(output.etag, `"${md5Hex(data)}"`);
      const got = await s3.getObject({ bucket: 'bkt', key: 'dir/file.bin' });
      assert.ok((await read(got.body)).equals(data));
      assert.equal(got.contentType, 'application/x-test');
      assert.deepEqual(got.metadata, { owner: 'me', 'two-words': 'a b' });
      assert.equal(got.headers['cache-control'], 'no-cache');
      assert.equal(got.status, 200);
      assert.equal(got.contentLength, data.length);
      const head = await s3.headObject({ bucket: 'bkt', key: 'dir/file.bin' });
      assert.equal(head.etag, output.etag);
      assert.equal(head.size, data.length);
    });

    it('stores empty objects', async () => {
      const etag = await put('empty', '');
      assert.equal(etag, `"${md5Hex('')}"`);
      assert.equal((await get('empty')).length, 0);
      assert.equal((await s3.headObject({ bucket: 'bkt', key: 'empty' })).size, 0);
    });

    it('answers NoSuchKey with the Key field, and deletes idempotently', async () => {
      const error = await rejects(s3.getObject({ bucket: 'bkt', key: 'missing' }), 'NoSuchKey', 404);
      assert.equal(error.fields.Key, 'missing');
      await rejects(s3.getObject({ bucket: 'other', key: 'k' }), 'NoSuchBucket', 404);
      await s3.deleteObject({ bucket: 'bkt', key: 'missing' });
      await put('k', 'v');
      await s3.deleteObject({ bucket: 'bkt', key: 'k' });
      await s3.deleteObject({ bucket: 'bkt', key: 'k' });
      await rejects(s3.headObject({ bucket: 'bkt', key: 'k' }), 'NoSuchKey');
    });

    it('rejects keys over 1024 UTF-8 bytes and accepts exactly 1024', async () => {
      await put('é'.repeat(512), 'max');
      assert.equal((await get('é'.repeat(512))).toString(), 'max');
      await rejects(put('é'.repeat(512) + 'x', 'too long'), 'KeyTooLongError', 400);
    });

    it('verifies x-amz-checksum-* values and stores the checksum', async () => {
      const output = await s3.putObject({
        bucket: 'bkt',
        key: 'k',
        body: body('hello'),
        checksum: { algorithm: 'CRC32', value: crc32('hello') },
      });
      assert.deepEqual(output.checksum, { algorithm: 'CRC32', value: crc32('hello'), type: 'FULL_OBJECT' });
      const withMode = await s3.headObject({ bucket: 'bkt', key: 'k', checksumMode: true });
      assert.equal(withMode.checksum?.value, crc32('hello'));
      const without = await s3.headObject({ bucket: 'bkt', key: 'k' });
      assert.equal(without.checksum, undefined);

      for (const algorithm of ['CRC32C', 'CRC64NVME', 'SHA1', 'SHA256', 'SHA512'] as const) {
        const value = checksumOf(algorithm, Buffer.from('payload'));
        const stored = await s3.putObject({
          bucket: 'bkt',
          key: algorithm,
          body: body('payload'),
          checksum: { algorithm, value },
        });
        assert.equal(stored.checksum?.value, value, algorithm);
      }
    });

    it('rejects wrong and malformed checksums, Content-MD5 and signed SHA-256, keeping the old object', async () => {
      await put('k', 'original');
      const bad = await rejects(
        s3.putObject({
          bucket: 'bkt',
          key: 'k',
          body: body('new'),
          checksum: { algorithm: 'CRC32', value: crc32('other') },
        }),
        'BadDigest',
        400,
      );
      assert.match(bad.message, /CRC32/);
      const malformed = await rejects(
        s3.putObject({
          bucket: 'bkt',
          key: 'k',
          body: body('new'),
          checksum: { algorithm: 'CRC32', value: 'nope' },
        }),
        'InvalidRequest',
        400,
      );
      assert.equal(malformed.message, 'Value for x-amz-checksum-crc32 header is invalid.');
      await rejects(
        s3.putObject({
          bucket: 'bkt',
          key: 'k',
          body: body('new'),
          checksum: { algorithm: 'SHA256', trailer: () => checksumOf('SHA256', Buffer.from('x')) },
        }),
        'BadDigest',
      );
      await rejects(
        s3.putObject({
          bucket: 'bkt',
          key: 'k',
          body: body('new'),
          checksum: { algorithm: 'CRC32', trailer: () => undefined },
        }),
        'InvalidRequest',
      );
      await rejects(
        s3.putObject({
          bucket: 'bkt',
          key: 'k',
          body: body('new'),
          contentMd5: createHash('md5').update('x').digest('base64'),
        }),
        'BadDigest',
      );
      await rejects(
        s3.putObject({ bucket: 'bkt', key: 'k', body: body('new'), contentMd5: 'short' }),
        'InvalidDigest',
      );
      await rejects(
        s3.putObject({ bucket: 'bkt', key: 'k', body: body('new'), expectedSha256: 'a'.repeat(64) }),
        'XAmzContentSHA256Mismatch',
      );
      await rejects(
        s3.putObject({ bucket: 'bkt', key: 'k', body: body('new'), contentLength: 10 }),
        'IncompleteBody',
      );
      assert.equal((await get('k')).toString(), 'original');
      assert.deepEqual(await listFiles(path.join(dataDir, 's3', 'tmp')), []);

      // And the right ones pass.
      await s3.putObject({
        bucket: 'bkt',
        key: 'k',
        body: body('new'),
        contentMd5: createHash('md5').update('new').digest('base64'),
        expectedSha256: createHash('sha256').update('new').digest('hex'),
        checksum: { algorithm: 'CRC32', trailer: () => crc32('new') },
        contentLength: 3,
      });
      assert.equal((await get('k')).toString(), 'new');
    });

    it('serves ranges: a-b, a-, -n; 416 past the end; malformed ranges ignored', async () => {
      const data = Buffer.from('0123456789');
      await put('r', data);
      const cases: [string, string, string][] = [
        ['bytes=2-5', '2345', 'bytes 2-5/10'],
        ['bytes=7-', '789', 'bytes 7-9/10'],
        ['bytes=-3', '789', 'bytes 7-9/10'],
        ['bytes=8-100', '89', 'bytes 8-9/10'],
        ['bytes=-100', '0123456789', 'bytes 0-9/10'],
      ];
      for (const [range, expected, contentRange] of cases) {
        const got = await s3.getObject({ bucket: 'bkt', key: 'r', range, checksumMode: true });
        assert.equal(got.status, 206, range);
        assert.equal(got.contentRange, contentRange, range);
        assert.equal(got.contentLength, expected.length, range);
        assert.equal(got.checksum, undefined, 'no whole-object checksum on a range');
        assert.equal((await read(got.body)).toString(), expected, range);
      }
      const error = await rejects(
        s3.getObject({ bucket: 'bkt', key: 'r', range: 'bytes=10-' }),
        'InvalidRange',
        416,
      );
      assert.equal(error.fields.ActualObjectSize, '10');
      for (const range of ['bytes=5-2', 'items=0-1', 'bytes=0-1,3-4']) {
        const got = await s3.getObject({ bucket: 'bkt', key: 'r', range });
        assert.equal(got.status, 200, range);
        assert.equal((await read(got.body)).toString(), '0123456789');
      }
    });

    it('honours If-Match / If-None-Match / If-Modified-Since on reads and writes', async () => {
      const etag = await put('c', 'v1');
      await rejects(s3.getObject({ bucket: 'bkt', key: 'c', ifNoneMatch: etag }), 'NotModified', 304);
      await rejects(s3.getObject({ bucket: 'bkt', key: 'c', ifMatch: '"other"' }), 'PreconditionFailed', 412);
      await rejects(
        s3.headObject({ bucket: 'bkt', key: 'c', ifModifiedSince: new Date(Date.now() + 60_000) }),
        'NotModified',
      );
      assert.equal((await s3.headObject({ bucket: 'bkt', key: 'c', ifMatch: etag })).etag, etag);
      await rejects(put('c', 'v2', { ifNoneMatch: '*' }), 'PreconditionFailed', 412);
      await put('c', 'v2', { ifMatch: etag });
      await rejects(put('c', 'v3', { ifMatch: etag }), 'PreconditionFailed', 412);
      assert.equal((await get('c')).toString(), 'v2');
      assert.deepEqual(await listFiles(path.join(dataDir, 's3', 'tmp')), []);
    });
  });

  describe('listing', () => {
    it('lists in UTF-8 byte order with prefix, delimiter, start-after and consistent pagination', async () => {
      const keys = ['a', 'a/b', 'a/c/d', 'b', 'b/', 'c\u{1F600}', 'c\uFFFD', 'c\uE000', 'd e', 'd+e', 'd%e'];
      for (const key of keys) await put(key, key);
      const expected = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const all = await s3.listObjectsV2({ bucket: 'bkt' });
      assert.deepEqual(
        all.contents.map((c) => c.key),
        expected,
      );
      assert.equal(all.keyCount, keys.length);
      assert.equal(all.isTruncated, false);

      const delimited = await s3.listObjectsV2({ bucket: 'bkt', delimiter: '/' });
      assert.deepEqual(delimited.commonPrefixes, ['a/', 'b/']);
      assert.ok(!delimited.contents.some((c) => c.key.includes('/')));
      const nested = await s3.listObjectsV2({ bucket: 'bkt', prefix: 'a/', delimiter: '/' });
      assert.deepEqual(
        nested.contents.map((c) => c.key),
        ['a/b'],
      );
      assert.deepEqual(nested.commonPrefixes, ['a/c/']);
      assert.deepEqual(
        (await s3.listObjectsV2({ bucket: 'bkt', startAfter: 'b/' })).contents.map((c) => c.key),
        expected.slice(expected.indexOf('b/') + 1),
      );

      // Page through one entry at a time, with and without a delimiter.
      for (const delimiter of [undefined, '/']) {
        const seen: string[] = [];
        let token: string | undefined;
        for (let pages = 0; pages < 50; pages++) {
          const page = await s3.listObjectsV2({
            bucket: 'bkt',
            maxKeys: 1,
            ...(delimiter === undefined ? {} : { delimiter }),
            ...(token === undefined ? {} : { continuationToken: token }),
          });
          assert.equal(page.keyCount, page.contents.length + page.commonPrefixes.length);
          seen.push(...page.contents.map((c) => c.key), ...page.commonPrefixes);
          if (!page.isTruncated) {
            assert.equal(page.nextContinuationToken, undefined);
            break;
          }
          assert.notEqual(page.nextContinuationToken, token);
          token = page.nextContinuationToken;
        }
        const full = await s3.listObjectsV2({
          bucket: 'bkt',
          ...(delimiter === undefined ? {} : { delimiter }),
        });
        assert.deepEqual(
          seen.sort(compareKeys),
          [...full.contents.map((c) => c.key), ...full.commonPrefixes].sort(compareKeys),
        );
      }
      await rejects(s3.listObjectsV2({ bucket: 'bkt', continuationToken: 'garbage' }), 'InvalidArgument');
      const none = await s3.listObjectsV2({ bucket: 'bkt', maxKeys: 0 });
      assert.equal(none.keyCount, 0);
      assert.equal(none.isTruncated, false);
    });

    it('caps max-keys at 1000 and pages ListObjects v1 with markers', async () => {
      await Promise.all(Array.from({ length: 1100 }, (_, i) => put(`k${String(i).padStart(4, '0')}`, 'x')));
      const first = await s3.listObjectsV2({ bucket: 'bkt', maxKeys: 5000 });
      assert.equal(first.maxKeys, 1000);
      assert.equal(first.keyCount, 1000);
      assert.equal(first.isTruncated, true);
      const second = await s3.listObjectsV2({
        bucket: 'bkt',
        continuationToken: first.nextContinuationToken!,
      });
      assert.equal(second.keyCount, 100);
      assert.equal(second.isTruncated, false);

      const v1 = await s3.listObjects({ bucket: 'bkt', maxKeys: 600 });
      assert.equal(v1.contents.length, 600);
      assert.equal(v1.isTruncated, true);
      assert.equal(v1.nextMarker, undefined, 'NextMarker only with a delimiter');
      const v1next = await s3.listObjects({ bucket: 'bkt', marker: v1.contents[599]!.key });
      assert.equal(v1next.contents.length, 500);
      assert.equal(v1next.contents[0]!.key, 'k0600');
      const v1delimited = await s3.listObjects({ bucket: 'bkt', delimiter: '/', maxKeys: 10 });
      assert.equal(v1delimited.nextMarker, 'k0009');
    });
  });

  describe('copy and delete', () => {
    it('copies with the same ETag, COPY or REPLACE metadata, and independent of the source', async () => {
      const etag = await put('src', 'source data', { contentType: 'text/plain', metadata: { a: '1' } });
      const copy = await s3.copyObject({ bucket: 'bkt', key: 'dst', sourceBucket: 'bkt', sourceKey: 'src' });
      assert.equal(copy.etag, etag);
      const head = await s3.headObject({ bucket: 'bkt', key: 'dst' });
      assert.equal(head.contentType, 'text/plain');
      assert.deepEqual(head.metadata, { a: '1' });
      await s3.copyObject({
        bucket: 'bkt',
        key: 'dst2',
        sourceBucket: 'bkt',
        sourceKey: 'src',
        metadataDirective: 'REPLACE',
        contentType: 'application/json',
        metadata: { b: '2' },
      });
      const replaced = await s3.headObject({ bucket: 'bkt', key: 'dst2' });
      assert.equal(replaced.contentType, 'application/json');
      assert.deepEqual(replaced.metadata, { b: '2' });

      // Overwriting and deleting the source leaves the copies intact.
      await put('src', 'changed');
      await s3.deleteObject({ bucket: 'bkt', key: 'src' });
      assert.equal((await get('dst')).toString(), 'source data');
      assert.equal((await get('dst2')).toString(), 'source data');

      await rejects(
        s3.copyObject({ bucket: 'bkt', key: 'dst', sourceBucket: 'bkt', sourceKey: 'dst' }),
        'InvalidRequest',
      );
      await s3.copyObject({
        bucket: 'bkt',
        key: 'dst',
        sourceBucket: 'bkt',
        sourceKey: 'dst',
        metadataDirective: 'REPLACE',
        metadata: { c: '3' },
      });
      assert.deepEqual((await s3.headObject({ bucket: 'bkt', key: 'dst' })).metadata, { c: '3' });
      await rejects(
        s3.copyObject({ bucket: 'bkt', key: 'x', sourceBucket: 'bkt', sourceKey: 'gone' }),
        'NoSuchKey',
      );
      await s3.createBucket({ bucket: 'other' });
      await s3.copyObject({ bucket: 'other', key: 'x', sourceBucket: 'bkt', sourceKey: 'dst' });
      assert.equal((await get('x', 'other')).toString(), 'source data');
    });

    it('computes a requested checksum algorithm on copy', async () => {
      await put('src', 'abc');
      const copy = await s3.copyObject({
        bucket: 'bkt',
        key: 'dst',
        sourceBucket: 'bkt',
        sourceKey: 'src',
        checksumAlgorithm: 'SHA256',
      });
      assert.equal(copy.checksum?.value, checksumOf('SHA256', Buffer.from('abc')));
    });

    it('deletes many keys at once, reporting each', async () => {
      await put('one', '1');
      await put('two', '2');
      const output = await s3.deleteObjects({
        bucket: 'bkt',
        objects: [{ key: 'one' }, { key: 'two' }, { key: 'three' }],
      });
      assert.deepEqual(
        output.deleted.map((d) => d.key),
        ['one', 'two', 'three'],
      );
      assert.deepEqual(output.errors, []);
      assert.equal((await s3.listObjectsV2({ bucket: 'bkt' })).keyCount, 0);
    });
  });

  describe('multipart uploads', () => {
    const part1 = randomBytes(5 * MiB);
    const part2 = randomBytes(5 * MiB);
    const tail = randomBytes(1234);

    it('assembles parts with S3 ETag and composite checksum', async () => {
      const { uploadId } = await s3.createMultipartUpload({
        bucket: 'bkt',
        key: 'mp',
        contentType: 'text/csv',
        metadata: { m: 'v' },
        checksumAlgorithm: 'CRC32',
      });
      const parts = [];
      for (const [i, data] of [part1, part2, tail].entries()) {
        const output = await s3.uploadPart({
          bucket: 'bkt',
          key: 'mp',
          uploadId,
          partNumber: i + 1,
          body: body(data),
          checksum: { algorithm: 'CRC32', value: crc32(data) },
        });
        assert.equal(output.etag, `"${md5Hex(data)}"`);
        assert.equal(output.checksum?.value, crc32(data));
        parts.push({ partNumber: i + 1, etag: output.etag, checksums: { CRC32: crc32(data) } });
      }
      const listed = await s3.listParts({ bucket: 'bkt', key: 'mp', uploadId });
      assert.deepEqual(
        listed.parts.map((p) => p.size),
        [part1.length, part2.length, tail.length],
      );
      assert.equal((await s3.listMultipartUploads({ bucket: 'bkt' })).uploads[0]?.uploadId, uploadId);

      const done = await s3.completeMultipartUpload({ bucket: 'bkt', key: 'mp', uploadId, parts });
      const digests = Buffer.concat([part1, part2, tail].map((p) => createHash('md5').update(p).digest()));
      assert.equal(done.etag, `"${md5Hex(digests)}-3"`);
      const composite = Buffer.concat([part1, part2, tail].map((p) => Buffer.from(crc32(p), 'base64')));
      assert.deepEqual(done.checksum, {
        algorithm: 'CRC32',
        value: `${crc32(composite)}-3`,
        type: 'COMPOSITE',
      });

      const whole = Buffer.concat([part1, part2, tail]);
      const got = await s3.getObject({ bucket: 'bkt', key: 'mp' });
      assert.ok((await read(got.body)).equals(whole));
      assert.equal(got.partsCount, 3);
      assert.equal(got.contentType, 'text/csv');
      assert.deepEqual(got.metadata, { m: 'v' });
      // Ranges across part boundaries, and parts by number.
      const across = await s3.getObject({
        bucket: 'bkt',
        key: 'mp',
        range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}`,
      });
      assert.ok((await read(across.body)).equals(whole.subarray(5 * MiB - 10, 5 * MiB + 10)));
      const second = await s3.getObject({ bucket: 'bkt', key: 'mp', partNumber: 2, checksumMode: true });
      assert.ok((await read(second.body)).equals(part2));
      assert.equal(second.checksum?.value, crc32(part2));
      assert.equal(second.contentRange, `bytes ${5 * MiB}-${10 * MiB - 1}/${whole.length}`);
      assert.deepEqual((await s3.listMultipartUploads({ bucket: 'bkt' })).uploads, []);
      await rejects(s3.listParts({ bucket: 'bkt', key: 'mp', uploadId }), 'NoSuchUpload', 404);
      // No part files are left behind.
      assert.deepEqual(await listFiles(path.join(dataDir, 's3', 'buckets', 'bkt', 'uploads')), []);
    });

    it('computes FULL_OBJECT CRC checksums that equal the CRC of the whole object', async () => {
      const { uploadId } = await s3.createMultipartUpload({
        bucket: 'bkt',
        key: 'full',
        checksumAlgorithm: 'CRC32C',
        checksumType: 'FULL_OBJECT',
      });
      const parts = [];
      for (const [i, data] of [part1, tail].entries()) {
        const output = await s3.uploadPart({
          bucket: 'bkt',
          key: 'full',
          uploadId,
          partNumber: i + 1,
          body: body(data),
        });
        parts.push({ partNumber: i + 1, etag: output.etag, checksums: {} });
      }
      const done = await s3.completeMultipartUpload({ bucket: 'bkt', key: 'full', uploadId, parts });
      const whole = Buffer.concat([part1, tail]);
      assert.deepEqual(done.checksum, {
        algorithm: 'CRC32C',
        value: checksumOf('CRC32C', whole),
        type: 'FULL_OBJECT',
      });
      assert.equal(
        combineCrcs('CRC64NVME', [
          { checksum: checksumOf('CRC64NVME', part1), size: part1.length },
          { checksum: checksumOf('CRC64NVME', tail), size: tail.length },
        ]),
        checksumOf('CRC64NVME', whole),
      );
      await rejects(
        s3.createMultipartUpload({
          bucket: 'bkt',
          key: 'x',
          checksumAlgorithm: 'SHA256',
          checksumType: 'FULL_OBJECT',
        }),
        'InvalidRequest',
      );
    });

    it('enforces S3 completion rules: part order, ETags, minimum size, known uploads', async () => {
      const { uploadId } = await s3.createMultipartUpload({ bucket: 'bkt', key: 'rules' });
      const small = await s3.uploadPart({
        bucket: 'bkt',
        key: 'rules',
        uploadId,
        partNumber: 1,
        body: body('tiny'),
      });
      const big = await s3.uploadPart({
        bucket: 'bkt',
        key: 'rules',
        uploadId,
        partNumber: 2,
        body: body(part1),
      });
      const last = await s3.uploadPart({
        bucket: 'bkt',
        key: 'rules',
        uploadId,
        partNumber: 3,
        body: body('end'),
      });
      const complete = (parts: { partNumber: number; etag: string }[]) =>
        s3.completeMultipartUpload({
          bucket: 'bkt',
          key: 'rules',
          uploadId,
          parts: parts.map((p) => ({ ...p, checksums: {} })),
        });
      await rejects(
        complete([
          { partNumber: 2, etag: big.etag },
          { partNumber: 1, etag: small.etag },
        ]),
        'InvalidPartOrder',
      );
      const invalid = await rejects(complete([{ partNumber: 2, etag: '"0000"' }]), 'InvalidPart');
      assert.equal(invalid.fields.PartNumber, '2');
      await rejects(complete([{ partNumber: 4, etag: last.etag }]), 'InvalidPart');
      const tooSmall = await rejects(
        complete([
          { partNumber: 1, etag: small.etag },
          { partNumber: 3, etag: last.etag },
        ]),
        'EntityTooSmall',
      );
      assert.equal(tooSmall.fields.MinSizeAllowed, String(5 * MiB));
      await rejects(complete([]), 'MalformedXML');
      await rejects(
        s3.uploadPart({ bucket: 'bkt', key: 'rules', uploadId, partNumber: 10001, body: body('x') }),
        'InvalidArgument',
      );
      // Skipping part 1 is fine; only listed parts are used.
      const done = await complete([
        { partNumber: 2, etag: big.etag },
        { partNumber: 3, etag: last.etag },
      ]);
      assert.match(done.etag, /-2"$/);
      assert.equal((await s3.headObject({ bucket: 'bkt', key: 'rules' })).size, part1.length + 3);
      // Completing it again (SDKs retry) answers with the same object, as S3 does.
      assert.equal((await complete([{ partNumber: 2, etag: big.etag }])).etag, done.etag);
    });

    it('aborts uploads and refuses parts for unknown uploads', async () => {
      const { uploadId } = await s3.createMultipartUpload({ bucket: 'bkt', key: 'ab' });
      await s3.uploadPart({ bucket: 'bkt', key: 'ab', uploadId, partNumber: 1, body: body('x') });
      await s3.abortMultipartUpload({ bucket: 'bkt', key: 'ab', uploadId });
      await rejects(s3.abortMultipartUpload({ bucket: 'bkt', key: 'ab', uploadId }), 'NoSuchUpload');
      await rejects(
        s3.uploadPart({ bucket: 'bkt', key: 'ab', uploadId, partNumber: 1, body: body('x') }),
        'NoSuchUpload',
      );
      await rejects(
        s3.uploadPart({ bucket: 'bkt', key: 'ab', uploadId: '../../../etc', partNumber: 1, body: body('x') }),
        'NoSuchUpload',
      );
    });

    it('copies parts from existing objects (UploadPartCopy)', async () => {
      await put('source', part1);
      const { uploadId } = await s3.createMultipartUpload({ bucket: 'bkt', key: 'pc' });
      const p1 = await s3.uploadPartCopy({
        bucket: 'bkt',
        key: 'pc',
        uploadId,
        partNumber: 1,
        sourceBucket: 'bkt',
        sourceKey: 'source',
      });
      const p2 = await s3.uploadPartCopy({
        bucket: 'bkt',
        key: 'pc',
        uploadId,
        partNumber: 2,
        sourceBucket: 'bkt',
        sourceKey: 'source',
        sourceRange: 'bytes=0-9',
      });
      await s3.completeMultipartUpload({
        bucket: 'bkt',
        key: 'pc',
        uploadId,
        parts: [
          { partNumber: 1, etag: p1.etag, checksums: {} },
          { partNumber: 2, etag: p2.etag, checksums: {} },
        ],
      });
      assert.ok((await get('pc')).equals(Buffer.concat([part1, part1.subarray(0, 10)])));
    });
  });

  describe('hostile keys', () => {
    const hostile = [
      'a',
      'a/b',
      '..',
      '.',
      '../../etc/passwd',
      '/leading/slash',
      'trailing/',
      'double//slash',
      'with space',
      'ünïcödé/日本語/😀',
      '100%',
      '%2e%2e%2f',
      'plus+sign',
      'question?mark',
      'hash#tag',
      'back\\slash',
      'new\nline\r\n',
      'tab\t',
      'nul\u0000byte',
      '<xml>&amp;',
      'x'.repeat(1024),
    ];

    it('stores, lists and reads every key S3 accepts without ever leaving the data dir', async () => {
      for (const key of hostile) await put(key, `value of ${key}`);
      for (const key of hostile)
        assert.equal((await get(key)).toString(), `value of ${key}`, JSON.stringify(key));
      const listed = (await s3.listObjectsV2({ bucket: 'bkt' })).contents.map((c) => c.key);
      assert.deepEqual(
        listed,
        [...hostile].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
      );
      // `a` and `a/b` coexist as separate objects, and nothing was written outside <dataDir>/s3.
      assert.equal((await get('a')).toString(), 'value of a');
      const files = await listFiles(dataDir);
      for (const file of files) assert.ok(file.startsWith(path.join(dataDir, 's3') + path.sep), file);
      for (const file of files) assert.ok(!file.includes('passwd') && !file.includes('😀'), file);
      for (const key of hostile) await s3.deleteObject({ bucket: 'bkt', key });
      assert.equal((await s3.listObjectsV2({ bucket: 'bkt' })).keyCount, 0);
      assert.equal(s3.stats().objects, 0);
    });
  });

  describe('durability', () => {
    it('sees everything after a restart on the same data dir', async () => {
      await put('a/b', 'persisted', {
        contentType: 'text/plain',
        metadata: { x: 'y' },
        checksum: { algorithm: 'CRC32' },
      });
      await put('z', 'last');
      const policy =
        '{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bkt"}}';
      await s3.putBucketPolicy({ bucket: 'bkt', policy });
      const { uploadId } = await s3.createMultipartUpload({ bucket: 'bkt', key: 'pending' });
      const part = await s3.uploadPart({
        bucket: 'bkt',
        key: 'pending',
        uploadId,
        partNumber: 1,
        body: body(randomBytes(10)),
      });

      const reopened = await S3Service.open(context(dataDir));
      assert.deepEqual(
        (await reopened.listObjectsV2({ bucket: 'bkt' })).contents.map((c) => c.key),
        ['a/b', 'z'],
      );
      const got = await reopened.getObject({ bucket: 'bkt', key: 'a/b', checksumMode: true });
      assert.equal((await read(got.body)).toString(), 'persisted');
      assert.equal(got.contentType, 'text/plain');
      assert.deepEqual(got.metadata, { x: 'y' });
      assert.equal(got.checksum?.value, crc32('persisted'));
      assert.equal((await reopened.getBucketPolicy({ bucket: 'bkt' })).policy, policy);
      const parts = await reopened.listParts({ bucket: 'bkt', key: 'pending', uploadId });
      assert.equal(parts.parts[0]?.etag, part.etag);
      assert.deepEqual(reopened.stats(), {
        buckets: 1,
        objects: 2,
        bytes: 'persisted'.length + 'last'.length,
      });
    });

    it('keeps the old object and leaves no temp files when a body fails half-way', async () => {
      await put('k', 'old version');
      const filesBefore = await listFiles(path.join(dataDir, 's3', 'buckets'));
      await assert.rejects(
        s3.putObject({ bucket: 'bkt', key: 'k', body: failingBody(randomBytes(256 * 1024)) }),
        /connection reset/,
      );
      await assert.rejects(
        s3.putObject({ bucket: 'bkt', key: 'new-key', body: failingBody(randomBytes(1024)) }),
        /connection reset/,
      );
      assert.equal((await get('k')).toString(), 'old version');
      await rejects(s3.headObject({ bucket: 'bkt', key: 'new-key' }), 'NoSuchKey');
      assert.deepEqual(await listFiles(path.join(dataDir, 's3', 'tmp')), []);
      assert.deepEqual(await listFiles(path.join(dataDir, 's3', 'buckets')), filesBefore);
      const { uploadId } = await s3.createMultipartUpload({ bucket: 'bkt', key: 'mp' });
      await assert.rejects(
        s3.uploadPart({
          bucket: 'bkt',
          key: 'mp',
          uploadId,
          partNumber: 1,
          body: failingBody(randomBytes(1024)),
        }),
        /connection reset/,
      );
      assert.deepEqual((await s3.listParts({ bucket: 'bkt', key: 'mp', uploadId })).parts, []);
      assert.deepEqual(await listFiles(path.join(dataDir, 's3', 'tmp')), []);
    });

    it('lets the last of concurrent writes to one key win, cleanly', async () => {
      const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(10_000 + i));
      await Promise.all(bodies.map((data) => s3.putObject({ bucket: 'bkt', key: 'hot', body: body(data) })));
      const got = await get('hot');
      assert.ok(bodies.some((data) => data.equals(got)));
      assert.equal((await s3.headObject({ bucket: 'bkt', key: 'hot' })).etag, `"${md5Hex(got)}"`);
      // Exactly one data file remains: the winner's.
      const data = await listFiles(path.join(dataDir, 's3', 'buckets', 'bkt', 'data'));
      assert.equal(data.length, 1);
      assert.equal((await stat(data[0]!)).size, got.length);
    });

    it('keeps serving a reader whose object is overwritten mid-read', async () => {
      const first = randomBytes(3 * MiB);
      await put('busy', first);
      const reading = await s3.getObject({ bucket: 'bkt', key: 'busy' });
      await put('busy', 'replacement');
      await s3.deleteObject({ bucket: 'bkt', key: 'busy' });
      assert.ok((await read(reading.body)).equals(first));
      // Once the reader is done, the replaced data file is gone too.
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await listFiles(path.join(dataDir, 's3', 'buckets', 'bkt', 'data')), []);
    });

    it('removes temp files, orphaned data files and torn records on open', async () => {
      await put('keep', 'kept');
      const bucketDir = path.join(dataDir, 's3', 'buckets', 'bkt');
      await writeFile(path.join(dataDir, 's3', 'tmp', 'leftover.tmp'), 'partial');
      await mkdir(path.join(bucketDir, 'data', 'ff'), { recursive: true });
      await writeFile(path.join(bucketDir, 'data', 'ff', 'orphan.data'), 'orphan');
      await mkdir(path.join(bucketDir, 'objects', '00'), { recursive: true });
      await writeFile(path.join(bucketDir, 'objects', '00', '.tmp-x.json.1.abc'), '{"torn');
      await mkdir(path.join(dataDir, 's3', 'buckets', 'half-created'), { recursive: true });
      const reopened = await S3Service.open(context(dataDir));
      assert.equal(
        (await read((await reopened.getObject({ bucket: 'bkt', key: 'keep' })).body)).toString(),
        'kept',
      );
      const files = await listFiles(path.join(dataDir, 's3'));
      assert.ok(!files.some((file) => /leftover|orphan|\.tmp-/.test(file)), files.join('\n'));
      assert.deepEqual(
        (await reopened.listBuckets()).buckets.map((b) => b.name),
        ['bkt'],
      );
    });
  });
});
