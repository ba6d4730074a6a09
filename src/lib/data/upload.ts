/**
 * upload-raw: checks a raw interactions file (and its items file) and puts them into the data
 * lake's raw prefix, multipart for large files, reporting byte progress. S3 commits an object
 * only when the upload completes, so a failed upload never leaves a partial object behind; Ctrl-C
 * aborts a multipart upload so its parts are not kept (and billed) either.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError, translateAwsError } from '../cli/errors.js';
import { interruptedError, interruptible } from '../cli/interrupt.js';
import { deploy } from '../infra/deploy.js';
import { rawObjectKey, s3Uri, type S3Location } from './lake.js';
import { describeStack, outputsOf, selectStacks, stackName } from '../infra/stacks.js';
import { detectInteractionsFormat, NotInteractionsError, type InteractionsFormat } from './raw-check.js';

export const DEFAULT_RAW_FILE = path.join('data', 'user_ratedmovies-timestamps.dat');
export const DEFAULT_ITEMS_NAME = 'movies.dat';
/** hetrec keeps genres beside movies.dat: uploaded with the items file when it is there. */
export const GENRES_NAME = 'movie_genres.dat';
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
  /** True when the data-lake stack had to be deployed first (local target). */
  stackDeployed: boolean;
  interactions: UploadedObject & { format: InteractionsFormat | null };
  items: UploadedObject | null;
  /** movie_genres.dat, found beside the items file. */
  genres: UploadedObject | null;
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

/**
 * The lake bucket, from the data-lake stack's outputs. On the local target a missing data-lake
 * stack is deployed first (resources come from templates, never from ad-hoc setup code); on AWS
 * the stack — or at least the configured bucket — must exist already.
 */
export async function resolveLakeBucket(
  clients: Clients,
  settings: Settings,
  onNote: (message: string) => void = () => undefined,
): Promise<{ bucket: string; deployed: boolean }> {
  const name = stackName(settings, 'datalake');
  const stack = await describeStack(clients, name);
  if (
    stack !== undefined &&
    stack.StackStatus?.endsWith('_COMPLETE') &&
    stack.StackStatus !== 'ROLLBACK_COMPLETE'
  ) {
    const bucket = outputsOf(stack).BucketName;
    if (bucket !== undefined) return { bucket, deployed: false };
  }
  if (clients.connection.target === 'local') {
    onNote(
      `Deploying the data-lake stack ${name} on the local stack first (mlpipe deploy --stack datalake).`,
    );
    const [result] = await deploy(clients, settings, {
      stacks: selectStacks(settings, ['datalake']),
      overrides: {},
      execute: true,
      confirm: async () => true,
    });
    const bucket = result?.outputs.BucketName;
    if (bucket === undefined) {
      throw new MlpipeError(`Stack ${name} has no BucketName output.`, {
        code: 'STACK_OUTPUT_MISSING',
        suggestions: ['Check templates/datalake.yaml: it must output BucketName.'],
      });
    }
    return { bucket, deployed: true };
  }
  // On AWS, a bucket managed outside mlpipe's stacks is fine as long as it exists.
  await requireBucket(clients, settings.bucket.value);
  return { bucket: settings.bucket.value, deployed: false };
}

async function requireBucket(clients: Clients, bucket: string): Promise<void> {
  const s3 = await clients.s3();
  const { HeadBucketCommand } = await import('@aws-sdk/client-s3');
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
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
  throw new MlpipeError(`Bucket ${bucket} does not exist on AWS.`, {
    code: 'BUCKET_NOT_FOUND',
    suggestions: ['Run `mlpipe deploy` first: it creates the data-lake bucket.'],
  });
}

async function uploadFile(
  clients: Clients,
  file: string,
  size: number,
  location: S3Location,
  options: UploadRawOptions,
): Promise<UploadedObject> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  const { AbortMultipartUploadCommand } = await import('@aws-sdk/client-s3');
  const s3 = await clients.s3();
  const label = path.basename(file);
  const etag = await interruptible(async (signal) => {
    const abortController = new AbortController();
    signal.addEventListener('abort', () => abortController.abort(), { once: true });
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: location.bucket,
        Key: location.key,
        Body: createReadStream(file),
        ContentType: contentTypeFor(file),
      },
      partSize: PART_SIZE,
      queueSize: 4,
      leavePartsOnError: false,
      abortController,
    });
    // The multipart upload's id, known once S3 has answered CreateMultipartUpload: Ctrl-C aborts
    // that upload itself rather than leave lib-storage to do it after the process has gone.
    const middleware = `mlpipe-upload-id-${location.key}`;
    let created: Promise<string | undefined> | undefined;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'CreateMultipartUploadCommand') return next(args);
        const result = next(args);
        created = result.then(
          (r) => (r.output as { UploadId?: string }).UploadId,
          () => undefined,
        );
        return result;
      },
      { step: 'initialize', name: middleware },
    );
    upload.on('httpUploadProgress', (progress) => options.onProgress?.(label, progress.loaded ?? 0, size));
    options.onProgress?.(label, 0, size);
    try {
      return (await upload.done()).ETag;
    } catch (error) {
      if (signal.aborted) {
        const uploadId = await created;
        if (uploadId !== undefined)
          await s3
            .send(
              new AbortMultipartUploadCommand({ Bucket: location.bucket, Key: location.key, UploadId: uploadId }),
            )
            .catch(() => undefined);
        throw interruptedError(
          `Upload of ${file} to ${s3Uri(location)} interrupted; nothing was written there${uploadId === undefined ? '' : ' (the multipart upload was aborted)'}.`,
          ['Run `mlpipe upload-raw` again to upload it.'],
        );
      }
      throw translateAwsError(error, `Uploading ${file} to ${s3Uri(location)}`);
    } finally {
      s3.middlewareStack.remove(middleware);
      options.onProgressDone?.();
    }
  });
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

  // Work out both keys (and refuse a clash) before anything is deployed or uploaded.
  const interactionsKey = rawObjectKey(settings, options.file, options.key);
  const itemsKey =
    itemsFile === undefined
      ? undefined
      : `${path.posix.dirname(interactionsKey)}/${path.basename(itemsFile)}`.replace(/^\.\//, '');
  if (itemsKey !== undefined && itemsKey === interactionsKey) {
    throw new MlpipeError(`The interactions and items files would both be written to the key ${itemsKey}.`, {
      code: 'KEY_CLASH',
      suggestions: ['Give the interactions file another --key.'],
    });
  }
  const { bucket, deployed } = await resolveLakeBucket(clients, settings, options.onNote);
  const interactionsLocation = { bucket, key: interactionsKey };
  const itemsLocation = itemsKey === undefined ? undefined : { bucket, key: itemsKey };

  const interactions = await uploadFile(clients, options.file, size, interactionsLocation, options);
  const items =
    itemsFile === undefined || itemsLocation === undefined
      ? null
      : await uploadFile(clients, itemsFile, itemsSize, itemsLocation, options);
  let genres: UploadedObject | null = null;
  if (itemsFile !== undefined && itemsKey !== undefined) {
    const genresFile = path.join(path.dirname(itemsFile), GENRES_NAME);
    const genresSize = await checkReadableFile(genresFile, 'genres file').catch(() => undefined);
    if (genresSize !== undefined) {
      const key = `${path.posix.dirname(itemsKey)}/${GENRES_NAME}`.replace(/^\.\//, '');
      genres = await uploadFile(clients, genresFile, genresSize, { bucket, key }, options);
    }
  }
  return { bucket, stackDeployed: deployed, interactions: { ...interactions, format }, items, genres };
}
