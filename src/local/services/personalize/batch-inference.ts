/**
 * Amazon Personalize batch inference in the local stack: CreateBatchInferenceJob,
 * DescribeBatchInferenceJob and ListBatchInferenceJobs with AWS's statuses (PENDING → IN PROGRESS →
 * ACTIVE | CREATE FAILED), ARNs, pagination and errors.
 *
 * State lives in `<dataDir>/personalize/batch-inference-jobs.json`, replaced atomically on every
 * change, visible once written. A job is a job of the jobs layer (kind `personalize:batch-inference-job`, one running at
 * a time, at most 5 pending or in progress: LimitExceededException beyond, AWS's quota). It serves
 * the solution version's model loaded once through `solutions.models`, and reads the input — one
 * S3 object, or every object under a prefix, each giving `<name>.out` — line by line as it streams
 * from S3, writing each answered line (batch-records.ts) to a file of its own under
 * `<dataDir>/personalize/batch-work/<job id>/`, so memory does not grow with the number of users.
 * Only when every input has been answered are the `.out` objects put to the output path, and then
 * ACTIVE is recorded: no output appears for a job that fails. Scoring runs on the server's thread
 * (the model is already loaded there) in slices of a few milliseconds, so the stack keeps
 * answering while a job runs. A job the stack stopped (or died) during ends CREATE FAILED with a
 * reason; its work files are removed on the next start.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { readJson } from '../../../shared/atomic-file.js';
import { recommend, similarItems, type Model } from '../../../recommender/index.js';
import { AwsError } from '../../core/errors.js';
import { invalid, str, type Input } from '../../core/json-input.js';
import type { ServiceContext } from '../../core/service.js';
import {
  interruptedOutcome,
  JobFailure,
  type JobContext,
  type JobQueue,
  type Lifecycle,
} from '../../jobs/index.js';
import { assign, StateFile } from '../../store/state-file.js';
import type { S3Service } from '../s3/s3-service.js';
import { formatErrorLine, formatRecommendationLine, readBatchLine } from './batch-records.js';
import { personalizeDir } from './dataset-files.js';
import { checkName, dates, newestFirst, notFound, paginate, pick, type Base } from './records.js';
import type { SolutionResources } from './solutions.js';

export type BatchInferenceJobStatus = 'PENDING' | 'IN PROGRESS' | 'ACTIVE' | 'CREATE FAILED';

export const BATCH_INFERENCE_LIFECYCLE: Lifecycle<BatchInferenceJobStatus> = {
  pending: 'PENDING',
  running: 'IN PROGRESS',
  succeeded: 'ACTIVE',
  failed: 'CREATE FAILED',
};
/** The jobs layer's kind for batch inference jobs (what test holds name). */
export const BATCH_INFERENCE_JOB_KIND = 'personalize:batch-inference-job';
/** Batch inference jobs pending or in progress at once (AWS's quota). */
export const MAX_BATCH_JOBS_IN_PROGRESS = 5;
/** The failure reason of a job the stack stopped, or found in progress when it started. */
export const BATCH_INTERRUPTED_MESSAGE =
  'The local stack stopped while this batch inference job was running; no output was written. Create a new batch inference job.';
/** Why CreateBatchInferenceJob refuses a filter. */
export const FILTERS_NOT_SERVED_MESSAGE =
  'filterArn: filters are not served by the local stack (CreateFilter is not implemented), so a batch inference job cannot use one. Leave filterArn out, or run the job on AWS.';
/** Default and bounds of numResults. */
export const DEFAULT_NUM_RESULTS = 25;
export const MAX_NUM_RESULTS = 500;
/** Real milliseconds of scoring between yields to the event loop. */
const SLICE_MS = 8;

/** A solution version's query-time exploration (its itemExplorationConfig, as numbers). */
export interface Exploration {
  explorationWeight?: number;
  explorationItemAgeCutOff?: number;
}

interface S3DataConfig {
  path: string;
  kmsKeyArn?: string;
}

