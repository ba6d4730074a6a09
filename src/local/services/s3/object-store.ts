/**
 * Persistence for the local stack's S3: buckets, objects and multipart uploads under
 * `<dataDir>/s3/`, plus the in-memory sorted key index that listing runs on. Knows nothing about
 * S3 semantics (errors, conditions, listings); `objects.ts` and `s3-service.ts` build those on top.
 *
 * Layout (object keys never appear in a path: they are hashed, so any key S3 accepts is safe):
 *
 *   s3/tmp/<uuid>.tmp                              bodies being received (garbage at start-up)
 *   s3/trash/<uuid>                                deleted buckets/uploads awaiting removal
 *   s3/buckets/<bucket>/bucket.json                bucket record: the bucket exists iff this does
 *   s3/buckets/<bucket>/objects/<h2>/<sha256(key)>.json   object record: the commit point
 *   s3/buckets/<bucket>/data/<u2>/<uuid>.data      immutable data segments (one per part)
 *   s3/buckets/<bucket>/uploads/<id>/upload.json   multipart upload record
 *   s3/buckets/<bucket>/uploads/<id>/part-<n>.json part record: the part's commit point
 *   s3/buckets/<bucket>/uploads/<id>/<uuid>.part   part data
 *
 * A write streams to tmp/, is fsynced, renamed into data/ (or the upload dir), and becomes
 * visible only when its record is atomically written; replaced data files are unlinked after the
 * commit. Data files are never modified, so copies and completed uploads hard-link them. A crash
 * at any point leaves either the old or the new record; files no record references are removed
 * by `open()`. One process owns a data dir at a time (the server's lock), which is what makes
 * that clean-up and the in-memory index safe.
 *
 * Damage from outside (a record that is not JSON, or sits under another key's hash; an upload
 * record that cannot be read) is never deleted: it is moved to the data dir's quarantine/ and
 * logged, and so are the data files of a bucket with a damaged record (they may be its data). A
 * damaged bucket.json stops start-up. Before an object's data is served its files' sizes are
 * checked against the record (`openVerified`): a cut file is an InternalError, never a short body.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DamagedFileError, fsyncDir, writeFileAtomic } from '../../../shared/atomic-file.js';
import { quarantineFile } from '../../contract.js';
import type { ChecksumAlgorithm, ChecksumType } from './checksums.js';

/** Read/write buffer size for object data: large enough that syscalls are not the bottleneck. */
const IO_CHUNK = 1024 * 1024;

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** Base64 digest; composite multipart checksums carry a `-<parts>` suffix. */
  value: string;
  type: ChecksumType;
}

/** One immutable data file of an object (a single-part object has one, a multipart one per part). */
export interface Segment {
  /** Path relative to the bucket directory. */
  file: string;
  size: number;
  /** Multipart objects: the part's quoted ETag and checksum, for GetObject?partNumber. */
  etag?: string;
  checksum?: string;
}

export interface ObjectRecord {
  key: string;
  size: number;
  /** Quoted, as S3 sends it: `"<md5 hex>"` or `"<md5 of part md5s>-<parts>"`. */
  etag: string;
  lastModified: string;
  contentType: string;
  /** Stored representation headers (cache-control, content-disposition, content-encoding, …). */
  headers: Record<string, string>;
  /** User metadata (`x-amz-meta-*`), names lower-cased without the prefix. */
  metadata: Record<string, string>;
  checksum?: StoredChecksum;
  /** Set for objects assembled by CompleteMultipartUpload: segments are the parts. */
  multipart?: boolean;
  /** The multipart upload that assembled it: completing that upload again answers with this object. */
  uploadId?: string;
  segments: Segment[];
}

