/**
 * AWS Glue (jobs and job runs) in the local stack: CreateJob, GetJob, GetJobs, UpdateJob, DeleteJob,
 * StartJobRun, GetJobRun, GetJobRuns, BatchStopJobRun over AWS JSON 1.1 (`AWSGlue.*`).
 *
 * State lives in `<dataDir>/glue/state.json` (jobs and runs), replaced atomically on every change
 * and reloaded on open (a damaged file stops start-up, naming it). A request's change is visible only
 * once written (`StateFile.commit`): on a full disk CreateJob fails and no job is left behind; runs a restart (or crash) left STARTING/RUNNING become FAILED, STOPPING ones
 * STOPPED. Runs are jobs of the jobs layer (STARTING → RUNNING → SUCCEEDED | FAILED, STOPPING →
 * STOPPED after BatchStopJobRun, TIMEOUT after the run's Timeout) executing the local ETL engine
 * (runner.ts, which documents the job arguments and the S3 output layout). A run's log goes to
 * CloudWatch Logs as on AWS: `/aws-glue/jobs/output` and `/aws-glue/jobs/error`, one stream per run
 * id. ExecutionProperty.MaxConcurrentRuns (default 1) counts STARTING, RUNNING and STOPPING runs;
 * beyond it StartJobRun fails with ConcurrentRunsExceededException.
 */
import { StateFile } from '../../store/state-file.js';
import { invalid, str, type Input } from '../../core/json-input.js';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AwsError } from '../../core/errors.js';
import type { ServiceContext } from '../../core/service.js';
import { interruptedOutcome, type JobQueue, type JobState, type Lifecycle } from '../../jobs/index.js';
import { readJson } from '../../../shared/atomic-file.js';
import type { S3Service } from '../s3/s3-service.js';
import { RunLog } from './run-log.js';
import { executeRun, glueDir } from './runner.js';

export type JobRunState =
  'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'SUCCEEDED' | 'FAILED' | 'TIMEOUT';
const ACTIVE: ReadonlySet<JobRunState> = new Set(['STARTING', 'RUNNING', 'STOPPING']);

/** A run's states as the jobs layer drives them. */
export const RUN_LIFECYCLE: Lifecycle<JobRunState> = {
  pending: 'STARTING',
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  stopping: 'STOPPING',
  stopped: 'STOPPED',
  timedOut: 'TIMEOUT',
};

export const RESTART_MESSAGE = 'The local stack restarted while this run was in progress.';
export const SHUTDOWN_MESSAGE = 'The local stack shut down while this run was in progress.';

interface JobCommand {
  Name: string;
  ScriptLocation?: string;
  PythonVersion?: string;
  Runtime?: string;
}

export interface JobRecord {
  Name: string;
  Description?: string;
  LogUri?: string;
  Role: string;
  CreatedOn: string;
  LastModifiedOn: string;
  ExecutionProperty: { MaxConcurrentRuns: number };
  Command: JobCommand;
  DefaultArguments: Record<string, string>;
  NonOverridableArguments?: Record<string, string>;
  Connections?: unknown;
  MaxRetries: number;
  Timeout: number;
  MaxCapacity?: number;
  WorkerType?: string;
  NumberOfWorkers?: number;
  GlueVersion: string;
  ExecutionClass?: string;
  Tags?: Record<string, string>;
}

export interface RunRecord {
  Id: string;
  Attempt: number;
  JobName: string;
  StartedOn: string;
  LastModifiedOn: string;
  CompletedOn?: string;
  JobRunState: JobRunState;
  Arguments: Record<string, string>;
  ErrorMessage?: string;
  ExecutionTime: number;
  Timeout: number;
  MaxCapacity?: number;
  WorkerType?: string;
  NumberOfWorkers?: number;
  GlueVersion: string;
  LogGroupName: string;
  /** Order of creation, to sort runs started in the same millisecond. */
  seq: number;
}

interface GlueState {
  jobs: JobRecord[];
  runs: RunRecord[];
}

const JOB_UPDATE_FIELDS = [
  'Description',
  'LogUri',
  'Role',
  'ExecutionProperty',
  'Command',
  'DefaultArguments',
  'NonOverridableArguments',
  'Connections',
  'MaxRetries',
  'Timeout',
  'MaxCapacity',
  'WorkerType',
  'NumberOfWorkers',
  'GlueVersion',
  'ExecutionClass',
] as const;