interface BatchJobRecord extends Base {
  jobName: string;
  batchInferenceJobArn: string;
  solutionVersionArn: string;
  numResults: number;
  jobInput: { s3DataSource: S3DataConfig };
  jobOutput: { s3DataDestination: S3DataConfig };
  batchInferenceJobConfig?: { itemExplorationConfig?: Record<string, string> };
  roleArn: string;
  batchInferenceJobMode: 'BATCH_INFERENCE';
  status: BatchInferenceJobStatus;
  failureReason?: string;
}

interface BatchState {
  jobs: BatchJobRecord[];
}

const JOB_MEMBERS = [
  'jobName',
  'batchInferenceJobArn',
  'failureReason',
  'solutionVersionArn',
  'numResults',
  'jobInput',
  'jobOutput',
  'batchInferenceJobConfig',
  'roleArn',
  'batchInferenceJobMode',
  'status',
  'seq',
  'creationDateTime',
  'lastUpdatedDateTime',
] as const;

const SUMMARY_MEMBERS = [
  'batchInferenceJobArn',
  'jobName',
  'status',
  'failureReason',
  'solutionVersionArn',
  'batchInferenceJobMode',
  'seq',
  'creationDateTime',
  'lastUpdatedDateTime',
] as const;

/** `s3://bucket/key` → its parts (key may be empty or a prefix). */
export function parseS3Path(location: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(location);
  return m ? { bucket: m[1]!, key: m[2] ?? '' } : undefined;
}

function s3Config(input: Input, member: 'jobInput' | 'jobOutput', inner: string): S3DataConfig {
  const outer = input[member];
  if (typeof outer !== 'object' || outer === null) throw invalid(`${member} is required.`);
  const config = (outer as Input)[inner];
  if (typeof config !== 'object' || config === null) throw invalid(`${member}.${inner} is required.`);
  const location = str(config as Input, 'path');
  if (location === undefined || location === '') throw invalid(`${member}.${inner}.path is required.`);
  if (location.length > 256 || parseS3Path(location) === undefined)
    throw invalid(
      `${member}.${inner}.path ${JSON.stringify(location)} is not an S3 location: use s3://bucket/key (a file or a prefix), at most 256 characters.`,
    );
  const kmsKeyArn = str(config as Input, 'kmsKeyArn');
  return { path: location, ...(kmsKeyArn === undefined ? {} : { kmsKeyArn }) };
}

/**
 * An itemExplorationConfig map (`{"explorationWeight":"0.3","explorationItemAgeCutOff":"30"}`,
 * strings as AWS sends them) checked and read as numbers; `where` names it in errors.
 */
export function readExplorationConfig(
  value: unknown,
  where: string,
): { config: Record<string, string>; exploration: Exploration } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid(`${where} must be a map of strings (explorationWeight, explorationItemAgeCutOff).`);
  const config: Record<string, string> = {};
  const exploration: Exploration = {};
  for (const [key, raw] of Object.entries(value as Input)) {
    if (typeof raw !== 'string') throw invalid(`${where}.${key} must be a string, e.g. "0.3".`);
    const n = raw.trim() === '' ? Number.NaN : Number(raw);
    if (key === 'explorationWeight') {
      if (!(n >= 0 && n <= 1))
        throw invalid(`${where}.explorationWeight ${JSON.stringify(raw)} must be a number from 0 to 1.`);
      exploration.explorationWeight = n;
    } else if (key === 'explorationItemAgeCutOff') {
      if (!(n > 0 && Number.isFinite(n)))
        throw invalid(
          `${where}.explorationItemAgeCutOff ${JSON.stringify(raw)} must be a positive number of days.`,
        );
      exploration.explorationItemAgeCutOff = n;
    } else
      throw invalid(
        `${where} has an unknown key ${JSON.stringify(key)}: use explorationWeight and explorationItemAgeCutOff.`,
      );
    config[key] = raw;
  }
  return { config, exploration };
}