export interface PublicAccessBlockConfiguration {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export interface BucketRecord {
  name: string;
  creationDate: string;
  region: string;
  policy?: string;
  publicAccessBlock?: PublicAccessBlockConfiguration;
}

export interface UploadRecord {
  uploadId: string;
  key: string;
  initiated: string;
  contentType: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface PartRecord {
  partNumber: number;
  /** Path relative to the bucket directory. */
  file: string;
  size: number;
  etag: string;
  lastModified: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export interface UploadState {
  record: UploadRecord;
  parts: Map<number, PartRecord>;
  /** Set once completed or aborted: later part uploads must fail. */
  closed: boolean;
}

export class BucketState {
  /** Keys in S3 listing order (UTF-8 byte order). */
  readonly keys: string[] = [];
  readonly objects = new Map<string, ObjectRecord>();
  readonly uploads = new Map<string, UploadState>();
  bytes = 0;
  deleted = false;
  /** Object commits in flight; DeleteBucket must not race them. */
  pendingCommits = 0;
  /** Directories known to exist (per bucket instance, so a re-created bucket starts afresh). */
  readonly createdDirs = new Set<string>();

  constructor(
    public record: BucketRecord,
    readonly dir: string,
  ) {}

  get name(): string {
    return this.record.name;
  }
}

/** A body received into tmp/ but not yet committed. */
export interface TempFile {
  path: string;
  size: number;
}

/**
 * Compares strings in UTF-8 byte order (S3's listing order). JS compares UTF-16 code units, which
 * disagrees only when surrogates (U+D800–DFFF) meet U+E000–FFFF; fix up exactly that case.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
        cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
      }
      return ca - cb;
    }
  }
  return a.length - b.length;
}

/** First index whose key is >= `key` (or > `key` when `exclusive`). */
export function lowerBound(keys: readonly string[], key: string, exclusive = false): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid]!, key);
    if (c < 0 || (exclusive && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index at or after `from` whose key does not start with `prefix` (keys from `from` on do). */
export function endOfPrefix(keys: readonly string[], from: number, prefix: string): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]!.startsWith(prefix)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function keyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** The JSON in `file`; undefined if it is missing; 'damaged' if it is there but not JSON. */
async function readJsonFile<T>(file: string): Promise<T | undefined | 'damaged'> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return 'damaged';
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (isMissing(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight (start-up scans of many small files). */
async function forEachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/** Serialises async critical sections per key (object commits, part commits). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const current = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => current);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;

export class S3Store {
  readonly buckets = new Map<string, BucketState>();
  private readonly locks = new KeyedMutex();
  /** Open readers per data file (absolute path): such files are unlinked when the last one closes. */
  private readonly readers = new Map<string, number>();
  private readonly doomed = new Set<string>();
  private readonly tmpDir: string;
  private readonly trashDir: string;
  private readonly bucketsDir: string;

  private constructor(
    readonly root: string,
    private readonly log: (line: string) => void,
  ) {
    this.tmpDir = path.join(root, 'tmp');
    this.trashDir = path.join(root, 'trash');
    this.bucketsDir = path.join(root, 'buckets');
  }

  /** Loads every bucket, object and upload record and removes what a crash left behind. */
  static async open(root: string, log: (line: string) => void): Promise<S3Store> {
    const store = new S3Store(root, log);
    // Nothing can be in flight at start-up: whatever is in tmp/ and trash/ is garbage.
    await fs.rm(store.tmpDir, { recursive: true, force: true });
    await fs.rm(store.trashDir, { recursive: true, force: true });
    await fs.mkdir(store.tmpDir, { recursive: true });
    await fs.mkdir(store.bucketsDir, { recursive: true });
    for (const name of await listDir(store.bucketsDir)) {
      const dir = path.join(store.bucketsDir, name);
      const recordFile = path.join(dir, 'bucket.json');
      const record = BUCKET_NAME_PATTERN.test(name)
        ? await readJsonFile<BucketRecord>(recordFile)
        : undefined;
      // bucket.json is written atomically, so an unreadable one was damaged from outside: stop
      // rather than serve without a whole bucket (or delete it).
      if (record === 'damaged') throw new DamagedFileError(recordFile, 'not readable JSON');
      if (record !== undefined && record.name !== name)
        throw new DamagedFileError(recordFile, `it names bucket ${JSON.stringify(record.name)}`);
      if (record === undefined) {
        if (await exists(recordFile)) throw new DamagedFileError(recordFile, 'not readable');
        // No record: a CreateBucket interrupted before its commit point.
        log(`s3: removing incomplete bucket directory ${name}`);
        await fs.rm(dir, { recursive: true, force: true });
        continue;
      }
      const bucket = new BucketState(record, dir);
      await store.loadObjects(bucket);
      await store.loadUploads(bucket);
      store.buckets.set(name, bucket);
    }
    return store;
  }

  private async loadObjects(bucket: BucketState): Promise<void> {
    const objectsDir = path.join(bucket.dir, 'objects');
    const files: string[] = [];
    for (const shard of await listDir(objectsDir)) {
      for (const file of await listDir(path.join(objectsDir, shard)))
        files.push(path.join(objectsDir, shard, file));
    }
    const referenced = new Set<string>();
    const loaded: ObjectRecord[] = [];
    let damaged = 0;
    await forEachLimit(files, 64, async (file) => {
      const base = path.basename(file);
      if (base.startsWith('.tmp-')) {
        // A temp file of an interrupted atomic write: the record it would have replaced is intact.
        await fs.rm(file, { force: true });
        return;
      }
      const record = base.endsWith('.json') ? await readJsonFile<ObjectRecord>(file) : 'damaged';
      if (record === undefined) return;
      if (record === 'damaged' || !isObjectRecord(record) || `${keyHash(record.key)}.json` !== base) {
        damaged++;
        this.quarantine(file, `object record of bucket ${bucket.name} is damaged or misplaced`);
        return;
      }
      loaded.push(record);
      for (const segment of record.segments) referenced.add(segment.file);
    });
    loaded.sort((a, b) => compareKeys(a.key, b.key));
    for (const record of loaded) {
      bucket.keys.push(record.key);
      bucket.objects.set(record.key, record);
      bucket.bytes += record.size;
    }
    // Data files no record references: bodies committed just before a crash, or replaced ones
    // whose unlink never happened — or, in a bucket with a damaged record, maybe its data.
    const dataDir = path.join(bucket.dir, 'data');
    for (const shard of await listDir(dataDir)) {
      for (const file of await listDir(path.join(dataDir, shard))) {
        const relative = `data/${shard}/${file}`;
        if (referenced.has(relative)) continue;
        const absolute = path.join(dataDir, shard, file);
        if (damaged > 0)
          this.quarantine(
            absolute,
            `unreferenced data file of bucket ${bucket.name} (it may belong to a damaged record)`,
          );
        else await fs.rm(absolute, { force: true });
      }
    }
  }

  /** Moves a damaged file (or folder) aside for a human, and says where. Never deletes it. */
  private quarantine(file: string, why: string): void {
    const moved = quarantineFile(path.dirname(this.root), file);
    this.log(`s3: quarantined ${file} as ${moved}: ${why}`);
  }

  /**
   * Checks the record's data files before anything is served from them: each must exist with the
   * size the record gives (a cut or lost file must not be sent as a short body under the full
   * Content-Length). Returns the problem, or undefined.
   */
  async dataProblem(bucket: BucketState, record: ObjectRecord): Promise<string | undefined> {
    for (const segment of record.segments) {
      const file = path.join(bucket.dir, segment.file);
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat === undefined) return `data file ${file} of ${record.key} is missing`;
      if (stat.size !== segment.size)
        return `data file ${file} of ${record.key} holds ${stat.size} bytes; its record says ${segment.size}`;
    }
    return undefined;
  }

  /**
   * `openRead` after `dataProblem` found nothing: the files are pinned from the (synchronous)
   * call on, so an overwrite meanwhile cannot remove them. Throws DamagedDataError otherwise.
   */
  async openVerified(
    bucket: BucketState,
    record: ObjectRecord,
    start: number,
    end: number,
  ): Promise<Readable> {
    const release = this.pinRecord(bucket, record);
    try {
      const problem = await this.dataProblem(bucket, record);
      if (problem !== undefined) {
        this.log(`s3: refusing to serve damaged data: ${problem}`);
        throw new DamagedDataError(problem);
      }
      return this.openRead(bucket, record, start, end);
    } finally {
      release();
    }
  }

  private async loadUploads(bucket: BucketState): Promise<void> {
    const uploadsDir = path.join(bucket.dir, 'uploads');
    for (const uploadId of await listDir(uploadsDir)) {
      const dir = path.join(uploadsDir, uploadId);
      const record = UPLOAD_ID_PATTERN.test(uploadId)
        ? await readJsonFile<UploadRecord>(path.join(dir, 'upload.json'))
        : undefined;
      if (record === 'damaged' || (record !== undefined && record.uploadId !== uploadId)) {
        this.quarantine(dir, `upload ${uploadId} of bucket ${bucket.name} has a damaged upload.json`);
        continue;
      }
      if (record === undefined) {
        // No record: a CreateMultipartUpload interrupted before its commit point.
        await fs.rm(dir, { recursive: true, force: true });
        continue;
      }
      const upload: UploadState = { record, parts: new Map(), closed: false };
      const entries = await listDir(dir);
      const present = new Set(entries);
      const referenced = new Set<string>();
      for (const entry of entries) {
        if (!/^part-\d+\.json$/.test(entry)) continue;
        const part = await readJsonFile<PartRecord>(path.join(dir, entry));
        if (part === undefined) continue;
        if (part === 'damaged' || typeof part.file !== 'string' || !present.has(path.basename(part.file))) {
          this.quarantine(
            path.join(dir, entry),
            `part record of upload ${uploadId} is damaged or has no data`,
          );
          continue;
        }
        upload.parts.set(part.partNumber, part);
        referenced.add(path.basename(part.file));
      }
      for (const entry of entries) {
        if (entry === 'upload.json' || /^part-\d+\.json$/.test(entry) || referenced.has(entry)) continue;
        await fs.rm(path.join(dir, entry), { force: true });
      }
      bucket.uploads.set(uploadId, upload);
    }
  }

  stats(): { buckets: number; objects: number; bytes: number } {
    let objects = 0;
    let bytes = 0;
    for (const bucket of this.buckets.values()) {
      objects += bucket.objects.size;
      bytes += bucket.bytes;
    }
    return { buckets: this.buckets.size, objects, bytes };
  }

  // --- Buckets

  async createBucket(record: BucketRecord): Promise<BucketState> {
    const dir = path.join(this.bucketsDir, record.name);
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, 'bucket.json'), JSON.stringify(record, null, 2) + '\n');
    await fsyncDir(this.bucketsDir);
    const bucket = new BucketState(record, dir);
    this.buckets.set(record.name, bucket);
    return bucket;
  }

