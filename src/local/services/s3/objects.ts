/**
 * S3's buckets and objects as a plain TypeScript API (the base of `S3Service`): typed inputs in,
 * typed outputs out, `AwsError`s with S3's codes, messages and statuses out of every failure. Owns
 * S3's semantics for buckets, policies, public access blocks, PutObject/GetObject/HeadObject/
 * DeleteObject(s), listing order and pagination and CopyObject — checksum and digest verification,
 * conditional requests, ranges — on top of the persistence in `object-store.ts`. Knows nothing about
 * HTTP: `wire.ts` maps AWS-shaped operations onto it, and the REST binding (protocol/s3/) calls those.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { AwsError } from '../../core/errors.js';
import type { LocalContext, LocalCredentials } from '../../types.js';
import { isPublicPolicy, validateBucketPolicy } from './bucket-policy.js';
import {
  checksumHeaderName,
  createDigest,
  isValidChecksumValue,
  type ChecksumAlgorithm,
  type Digest,
} from './checksums.js';
import {
  BucketGoneError,
  compareKeys,
  DamagedDataError,
  S3Store,
  type BucketState,
  type ObjectRecord,
  type PublicAccessBlockConfiguration,
  type Segment,
  type StoredChecksum,
  type TempFile,
} from './object-store.js';
import {
  DEFAULT_CONTENT_TYPE,
  MAX_LIST,
  MAX_OBJECT_PUT_SIZE,
  type BodyInput,
  type CopyObjectInput,
  type CopyObjectOutput,
  type DeleteObjectsOutput,
  type GetObjectInput,
  type GetObjectOutput,
  type ListBucketsInput,
  type ListBucketsOutput,
  type ListObjectsInput,
  type ListObjectsOutput,
  type ListObjectsV2Input,
  type ListObjectsV2Output,
  type ListObjectVersionsInput,
  type ListObjectVersionsOutput,
  type ObjectDescription,
  type ObjectSummary,
  type Owner,
  type PutObjectInput,
  type PutObjectOutput,
} from './api-types.js';
import {
  badDigest,
  checkKey,
  checkMetadata,
  checkPartNumber,
  checkReadConditions,
  checkWriteConditions,
  clampMax,
  decodeToken,
  encodeToken,
  entryName,
  invalidArgument,
  isValidBucketName,
  noSuchBucket,
  noSuchKey,
  parseRange,
  preconditionFailed,
  toSummary,
  tooLarge,
  walkKeys,
  type ListEntry,
  type ReceivedBody,
} from './object-rules.js';

export type { ChecksumAlgorithm, ChecksumType } from './checksums.js';
export type { PublicAccessBlockConfiguration, StoredChecksum } from './object-store.js';

export class S3Objects {
  protected readonly owner: Owner;

  protected constructor(
    protected readonly ctx: LocalContext,
    protected readonly store: S3Store,
  ) {
    this.owner = {
      id: createHash('sha256').update(`mlpipe-local:${ctx.accountId}`).digest('hex'),
      displayName: 'mlpipe-local',
    };
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

  protected bucketState(name: string): BucketState {
    const bucket = this.store.buckets.get(name);
    if (bucket === undefined) throw noSuchBucket(name);
    return bucket;
  }

  /** Maps a bucket deleted mid-operation to the NoSuchBucket S3 would have answered. */
  protected async guard<T>(bucket: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof BucketGoneError) throw noSuchBucket(bucket);
      throw error;
    }
  }

  protected now(): Date {
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
    const existing = this.store.buckets.get(name);
    if (existing !== undefined) {
      const constraint = input.locationConstraint;
      // us-east-1 answers a re-create of a bucket you own there with 200; other regions say 409.
      if (
        existing.record.region === 'us-east-1' &&
        (constraint === undefined || constraint === '' || constraint === 'us-east-1')
      ) {
        return { location: `/${name}` };
      }
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

  /**
   * A bucket's versioning state: buckets here are never versioned, which S3 answers with no
   * Status at all (not `Suspended`); PutBucketVersioning is not served.
   */
  async getBucketVersioning(input: { bucket: string }): Promise<{ status?: 'Enabled' | 'Suspended' }> {
    this.bucketState(input.bucket);
    return {};
  }

  /**
   * Stores a bucket policy after checking it as S3 does (bucket-policy.ts); a public one is refused
   * while the bucket's public access block has BlockPublicPolicy. Stored, not evaluated.
   */
  async putBucketPolicy(input: { bucket: string; policy: string }): Promise<void> {
    const bucket = this.bucketState(input.bucket);
    const statements = validateBucketPolicy(input.policy, bucket.name);
    if (bucket.record.publicAccessBlock?.BlockPublicPolicy === true && isPublicPolicy(statements)) {
      throw new AwsError(
        'AccessDenied',
        `User: arn:aws:iam::${this.ctx.accountId}:root is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${bucket.name}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
        403,
      );
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
  protected async receiveBody(input: BodyInput, extra: ChecksumAlgorithm[] = []): Promise<ReceivedBody> {
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
  protected async commitBody(bucket: BucketState, temp: TempFile): Promise<Segment[]> {
    if (temp.size === 0) {
      await this.store.discard(temp);
      return [];
    }
    return [{ file: await this.store.commitData(bucket, temp), size: temp.size }];
  }

  /** Commits a record whose segments are already in place, removing them if the commit fails. */
  protected async commitOrRelease(
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

  protected objectRecord(bucket: BucketState, key: string): ObjectRecord {
    const record = bucket.objects.get(key);
    if (record === undefined) throw noSuchKey(key);
    return record;
  }

  /** Works out what GetObject/HeadObject return, without opening anything. */
  protected describe(
    record: ObjectRecord,
    input: GetObjectInput,
  ): ObjectDescription & { start: number; end: number } {
    // A 304 carries the validators the client compares (S3 sends ETag and Last-Modified with it).
    checkReadConditions(
      record,
      input,
      () =>
        new AwsError('NotModified', 'Not Modified', 304, {
          ETag: record.etag,
          LastModified: new Date(record.lastModified).toUTCString(),
        }),
    );
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
    // Pinned synchronously with the lookup (before any overwrite can run), then checked against
    // the record: a cut or lost data file is an InternalError, never a short body.
    const body = await this.verifiedRead(bucket, record, start, end);
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
    // An empty delimiter groups nothing, and S3 leaves it out of the answer.
    if (input.delimiter !== undefined && input.delimiter !== '') output.delimiter = input.delimiter;
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
    // An empty delimiter groups nothing, and S3 leaves it out of the answer.
    if (input.delimiter !== undefined && input.delimiter !== '') output.delimiter = input.delimiter;
    // S3 sends NextMarker only with a delimiter; clients otherwise continue from the last key.
    if (truncated && input.delimiter !== undefined && input.delimiter !== '' && entries.length > 0) {
      output.nextMarker = entryName(entries[entries.length - 1]!);
    }
    return output;
  }

  /**
   * ListObjectVersions as S3 answers it for a bucket that was never versioned (the only kind here):
   * every object is one version, `null` and latest; no delete markers. Pages go on from
   * `key-marker` (and `version-id-marker`, which can only be `null`).
   */
  async listObjectVersions(input: ListObjectVersionsInput): Promise<ListObjectVersionsOutput> {
    const bucket = this.bucketState(input.bucket);
    const maxKeys = clampMax(input.maxKeys, 'max-keys');
    const prefix = input.prefix ?? '';
    const keyMarker = input.keyMarker ?? '';
    const versionIdMarker = input.versionIdMarker ?? '';
    if (versionIdMarker !== '') {
      if (keyMarker === '') {
        throw invalidArgument(
          'A version-id marker cannot be specified without a key marker.',
          'version-id-marker',
          versionIdMarker,
        );
      }
      if (versionIdMarker !== 'null') {
        throw invalidArgument('Invalid version id specified', 'version-id-marker', versionIdMarker);
      }
    }
    // Each key has one version, so the page after (key, null) and the page after key are the same.
    const { entries, truncated } = walkKeys(bucket.keys, {
      prefix,
      delimiter: input.delimiter,
      marker: keyMarker === '' ? undefined : keyMarker,
      maxKeys,
    });
    const output: ListObjectVersionsOutput = {
      name: bucket.name,
      prefix,
      keyMarker,
      versionIdMarker,
      maxKeys,
      isTruncated: truncated,
      versions: [],
      commonPrefixes: [],
      owner: this.owner,
    };
    const listed = { contents: output.versions, commonPrefixes: output.commonPrefixes };
    this.fillEntries(bucket, entries, listed);
    if (input.delimiter !== undefined && input.delimiter !== '') output.delimiter = input.delimiter;
    const last = entries[entries.length - 1];
    if (truncated && last !== undefined) {
      output.nextKeyMarker = entryName(last);
      if ('key' in last) output.nextVersionIdMarker = 'null';
    }
    return output;
  }

  protected fillEntries(
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
        // Damaged source data is never copied into a new object.
        const problem = await this.store.dataProblem(source, sourceRecord);
        if (problem !== undefined) {
          this.ctx.log(`s3: refusing to copy damaged data: ${problem}`);
          throw damagedData();
        }
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

  /**
   * The record's bytes [start, end] once its data files are checked against it (size of each);
   * damaged data is S3's InternalError (500), logged by the store with the file's path.
   */
  protected async verifiedRead(
    bucket: BucketState,
    record: ObjectRecord,
    start: number,
    end: number,
  ): Promise<Readable> {
    try {
      return await this.store.openVerified(bucket, record, start, end);
    } catch (error) {
      if (error instanceof DamagedDataError) throw damagedData();
      throw error;
    }
  }

  /** Runs `fn` with the record's data files pinned (not unlinked even if the key is overwritten). */
  protected async withPinned<T>(bucket: BucketState, record: ObjectRecord, fn: () => Promise<T>): Promise<T> {
    // Synchronous up to here: callers rely on the pin being taken in the same tick as their lookup.
    const release = this.store.pinRecord(bucket, record);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  protected async digestObject(
    bucket: BucketState,
    record: ObjectRecord,
    algorithm: ChecksumAlgorithm,
  ): Promise<string> {
    const digest = createDigest(algorithm);
    for await (const chunk of this.store.openRead(bucket, record, 0, record.size - 1))
      digest.update(chunk as Buffer);
    return digest.digest().toString('base64');
  }
}

/** S3's answer when an object's stored data does not match its record. */
export function damagedData(): AwsError {
  return new AwsError('InternalError', 'We encountered an internal error. Please try again.', 500);
}
