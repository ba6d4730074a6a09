/**
 * run-etl: start the ETL stack's Glue job (or re-attach to a run), wait for it with status
 * callbacks, and read the run's report from the lake. The job, its default arguments and the
 * lake layout come from the deployed stacks, so this works the same locally and on AWS.
 *
 * Lake layout written by a run (local stack and the Glue job alike):
 *   <output_path>interactions.csv                       the output, replaced only by a successful run
 *   <output_path without "/">_etl/<run id>/report.json  rows read/written/rejected, users, items, …
 *   <output_path without "/">_etl/<run id>/rejects.csv  rejected rows: line, reason, raw
 */
import type { JobRun } from '@aws-sdk/client-glue';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { ExitCode, MlpipeError, translateAwsError } from '../cli/errors.js';
import { parseS3Uri } from '../data/lake.js';
import { requireStackOutputs } from '../infra/stacks.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { etlProgressReader, type EtlProgress } from './log-stream.js';

export interface EtlRunReport {
  rowsRead?: number;
  rowsWritten?: number;
  rowsRejected?: number;
  duplicatesCollapsed?: number;
  distinctUsers?: number;
  distinctItems?: number;
  minTimestamp?: number | null;
  maxTimestamp?: number | null;
  firstRejects?: Array<{ line: number; reason: string }>;
  meetsTrainingMinimums?: boolean;
  trainingMinimumsNote?: string;
}

export interface EtlRun {
  jobName: string;
  runId: string;
  state: string;
  startedOn: string | null;
  completedOn: string | null;
  executionSeconds: number | null;
  errorMessage: string | null;
  arguments: Record<string, string>;
  outputUri: string | null;
  reportUri: string | null;
  rejectsUri: string | null;
  report: EtlRunReport | null;
}

export const ETL_TERMINAL_STATES: ReadonlySet<string> = new Set([
  'SUCCEEDED',
  'FAILED',
  'STOPPED',
  'ERROR',
  'TIMEOUT',
  'EXPIRED',
]);
const TERMINAL = ETL_TERMINAL_STATES;

function reportBase(outputPath: string): string {
  return `${outputPath.replace(/\/+$/, '')}_etl/`;
}

async function jobName(clients: Clients, settings: Settings): Promise<string> {
  const outputs = await requireStackOutputs(clients, settings, 'etl');
  const name = outputs.JobName;
  if (name === undefined) {
    throw new MlpipeError('The ETL stack has no JobName output.', {
      code: 'STACK_OUTPUT_MISSING',
      suggestions: ['Deploy it again: `mlpipe deploy --stack etl`.'],
    });
  }
  return name;
}

async function readJson<T>(clients: Clients, uri: string): Promise<T | null> {
  const { bucket, key } = parseS3Uri(uri);
  const s3 = await clients.s3();
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse((await object.Body?.transformToString()) ?? 'null') as T;
  } catch {
    return null;
  }
}

async function describe(clients: Clients, run: JobRun, defaults: Record<string, string>): Promise<EtlRun> {
  const args = { ...defaults, ...(run.Arguments ?? {}) };
  const output = args['--output_path'];
  const base = output === undefined ? undefined : reportBase(output);
  const reportUri = base === undefined ? null : `${base}${run.Id}/report.json`;
  // The run's report document: the engine's report on success, the error and first rejects on failure.
  const doc =
    reportUri === null || !TERMINAL.has(run.JobRunState ?? '')
      ? null
      : await readJson<{
          report?: EtlRunReport;
          firstRejects?: EtlRunReport['firstRejects'];
          rejects?: string | null;
        }>(clients, reportUri);
  const report = doc?.report ?? (doc?.firstRejects === undefined ? null : { firstRejects: doc.firstRejects });
  return {
    jobName: run.JobName ?? '',
    runId: run.Id ?? '',
    state: run.JobRunState ?? 'UNKNOWN',
    startedOn: run.StartedOn?.toISOString() ?? null,
    completedOn: run.CompletedOn?.toISOString() ?? null,
    executionSeconds: run.ExecutionTime ?? null,
    errorMessage: run.ErrorMessage ?? null,
    arguments: args,
    outputUri: output === undefined ? null : `${output.replace(/\/?$/, '/')}interactions.csv`,
    reportUri,
    rejectsUri:
      base === undefined || (report?.rowsRejected ?? 0) === 0 ? null : `${base}${run.Id}/rejects.csv`,
    report,
  };
}