  async saveBucket(bucket: BucketState, record: BucketRecord): Promise<void> {
    await writeFileAtomic(path.join(bucket.dir, 'bucket.json'), JSON.stringify(record, null, 2) + '\n');
    bucket.record = record;
  }

  /** Removes a bucket with everything in it. The caller has checked it is empty. */
  async deleteBucket(bucket: BucketState): Promise<void> {
    bucket.deleted = true;
    this.buckets.delete(bucket.name);
    // Renaming away is the atomic step; the recursive delete can then fail or be interrupted safely.
    await this.trash(bucket.dir);
  }

  private async trash(dir: string): Promise<void> {
    await fs.mkdir(this.trashDir, { recursive: true });
    const target = path.join(this.trashDir, randomUUID());
    try {
      await fs.rename(dir, target);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    await fsyncDir(path.dirname(dir));
    fs.rm(target, { recursive: true, force: true }).catch((error: Error) =>
      this.log(`s3: could not remove ${target}: ${error.message}`),
    );
  }

  // --- Receiving bodies

  /**
   * Streams `body` into a new file in tmp/, calling `observe` on every chunk (hashing happens
   * there, in the same pass). `observe` may throw to stop early (size limits). On any failure the
   * temp file is removed and the body is left unconsumed (not destroyed), so the server can still
   * answer before closing the connection.
   */
  async receive(body: Readable, observe: (chunk: Buffer, total: number) => void): Promise<TempFile> {
    if (body.destroyed)
      throw (body.errored as Error | null) ?? new Error('The request body ended prematurely.');
    const file = path.join(this.tmpDir, `${randomUUID()}.tmp`);
    let size = 0;
    const tap = new Transform({
      highWaterMark: IO_CHUNK,
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        try {
          observe(chunk, size);
        } catch (error) {
          callback(error as Error);
          return;
        }
        callback(null, chunk);
      },
    });
    const onError = (error: Error): void => {
      tap.destroy(error);
    };
    const onClose = (): void => {
      if (!body.readableEnded) tap.destroy(new Error('The request body ended prematurely.'));
    };
    body.on('error', onError);
    body.on('close', onClose);
    // `flush`: the file is fsynced before it is closed — durability before any record points at it.
    const out = createWriteStream(file, { flush: true, highWaterMark: IO_CHUNK });
    try {
      body.pipe(tap);
      await pipeline(tap, out);
    } catch (error) {
      body.unpipe(tap);
      // A body that fails at once can do so before the file is even open: the stream still opens
      // (creating it) before it closes, so wait for that before removing the file.
      if (!out.closed) await once(out, 'close').catch(() => undefined);
      await fs.rm(file, { force: true });
      throw error;
    } finally {
      body.off('error', onError);
      body.off('close', onClose);
    }
    return { path: file, size };
  }

