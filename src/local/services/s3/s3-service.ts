/**
 * `S3Service`, the local stack's S3: the buckets and objects of `objects.ts` completed with
 * multipart uploads — Create, UploadPart, UploadPartCopy, Complete (part checks, the multipart
 * ETag and checksums), Abort, ListParts, ListMultipartUploads.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { AwsError } from '../../core/errors.js';
import type { LocalContext } from '../../types.js';
import { checksumTypeAllowed, combineCrcs, compositeChecksum, defaultChecksumType } from './checksums.js';
import {
  BucketGoneError,
  compareKeys,
  S3Store,
  type BucketState,
  type ObjectRecord,
  type PartRecord,
  type Segment,
  type StoredChecksum,
  type TempFile,
  type UploadState,
} from './object-store.js';
import {
  DEFAULT_CONTENT_TYPE,
  MIN_PART_SIZE,
  type CompleteMultipartUploadInput,
  type CompleteMultipartUploadOutput,
  type CreateMultipartUploadInput,
  type CreateMultipartUploadOutput,
  type ListMultipartUploadsInput,
  type ListMultipartUploadsOutput,
  type ListPartsOutput,
  type PartDescription,
  type UploadDescription,
  type UploadPartCopyInput,
  type UploadPartCopyOutput,
  type UploadPartInput,
  type UploadPartOutput,
} from './api-types.js';
import {
  badDigest,
  checkKey,
  checkMetadata,
  checkPartNumber,
  checkReadConditions,
  checkWriteConditions,
  clampMax,
  invalidPart,
  noSuchUpload,
  preconditionFailed,
  unquote,
} from './object-rules.js';
import { S3Objects } from './objects.js';

export type { ChecksumAlgorithm, ChecksumType } from './checksums.js';
export type { PublicAccessBlockConfiguration, StoredChecksum } from './object-store.js';

export class S3Service extends S3Objects {
  /** Opens (and recovers) the S3 state under `<ctx.dataDir>/s3/`. */
  static async open(ctx: LocalContext): Promise<S3Service> {
    const store = await S3Store.open(path.join(ctx.dataDir, 's3'), ctx.log);
    return new S3Service(ctx, store);
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

  protected uploadState(bucket: BucketState, key: string, uploadId: string): UploadState {
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

  protected async commitPart(
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
      const body = await this.verifiedRead(source, sourceRecord, start, end);
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
    const completed = this.completedUpload(bucket, input);
    if (completed !== undefined) return completed;
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
        if (upload.closed) {
          // A concurrent Complete of the same upload finished first: answer as a retry.
          const done = this.completedUpload(bucket, input);
          if (done !== undefined) return done;
          throw noSuchUpload(input.uploadId);
        }
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
          uploadId: input.uploadId,
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

  /**
   * A Complete of an upload that is already complete (SDKs retry it) answers 200 with the object it
   * made, as S3 does, while that object is still the key's current one.
   */
  protected completedUpload(
    bucket: BucketState,
    input: CompleteMultipartUploadInput,
  ): CompleteMultipartUploadOutput | undefined {
    const open = bucket.uploads.get(input.uploadId);
    if (open !== undefined && !open.closed) return undefined;
    const record = bucket.objects.get(input.key);
    if (record === undefined || record.uploadId !== input.uploadId) return undefined;
    const output: CompleteMultipartUploadOutput = { bucket: input.bucket, key: input.key, etag: record.etag };
    if (record.checksum !== undefined) output.checksum = record.checksum;
    return output;
  }

  /** S3's checks on a Complete request's part list; returns the stored parts in order. */
  protected checkCompletedParts(upload: UploadState, input: CompleteMultipartUploadInput): PartRecord[] {
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

  protected multipartChecksum(
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
    if (delimiter !== undefined && delimiter !== '') output.delimiter = delimiter;
    if (truncated && last !== undefined) {
      output.nextKeyMarker = last.key;
      if (last.uploadId !== undefined) output.nextUploadIdMarker = last.uploadId;
    }
    return output;
  }
}

export * from './api-types.js';
export { isValidBucketName, noSuchBucket, noSuchKey } from './object-rules.js';
