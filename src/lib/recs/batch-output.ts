/**
 * Reading batch inference output, on both targets: which job (the newest ACTIVE one of this
 * project, or one given), its `.out` files under the output prefix, and one user's or item's
 * record found by streaming those files line by line (a 100k-line output is never held whole).
 * Lines are Personalize's: {"input":{…},"output":{"recommendedItems":[…],"scores":[…]},"error":null}.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError, translateAwsError } from '../cli/errors.js';
import { parseS3Uri, s3Uri } from '../data/lake.js';

export interface BatchJobView {
  arn: string;
  name: string;
  status: string;
  solutionVersionArn: string;
  inputPath: string;
  outputPath: string;
  numResults: number | null;
  created: string | null;
  updated: string | null;
  failureReason: string | null;
}

export interface BatchRecord {
  input: Record<string, unknown>;
  output: {
    recommendedItems?: string[];
    itemList?: { itemId: string; score?: number }[];
    scores?: number[];
  } | null;
  error: string | null;
}

export interface FoundRecord {
  record: BatchRecord;
  /** The .out file and line it was found on. */
  file: string;
  line: number;
}

export async function describeBatchJob(clients: Clients, arn: string): Promise<BatchJobView> {
  const personalize = await clients.personalize();
  const { DescribeBatchInferenceJobCommand } = await import('@aws-sdk/client-personalize');
  try {
    const { batchInferenceJob: job } = await personalize.send(
      new DescribeBatchInferenceJobCommand({ batchInferenceJobArn: arn }),
    );
    return {
      arn: job?.batchInferenceJobArn ?? arn,
      name: job?.jobName ?? '',
      status: job?.status ?? 'UNKNOWN',
      solutionVersionArn: job?.solutionVersionArn ?? '',
      inputPath: job?.jobInput?.s3DataSource?.path ?? '',
      outputPath: job?.jobOutput?.s3DataDestination?.path ?? '',
      numResults: job?.numResults ?? null,
      created: job?.creationDateTime?.toISOString() ?? null,
      updated: job?.lastUpdatedDateTime?.toISOString() ?? null,
      failureReason: job?.failureReason ?? null,
    };
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException')
      throw new MlpipeError(`No batch inference job ${arn}.`, {
        code: 'BATCH_JOB_NOT_FOUND',
        suggestions: ['`mlpipe batch-infer` starts one.'],
      });
    throw translateAwsError(error, 'Describing the batch inference job');
  }
}

/** One of this project's batch inference jobs, as ListBatchInferenceJobs gives it. */
export interface BatchJobSummary {
  arn: string;
  name: string;
  status: string;
  solutionVersionArn: string;
  created: string | null;
}

