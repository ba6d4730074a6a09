/**
 * Executes one Glue job run in the local stack: the local stand-in for the Spark job of
 * glue/interactions_etl.py, driven by the same job definition and arguments.
 *
 * Job arguments (DefaultArguments merged with the run's Arguments, the run's winning):
 * - `--input_path`   s3://bucket/key of the raw file, or s3://bucket/prefix/ (every object under
 *                    the prefix except folder markers, in key order, read as one input: the header
 *                    line of the second and later objects is skipped; line numbers in rejects then
 *                    count from the first object's start)
 * - `--output_path`  s3://bucket/prefix/ — Personalize's import location (a trailing `/` is added)
 * - `--spec_path`    s3://bucket/key of the mapping spec JSON (the deploy step uploads glue/ to
 *                    s3://<bucket>/glue_scripts/, e.g. …/glue_scripts/mappings/<spec>.json)
 * - `--reject_threshold` optional, fraction 0..1 of rows read that may be rejected
 * - `--event_value`  optional, true|false: keep the spec's eventValue column as EVENT_VALUE
 * - `--min_rating`   optional number: keep rows whose eventValue column (default `rating`) is ≥ it
 * A missing or invalid argument fails the run with an ErrorMessage naming it.
 *
 * S3 output layout (the import prefix only ever holds one complete CSV):
 * - `<output_path>interactions.csv` — put in one PutObject only when the run SUCCEEDED, replacing
 *   the previous run's output in one step; a failed or stopped run leaves it untouched.
 * - `<output_path without trailing />_etl/<JobRunId>/report.json` — the run report (EtlReport plus
 *   run facts), written for succeeded and failed runs;
 *   `…_etl/<JobRunId>/rejects.csv` — the rejected rows (`line,reason,raw`), when there are any.
 *   This sibling prefix is outside the import prefix, so Personalize never imports them.
 * The CSVs are first streamed to temp files under `<dataDir>/glue/tmp/<JobRunId>/`.
 *
 * The run's log lines go to the `log` callback (the service writes them to CloudWatch Logs).
 *
 * CPU work runs in a worker thread (worker.ts) so the server keeps answering; if a worker cannot be
 * started (e.g. an unusual loader setup) the run falls back to the server's thread.
 */
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../worker-start.js';
import { EtlError, loadMappingSpec, specToJson, withOverrides, type EtlReport } from '../../../etl/index.js';
import { AwsError } from '../../core/errors.js';
import { JobFailure, JobStopped } from '../../jobs/index.js';
import type { S3Service } from '../s3/s3-service.js';
import { runEtlTask, type EtlTaskInput, type EtlTaskResult } from './etl-task.js';

export const OUTPUT_OBJECT = 'interactions.csv';
/** Rows between two `Progress: N rows read` lines in a run's log. */
const PROGRESS_EVERY = 50_000;

/** Why a run ended without success: the message becomes the run's ErrorMessage. */
export class RunFailure extends JobFailure {}
/** The run was stopped (BatchStopJobRun), timed out, or the stack shut down. */
export class RunStopped extends JobStopped {}

export interface RunRequest {
  s3: S3Service;
  dataDir: string;
  jobName: string;
  runId: string;
  arguments: Record<string, string>;
  signal: AbortSignal;
  log(line: string): void;
}

export interface RunResult {
  report: EtlReport;
  outputUri: string;
  reportUri: string;
  rejectsUri: string | null;
  /** Where the distinct users were written (`--users_output_path`), when asked for. */
  usersUri: string | null;
}

export function glueDir(dataDir: string): string {
  return path.join(dataDir, 'glue');
}

interface S3Location {
  bucket: string;
  key: string;
}

function s3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

function parseS3Arg(args: Record<string, string>, name: string): S3Location {
  const value = args[name];
  if (value === undefined || value === '')
    throw new RunFailure(`Missing job argument ${name} (an s3://bucket/key URI).`);
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(value);
  if (!m)
    throw new RunFailure(
      `Invalid job argument ${name}: ${JSON.stringify(value)} is not an s3://bucket/key URI.`,
    );
  return { bucket: m[1]!, key: m[2]! };
}

