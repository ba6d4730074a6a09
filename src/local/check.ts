/**
 * `mlpipe local check`: verifies every state and object file of a data dir and reports what is
 * damaged, changing nothing. Run as `main.js --check` (the CLI reaches src/local only through its
 * contract), with or without a server on the data dir: every file it reads is replaced atomically
 * by the server, and a problem found on an S3 object is confirmed by reading the object's record
 * again — an object overwritten or deleted meanwhile is not damage.
 *
 * What is checked:
 * - credentials.json: an identity.
 * - every `*.json` file of the services (state files, S3 bucket, object, upload and part records,
 *   CloudFormation stacks, log streams): readable JSON.
 * - each S3 object: its record sits where its key's hash says, each data file exists with the size
 *   the record gives, and its MD5 matches the ETag (single-part objects) or each part's ETag
 *   (multipart objects).
 * - each S3 upload part: its data file exists with the recorded size.
 * - each Personalize dataset file: its header is readable and its length is the one it implies.
 * Files already in quarantine/ are listed, not checked.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { datasetFileProblem } from '../datasets/interactions.js';
import { DamagedIdentityError, localPaths, readIdentity, type CheckReport } from './contract.js';

export type { CheckReport, DamagedFile } from './contract.js';

interface Segment {
  file: string;
  size: number;
  etag?: string;
}

interface ObjectRecordShape {
  key: string;
  size: number;
  etag: string;
  multipart?: boolean;
  segments: Segment[];
}

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, out);
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function isTemp(file: string): boolean {
  const base = path.basename(file);
  return base.startsWith('.tmp-') || base.endsWith('.tmp');
}

async function md5Of(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function isObjectRecord(value: unknown): value is ObjectRecordShape {
  const v = value as Partial<ObjectRecordShape> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.key === 'string' &&
    typeof v.size === 'number' &&
    typeof v.etag === 'string' &&
    Array.isArray(v.segments) &&
    v.segments.every((s) => typeof s?.file === 'string' && typeof s.size === 'number')
  );
}

/** What is wrong with an object's data, or undefined. */
async function objectProblem(
  bucketDir: string,
  record: ObjectRecordShape,
  report: CheckReport,
): Promise<string | undefined> {
  let total = 0;
  for (const segment of record.segments) {
    const file = path.join(bucketDir, segment.file);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat === undefined) return `data file ${file} is missing`;
    if (stat.size !== segment.size)
      return `data file ${file} holds ${stat.size} bytes; its record says ${segment.size}`;
    total += stat.size;
    report.checked.dataFiles++;
    report.checked.dataBytes += stat.size;
  }
  if (total !== record.size) return `its data files hold ${total} bytes; its record says ${record.size}`;
  if (record.multipart === true) {
    for (const segment of record.segments) {
      if (segment.etag === undefined) continue;
      const md5 = await md5Of(path.join(bucketDir, segment.file));
      if (`"${md5}"` !== segment.etag)
        return `data file ${path.join(bucketDir, segment.file)} has MD5 ${md5}; its part's ETag is ${segment.etag}`;
    }
    return undefined;
  }
  const hash = createHash('md5');
  for (const segment of record.segments) {
    for await (const chunk of createReadStream(path.join(bucketDir, segment.file)))
      hash.update(chunk as Buffer);
  }
  const md5 = hash.digest('hex');
  return `"${md5}"` === record.etag ? undefined : `its data has MD5 ${md5}; its ETag is ${record.etag}`;
}

export async function checkDataDir(dataDir: string): Promise<CheckReport> {
  const report: CheckReport = {
    dataDir,
    checked: { stateFiles: 0, objects: 0, dataFiles: 0, dataBytes: 0, datasetFiles: 0 },
    damaged: [],
    quarantined: [],
  };
  const damaged = (file: string, problem: string): void => {
    report.damaged.push({ path: file, problem });
  };
  const paths = localPaths(dataDir);

  try {
    if (readIdentity(dataDir) !== undefined) report.checked.stateFiles++;
  } catch (error) {
    if (!(error instanceof DamagedIdentityError)) throw error;
    damaged(paths.credentials, 'not a readable identity (access key, secret, account, region)');
  }

  const skip = new Set([paths.credentials, paths.serverInfo]);
  const files = (await walk(dataDir)).filter(
    (file) =>
      !skip.has(file) &&
      !file.startsWith(paths.lock + path.sep) &&
      !file.startsWith(paths.quarantine + path.sep) &&
      !isTemp(file),
  );
  report.quarantined = (await walk(paths.quarantine)).sort();

  const s3Objects = path.join(dataDir, 's3', 'buckets');
  for (const file of files.filter((f) => f.endsWith('.json'))) {
    const text = await readText(file);
    if (text === undefined) continue; // removed meanwhile (a delete, or a replaced part)
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      damaged(file, `not readable JSON (${(error as Error).message})`);
      continue;
    }
    report.checked.stateFiles++;
    const relative = path.relative(s3Objects, file).split(path.sep);
    // s3/buckets/<bucket>/objects/<h2>/<sha256(key)>.json
    if (relative.length === 4 && !relative[0]!.startsWith('..') && relative[1] === 'objects') {
      report.checked.objects++;
      if (!isObjectRecord(value)) {
        damaged(file, 'not an object record');
        continue;
      }
      const hash = createHash('sha256').update(value.key, 'utf8').digest('hex');
      if (path.basename(file) !== `${hash}.json`) {
        damaged(file, `holds the record of key ${JSON.stringify(value.key)}, which belongs elsewhere`);
        continue;
      }
      const bucketDir = path.join(s3Objects, relative[0]!);
      const problem = await objectProblem(bucketDir, value, report);
      // Confirm: an object replaced or deleted while we read it is not damaged.
      if (problem !== undefined && (await readText(file)) === text)
        damaged(file, `object ${JSON.stringify(value.key)} in bucket ${relative[0]}: ${problem}`);
      continue;
    }
    // s3/buckets/<bucket>/uploads/<id>/part-<n>.json
    if (relative.length === 4 && relative[1] === 'uploads' && /^part-\d+\.json$/.test(relative[3]!)) {
      const part = value as Partial<Segment>;
      const bucketDir = path.join(s3Objects, relative[0]!);
      const data = typeof part.file === 'string' ? path.join(bucketDir, part.file) : undefined;
      const stat = data === undefined ? undefined : await fs.stat(data).catch(() => undefined);
      const problem =
        data === undefined
          ? 'not a part record'
          : stat === undefined
            ? `data file ${data} is missing`
            : stat.size !== part.size
              ? `data file ${data} holds ${stat.size} bytes; its record says ${part.size}`
              : undefined;
      if (problem !== undefined && (await readText(file)) === text) damaged(file, problem);
    }
  }

  const datasets = path.join(dataDir, 'personalize', 'data');
  for (const file of files.filter((f) => f.startsWith(datasets + path.sep) && f.endsWith('.bin'))) {
    report.checked.datasetFiles++;
    const problem = await datasetFileProblem(file);
    if (problem !== undefined && problem !== 'missing') damaged(file, problem.replace(`${file} is `, ''));
  }
  return report;
}
