/**
 * Stack assets: files a stack's resources read from the data lake (the Glue job's script, its
 * helper module and the mapping specs), uploaded by `deploy` before the stack that needs them.
 * The package's files go first, then the project's own copies (same relative path wins).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError, translateAwsError } from '../cli/errors.js';
import { PACKAGE_ROOT, requireStackOutputs, type StackDefinition } from './stacks.js';

export interface UploadedAsset {
  file: string;
  uri: string;
  size: number;
}

async function listFiles(dir: string, include: RegExp, base = dir): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    // Tests and caches are not part of what the job runs.
    if (entry.isDirectory() && !['tests', '__pycache__'].includes(entry.name)) {
      files.push(...(await listFiles(full, include, base)));
    } else if (entry.isFile() && include.test(entry.name)) {
      files.push(path.relative(base, full));
    }
  }
  return files;
}

export async function uploadStackAssets(
  clients: Clients,
  settings: Settings,
  definition: StackDefinition,
): Promise<UploadedAsset[]> {
  const assets = definition.assets;
  if (assets === undefined) return [];
  const lake = await requireStackOutputs(clients, settings, 'datalake');
  const bucket = lake.BucketName;
  const prefix = lake[assets.prefixOutput];
  if (bucket === undefined || prefix === undefined) {
    throw new MlpipeError(`The data-lake stack has no BucketName or ${assets.prefixOutput} output.`, {
      code: 'STACK_OUTPUT_MISSING',
      suggestions: ['Deploy the data-lake stack again: `mlpipe deploy --stack datalake`.'],
    });
  }
  const sources = new Map<string, string>();
  for (const root of [path.join(PACKAGE_ROOT, assets.dir), path.join(settings.projectDir, assets.dir)]) {
    for (const relative of await listFiles(root, assets.include))
      sources.set(relative, path.join(root, relative));
  }
  const s3 = await clients.s3();
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const uploaded: UploadedAsset[] = [];
  for (const [relative, file] of sources) {
    const key = `${prefix}${relative.split(path.sep).join('/')}`;
    const body = await readFile(file);
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    } catch (error) {
      throw translateAwsError(error, `Uploading ${file} to s3://${bucket}/${key}`);
    }
    uploaded.push({ file, uri: `s3://${bucket}/${key}`, size: (await stat(file)).size });
  }
  return uploaded;
}
