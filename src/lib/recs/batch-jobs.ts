/**
 * Starting and following batch inference jobs (`mlpipe batch-infer`), on both targets: the input
 * (users or items as JSON Lines) written to the lake's batch input prefix, the job created for a
 * solution version with the Personalize role, its output under the recommendations prefix in a
 * folder named after the job, and a summary of what it wrote.
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { ExitCode, MlpipeError, translateAwsError, usageError } from '../cli/errors.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { s3Uri } from '../data/lake.js';
import { personalizeTargets } from '../personalize/imports.js';
import {
  describeBatchJob,
  outputFiles,
  scanOutput,
  type BatchJobView,
  type BatchRecord,
} from './batch-output.js';

const TERMINAL = new Set(['ACTIVE', 'CREATE FAILED']);

export type BatchInput =
  { kind: 'users'; ids: string[] } | { kind: 'items'; ids: string[] } | { kind: 'all-users' };

/** `<project>-batch-<UTC time>`: a job name, and its output folder. */
export function batchJobName(settings: Settings, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `${settings.project.value}-batch-${stamp}`;
}

/**
 * The users of a JSON Lines users file, checked line by line (each line an object with a string
 * userId; blank lines skipped): read before anything is asked of the target, so a bad file is
 * reported first.
 */
export async function readUsersFile(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw usageError(`Cannot read --users-file ${file}: ${(error as Error).message}`, [
      missing
        ? 'Check the path (relative paths are from the current folder), or name users with --user 75 --user 78.'
        : 'Make the file readable: a JSON Lines file with one {"userId": "75"} per line.',
    ]);
  }
  const lines = text.split(/\r?\n/);
  const kept: string[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw usageError(`${file}, line ${index + 1}: not JSON. Each line must be like {"userId": "75"}.`);
    }
    const userId = (value as { userId?: unknown } | null)?.userId;
    if (typeof userId !== 'string' || userId === '')
      throw usageError(
        `${file}, line ${index + 1}: no "userId" string. Each line must be like {"userId": "75"} (IDs are strings).`,
      );
    kept.push(userId);
  });
  if (kept.length === 0) throw usageError(`${file} has no users: each line must be like {"userId": "75"}.`);
  return kept;
}

/** Every user of the transformed interactions (the dataset's), in first-seen order, as JSON Lines. */
async function allUsersJsonl(clients: Clients, settings: Settings, bucket: string): Promise<string> {
  const key = `${settings.prefixes.transformed.value}interactions.csv`;
  const s3 = await clients.s3();
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  let body: Readable;
  try {
    body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey')
      throw new MlpipeError(`No interactions at ${s3Uri({ bucket, key })} to take the users from.`, {
        code: 'NO_INTERACTIONS',
        suggestions: ['Run `mlpipe run-etl` first, or name users with --user / --users-file.'],
      });
    throw translateAwsError(error, `Reading ${s3Uri({ bucket, key })}`);
  }
  const users = new Set<string>();
  const lines = createInterface({ input: body, crlfDelay: Infinity });
  let header = true;
  for await (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    if (line === '') continue;
    // USER_ID is the first column; the ETL quotes a field only when it must.
    const user = line.startsWith('"')
      ? line.slice(1, line.indexOf('",')).replace(/""/g, '"')
      : line.slice(0, line.indexOf(','));
    users.add(user);
  }
  return [...users].map((userId) => JSON.stringify({ userId })).join('\n') + '\n';
}

export interface StartedBatchJob {
  job: BatchJobView;
  inputUri: string;
  inputLines: number;
}