  async discard(temp: TempFile): Promise<void> {
    await fs.rm(temp.path, { force: true });
  }

  /** Moves a received body into the bucket's data area; returns its bucket-relative path. */
  async commitData(bucket: BucketState, temp: TempFile): Promise<string> {
    const relative = this.newDataPath();
    await this.moveInto(bucket, temp.path, relative);
    return relative;
  }

  /** Moves a received part body into its upload's directory. */
  async commitPartData(bucket: BucketState, uploadId: string, temp: TempFile): Promise<string> {
    const relative = `uploads/${uploadId}/${randomUUID()}.part`;
    await this.moveInto(bucket, temp.path, relative);
    return relative;
  }

  private newDataPath(): string {
    const id = randomUUID().replace(/-/g, '');
    return `data/${id.slice(0, 2)}/${id}.data`;
  }

  private async ensureDir(bucket: BucketState, dir: string): Promise<void> {
    if (bucket.createdDirs.has(dir)) return;
    if (bucket.deleted) throw new BucketGoneError();
    await fs.mkdir(dir, { recursive: true });
    bucket.createdDirs.add(dir);
  }

  private async moveInto(bucket: BucketState, from: string, relative: string): Promise<void> {
    const target = path.join(bucket.dir, relative);
    if (bucket.deleted) throw new BucketGoneError();
    try {
      await this.ensureDir(bucket, path.dirname(target));
      await fs.rename(from, target);
    } catch (error) {
      await fs.rm(from, { force: true });
      if (isMissing(error)) {
        // The directory vanished under us: the bucket (or upload) was deleted meanwhile.
        bucket.createdDirs.delete(path.dirname(target));
        throw new BucketGoneError();
      }
      throw error;
    }
    await fsyncDir(path.dirname(target));
  }

