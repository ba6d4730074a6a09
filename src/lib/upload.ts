/**
 * upload-raw: checks a raw interactions file (and its items file) and puts them into the data
 * lake's raw prefix, multipart for large files, reporting byte progress. S3 commits an object
 * only when the upload completes, so a failed upload never leaves a partial object behind.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Clients } from './clients.js';
import type { Settings } from './config.js';
import { MlpipeError, translateAwsError } from './errors.js';
import { rawObjectLocation, s3Uri, type S3Location } from './lake.js';
import { detectInteractionsFormat, NotInteractionsError, type InteractionsFormat } from './raw-check.js';

export const DEFAULT_RAW_FILE = path.join('data', 'user_ratedmovies-timestamps.dat');
export const DEFAULT_ITEMS_NAME = 'movies.dat';
/** Multipart part size: large enough for few requests, small enough to show progress. */
export const PART_SIZE = 8 * 1024 * 1024;

export interface UploadedObject {
  file: string;
  uri: string;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  multipart: boolean;
}

export interface UploadRawResult {
  bucket: string;
  bucketCreated: boolean;
  interactions: UploadedObject & { format: InteractionsFormat | null };
  items: UploadedObject | null;
}

export interface UploadRawOptions {
  file: string;
  /** Explicit items file; when undefined, `movies.dat` beside the interactions file is used if present. */
  itemsFile: string | undefined;
  key: string | undefined;
  force: boolean;
  onProgress?: (label: string, loaded: number, total: number) => void;
  onProgressDone?: () => void;
  onNote?: (message: string) => void;
}

/** Stats a file that is about to be read, turning each way it can be unusable into a clear error. */
export async function checkReadableFile(file: string, what: string): Promise<number> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new MlpipeError(`The ${what} ${file} does not exist.`, {
        code: 'FILE_NOT_FOUND',
        suggestions: [
          'Run `mlpipe sample-data` to create sample data in ./data, or pass the path of your file.',
        ],
      });
    }
    throw new MlpipeError(`Cannot read the ${what} ${file}: ${(error as Error).message}`, {
      code: 'FILE_UNREADABLE',
    });
  }
  if (stat.isDirectory()) {
    throw new MlpipeError(`The ${what} ${file} is a directory; pass a file.`, { code: 'FILE_IS_DIRECTORY' });
  }
  if (!stat.isFile())
    throw new MlpipeError(`The ${what} ${file} is not a regular file.`, { code: 'FILE_NOT_REGULAR' });
  try {
    await fs.access(file, fs.constants.R_OK);
  } catch {
    throw new MlpipeError(`The ${what} ${file} cannot be read: permission denied.`, {
      code: 'FILE_UNREADABLE',
      suggestions: [`Check the file's permissions (ls -l ${file}).`],
    });
  }
  if (stat.size === 0) {
    throw new MlpipeError(`The ${what} ${file} is empty (0 bytes).`, {
      code: 'FILE_EMPTY',
      suggestions: ['Check that the download or export that produced it finished.'],
    });
  }
  return stat.size;
}

async function readHead(file: string, bytes = 64 * 1024): Promise<string> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    // latin1 never fails to decode; the check only needs the header's ASCII column names.
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}

function contentTypeFor(file: string): string {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'text/csv';
  if (ext === '.dat' || ext === '.tsv' || ext === '.data' || ext === '.txt') return 'text/plain';
  return 'application/octet-stream';
}

/** Makes sure the lake bucket exists: created on the local target, required (deployed) on AWS. */
export async function ensureBucket(clients: Clients, bucket: string): Promise<boolean> {
  const s3 = await clients.s3();
  const { HeadBucketCommand, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return false;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 403) {
      throw new MlpipeError(
        `Access to bucket ${bucket} was refused (403 Forbidden): the credentials are not valid for this endpoint, or the bucket belongs to another account.`,
        {
          code: 'BUCKET_FORBIDDEN',
          suggestions: [
            'Check the credentials: `aws sts get-caller-identity` (aws target) or `mlpipe local env` (local stack).',
            'Bucket names are global on AWS: set a unique "bucket" in mlpipe.config.json.',
          ],
        },
      );
    }
    if (status !== 404) throw translateAwsError(error, `Checking bucket ${bucket}`);
  }
  if (clients.connection.target !== 'local') {
    throw new MlpipeError(`Bucket ${bucket} does not exist on AWS.`, {
      code: 'BUCKET_NOT_FOUND',
      suggestions: ['Run `mlpipe deploy` first: it creates the data-lake bucket.'],
    });
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    throw translateAwsError(error, `Creating bucket ${bucket}`);
  }
  return true;
}