async function defaultArguments(clients: Clients, name: string): Promise<Record<string, string>> {
  const glue = await clients.glue();
  const { GetJobCommand } = await import('@aws-sdk/client-glue');
  try {
    return (await glue.send(new GetJobCommand({ JobName: name }))).Job?.DefaultArguments ?? {};
  } catch (error) {
    throw translateAwsError(error, `Reading Glue job ${name}`);
  }
}

/** Refuses to start when the job's input is not in the lake yet. */
async function requireInput(clients: Clients, inputPath: string | undefined): Promise<void> {
  if (inputPath === undefined) return;
  const { bucket, key } = parseS3Uri(inputPath);
  const s3 = await clients.s3();
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const listed = await s3
    .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }))
    .catch((error: unknown) => {
      throw translateAwsError(error, `Looking for the ETL input ${inputPath}`);
    });
  if ((listed.KeyCount ?? 0) === 0) {
    throw new MlpipeError(`There is no raw data at ${inputPath}.`, {
      code: 'NO_RAW_DATA',
      suggestions: ['Run `mlpipe upload-raw` first (and `mlpipe sample-data` if you have no data yet).'],
    });
  }
}

export interface StartEtlOptions {
  /** `--arg K=V`: job arguments for this run (keys with or without the leading `--`). */
  args: Record<string, string>;
}

export async function startEtlRun(
  clients: Clients,
  settings: Settings,
  options: StartEtlOptions,
): Promise<EtlRun> {
  const name = await jobName(clients, settings);
  const defaults = await defaultArguments(clients, name);
  const runArgs: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.args))
    runArgs[key.startsWith('--') ? key : `--${key}`] = value;
  await requireInput(clients, runArgs['--input_path'] ?? defaults['--input_path']);
  const glue = await clients.glue();
  const { StartJobRunCommand, GetJobRunCommand } = await import('@aws-sdk/client-glue');
  let runId: string | undefined;
  try {
    runId = (await glue.send(new StartJobRunCommand({ JobName: name, Arguments: runArgs }))).JobRunId;
  } catch (error) {
    if ((error as { name?: string }).name === 'ConcurrentRunsExceededException') {
      const running = (await listEtlRuns(clients, settings, 10)).find((r) => !TERMINAL.has(r.state));
      throw new MlpipeError(
        `A run of ${name} is already in progress${running ? ` (${running.runId})` : ''}, and the job allows no more at once.`,
        {
          code: 'CONCURRENT_RUNS_EXCEEDED',
          suggestions: [
            running
              ? `Wait for it: mlpipe run-etl --run-id ${running.runId}`
              : 'Wait for the running run to finish.',
          ],
        },
      );
    }
    throw translateAwsError(error, `Starting Glue job ${name}`);
  }
  const run = (await glue.send(new GetJobRunCommand({ JobName: name, RunId: runId }))).JobRun ?? {
    Id: runId,
    JobName: name,
  };
  return describe(clients, run, defaults);
}

/** A run id as the spinner shows it, like git's short hash: `jr_` and 7 hex digits. */
export function shortRunId(runId: string): string {
  return runId.length > 10 ? runId.slice(0, 10) : runId;
}

/** The full id of the one run whose id starts with `prefix` (a short id from the list or the spinner). */
async function runIdFromPrefix(clients: Clients, name: string, prefix: string): Promise<string | undefined> {
  const glue = await clients.glue();
  const { GetJobRunsCommand } = await import('@aws-sdk/client-glue');
  const matches: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await glue.send(new GetJobRunsCommand({ JobName: name, NextToken: nextToken }));
    for (const run of page.JobRuns ?? []) if (run.Id?.startsWith(prefix)) matches.push(run.Id);
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  if (matches.length > 1)
    throw new MlpipeError(
      `The run id ${prefix} is ambiguous: ${matches.length} runs of ${name} start with it.`,
      {
        exit: ExitCode.usage,
        code: 'RUN_ID_AMBIGUOUS',
        suggestions: [`Give more of the id, e.g. one of: ${matches.slice(0, 3).join(', ')}.`],
      },
    );
  return matches[0];
}