  /**
   * Gives data files new names in `target`'s data area without copying them (hard links; data
   * files are immutable, so sharing an inode is safe). Falls back to a copy where links fail.
   */
  async linkData(source: BucketState, files: string[], target: BucketState): Promise<string[]> {
    const created: string[] = [];
    const dirs = new Set<string>();
    try {
      for (const file of files) {
        const relative = this.newDataPath();
        const to = path.join(target.dir, relative);
        await this.ensureDir(target, path.dirname(to));
        const from = path.join(source.dir, file);
        try {
          await fs.link(from, to);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EMLINK') throw error;
          await fs.copyFile(from, to);
          const handle = await fs.open(to, 'r+');
          await handle.sync().finally(() => handle.close());
        }
        created.push(relative);
        dirs.add(path.dirname(to));
      }
      for (const dir of dirs) await fsyncDir(dir);
    } catch (error) {
      await this.removeFiles(target, created);
      if (isMissing(error) && target.deleted) throw new BucketGoneError();
      throw error;
    }
    return created;
  }

  /** Unlinks data files now or, if someone is still reading them, when the last reader is done. */
  async removeFiles(bucket: BucketState, files: string[]): Promise<void> {
    for (const file of files) {
      const absolute = path.join(bucket.dir, file);
      if ((this.readers.get(absolute) ?? 0) > 0) {
        this.doomed.add(absolute);
        continue;
      }
      await fs.rm(absolute, { force: true });
    }
  }