function int(input: Input, name: string, min: number, max: number): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${name} must be an integer between ${min} and ${max}.`);
  return value;
}

function stringMap(input: Input, name: string): Record<string, string> | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`${name} must be a map of strings.`);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw invalid(`${name}.${k} must be a string.`);
  }
  return { ...(value as Record<string, string>) };
}

function checkJobName(name: string): void {
  if (name.length > 255 || !/^[\u0020-\uD7FF\uE000-\uFFFD\t]*$/.test(name))
    throw invalid(`Invalid job name: ${name.slice(0, 60)}`);
}

function command(input: Input): JobCommand | undefined {
  const value = input.Command;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw invalid('Command must be a structure.');
  const c = value as Input;
  const name = str(c, 'Name') ?? 'glueetl';
  if (!['glueetl', 'pythonshell', 'gluestreaming', 'glueray'].includes(name))
    throw invalid(`Command.Name ${name} is not supported: use glueetl or pythonshell.`);
  const out: JobCommand = { Name: name };
  const script = str(c, 'ScriptLocation');
  if (script !== undefined) out.ScriptLocation = script;
  const py = str(c, 'PythonVersion');
  if (py !== undefined) out.PythonVersion = py;
  const runtime = str(c, 'Runtime');
  if (runtime !== undefined) out.Runtime = runtime;
  return out;
}

function executionProperty(input: Input): { MaxConcurrentRuns: number } | undefined {
  const value = input.ExecutionProperty;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object') throw invalid('ExecutionProperty must be a structure.');
  return { MaxConcurrentRuns: int(value as Input, 'MaxConcurrentRuns', 1, 1000) ?? 1 };
}

/** Applies the optional job fields present in `input` to `job`. */
function applyJobFields(job: JobRecord, input: Input): void {
  for (const field of JOB_UPDATE_FIELDS) {
    if (input[field] === undefined || input[field] === null) continue;
    switch (field) {
      case 'Command':
        job.Command = command(input)!;
        break;
      case 'ExecutionProperty':
        job.ExecutionProperty = executionProperty(input)!;
        break;
      case 'DefaultArguments':
      case 'NonOverridableArguments':
        job[field] = stringMap(input, field)!;
        break;
      case 'MaxRetries':
        job.MaxRetries = int(input, field, 0, 10)!;
        break;
      case 'Timeout':
        job.Timeout = int(input, field, 1, 10080)!;
        break;
      case 'NumberOfWorkers':
        job.NumberOfWorkers = int(input, field, 1, 100000)!;
        break;
      case 'MaxCapacity':
        if (typeof input.MaxCapacity !== 'number') throw invalid('MaxCapacity must be a number.');
        job.MaxCapacity = input.MaxCapacity;
        break;
      case 'Connections':
        job.Connections = input.Connections;
        break;
      case 'Role':
        job.Role = str(input, field, true);
        break;
      default:
        job[field] = str(input, field) ?? '';
    }
  }
}

function pageToken(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid('NextToken must be a string.');
  return value;
}

function encodeToken(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  return Buffer.from(token, 'base64url').toString('utf8');
}

export class GlueService {
  private jobs = new Map<string, JobRecord>();
  private runs = new Map<string, RunRecord>();
  private readonly queue: JobQueue<JobRunState>;
  private seq = 0;
  private readonly state: StateFile;
  private readonly s3: S3Service;

  private constructor(private readonly ctx: ServiceContext) {
    this.s3 = ctx.service<S3Service>('s3');
    this.state = new StateFile(
      this.statePath,
      (line) => this.ctx.log(`glue: ${line}`),
      () => ({ jobs: [...this.jobs.values()], runs: [...this.runs.values()] }),
    );
    this.queue = ctx.jobs.queue({
      kind: 'glue:job-run',
      lifecycle: RUN_LIFECYCLE,
      shutdownReason: SHUTDOWN_MESSAGE,
    });
  }

  static async open(ctx: ServiceContext): Promise<GlueService> {
    const service = new GlueService(ctx);
    await service.load();
    return service;
  }

  private get statePath(): string {
    return path.join(glueDir(this.ctx.dataDir), 'state.json');
  }

  private async load(): Promise<void> {
    const state = await readJson<GlueState>(this.statePath);
    await fs.rm(path.join(glueDir(this.ctx.dataDir), 'tmp'), { recursive: true, force: true });
    if (!state) return;
    for (const job of state.jobs) this.jobs.set(job.Name, job);
    let changed = false;
    const now = this.ctx.now().toISOString();
    for (const run of state.runs) {
      this.seq = Math.max(this.seq, run.seq + 1);
      const outcome = interruptedOutcome(RUN_LIFECYCLE, run.JobRunState, RESTART_MESSAGE);
      if (outcome !== undefined) {
        changed = true;
        run.JobRunState = outcome.status;
        if (outcome.failureReason !== undefined) run.ErrorMessage = outcome.failureReason;
        run.CompletedOn = now;
        run.LastModifiedOn = now;
      }
      this.runs.set(run.Id, run);
    }
    if (changed) await this.save();
  }

  /** Persists the state (a run's progress); saves are serialized so the last change always wins on disk. */
  private save(): Promise<void> {
    return this.state.save();
  }

  stats(): { jobs: number; runs: number } {
    return { jobs: this.jobs.size, runs: this.runs.size };
  }

  /**
   * Waits for the last save. In-flight runs were stopped by the jobs layer before (they end FAILED
   * with SHUTDOWN_MESSAGE).
   */
  async close(): Promise<void> {
    await this.state.flush();
  }

  private job(name: string): JobRecord {
    const job = this.jobs.get(name);
    if (!job) throw new AwsError('EntityNotFoundException', `Job ${name} not found`);
    return job;
  }

  private jobOut(job: JobRecord): Record<string, unknown> {
    const { Tags: _tags, CreatedOn, LastModifiedOn, ...rest } = job;
    return { ...rest, CreatedOn: new Date(CreatedOn), LastModifiedOn: new Date(LastModifiedOn) };
  }

  private runOut(run: RunRecord): Record<string, unknown> {
    const { seq: _seq, StartedOn, LastModifiedOn, CompletedOn, ...rest } = run;
    return {
      ...rest,
      StartedOn: new Date(StartedOn),
      LastModifiedOn: new Date(LastModifiedOn),
      ...(CompletedOn === undefined ? {} : { CompletedOn: new Date(CompletedOn) }),
    };
  }

  async createJob(input: Input): Promise<{ Name: string }> {
    const name = str(input, 'Name', true);
    checkJobName(name);
    str(input, 'Role', true);
    if (input.Command === undefined || input.Command === null) throw invalid('Command is required.');
    if (this.jobs.has(name)) throw new AwsError('AlreadyExistsException', `Job ${name} already exists.`);
    const now = this.ctx.now().toISOString();
    const job: JobRecord = {
      Name: name,
      Role: '',
      CreatedOn: now,
      LastModifiedOn: now,
      ExecutionProperty: { MaxConcurrentRuns: 1 },
      Command: { Name: 'glueetl' },
      DefaultArguments: {},
      MaxRetries: 0,
      Timeout: 2880,
      GlueVersion: '0.9',
    };
    applyJobFields(job, input);
    const tags = stringMap(input, 'Tags');
    if (tags) job.Tags = tags;
    await this.state.commit(() => {
      if (this.jobs.has(name)) throw new AwsError('AlreadyExistsException', `Job ${name} already exists.`);
      this.jobs.set(name, job);
      return () => this.jobs.delete(name);
    });
    return { Name: name };
  }

  async getJob(input: Input): Promise<{ Job: Record<string, unknown> }> {
    return { Job: this.jobOut(this.job(str(input, 'JobName', true))) };
  }

  async getJobs(input: Input): Promise<{ Jobs: Record<string, unknown>[]; NextToken?: string }> {
    const max = int(input, 'MaxResults', 1, 1000) ?? 100;
    const token = pageToken(input.NextToken);
    const names = [...this.jobs.keys()].sort();
    const after = token === undefined ? undefined : decodeToken(token);
    const start = after === undefined ? 0 : names.findIndex((n) => n > after);
    const page = start < 0 ? [] : names.slice(start, start + max);
    const more = start >= 0 && start + max < names.length;
    return {
      Jobs: page.map((n) => this.jobOut(this.jobs.get(n)!)),
      ...(more ? { NextToken: encodeToken(page[page.length - 1]!) } : {}),
    };
  }

  async updateJob(input: Input): Promise<{ JobName: string }> {
    const name = str(input, 'JobName', true);
    const update = input.JobUpdate;
    if (update === undefined || update === null || typeof update !== 'object')
      throw invalid('JobUpdate is required.');
    const copy: JobRecord = structuredClone(this.job(name));
    applyJobFields(copy, update as Input);
    copy.LastModifiedOn = this.ctx.now().toISOString();
    await this.state.commit(() => {
      const previous = this.job(name);
      this.jobs.set(name, copy);
      return () => this.jobs.set(name, previous);
    });
    return { JobName: name };
  }

  async deleteJob(input: Input): Promise<{ JobName: string }> {
    const name = str(input, 'JobName', true);
    if (!this.jobs.has(name)) return { JobName: name };
    let removed: RunRecord[] = [];
    await this.state.commit(() => {
      const job = this.jobs.get(name);
      removed = [...this.runs.values()].filter((run) => run.JobName === name);
      this.jobs.delete(name);
      for (const run of removed) this.runs.delete(run.Id);
      return () => {
        if (job !== undefined) this.jobs.set(name, job);
        for (const run of removed) this.runs.set(run.Id, run);
      };
    });
    for (const run of removed) this.queue.discard(run.Id);
    return { JobName: name };
  }

  async startJobRun(input: Input): Promise<{ JobRunId: string }> {
    const name = str(input, 'JobName', true);
    const job = this.job(name);
    if (this.ctx.jobs.closing)
      throw new AwsError('InternalServiceException', 'The local stack is shutting down.', 500);
    const args = stringMap(input, 'Arguments') ?? {};
    const checkConcurrency = (): void => {
      const active = [...this.runs.values()].filter(
        (r) => r.JobName === name && ACTIVE.has(r.JobRunState),
      ).length;
      if (active >= job.ExecutionProperty.MaxConcurrentRuns)
        throw new AwsError('ConcurrentRunsExceededException', `Concurrent runs exceeded for ${name}`);
    };
    checkConcurrency();
    const now = this.ctx.now().toISOString();
    const run: RunRecord = {
      Id: `jr_${randomBytes(32).toString('hex')}`,
      Attempt: 0,
      JobName: name,
      StartedOn: now,
      LastModifiedOn: now,
      JobRunState: 'STARTING',
      Arguments: args,
      ExecutionTime: 0,
      Timeout: int(input, 'Timeout', 1, 10080) ?? job.Timeout,
      GlueVersion: job.GlueVersion,
      LogGroupName: '/aws-glue/jobs',
      seq: this.seq++,
    };
    if (job.WorkerType !== undefined) run.WorkerType = job.WorkerType;
    if (job.NumberOfWorkers !== undefined) run.NumberOfWorkers = job.NumberOfWorkers;
    if (job.MaxCapacity !== undefined) run.MaxCapacity = job.MaxCapacity;
    await this.state.commit(() => {
      if (!this.jobs.has(name)) throw new AwsError('EntityNotFoundException', `Job ${name} not found`);
      checkConcurrency();
      this.runs.set(run.Id, run);
      return () => this.runs.delete(run.Id);
    });
    const merged = { ...job.DefaultArguments, ...args, ...(job.NonOverridableArguments ?? {}) };
    const log = new RunLog(
      this.ctx.invoke,
      run.Id,
      (line) => this.ctx.log(`glue: ${line}`),
      () => this.ctx.clock.now().getTime(),
    );
    this.queue.submit(
      run.Id,
      (job) =>
        executeRun({
          s3: this.s3,
          dataDir: this.ctx.dataDir,
          jobName: run.JobName,
          runId: run.Id,
          arguments: merged,
          signal: job.signal,
          log: (line) => log.info(line),
        }).then(() => undefined),
      {
        timeoutMs: run.Timeout * 60_000,
        timeoutReason: `Job run timed out after ${run.Timeout} minutes.`,
        onChange: (state) => this.runChanged(run, state, log),
      },
    );
    return { JobRunId: run.Id };
  }

  /** Copies the jobs layer's state into the run record; at the end, the log is complete first. */
  private async runChanged(
    run: RunRecord,
    state: Readonly<JobState<JobRunState>>,
    log: RunLog,
  ): Promise<void> {
    if (state.endedAt !== undefined) {
      const message = state.failureReason;
      const line = `Run ended ${state.status}${message ? `: ${message}` : ''}`;
      log.info(line);
      if (state.status !== 'SUCCEEDED') log.error(line);
      await log.flush();
      run.CompletedOn = state.endedAt.toISOString();
      run.ExecutionTime = Math.max(
        0,
        Math.round((state.endedAt.getTime() - Date.parse(run.StartedOn)) / 1000),
      );
      if (message !== undefined) run.ErrorMessage = message;
    }
    run.JobRunState = state.status;
    run.LastModifiedOn = state.updatedAt.toISOString();
    if (this.runs.has(run.Id)) await this.save().catch(() => undefined);
  }

  async getJobRun(input: Input): Promise<{ JobRun: Record<string, unknown> }> {
    const name = str(input, 'JobName', true);
    const id = str(input, 'RunId', true);
    this.job(name);
    const run = this.runs.get(id);
    if (!run || run.JobName !== name)
      throw new AwsError('EntityNotFoundException', `Job Run ${id} not found`);
    return { JobRun: this.runOut(run) };
  }

  async getJobRuns(input: Input): Promise<{ JobRuns: Record<string, unknown>[]; NextToken?: string }> {
    const name = str(input, 'JobName', true);
    this.job(name);
    const max = int(input, 'MaxResults', 1, 200) ?? 100;
    const token = pageToken(input.NextToken);
    const runs = [...this.runs.values()]
      .filter((r) => r.JobName === name)
      .sort((a, b) => b.StartedOn.localeCompare(a.StartedOn) || b.seq - a.seq);
    let start = 0;
    if (token !== undefined) {
      const seq = Number(decodeToken(token));
      if (!Number.isInteger(seq)) throw invalid('Invalid NextToken.');
      start = runs.findIndex((r) => r.seq < seq);
      if (start < 0) start = runs.length;
    }
    const page = runs.slice(start, start + max);
    const more = start + max < runs.length;
    return {
      JobRuns: page.map((r) => this.runOut(r)),
      ...(more ? { NextToken: encodeToken(String(page[page.length - 1]!.seq)) } : {}),
    };
  }

  async batchStopJobRun(input: Input): Promise<{
    SuccessfulSubmissions: { JobName: string; JobRunId: string }[];
    Errors: { JobName: string; JobRunId: string; ErrorDetail: { ErrorCode: string; ErrorMessage: string } }[];
  }> {
    const name = str(input, 'JobName', true);
    const ids = input.JobRunIds;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 25 || ids.some((x) => typeof x !== 'string'))
      throw invalid('JobRunIds must be a list of 1 to 25 run ids.');
    this.job(name);
    const ok: { JobName: string; JobRunId: string }[] = [];
    const errors: {
      JobName: string;
      JobRunId: string;
      ErrorDetail: { ErrorCode: string; ErrorMessage: string };
    }[] = [];
    for (const id of ids as string[]) {
      const run = this.runs.get(id);
      if (!run || run.JobName !== name) {
        errors.push({
          JobName: name,
          JobRunId: id,
          ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: `Job Run ${id} not found` },
        });
      } else if (run.JobRunState === 'STARTING' || run.JobRunState === 'RUNNING') {
        await this.queue.stop(id);
        ok.push({ JobName: name, JobRunId: id });
      } else if (run.JobRunState === 'STOPPING') {
        ok.push({ JobName: name, JobRunId: id });
      } else {
        errors.push({
          JobName: name,
          JobRunId: id,
          ErrorDetail: {
            ErrorCode: 'InvalidInputException',
            ErrorMessage: `Job Run ${id} is in state ${run.JobRunState} and cannot be stopped.`,
          },
        });
      }
    }
    return { SuccessfulSubmissions: ok, Errors: errors };
  }
}