/** This project's batch inference jobs (named "<project>-…"), newest first. */
export async function listBatchJobs(clients: Clients, settings: Settings): Promise<BatchJobSummary[]> {
  const personalize = await clients.personalize();
  const { ListBatchInferenceJobsCommand } = await import('@aws-sdk/client-personalize');
  const jobs: BatchJobSummary[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await personalize.send(new ListBatchInferenceJobsCommand({ maxResults: 100, nextToken }));
      for (const job of page.batchInferenceJobs ?? []) {
        if (!(job.jobName ?? '').startsWith(`${settings.project.value}-`)) continue;
        jobs.push({
          arn: job.batchInferenceJobArn ?? '',
          name: job.jobName ?? '',
          status: job.status ?? '',
          solutionVersionArn: job.solutionVersionArn ?? '',
          created: job.creationDateTime?.toISOString() ?? null,
        });
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    throw translateAwsError(error, 'Listing batch inference jobs');
  }
  return jobs.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

/** What a batch job answers: users' recommendations, or items' similar items (aws-similar-items). */
export type BatchKind = 'users' | 'items';

/** The kind of output a solution version's batch jobs write, from its recipe. */
async function kindOfVersion(clients: Clients, solutionVersionArn: string): Promise<BatchKind | undefined> {
  const personalize = await clients.personalize();
  const { DescribeSolutionVersionCommand } = await import('@aws-sdk/client-personalize');
  try {
    const { solutionVersion } = await personalize.send(
      new DescribeSolutionVersionCommand({ solutionVersionArn }),
    );
    return solutionVersion?.recipeArn?.endsWith('/aws-similar-items') ? 'items' : 'users';
  } catch (error) {
    // A job outlives its solution version when the solution is deleted: its kind is unknown.
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw translateAwsError(error, `Describing solution version ${solutionVersionArn}`);
  }
}

/**
 * The newest ACTIVE batch inference job of this project that answers `kind` (users, or items from
 * an aws-similar-items version), or an error saying how to make one.
 */
export async function latestBatchJob(
  clients: Clients,
  settings: Settings,
  kind: BatchKind = 'users',
): Promise<BatchJobView> {
  const jobs = await listBatchJobs(clients, settings);
  const kinds = new Map<string, BatchKind | undefined>();
  const kindOf = async (job: BatchJobSummary): Promise<BatchKind | undefined> => {
    if (!kinds.has(job.solutionVersionArn))
      kinds.set(job.solutionVersionArn, await kindOfVersion(clients, job.solutionVersionArn));
    return kinds.get(job.solutionVersionArn);
  };
  let running: BatchJobSummary | undefined;
  for (const job of jobs) {
    if (job.status === 'CREATE FAILED') continue;
    if ((await kindOf(job)) !== kind) continue;
    if (job.status === 'ACTIVE') return describeBatchJob(clients, job.arn);
    running ??= job;
  }
  const what = kind === 'users' ? 'batch recommendations' : 'similar items from a batch job';
  throw new MlpipeError(
    running ? `No ${what} yet: ${running.name} is ${running.status}.` : `No ${what} yet.`,
    {
      code: 'NO_BATCH_OUTPUT',
      suggestions: [
        running
          ? `Wait for it: \`mlpipe batch-infer --arn ${running.arn}\`.`
          : kind === 'users'
            ? 'Run `mlpipe batch-infer` (or the whole pipeline: `mlpipe start-pipeline --wait`).'
            : 'Run `mlpipe batch-infer --item ID` (it uses the latest aws-similar-items version; `mlpipe train --recipe aws-similar-items` trains one).',
      ],
    },
  );
}

/** The job's `.out` files (one per input file), in key order. */
export async function outputFiles(clients: Clients, job: BatchJobView): Promise<string[]> {
  const s3 = await clients.s3();
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const { bucket, key: prefix } = parseS3Uri(job.outputPath);
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? [])
        if (object.Key?.endsWith('.out')) keys.push(s3Uri({ bucket, key: object.Key }));
      token = page.NextContinuationToken;
    } while (token !== undefined);
  } catch (error) {
    throw translateAwsError(error, `Listing the batch output ${job.outputPath}`);
  }
  return keys.sort();
}

/** Streams each line of each `.out` file to `visit`; stops when it returns true. */
export async function scanOutput(
  clients: Clients,
  files: readonly string[],
  visit: (line: string, file: string, lineNumber: number) => boolean,
): Promise<void> {
  const s3 = await clients.s3();
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  for (const file of files) {
    const { bucket, key } = parseS3Uri(file);
    let body: Readable;
    try {
      body = (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
    } catch (error) {
      throw translateAwsError(error, `Reading ${file}`);
    }
    const lines = createInterface({ input: body, crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const line of lines) {
        n++;
        if (line !== '' && visit(line, file, n)) return;
      }
    } finally {
      lines.close();
      body.destroy();
    }
  }
}

/** The record whose input is this user (or item), or undefined. */
export async function findRecord(
  clients: Clients,
  files: readonly string[],
  query: { userId: string } | { itemId: string },
): Promise<FoundRecord | undefined> {
  const [field, value] = 'userId' in query ? ['userId', query.userId] : ['itemId', query.itemId];
  // A cheap test on the raw line first: only lines that mention the value are parsed.
  const needle = JSON.stringify(value);
  let found: FoundRecord | undefined;
  await scanOutput(clients, files, (line, file, lineNumber) => {
    if (!line.includes(needle)) return false;
    let record: BatchRecord;
    try {
      record = JSON.parse(line) as BatchRecord;
    } catch {
      return false;
    }
    if (record.input?.[field] !== value) return false;
    found = { record, file, line: lineNumber };
    return true;
  });
  return found;
}

/** Every user (or item) ID the output has records for, in output order. */
export async function inputIds(
  clients: Clients,
  files: readonly string[],
  field: 'userId' | 'itemId',
): Promise<string[]> {
  const ids: string[] = [];
  const pattern = new RegExp(`"${field}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`);
  await scanOutput(clients, files, (line) => {
    const m = pattern.exec(line);
    if (m) ids.push(JSON.parse(`"${m[1]}"`) as string);
    return false;
  });
  return ids;
}