  // --- Objects

  /**
   * Makes `build(previous)` the key's record, serialised with every other commit of the key so the
   * last commit wins cleanly. `build` may throw (failed preconditions) to leave the key untouched.
   * Data files the previous record used and the new one does not are removed after the commit.
   */
  async commitObject(
    bucket: BucketState,
    key: string,
    build: (previous: ObjectRecord | undefined) => ObjectRecord,
  ): Promise<{ record: ObjectRecord; previous: ObjectRecord | undefined }> {
    if (bucket.deleted) throw new BucketGoneError();
    bucket.pendingCommits++;
    try {
      return await this.locks.run(`${bucket.name}\0${key}`, async () => {
        if (bucket.deleted) throw new BucketGoneError();
        const previous = bucket.objects.get(key);
        const record = build(previous);
        await writeFileAtomic(this.recordPath(bucket, key), JSON.stringify(record));
        this.index(bucket, record, previous);
        if (previous !== undefined) {
          const kept = new Set(record.segments.map((segment) => segment.file));
          await this.removeFiles(
            bucket,
            previous.segments.map((segment) => segment.file).filter((file) => !kept.has(file)),
          );
        }
        return { record, previous };
      });
    } finally {
      bucket.pendingCommits--;
    }
  }

  /** Deletes the key's record (if any) and then its data. */
  async deleteObject(bucket: BucketState, key: string): Promise<ObjectRecord | undefined> {
    return this.locks.run(`${bucket.name}\0${key}`, async () => {
      const previous = bucket.objects.get(key);
      if (previous === undefined || bucket.deleted) return undefined;
      const file = this.recordPath(bucket, key);
      await fs.rm(file, { force: true });
      await fsyncDir(path.dirname(file));
      this.unindex(bucket, previous);
      await this.removeFiles(
        bucket,
        previous.segments.map((segment) => segment.file),
      );
      return previous;
    });
  }

  private recordPath(bucket: BucketState, key: string): string {
    const hash = keyHash(key);
    return path.join(bucket.dir, 'objects', hash.slice(0, 2), `${hash}.json`);
  }

  private index(bucket: BucketState, record: ObjectRecord, previous: ObjectRecord | undefined): void {
    if (previous === undefined) {
      bucket.keys.splice(lowerBound(bucket.keys, record.key), 0, record.key);
    } else {
      bucket.bytes -= previous.size;
    }
    bucket.objects.set(record.key, record);
    bucket.bytes += record.size;
  }

  private unindex(bucket: BucketState, record: ObjectRecord): void {
    const at = lowerBound(bucket.keys, record.key);
    if (bucket.keys[at] === record.key) bucket.keys.splice(at, 1);
    bucket.objects.delete(record.key);
    bucket.bytes -= record.size;
  }

  /**
   * Keeps data files (absolute paths) from being unlinked until the returned function is called;
   * files removed meanwhile are unlinked then. Call synchronously with the record lookup.
   */
  pin(files: string[]): () => void {
    for (const file of files) this.readers.set(file, (this.readers.get(file) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const file of files) {
        const count = (this.readers.get(file) ?? 1) - 1;
        if (count > 0) {
          this.readers.set(file, count);
          continue;
        }
        this.readers.delete(file);
        if (this.doomed.delete(file)) void fs.rm(file, { force: true }).catch(() => undefined);
      }
    };
  }

  /** Pins every data file of a record (see `pin`). */
  pinRecord(bucket: BucketState, record: ObjectRecord): () => void {
    return this.pin(record.segments.map((segment) => path.join(bucket.dir, segment.file)));
  }