async function uploadFile(
  clients: Clients,
  file: string,
  size: number,
  location: S3Location,
  options: UploadRawOptions,
): Promise<UploadedObject> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  const upload = new Upload({
    client: await clients.s3(),
    params: {
      Bucket: location.bucket,
      Key: location.key,
      Body: createReadStream(file),
      ContentType: contentTypeFor(file),
    },
    partSize: PART_SIZE,
    queueSize: 4,
    leavePartsOnError: false,
  });
  const label = path.basename(file);
  upload.on('httpUploadProgress', (progress) => options.onProgress?.(label, progress.loaded ?? 0, size));
  options.onProgress?.(label, 0, size);
  let etag: string | undefined;
  try {
    const result = await upload.done();
    etag = result.ETag;
  } catch (error) {
    throw translateAwsError(error, `Uploading ${file} to ${s3Uri(location)}`);
  } finally {
    options.onProgressDone?.();
  }
  return {
    file,
    uri: s3Uri(location),
    bucket: location.bucket,
    key: location.key,
    size,
    etag: etag ?? '',
    multipart: size > PART_SIZE,
  };
}

export async function uploadRaw(
  clients: Clients,
  settings: Settings,
  options: UploadRawOptions,
): Promise<UploadRawResult> {
  const size = await checkReadableFile(options.file, 'interactions file');
  let format: InteractionsFormat | null = null;
  if (!options.force) {
    try {
      format = detectInteractionsFormat(await readHead(options.file), options.file);
    } catch (error) {
      if (error instanceof NotInteractionsError) {
        throw new MlpipeError(error.message, {
          code: 'NOT_INTERACTIONS',
          suggestions: ['Pass the interactions (ratings) file, or use --force to upload it anyway.'],
        });
      }
      throw error;
    }
  }
  let itemsFile = options.itemsFile;
  let itemsSize = 0;
  if (itemsFile !== undefined) {
    itemsSize = await checkReadableFile(itemsFile, 'items file');
  } else {
    const sibling = path.join(path.dirname(options.file), DEFAULT_ITEMS_NAME);
    if (path.resolve(sibling) !== path.resolve(options.file)) {
      try {
        itemsSize = await checkReadableFile(sibling, 'items file');
        itemsFile = sibling;
        options.onNote?.(
          `Also uploading the items file found beside it: ${sibling} (use --items to choose another).`,
        );
      } catch {
        itemsFile = undefined;
      }
    }
  }

  const interactionsLocation = rawObjectLocation(settings, options.file, options.key);
  const itemsLocation =
    itemsFile === undefined
      ? undefined
      : {
          bucket: settings.bucket.value,
          key: `${path.posix.dirname(interactionsLocation.key)}/${path.basename(itemsFile)}`.replace(
            /^\.\//,
            '',
          ),
        };
  if (itemsLocation !== undefined && itemsLocation.key === interactionsLocation.key) {
    throw new MlpipeError(
      `The interactions and items files would both be written to ${s3Uri(itemsLocation)}.`,
      {
        code: 'KEY_CLASH',
        suggestions: ['Give the interactions file another --key.'],
      },
    );
  }

  const bucketCreated = await ensureBucket(clients, settings.bucket.value);
  if (bucketCreated) options.onNote?.(`Created bucket ${settings.bucket.value} on the local stack.`);
  const interactions = await uploadFile(clients, options.file, size, interactionsLocation, options);
  const items =
    itemsFile === undefined || itemsLocation === undefined
      ? null
      : await uploadFile(clients, itemsFile, itemsSize, itemsLocation, options);
  return { bucket: settings.bucket.value, bucketCreated, interactions: { ...interactions, format }, items };
}