/** numResults of a request: 1–500, default 25. */
function readNumResults(input: Input): number {
  const value = input.numResults;
  if (value === undefined || value === null) return DEFAULT_NUM_RESULTS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_NUM_RESULTS)
    throw invalid(
      `numResults must be a whole number from 1 to ${MAX_NUM_RESULTS}, got ${JSON.stringify(value)}.`,
    );
  return value;
}

/** Splits a byte stream into lines (LF or CRLF; the last line may lack its break). */
async function* lines(body: Readable): AsyncGenerator<string> {
  let rest = '';
  body.setEncoding('utf8');
  for await (const chunk of body as AsyncIterable<string>) {
    rest += chunk;
    let at: number;
    let from = 0;
    while ((at = rest.indexOf('\n', from)) >= 0) {
      const line = rest.slice(from, at);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
      from = at + 1;
    }
    rest = rest.slice(from);
  }
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

function write(stream: WriteStream, text: string): Promise<void> | undefined {
  if (stream.write(text)) return undefined;
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error): void => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}

/** Counts of what a job wrote (the server log reports them). */
export interface BatchCounts {
  files: number;
  lines: number;
  errors: number;
}

/**
 * Answers every line of `source` with `model` into `sink`, yielding to the event loop every few
 * milliseconds; the pure part of a job, shared with the benchmark.
 */
export async function answerLines(
  model: Model,
  source: AsyncIterable<string>,
  sink: (line: string) => Promise<void> | undefined,
  options: { numResults: number; exploration?: Exploration; signal?: AbortSignal },
): Promise<{ lines: number; errors: number }> {
  const wants = model.recipe === 'aws-similar-items' ? 'item' : 'user';
  const exploration = model.recipe === 'aws-user-personalization' ? (options.exploration ?? {}) : {};
  let count = 0;
  let errors = 0;
  let lineNumber = 0;
  let sliceStart = performance.now();
  for await (const line of source) {
    lineNumber++;
    if (line.trim() === '') continue;
    const query = readBatchLine(line, lineNumber, wants);
    let out: string;
    if (query.kind === 'error') {
      out = formatErrorLine(query);
      errors++;
    } else if (query.kind === 'user') {
      const r = recommend(model, { userId: query.userId, numResults: options.numResults, ...exploration });
      out = formatRecommendationLine(query.input, r.itemIds, r.scores);
    } else {
      const r = similarItems(model, { itemId: query.itemId, numResults: options.numResults });
      out = formatRecommendationLine(query.input, r.itemIds, r.scores);
    }
    count++;
    const pending = sink(`${out}\n`);
    if (pending !== undefined) await pending;
    if (performance.now() - sliceStart >= SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) throw options.signal.reason;
      sliceStart = performance.now();
    }
  }
  return { lines: count, errors };
}

export class BatchInferenceJobs {
  private readonly jobs = new Map<string, BatchJobRecord>();
  private readonly queue: JobQueue<BatchInferenceJobStatus>;
  private readonly state: StateFile;
  private readonly s3: S3Service;
  private seq = 0;

  private constructor(
    private readonly ctx: ServiceContext,
    private readonly solutions: SolutionResources,
  ) {
    this.state = new StateFile(
      path.join(personalizeDir(ctx.dataDir), 'batch-inference-jobs.json'),
      (line) => ctx.log(`personalize: ${line}`),
      (): BatchState => ({ jobs: [...this.jobs.values()] }),
    );
    this.s3 = ctx.service<S3Service>('s3');
    this.queue = ctx.jobs.queue({
      kind: BATCH_INFERENCE_JOB_KIND,
      lifecycle: BATCH_INFERENCE_LIFECYCLE,
      concurrency: 1,
      shutdownReason: BATCH_INTERRUPTED_MESSAGE,
    });
  }

  static async open(ctx: ServiceContext, solutions: SolutionResources): Promise<BatchInferenceJobs> {
    const jobs = new BatchInferenceJobs(ctx, solutions);
    await jobs.load();
    return jobs;
  }

  private get workRoot(): string {
    return path.join(personalizeDir(this.ctx.dataDir), 'batch-work');
  }