/** A run of the ETL job by its id, or by a unique prefix of it (as git takes short hashes). */
export async function getEtlRun(clients: Clients, settings: Settings, runId: string): Promise<EtlRun> {
  const name = await jobName(clients, settings);
  const glue = await clients.glue();
  const { GetJobRunCommand } = await import('@aws-sdk/client-glue');
  const get = async (id: string): Promise<EtlRun> => {
    const run = (await glue.send(new GetJobRunCommand({ JobName: name, RunId: id }))).JobRun;
    return describe(clients, run ?? { Id: id, JobName: name }, await defaultArguments(clients, name));
  };
  try {
    try {
      return await get(runId);
    } catch (error) {
      if ((error as { name?: string }).name !== 'EntityNotFoundException') throw error;
      const full = runId.length >= 7 ? await runIdFromPrefix(clients, name, runId) : undefined;
      if (full === undefined)
        throw new MlpipeError(`Job ${name} has no run ${runId}.`, {
          code: 'RUN_NOT_FOUND',
          suggestions: ['List the runs: `mlpipe run-etl --list`.'],
        });
      return await get(full);
    }
  } catch (error) {
    throw translateAwsError(error, `Reading run ${runId} of ${name}`);
  }
}

export async function listEtlRuns(clients: Clients, settings: Settings, max = 20): Promise<EtlRun[]> {
  const name = await jobName(clients, settings);
  const defaults = await defaultArguments(clients, name);
  const glue = await clients.glue();
  const { GetJobRunsCommand } = await import('@aws-sdk/client-glue');
  try {
    const runs = (await glue.send(new GetJobRunsCommand({ JobName: name, MaxResults: max }))).JobRuns ?? [];
    return Promise.all(runs.map((run) => describe(clients, run, defaults)));
  } catch (error) {
    throw translateAwsError(error, `Listing runs of ${name}`);
  }
}

/** Waits for a run to end; a FAILED (or stopped, timed-out) run is an error with exit code 3. */
export async function waitForEtlRun(
  clients: Clients,
  settings: Settings,
  runId: string,
  options: {
    onStatus?: (run: EtlRun, elapsedMs: number) => void;
    /** Rows read so far, from the run's log, while it runs (as often as it reports them). */
    onProgress?: (progress: EtlProgress) => void;
    timeoutSeconds?: number;
  },
): Promise<EtlRun> {
  let progress = options.onProgress === undefined ? undefined : etlProgressReader(clients, runId);
  const poll = async (): Promise<EtlRun> => {
    const current = await getEtlRun(clients, settings, runId);
    if (progress !== undefined && !TERMINAL.has(current.state)) {
      // Progress is a nicety: a log that cannot be read (no logs:GetLogEvents on AWS, say) only
      // means no row counts, never a failed wait.
      const latest = await progress(
        current.startedOn === null ? undefined : new Date(current.startedOn),
      ).catch(() => {
        progress = undefined;
        return undefined;
      });
      if (latest !== undefined) options.onProgress?.(latest);
    }
    return current;
  };
  const run = await waitFor({
    what: `ETL run ${runId}`,
    poll,
    done: (r) => TERMINAL.has(r.state),
    onPoll: (r, elapsed) => options.onStatus?.(r, elapsed),
    ...pollIntervals(clients.connection.target),
    timeoutMs: (options.timeoutSeconds ?? 48 * 3600) * 1000,
    reattach: `The run goes on; re-attach with \`mlpipe run-etl --run-id ${runId}\`.`,
  });
  if (run.state !== 'SUCCEEDED') {
    const rejects = (run.report?.firstRejects ?? []).slice(0, 5).map((r) => `line ${r.line}: ${r.reason}`);
    throw new MlpipeError(
      `ETL run ${runId} ended ${run.state}: ${run.errorMessage ?? 'no error message'}${rejects.length > 0 ? `\nFirst rejects:\n  ${rejects.join('\n  ')}` : ''}`,
      {
        exit: ExitCode.jobFailed,
        code: 'ETL_RUN_FAILED',
        suggestions: [
          run.rejectsUri
            ? `All rejects: ${run.rejectsUri}`
            : 'See the run log: `mlpipe run-etl --logs --run-id ' + runId + '`',
          'The previous output (if any) is unchanged.',
        ],
      },
    );
  }
  return run;
}