function optionalNumber(args: Record<string, string>, name: string): number | undefined {
  const value = args[name];
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n))
    throw new RunFailure(`Invalid job argument ${name}: ${JSON.stringify(value)} is not a number.`);
  return n;
}

function optionalBoolean(args: Record<string, string>, name: string): boolean | undefined {
  const value = args[name];
  if (value === undefined || value === '') return undefined;
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  throw new RunFailure(`Invalid job argument ${name}: ${JSON.stringify(value)} is not true or false.`);
}

async function readAll(stream: AsyncIterable<Buffer | Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

function isMissing(error: unknown): boolean {
  return error instanceof AwsError && (error.code === 'NoSuchKey' || error.code === 'NoSuchBucket');
}

/** The input objects named by --input_path, in key order. */
async function inputKeys(s3: S3Service, input: S3Location, uri: string): Promise<string[]> {
  const notFound = `Input ${uri} not found: run \`mlpipe upload-raw\` first.`;
  if (!input.key.endsWith('/') && input.key !== '') {
    try {
      await s3.headObject({ bucket: input.bucket, key: input.key });
    } catch (error) {
      if (isMissing(error)) throw new RunFailure(notFound);
      throw error;
    }
    return [input.key];
  }
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.listObjectsV2({
        bucket: input.bucket,
        prefix: input.key,
        continuationToken: token,
      });
      for (const o of page.contents) if (!o.key.endsWith('/')) keys.push(o.key);
      token = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (token !== undefined);
  } catch (error) {
    if (isMissing(error)) throw new RunFailure(notFound);
    throw error;
  }
  if (keys.length === 0)
    throw new RunFailure(`Input ${uri} has no objects: run \`mlpipe upload-raw\` first.`);
  return keys;
}

/** The input objects as one byte stream (later objects' header lines skipped when the spec has one). */
async function* concatObjects(
  s3: S3Service,
  bucket: string,
  keys: string[],
  header: boolean,
  signal: AbortSignal,
): AsyncGenerator<Buffer> {
  let lastByte = 0x0a;
  for (let i = 0; i < keys.length; i++) {
    if (signal.aborted) throw new RunStopped('stopped');
    const object = await s3.getObject({ bucket, key: keys[i]! });
    if (i > 0 && lastByte !== 0x0a) yield Buffer.from('\n');
    let skipping = i > 0 && header;
    let first = i > 0;
    try {
      for await (const raw of object.body) {
        if (signal.aborted) throw new RunStopped('stopped');
        let chunk = raw as Buffer;
        if (first && !header && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf)
          chunk = chunk.subarray(3);
        first = false;
        if (skipping) {
          const nl = chunk.indexOf(0x0a);
          if (nl < 0) continue;
          skipping = false;
          chunk = chunk.subarray(nl + 1);
        }
        if (chunk.length === 0) continue;
        lastByte = chunk[chunk.length - 1]!;
        yield chunk;
      }
    } finally {
      object.body.destroy();
    }
  }
}

/** Starts the run's worker (worker.ts beside this module). */
function startWorker(task: EtlTaskInput): Worker {
  return startModuleWorker(import.meta.url, 'worker', task);
}

/** Runs the ETL task in a worker thread, feeding it `input`; undefined if no worker could start. */
function runInWorker(
  task: EtlTaskInput,
  input: AsyncGenerator<Buffer>,
  signal: AbortSignal,
  onProgress: (rowsRead: number) => void,
): Promise<EtlTaskResult | undefined> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = startWorker(task);
    } catch {
      resolve(undefined);
      return;
    }
    let started = false;
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      void worker.terminate();
      void input.return(undefined);
      finish(() => reject(new RunStopped('stopped')));
    };
    signal.addEventListener('abort', onAbort);
    worker.on('message', (message: { type: string; rowsRead?: number; result?: EtlTaskResult }) => {
      started = true;
      if (message.type === 'pull') {
        input.next().then(
          (next) => {
            if (settled) return;
            if (next.done) worker.postMessage({ type: 'end' });
            else worker.postMessage({ type: 'chunk', data: next.value });
          },
          (error: unknown) => {
            if (error instanceof RunStopped || error instanceof RunFailure) {
              void worker.terminate();
              finish(() => reject(error));
              return;
            }
            worker.postMessage({ type: 'error', message: (error as Error)?.message ?? String(error) });
          },
        );
      } else if (message.type === 'progress') {
        onProgress(message.rowsRead ?? 0);
      } else if (message.type === 'result') {
        finish(() => resolve(message.result));
      }
    });
    worker.on('error', (error) => {
      // A worker that fails before its first message could not load: run in-process instead.
      finish(() => (started ? reject(error) : resolve(undefined)));
    });
    worker.on('exit', (code) => {
      finish(() => reject(new Error(`The ETL worker exited with code ${code} before finishing.`)));
    });
  });
}