  private async load(): Promise<void> {
    const state = await readJson<BatchState>(this.state.path);
    const now = this.ctx.now().toISOString();
    let changed = false;
    for (const job of state?.jobs ?? []) {
      const outcome = interruptedOutcome(BATCH_INFERENCE_LIFECYCLE, job.status, BATCH_INTERRUPTED_MESSAGE);
      if (outcome !== undefined) {
        job.status = outcome.status;
        if (outcome.failureReason !== undefined) job.failureReason = outcome.failureReason;
        job.lastUpdatedDateTime = now;
        changed = true;
      }
      this.jobs.set(job.batchInferenceJobArn, job);
      this.seq = Math.max(this.seq, job.seq + 1);
    }
    // Work files of jobs that never finished.
    await fs.rm(this.workRoot, { recursive: true, force: true });
    if (changed) await this.save();
  }

  private save(): Promise<void> {
    return this.state.save();
  }

  stats(): { batchInferenceJobs: number } {
    return { batchInferenceJobs: this.jobs.size };
  }

  async close(): Promise<void> {
    await this.state.flush();
  }

  /** Jobs pending or in progress that use a solution version (what deleting its solution checks). */
  inFlightFor(solutionVersionArns: ReadonlySet<string>): string[] {
    return [...this.jobs.values()]
      .filter((j) => solutionVersionArns.has(j.solutionVersionArn) && this.queue.get(j.batchInferenceJobArn))
      .map((j) => j.batchInferenceJobArn);
  }