export async function startBatchJob(
  clients: Clients,
  settings: Settings,
  options: { input: BatchInput; numResults: number; solutionVersionArn: string; jobName?: string },
): Promise<StartedBatchJob> {
  const targets = await personalizeTargets(clients, settings);
  const name = options.jobName ?? batchJobName(settings);
  let body: string;
  switch (options.input.kind) {
    case 'users':
      body = options.input.ids.map((userId) => JSON.stringify({ userId })).join('\n') + '\n';
      break;
    case 'items':
      body = options.input.ids.map((itemId) => JSON.stringify({ itemId })).join('\n') + '\n';
      break;
    default:
      body = await allUsersJsonl(clients, settings, targets.bucket);
  }
  const input = { bucket: targets.bucket, key: `${settings.prefixes.batchInput.value}${name}.jsonl` };
  const output = { bucket: targets.bucket, key: `${settings.prefixes.recommendations.value}${name}/` };
  const s3 = await clients.s3();
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: input.bucket,
        Key: input.key,
        Body: body,
        ContentType: 'application/x-ndjson',
      }),
    );
  } catch (error) {
    throw translateAwsError(error, `Writing the batch input ${s3Uri(input)}`);
  }
  const personalize = await clients.personalize();
  const { CreateBatchInferenceJobCommand } = await import('@aws-sdk/client-personalize');
  let arn: string;
  try {
    const created = await personalize.send(
      new CreateBatchInferenceJobCommand({
        jobName: name,
        solutionVersionArn: options.solutionVersionArn,
        numResults: options.numResults,
        roleArn: targets.roleArn,
        jobInput: { s3DataSource: { path: s3Uri(input) } },
        jobOutput: { s3DataDestination: { path: s3Uri(output) } },
      }),
    );
    arn = created.batchInferenceJobArn!;
  } catch (error) {
    const e = error as { name?: string; message?: string };
    if (e.name === 'LimitExceededException' || e.name === 'ResourceInUseException')
      throw new MlpipeError(`Personalize refused the batch job: ${e.message ?? e.name}`, {
        code: 'BATCH_REFUSED',
        suggestions: ['Wait for running batch jobs to end (`mlpipe batch-infer --arn ARN` follows one).'],
      });
    throw translateAwsError(error, 'Creating the batch inference job');
  }
  return {
    job: await describeBatchJob(clients, arn),
    inputUri: s3Uri(input),
    inputLines: body.split('\n').length - 1,
  };
}

export async function waitForBatchJob(
  clients: Clients,
  arn: string,
  options: { onStatus?: (job: BatchJobView, elapsedMs: number) => void; timeoutSeconds?: number },
): Promise<BatchJobView> {
  const job = await waitFor({
    what: `batch inference job ${arn}`,
    poll: () => describeBatchJob(clients, arn),
    done: (j) => TERMINAL.has(j.status),
    onPoll: (j, elapsed) => options.onStatus?.(j, elapsed),
    ...pollIntervals(clients.connection.target),
    timeoutMs: (options.timeoutSeconds ?? 24 * 3600) * 1000,
    reattach: `The batch job goes on; re-attach with \`mlpipe batch-infer --arn ${arn}\`.`,
  });
  if (job.status !== 'ACTIVE')
    throw new MlpipeError(
      `Batch inference job ${job.name} failed: ${job.failureReason ?? 'no reason given'}`,
      {
        exit: ExitCode.jobFailed,
        code: 'BATCH_FAILED',
        suggestions: [`Its input: ${job.inputPath}.`],
      },
    );
  return job;
}

export interface OutputSummary {
  files: string[];
  records: number;
  errorLines: number;
  /** The first records, for a preview. */
  first: BatchRecord[];
}

/** Counts the output's lines and error lines, keeping the first few records. */
export async function summarizeOutput(clients: Clients, job: BatchJobView, keep = 3): Promise<OutputSummary> {
  const files = await outputFiles(clients, job);
  const summary: OutputSummary = { files, records: 0, errorLines: 0, first: [] };
  await scanOutput(clients, files, (line) => {
    summary.records++;
    // Error lines carry "error":"…"; good ones "error":null.
    if (!line.includes('"error":null')) summary.errorLines++;
    if (summary.first.length < keep) {
      try {
        summary.first.push(JSON.parse(line) as BatchRecord);
      } catch {
        // counted above; a preview shows only what parses
      }
    }
    return false;
  });
  return summary;
}