export async function executeRun(req: RunRequest): Promise<RunResult> {
  const { s3, signal, args } = { ...req, args: req.arguments };
  const tmpDir = path.join(glueDir(req.dataDir), 'tmp', req.runId);
  try {
    req.log(`Run ${req.runId} of job ${req.jobName} started`);
    req.log(`Arguments: ${JSON.stringify(args)}`);
    const input = parseS3Arg(args, '--input_path');
    const output = parseS3Arg(args, '--output_path');
    if (!output.key.endsWith('/') && output.key !== '') output.key += '/';
    const specLoc = parseS3Arg(args, '--spec_path');
    const usersLoc =
      args['--users_output_path'] === undefined || args['--users_output_path'] === ''
        ? undefined
        : parseS3Arg(args, '--users_output_path');
    if (usersLoc && (usersLoc.key === '' || usersLoc.key.endsWith('/')))
      throw new RunFailure(
        `Invalid job argument --users_output_path: ${s3Uri(usersLoc)} names a folder; give the file to write, for example s3://${usersLoc.bucket}/${usersLoc.key}users.jsonl.`,
      );
    const rejectThreshold = optionalNumber(args, '--reject_threshold');
    if (rejectThreshold !== undefined && !(rejectThreshold >= 0 && rejectThreshold <= 1))
      throw new RunFailure(
        `Invalid job argument --reject_threshold: ${rejectThreshold} is not between 0 and 1.`,
      );
    const eventValue = optionalBoolean(args, '--event_value');
    const minRating = optionalNumber(args, '--min_rating');

    // The spec.
    const specUri = s3Uri(specLoc);
    let specText: string;
    try {
      specText = (await readAll((await s3.getObject(specLoc)).body)).toString('utf8');
    } catch (error) {
      if (isMissing(error))
        throw new RunFailure(
          `Mapping spec ${specUri} (--spec_path) not found: run \`mlpipe deploy\` to upload glue/.`,
        );
      throw error;
    }
    let spec;
    try {
      let parsed: unknown;
      try {
        parsed = JSON.parse(specText);
      } catch (error) {
        throw new RunFailure(
          `Mapping spec ${specUri} (--spec_path) is not valid JSON: ${(error as Error).message}`,
        );
      }
      spec = loadMappingSpec(parsed, specUri);
      spec = withOverrides(
        spec,
        {
          eventValue,
          rejectThreshold,
          filters:
            minRating === undefined
              ? undefined
              : [{ column: spec.eventValue?.from ?? 'rating', op: '>=', value: minRating }],
        },
        specUri,
      );
    } catch (error) {
      if (error instanceof EtlError) throw new RunFailure(error.message);
      throw error;
    }
    req.log(`Spec: ${specUri} (${spec.name})`);

    // The output bucket must exist before any work is done.
    const outputUri = s3Uri(output);
    try {
      await s3.headBucket({ bucket: output.bucket });
    } catch (error) {
      if (isMissing(error))
        throw new RunFailure(`Output bucket ${output.bucket} (--output_path) does not exist.`);
      throw error;
    }

    const inputUri = s3Uri(input);
    const keys = await inputKeys(s3, input, inputUri);
    req.log(`Input objects (${keys.length}): ${keys.map((k) => `s3://${input.bucket}/${k}`).join(', ')}`);
    if (signal.aborted) throw new RunStopped('stopped');

    await fs.mkdir(tmpDir, { recursive: true });
    const task: EtlTaskInput = {
      specJson: specToJson(spec),
      specLabel: specUri,
      outputFile: path.join(tmpDir, 'output.csv'),
      rejectsFile: path.join(tmpDir, 'rejects.csv'),
      ...(usersLoc ? { usersFile: path.join(tmpDir, 'users.jsonl') } : {}),
    };
    // A line every PROGRESS_EVERY rows (the engine reports every block): enough for a spinner's
    // rows and rate, not a log line per 64 KiB.
    let nextProgress = PROGRESS_EVERY;
    const onProgress = (rowsRead: number): void => {
      if (rowsRead < nextProgress) return;
      nextProgress = (Math.floor(rowsRead / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
      req.log(`Progress: ${rowsRead} rows read`);
    };
    const stream = (): AsyncGenerator<Buffer> =>
      concatObjects(s3, input.bucket, keys, spec.source.header, signal);
    let result = await runInWorker(task, stream(), signal, onProgress);
    if (result === undefined) {
      req.log('Worker thread unavailable: running the ETL in the server thread');
      result = await runEtlTask(task, stream(), onProgress);
    }
    if (signal.aborted) throw new RunStopped('stopped');

    // Reports and rejects go to the sibling `_etl/` prefix, outside the import prefix.
    const etlBase = `${output.key.replace(/\/$/, '')}_etl/${req.runId}/`;
    const reportLoc = { bucket: output.bucket, key: `${etlBase}report.json` };
    const rejectsLoc = { bucket: output.bucket, key: `${etlBase}rejects.csv` };
    const rejectsUri = result.rejectsWritten ? s3Uri(rejectsLoc) : null;
    if (result.rejectsWritten) await putFile(s3, rejectsLoc, task.rejectsFile, 'text/csv');
    const facts = {
      jobName: req.jobName,
      runId: req.runId,
      input: inputUri,
      inputObjects: keys.length,
      spec: specUri,
    };

    if (!result.ok) {
      req.log(`Rejects: ${rejectsUri ?? 'none'}`);
      const report = {
        ...facts,
        state: 'FAILED',
        errorMessage: result.message,
        firstRejects: result.firstRejects,
        rejects: rejectsUri,
      };
      await putJson(s3, reportLoc, report);
      throw new RunFailure(result.message);
    }
    const r = result.report;
    req.log(
      `Rows read ${r.rowsRead}, written ${r.rowsWritten}, rejected ${r.rowsRejected}, filtered ${r.rowsFiltered}, duplicates collapsed ${r.duplicatesCollapsed}`,
    );
    // Commit: one PutObject replaces the previous output atomically.
    await putFile(
      s3,
      { bucket: output.bucket, key: `${output.key}${OUTPUT_OBJECT}` },
      task.outputFile,
      'text/csv',
    );
    const outUri = `${outputUri}${OUTPUT_OBJECT}`;
    // The users list (batch inference input) follows the output it was read from.
    const usersUri = usersLoc ? s3Uri(usersLoc) : null;
    if (usersLoc) await putFile(s3, usersLoc, task.usersFile!, 'application/x-ndjson');
    await putJson(s3, reportLoc, {
      ...facts,
      state: 'SUCCEEDED',
      output: outUri,
      rejects: rejectsUri,
      users: usersUri,
      report: r,
    });
    req.log(`Output: ${outUri}`);
    req.log(`Report: ${s3Uri(reportLoc)}`);
    if (rejectsUri) req.log(`Rejects: ${rejectsUri}`);
    if (usersUri) req.log(`Users: ${usersUri} (${r.distinctUsers} users)`);
    return { report: r, outputUri: outUri, reportUri: s3Uri(reportLoc), rejectsUri, usersUri };
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

async function putFile(s3: S3Service, loc: S3Location, file: string, contentType: string): Promise<void> {
  const { size } = await fs.stat(file);
  await s3.putObject({ ...loc, body: createReadStream(file), contentLength: size, contentType });
}

async function putJson(s3: S3Service, loc: S3Location, value: unknown): Promise<void> {
  const data = Buffer.from(JSON.stringify(value, null, 2) + '\n');
  await s3.putObject({
    ...loc,
    body: Readable.from([data]),
    contentLength: data.length,
    contentType: 'application/json',
  });
}