  async createBatchInferenceJob(input: Input): Promise<{ batchInferenceJobArn: string }> {
    const jobName = str(input, 'jobName', true);
    checkName(jobName, 'jobName');
    const solutionVersionArn = str(input, 'solutionVersionArn', true);
    const roleArn = str(input, 'roleArn', true);
    if (str(input, 'filterArn') !== undefined) throw invalid(FILTERS_NOT_SERVED_MESSAGE);
    const mode = str(input, 'batchInferenceJobMode');
    if (mode !== undefined && mode !== 'BATCH_INFERENCE')
      throw invalid(
        mode === 'THEME_GENERATION'
          ? 'batchInferenceJobMode THEME_GENERATION (themes from generative AI) is not served by the local stack; use BATCH_INFERENCE.'
          : `Invalid batchInferenceJobMode ${mode}: use BATCH_INFERENCE.`,
      );
    if (input.themeGenerationConfig !== undefined && input.themeGenerationConfig !== null)
      throw invalid(
        'themeGenerationConfig is for THEME_GENERATION jobs, which the local stack does not serve.',
      );
    const numResults = readNumResults(input);
    const jobInput = { s3DataSource: s3Config(input, 'jobInput', 's3DataSource') };
    const jobOutput = { s3DataDestination: s3Config(input, 'jobOutput', 's3DataDestination') };
    const configInput = input.batchInferenceJobConfig;
    let exploration: ReturnType<typeof readExplorationConfig>;
    if (configInput !== undefined && configInput !== null) {
      if (typeof configInput !== 'object' || Array.isArray(configInput))
        throw invalid('batchInferenceJobConfig must be an object with itemExplorationConfig.');
      const { itemExplorationConfig, rankingInfluence, ...other } = configInput as Input;
      if (rankingInfluence !== undefined && rankingInfluence !== null)
        throw invalid(
          'batchInferenceJobConfig.rankingInfluence is for aws-user-personalization-v2 and is not served by the local stack; leave it out.',
        );
      const unknown = Object.keys(other);
      if (unknown.length > 0)
        throw invalid(
          `batchInferenceJobConfig has unknown member(s) ${unknown.join(', ')}: use itemExplorationConfig.`,
        );
      exploration = readExplorationConfig(
        itemExplorationConfig,
        'batchInferenceJobConfig.itemExplorationConfig',
      );
    }
    const tags = input.tags;
    if (tags !== undefined && tags !== null && (!Array.isArray(tags) || tags.length > 200))
      throw invalid('tags must be a list of at most 200 {tagKey, tagValue} entries.');
    // The solution version: unknown → ResourceNotFoundException, not ACTIVE → ResourceInUseException.
    const { solutionVersion } = (await this.solutions.describeSolutionVersion({ solutionVersionArn })) as {
      solutionVersion: { status: string; recipeArn: string };
    };
    if (solutionVersion.status !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Solution version ${solutionVersionArn} is in ${solutionVersion.status} state; a batch inference job needs an ACTIVE solution version.`,
      );
    if (exploration !== undefined && !solutionVersion.recipeArn.endsWith('/aws-user-personalization'))
      throw invalid(
        `batchInferenceJobConfig.itemExplorationConfig is for aws-user-personalization solution versions; ${solutionVersionArn} uses ${solutionVersion.recipeArn}. Leave it out.`,
      );
    const batchInferenceJobArn = `arn:aws:personalize:${this.ctx.region}:${this.ctx.accountId}:batch-inference-job/${jobName}`;
    if (this.jobs.has(batchInferenceJobArn))
      throw new AwsError('ResourceAlreadyExistsException', `Batch inference job ${jobName} already exists.`);
    const active = this.queue.inFlight();
    if (active >= MAX_BATCH_JOBS_IN_PROGRESS)
      throw new AwsError(
        'LimitExceededException',
        `There are already ${active} batch inference jobs pending or in progress (limit ${MAX_BATCH_JOBS_IN_PROGRESS}). Wait for one to end.`,
      );
    if (this.ctx.jobs.closing)
      throw new AwsError('InternalFailure', 'The local stack is shutting down.', 500);
    const now = this.ctx.now().toISOString();
    const record: BatchJobRecord = {
      seq: this.seq++,
      creationDateTime: now,
      lastUpdatedDateTime: now,
      jobName,
      batchInferenceJobArn,
      solutionVersionArn,
      numResults,
      jobInput,
      jobOutput,
      ...(exploration === undefined
        ? {}
        : { batchInferenceJobConfig: { itemExplorationConfig: exploration.config } }),
      roleArn,
      batchInferenceJobMode: 'BATCH_INFERENCE',
      status: 'PENDING',
    };
    await this.state.commit(() => {
      if (this.jobs.has(batchInferenceJobArn))
        throw new AwsError(
          'ResourceAlreadyExistsException',
          `Batch inference job ${jobName} already exists.`,
        );
      this.jobs.set(batchInferenceJobArn, record);
      return () => this.jobs.delete(batchInferenceJobArn);
    });
    this.queue.submit(batchInferenceJobArn, (job) => this.run(record, exploration?.exploration, job), {
      // Each status shows once it is on disk (the jobs layer retries it on a full disk).
      onChange: (state) =>
        this.state.commit(() =>
          assign(record, {
            status: state.status,
            ...(state.failureReason === undefined ? {} : { failureReason: state.failureReason }),
            lastUpdatedDateTime: state.updatedAt.toISOString(),
          }),
        ),
    });
    return { batchInferenceJobArn };
  }

  /** The input objects: the object at the path, else every object under it as a prefix. */
  private async inputKeys(location: string): Promise<{ bucket: string; keys: string[]; base: string }> {
    const { bucket, key } = parseS3Path(location)!;
    const missing = (): JobFailure =>
      new JobFailure(`Invalid input data location: no input file found at ${location}.`);
    try {
      if (key !== '' && !key.endsWith('/')) {
        const head = await this.s3.headObject({ bucket, key }).catch((error: unknown) => {
          if (error instanceof AwsError && (error.code === 'NoSuchKey' || error.code === 'NotFound'))
            return undefined;
          throw error;
        });
        if (head !== undefined) return { bucket, keys: [key], base: key.slice(0, key.lastIndexOf('/') + 1) };
      }
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await this.s3.listObjectsV2({
          bucket,
          prefix: key,
          ...(token ? { continuationToken: token } : {}),
        });
        // Folder markers (empty keys ending in /) are not input files.
        for (const o of page.contents) if (!o.key.endsWith('/')) keys.push(o.key);
        token = page.isTruncated ? page.nextContinuationToken : undefined;
      } while (token !== undefined);
      if (keys.length === 0) throw missing();
      return { bucket, keys: keys.sort(), base: key.slice(0, key.lastIndexOf('/') + 1) };
    } catch (error) {
      if (error instanceof AwsError && error.code === 'NoSuchBucket')
        throw new JobFailure(`Invalid input data location: bucket ${bucket} does not exist (${location}).`);
      throw error;
    }
  }

  /** A job's work (IN PROGRESS): every input answered into work files, then put to S3 together. */
  private async run(
    record: BatchJobRecord,
    exploration: Exploration | undefined,
    job: JobContext,
  ): Promise<void> {
    let model: Model;
    try {
      model = await this.solutions.models.get(record.solutionVersionArn);
    } catch (error) {
      if (error instanceof AwsError) throw new JobFailure(error.message);
      throw error;
    }
    const inputs = await this.inputKeys(record.jobInput.s3DataSource.path);
    const out = parseS3Path(record.jobOutput.s3DataDestination.path)!;
    try {
      await this.s3.headBucket({ bucket: out.bucket });
    } catch (error) {
      if (error instanceof AwsError)
        throw new JobFailure(
          `Invalid output data location: bucket ${out.bucket} does not exist (${record.jobOutput.s3DataDestination.path}).`,
        );
      throw error;
    }
    const outPrefix = out.key === '' || out.key.endsWith('/') ? out.key : `${out.key}/`;
    const workDir = path.join(this.workRoot, randomBytes(8).toString('hex'));
    await fs.mkdir(workDir, { recursive: true });
    const counts: BatchCounts = { files: 0, lines: 0, errors: 0 };
    try {
      const written: { file: string; key: string }[] = [];
      for (const key of inputs.keys) {
        const object = await this.s3.getObject({ bucket: inputs.bucket, key });
        const file = path.join(workDir, `${written.length}.out`);
        const stream = createWriteStream(file);
        try {
          const result = await answerLines(model, lines(object.body), (line) => write(stream, line), {
            numResults: record.numResults,
            ...(exploration === undefined ? {} : { exploration }),
            signal: job.signal,
          });
          counts.lines += result.lines;
          counts.errors += result.errors;
        } finally {
          object.body.destroy();
          await closeStream(stream);
        }
        written.push({ file, key: `${outPrefix}${key.slice(inputs.base.length)}.out` });
        counts.files++;
      }
      if (job.signal.aborted) return;
      // Every input answered: only now does any output appear.
      for (const { file, key } of written) {
        const { size } = await fs.stat(file);
        await this.s3.putObject({
          bucket: out.bucket,
          key,
          body: createReadStream(file),
          contentLength: size,
          contentType: 'application/json',
        });
      }
      job.log(
        `${record.jobName}: ${counts.lines} lines (${counts.errors} error lines) from ${counts.files} file(s) → ${record.jobOutput.s3DataDestination.path}`,
      );
    } finally {
      await fs.rm(workDir, { recursive: true, force: true });
    }
  }

  private job(arn: string): BatchJobRecord {
    const job = this.jobs.get(arn);
    if (!job) throw notFound(arn);
    return job;
  }

  async describeBatchInferenceJob(input: Input): Promise<{ batchInferenceJob: unknown }> {
    const job = this.job(str(input, 'batchInferenceJobArn', true));
    return { batchInferenceJob: dates(pick(job, [...JOB_MEMBERS])) };
  }

  async listBatchInferenceJobs(input: Input): Promise<{ batchInferenceJobs: unknown[]; nextToken?: string }> {
    const solutionVersionArn = str(input, 'solutionVersionArn');
    const all = [...this.jobs.values()].filter(
      (j) => solutionVersionArn === undefined || j.solutionVersionArn === solutionVersionArn,
    );
    const { page, nextToken } = paginate(newestFirst(all), input);
    return {
      batchInferenceJobs: page.map((j) => dates(pick(j, [...SUMMARY_MEMBERS]))),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}