  /**
   * A stream of bytes [start, end] (inclusive) of the record's data. The files are pinned
   * synchronously, before this returns, so a concurrent overwrite or delete cannot remove them
   * while they are being read.
   */
  openRead(bucket: BucketState, record: ObjectRecord, start: number, end: number): Readable {
    if (end < start || record.size === 0) return Readable.from([]);
    const pieces: { file: string; start: number; end: number }[] = [];
    let offset = 0;
    for (const segment of record.segments) {
      const segStart = offset;
      const segEnd = offset + segment.size - 1;
      offset += segment.size;
      if (segment.size === 0 || segEnd < start || segStart > end) continue;
      pieces.push({
        file: path.join(bucket.dir, segment.file),
        start: Math.max(start, segStart) - segStart,
        end: Math.min(end, segEnd) - segStart,
      });
    }
    const release = this.pin(pieces.map((piece) => piece.file));
    let stream: Readable;
    if (pieces.length === 1) {
      const piece = pieces[0]!;
      stream = createReadStream(piece.file, { start: piece.start, end: piece.end, highWaterMark: IO_CHUNK });
    } else {
      const out = new PassThrough({ highWaterMark: IO_CHUNK });
      void (async () => {
        try {
          for (const piece of pieces) {
            if (out.destroyed) return;
            await pipeline(
              createReadStream(piece.file, { start: piece.start, end: piece.end, highWaterMark: IO_CHUNK }),
              out,
              { end: false },
            );
          }
          out.end();
        } catch (error) {
          out.destroy(error as Error);
        }
      })();
      stream = out;
    }
    stream.once('close', release);
    return stream;
  }

  // --- Multipart uploads

  async createUpload(bucket: BucketState, record: UploadRecord): Promise<UploadState> {
    if (bucket.deleted) throw new BucketGoneError();
    const dir = path.join(bucket.dir, 'uploads', record.uploadId);
    await fs.mkdir(dir, { recursive: true });
    await writeFileAtomic(path.join(dir, 'upload.json'), JSON.stringify(record, null, 2) + '\n');
    const upload: UploadState = { record, parts: new Map(), closed: false };
    bucket.uploads.set(record.uploadId, upload);
    return upload;
  }

  /** Serialises part commits and completion of one upload. */
  withUpload<T>(bucket: BucketState, uploadId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(`${bucket.name}\0upload\0${uploadId}`, fn);
  }

  /** Commits a part record (call inside `withUpload`); the part it replaces is removed. */
  async commitPart(bucket: BucketState, upload: UploadState, part: PartRecord): Promise<void> {
    const dir = path.join(bucket.dir, 'uploads', upload.record.uploadId);
    await writeFileAtomic(path.join(dir, `part-${part.partNumber}.json`), JSON.stringify(part));
    const previous = upload.parts.get(part.partNumber);
    upload.parts.set(part.partNumber, part);
    if (previous !== undefined && previous.file !== part.file)
      await this.removeFiles(bucket, [previous.file]);
  }

  /** Forgets an upload and removes its directory (parts included). */
  async removeUpload(bucket: BucketState, upload: UploadState): Promise<void> {
    upload.closed = true;
    bucket.uploads.delete(upload.record.uploadId);
    await this.trash(path.join(bucket.dir, 'uploads', upload.record.uploadId));
  }
}

/** An object's data files do not match its record (cut, grown or lost from outside). */
export class DamagedDataError extends Error {
  constructor(readonly problem: string) {
    super(problem);
    this.name = 'DamagedDataError';
  }
}

function isObjectRecord(value: unknown): value is ObjectRecord {
  const v = value as Partial<ObjectRecord> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.key === 'string' &&
    typeof v.size === 'number' &&
    Array.isArray(v.segments) &&
    v.segments.every((s) => typeof s?.file === 'string' && typeof s.size === 'number')
  );
}

/** Thrown by the store when the bucket was deleted while an operation on it was in flight. */
export class BucketGoneError extends Error {
  constructor() {
    super('The bucket was deleted during the operation.');
    this.name = 'BucketGoneError';
  }
}
