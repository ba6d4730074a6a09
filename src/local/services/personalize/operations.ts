/**
 * Amazon Personalize data resources in the local stack, over AWS JSON 1.1 (`AmazonPersonalize.*`):
 * Create/Describe/List/Delete DatasetGroup, Schema and Dataset, and Create/Describe/List
 * DatasetImportJob.
 *
 * State lives in `<dataDir>/personalize/state.json`, replaced atomically on every change and
 * reloaded on open. Dataset groups and datasets go CREATE PENDING → CREATE IN_PROGRESS → ACTIVE in
 * the background within a few tens of milliseconds (a restart resumes that). Import jobs run one at
 * a time in creation order: the CSV is read from S3 here, then checked and stored by data.ts in a
 * worker thread (import-task.ts), so the stack keeps answering meanwhile; a restart turns jobs that
 * were pending or in progress into CREATE FAILED. `MLPIPE_LOCAL_IMPORT_DELAY_MS` (read when a job
 * starts) holds each job in CREATE IN_PROGRESS that long, or until it is unset, so tests can observe
 * in-flight jobs.
 */
import { StateFile } from '../../store/state-file.js';
import { invalid, str, type Input } from '../../core/json-input.js';
import { Buffer } from 'node:buffer';
import path from 'node:path';
import { AwsError } from '../../core/errors.js';
import { commitFile, readJson } from '../../../shared/atomic-file.js';
import type { LocalContext } from '../../types.js';
import type { S3Service } from '../s3/operations.js';
import { promises as fs } from 'node:fs';
import { ImportStopped, startImportTask, type ImportTask, type RunningImport } from './import-task.js';
import { checkSchemaForType, DataProblem, parseAvroSchema, type DatasetType } from './schema.js';
import { datasetDataDir, personalizeDir } from './dataset-files.js';

export { loadInteractions, loadMetadata, type InteractionsData, type MetadataData } from './dataset-files.js';

export const RESTART_MESSAGE = 'The local stack restarted while this import was in progress.';

export type Status = 'CREATE PENDING' | 'CREATE IN_PROGRESS' | 'ACTIVE' | 'CREATE FAILED';
const IN_FLIGHT: ReadonlySet<Status> = new Set(['CREATE PENDING', 'CREATE IN_PROGRESS']);
/** Pending or in-progress import jobs allowed at once (AWS's quota). */
export const MAX_ACTIVE_IMPORTS = 5;

interface Base {
  seq: number;
  creationDateTime: string;
  lastUpdatedDateTime: string;
}

interface DatasetGroupRecord extends Base {
  name: string;
  datasetGroupArn: string;
  status: Status;
  roleArn?: string;
  kmsKeyArn?: string;
  domain?: string;
  failureReason?: string;
}

interface SchemaRecord extends Base {
  name: string;
  schemaArn: string;
  schema: string;
  domain?: string;
}

interface DatasetRecord extends Base {
  name: string;
  datasetArn: string;
  datasetGroupArn: string;
  datasetType: DatasetType;
  schemaArn: string;
  status: Status;
  trackingId?: string;
}

interface ImportJobRecord extends Base {
  jobName: string;
  datasetImportJobArn: string;
  datasetArn: string;
  dataSource: { dataLocation: string };
  roleArn?: string;
  status: Status;
  failureReason?: string;
  importMode: 'FULL' | 'INCREMENTAL';
  publishAttributionMetricsToS3?: boolean;
}

interface PersonalizeState {
  datasetGroups: DatasetGroupRecord[];
  schemas: SchemaRecord[];
  datasets: DatasetRecord[];
  importJobs: ImportJobRecord[];
}

function notFound(arn: string): AwsError {
  return new AwsError('ResourceNotFoundException', `Could not find resource with ARN ${arn}`);
}

function checkName(value: string, member: string): void {
  if (value.length > 63 || !/^[a-zA-Z0-9][a-zA-Z0-9\-_]*$/.test(value))
    throw invalid(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]* and have length between 1 and 63`,
    );
}

function domain(input: Input): string | undefined {
  const value = str(input, 'domain');
  if (value !== undefined && value !== 'ECOMMERCE' && value !== 'VIDEO_ON_DEMAND')
    throw invalid(`Invalid domain ${value}: use ECOMMERCE or VIDEO_ON_DEMAND.`);
  return value;
}

function dates<T extends Base>(
  record: T,
): Omit<T, 'seq' | 'creationDateTime' | 'lastUpdatedDateTime'> & {
  creationDateTime: Date;
  lastUpdatedDateTime: Date;
} {
  const { seq: _seq, creationDateTime, lastUpdatedDateTime, ...rest } = record;
  return {
    ...rest,
    creationDateTime: new Date(creationDateTime),
    lastUpdatedDateTime: new Date(lastUpdatedDateTime),
  };
}

function pick<T extends object, K extends keyof T>(record: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (record[k] !== undefined) out[k] = record[k];
  return out;
}

/**
 * One page of `records` (already in listing order) after the token's seq. Errors are the ones every
 * List operation declares or the common ones: a bad token is InvalidNextTokenException, a
 * maxResults outside the model's 1–100 a ValidationException (List*Groups/Schemas declare no
 * InvalidInputException).
 */
function paginate<T extends Base>(records: T[], input: Input): { page: T[]; nextToken?: string } {
  const max = input.maxResults;
  if (max !== undefined && max !== null) {
    if (typeof max !== 'number' || !Number.isInteger(max))
      throw new AwsError('SerializationException', 'maxResults must be an integer.');
    if (max < 1 || max > 100)
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value ${max < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
      );
  }
  const limit = typeof max === 'number' ? max : 100;
  const token = input.nextToken;
  let start = 0;
  if (token !== undefined && token !== null && token !== '') {
    if (typeof token !== 'string')
      throw new AwsError('SerializationException', 'nextToken must be a string.');
    const seq = /^[A-Za-z0-9_-]{1,64}$/.test(token)
      ? Number(Buffer.from(token, 'base64url').toString('utf8'))
      : Number.NaN;
    if (!Number.isInteger(seq)) throw new AwsError('InvalidNextTokenException', 'The token is not valid.');
    start = records.findIndex((r) => r.seq < seq);
    if (start < 0) start = records.length;
  }
  const page = records.slice(start, start + limit);
  const more = start + limit < records.length;
  return more
    ? { page, nextToken: Buffer.from(String(page[page.length - 1]!.seq), 'utf8').toString('base64url') }
    : { page };
}

/** Newest first, as Personalize lists. */
function newestFirst<T extends Base>(records: Iterable<T>): T[] {
  return [...records].sort((a, b) => b.seq - a.seq);
}

function parseS3(location: string): { bucket: string; key: string } | undefined {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export class PersonalizeService {
  private groups = new Map<string, DatasetGroupRecord>();
  private schemas = new Map<string, SchemaRecord>();
  private datasets = new Map<string, DatasetRecord>();
  private jobs = new Map<string, ImportJobRecord>();
  private queue: Promise<void> = Promise.resolve();
  /** The import whose data is being checked and stored right now (in its worker thread). */
  private running: RunningImport | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  private closing = false;
  private readonly state: StateFile;

  private constructor(
    private readonly ctx: LocalContext,
    private readonly s3: S3Service,
  ) {
    this.state = new StateFile(this.statePath, (line) => this.ctx.log(`personalize: ${line}`));
  }

  static async open(ctx: LocalContext, deps: { s3: S3Service }): Promise<PersonalizeService> {
    const service = new PersonalizeService(ctx, deps.s3);
    await service.load();
    return service;
  }

  private get statePath(): string {
    return path.join(personalizeDir(this.ctx.dataDir), 'state.json');
  }

  private arn(kind: string, name: string): string {
    return `arn:aws:personalize:${this.ctx.region}:${this.ctx.accountId}:${kind}/${name}`;
  }

  /** Removes data files an import staged but never committed (the server stopped mid-import). */
  private async sweepStagedFiles(): Promise<void> {
    const root = path.join(personalizeDir(this.ctx.dataDir), 'data');
    const entries = await fs.readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries)
      if (entry.isFile() && entry.name.startsWith('.tmp-'))
        await fs.rm(path.join(entry.parentPath, entry.name), { force: true });
  }

  private async load(): Promise<void> {
    await this.sweepStagedFiles();
    const state = await readJson<PersonalizeState>(this.statePath);
    if (!state) return;
    const now = this.ctx.now().toISOString();
    let changed = false;
    for (const g of state.datasetGroups) this.groups.set(g.datasetGroupArn, g);
    for (const s of state.schemas) this.schemas.set(s.schemaArn, s);
    for (const d of state.datasets) this.datasets.set(d.datasetArn, d);
    for (const j of state.importJobs) {
      if (IN_FLIGHT.has(j.status)) {
        j.status = 'CREATE FAILED';
        j.failureReason = RESTART_MESSAGE;
        j.lastUpdatedDateTime = now;
        changed = true;
      }
      this.jobs.set(j.datasetImportJobArn, j);
    }
    for (const r of [
      ...this.groups.values(),
      ...this.schemas.values(),
      ...this.datasets.values(),
      ...this.jobs.values(),
    ])
      this.seq = Math.max(this.seq, r.seq + 1);
    for (const r of [...this.groups.values(), ...this.datasets.values()])
      if (IN_FLIGHT.has(r.status)) this.activate(r);
    if (changed) await this.save();
  }

  private save(): Promise<void> {
    const state: PersonalizeState = {
      datasetGroups: [...this.groups.values()],
      schemas: [...this.schemas.values()],
      datasets: [...this.datasets.values()],
      importJobs: [...this.jobs.values()],
    };
    return this.state.save(state);
  }

  stats(): { datasetGroups: number; datasets: number; importJobs: number } {
    return { datasetGroups: this.groups.size, datasets: this.datasets.size, importJobs: this.jobs.size };
  }

  /** Stops scheduling work, lets the running import notice, and waits for the last save. */
  async close(): Promise<void> {
    this.closing = true;
    this.running?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.queue;
    await this.state.flush();
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** Moves a group or dataset through CREATE PENDING → CREATE IN_PROGRESS → ACTIVE in the background. */
  private activate(record: DatasetGroupRecord | DatasetRecord): void {
    const step = (status: Status): void => {
      if (this.closing) return;
      const stored =
        'datasetArn' in record
          ? this.datasets.get(record.datasetArn)
          : this.groups.get(record.datasetGroupArn);
      if (stored !== record) return;
      record.status = status;
      record.lastUpdatedDateTime = this.ctx.now().toISOString();
      void this.save().catch(() => undefined);
    };
    this.later(10, () => {
      step('CREATE IN_PROGRESS');
      this.later(30, () => step('ACTIVE'));
    });
  }

  private base(): Base {
    const now = this.ctx.now().toISOString();
    return { seq: this.seq++, creationDateTime: now, lastUpdatedDateTime: now };
  }

  private group(arn: string): DatasetGroupRecord {
    const g = this.groups.get(arn);
    if (!g) throw notFound(arn);
    return g;
  }

  private dataset(arn: string): DatasetRecord {
    const d = this.datasets.get(arn);
    if (!d) throw notFound(arn);
    return d;
  }

  private schema(arn: string): SchemaRecord {
    const s = this.schemas.get(arn);
    if (!s) throw notFound(arn);
    return s;
  }

  // ---- dataset groups ----

  async createDatasetGroup(input: Input): Promise<{ datasetGroupArn: string; domain?: string }> {
    const name = str(input, 'name', true);
    checkName(name, 'name');
    const d = domain(input);
    const arn = this.arn('dataset-group', name);
    if (this.groups.has(arn))
      throw new AwsError('ResourceAlreadyExistsException', `Dataset group ${name} already exists.`);
    const record: DatasetGroupRecord = {
      ...this.base(),
      name,
      datasetGroupArn: arn,
      status: 'CREATE PENDING',
      ...pick({ roleArn: str(input, 'roleArn'), kmsKeyArn: str(input, 'kmsKeyArn'), domain: d }, [
        'roleArn',
        'kmsKeyArn',
        'domain',
      ]),
    };
    this.groups.set(arn, record);
    await this.save();
    this.activate(record);
    return { datasetGroupArn: arn, ...(d === undefined ? {} : { domain: d }) };
  }

  async describeDatasetGroup(input: Input): Promise<{ datasetGroup: unknown }> {
    return { datasetGroup: dates(this.group(str(input, 'datasetGroupArn', true))) };
  }

  async listDatasetGroups(input: Input): Promise<{ datasetGroups: unknown[]; nextToken?: string }> {
    const { page, nextToken } = paginate(newestFirst(this.groups.values()), input);
    return {
      datasetGroups: page.map((g) =>
        dates(
          pick(g, [
            'name',
            'datasetGroupArn',
            'status',
            'failureReason',
            'domain',
            'seq',
            'creationDateTime',
            'lastUpdatedDateTime',
          ]),
        ),
      ),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async deleteDatasetGroup(input: Input): Promise<Record<string, never>> {
    const arn = str(input, 'datasetGroupArn', true);
    const g = this.group(arn);
    const datasets = [...this.datasets.values()].filter((d) => d.datasetGroupArn === arn);
    if (datasets.length > 0)
      throw new AwsError(
        'ResourceInUseException',
        `Dataset group ${g.name} still has ${datasets.length} dataset(s): delete ${datasets.map((d) => d.datasetArn).join(', ')} first.`,
      );
    this.groups.delete(arn);
    await this.save();
    return {};
  }

  // ---- schemas ----

  async createSchema(input: Input): Promise<{ schemaArn: string }> {
    const name = str(input, 'name', true);
    checkName(name, 'name');
    const text = str(input, 'schema', true);
    if (text.length > 20000) throw invalid('The schema must be at most 20000 characters.');
    const d = domain(input);
    try {
      parseAvroSchema(text);
    } catch (error) {
      if (error instanceof DataProblem) throw invalid(error.message);
      throw error;
    }
    const arn = this.arn('schema', name);
    if (this.schemas.has(arn))
      throw new AwsError('ResourceAlreadyExistsException', `Schema ${name} already exists.`);
    this.schemas.set(arn, {
      ...this.base(),
      name,
      schemaArn: arn,
      schema: text,
      ...(d === undefined ? {} : { domain: d }),
    });
    await this.save();
    return { schemaArn: arn };
  }

  async describeSchema(input: Input): Promise<{ schema: unknown }> {
    return { schema: dates(this.schema(str(input, 'schemaArn', true))) };
  }

  async listSchemas(input: Input): Promise<{ schemas: unknown[]; nextToken?: string }> {
    const { page, nextToken } = paginate(newestFirst(this.schemas.values()), input);
    return {
      schemas: page.map((s) =>
        dates(pick(s, ['name', 'schemaArn', 'domain', 'seq', 'creationDateTime', 'lastUpdatedDateTime'])),
      ),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async deleteSchema(input: Input): Promise<Record<string, never>> {
    const arn = str(input, 'schemaArn', true);
    const s = this.schema(arn);
    const user = [...this.datasets.values()].find((d) => d.schemaArn === arn);
    if (user)
      throw new AwsError('ResourceInUseException', `Schema ${s.name} is used by dataset ${user.datasetArn}.`);
    this.schemas.delete(arn);
    await this.save();
    return {};
  }

  // ---- datasets ----

  async createDataset(input: Input): Promise<{ datasetArn: string }> {
    const name = str(input, 'name', true);
    checkName(name, 'name');
    const schemaArn = str(input, 'schemaArn', true);
    const groupArn = str(input, 'datasetGroupArn', true);
    const rawType = str(input, 'datasetType', true);
    const type = rawType.toUpperCase();
    if (type !== 'INTERACTIONS' && type !== 'ITEMS' && type !== 'USERS')
      throw invalid(`Invalid dataset type ${rawType}: use Interactions, Items or Users.`);
    const group = this.group(groupArn);
    const schema = this.schema(schemaArn);
    if (group.status !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Dataset group ${groupArn} is in ${group.status} state; wait until it is ACTIVE.`,
      );
    try {
      checkSchemaForType(parseAvroSchema(schema.schema), type);
    } catch (error) {
      if (error instanceof DataProblem)
        throw invalid(`Schema ${schema.name} cannot be used for a ${rawType} dataset: ${error.message}`);
      throw error;
    }
    const arn = this.arn('dataset', `${group.name}/${type}`);
    if (this.datasets.has(arn))
      throw new AwsError(
        'ResourceAlreadyExistsException',
        `Dataset group ${group.name} already has a ${type} dataset: ${arn}`,
      );
    if ([...this.datasets.values()].some((d) => d.datasetGroupArn === groupArn && d.name === name))
      throw new AwsError(
        'ResourceAlreadyExistsException',
        `Dataset ${name} already exists in ${group.name}.`,
      );
    const record: DatasetRecord = {
      ...this.base(),
      name,
      datasetArn: arn,
      datasetGroupArn: groupArn,
      datasetType: type,
      schemaArn,
      status: 'CREATE PENDING',
    };
    this.datasets.set(arn, record);
    await this.save();
    this.activate(record);
    return { datasetArn: arn };
  }

  async describeDataset(input: Input): Promise<{ dataset: unknown }> {
    return { dataset: dates(this.dataset(str(input, 'datasetArn', true))) };
  }

  async listDatasets(input: Input): Promise<{ datasets: unknown[]; nextToken?: string }> {
    const groupArn = str(input, 'datasetGroupArn');
    // ListDatasets declares no ResourceNotFoundException: an unknown group is invalid input.
    if (groupArn !== undefined && !this.groups.has(groupArn))
      throw invalid(`Could not find resource with ARN ${groupArn}`);
    const all = [...this.datasets.values()].filter(
      (d) => groupArn === undefined || d.datasetGroupArn === groupArn,
    );
    const { page, nextToken } = paginate(newestFirst(all), input);
    return {
      datasets: page.map((d) =>
        dates(
          pick(d, [
            'name',
            'datasetArn',
            'datasetType',
            'status',
            'seq',
            'creationDateTime',
            'lastUpdatedDateTime',
          ]),
        ),
      ),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async deleteDataset(input: Input): Promise<Record<string, never>> {
    const arn = str(input, 'datasetArn', true);
    this.dataset(arn);
    const running = [...this.jobs.values()].find((j) => j.datasetArn === arn && IN_FLIGHT.has(j.status));
    if (running)
      throw new AwsError(
        'ResourceInUseException',
        `Dataset ${arn} has an import in progress: ${running.datasetImportJobArn}`,
      );
    // The data goes first, while the ARN is still taken: a dataset created again under the same
    // ARN right after must not lose its new data to this delete.
    const dir = datasetDataDir(this.ctx.dataDir, arn);
    if (dir !== undefined) await fs.rm(dir, { recursive: true, force: true });
    this.datasets.delete(arn);
    for (const j of [...this.jobs.values()])
      if (j.datasetArn === arn) this.jobs.delete(j.datasetImportJobArn);
    await this.save();
    return {};
  }

  // ---- dataset import jobs ----

  async createDatasetImportJob(input: Input): Promise<{ datasetImportJobArn: string }> {
    const jobName = str(input, 'jobName', true);
    checkName(jobName, 'jobName');
    const datasetArn = str(input, 'datasetArn', true);
    const source = input.dataSource;
    if (source === undefined || source === null || typeof source !== 'object')
      throw invalid('dataSource is required.');
    const location = str(source as Input, 'dataLocation', true);
    if (parseS3(location) === undefined)
      throw invalid(`Invalid Data location ${location}: use s3://bucket/key.csv or s3://bucket/prefix/.`);
    const mode = str(input, 'importMode') ?? 'FULL';
    if (mode !== 'FULL' && mode !== 'INCREMENTAL')
      throw invalid(`Invalid importMode ${mode}: use FULL or INCREMENTAL.`);
    const publish = input.publishAttributionMetricsToS3;
    if (publish !== undefined && publish !== null && typeof publish !== 'boolean')
      throw invalid('publishAttributionMetricsToS3 must be a boolean.');
    const dataset = this.dataset(datasetArn);
    const arn = this.arn('dataset-import-job', jobName);
    if (this.jobs.has(arn))
      throw new AwsError('ResourceAlreadyExistsException', `Dataset import job ${jobName} already exists.`);
    if (dataset.status !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Dataset ${datasetArn} is in ${dataset.status} state; wait until it is ACTIVE.`,
      );
    if (
      mode === 'INCREMENTAL' &&
      ![...this.jobs.values()].some((j) => j.datasetArn === datasetArn && j.status === 'ACTIVE')
    )
      throw invalid(
        `INCREMENTAL import is not allowed for dataset ${datasetArn}: it has no completed bulk import yet. Run a FULL import first.`,
      );
    const active = [...this.jobs.values()].filter((j) => IN_FLIGHT.has(j.status)).length;
    if (active >= MAX_ACTIVE_IMPORTS)
      throw new AwsError(
        'LimitExceededException',
        `There are already ${active} dataset import jobs pending or in progress (limit ${MAX_ACTIVE_IMPORTS}).`,
      );
    if (this.closing) throw new AwsError('InternalFailure', 'The local stack is shutting down.', 500);
    const roleArn = str(input, 'roleArn');
    const job: ImportJobRecord = {
      ...this.base(),
      jobName,
      datasetImportJobArn: arn,
      datasetArn,
      dataSource: { dataLocation: location },
      status: 'CREATE PENDING',
      importMode: mode,
      ...(roleArn === undefined ? {} : { roleArn }),
      ...(typeof publish === 'boolean' ? { publishAttributionMetricsToS3: publish } : {}),
    };
    this.jobs.set(arn, job);
    await this.save();
    this.queue = this.queue
      .then(() => this.runImport(job))
      .catch((error: unknown) => {
        this.ctx.log(`personalize: import ${arn} failed: ${(error as Error)?.stack ?? String(error)}`);
      });
    return { datasetImportJobArn: arn };
  }

  private async runImport(job: ImportJobRecord): Promise<void> {
    if (this.closing || this.jobs.get(job.datasetImportJobArn) !== job) return;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.closing) return;
    job.status = 'CREATE IN_PROGRESS';
    job.lastUpdatedDateTime = this.ctx.now().toISOString();
    await this.save();
    // Test hook: hold the job in progress while the variable stays set (or until shutdown).
    const delay = Number(process.env.MLPIPE_LOCAL_IMPORT_DELAY_MS ?? 0);
    const until = Date.now() + delay;
    while (!this.closing && Date.now() < until && process.env.MLPIPE_LOCAL_IMPORT_DELAY_MS !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.closing) return; // left in flight: the next start records it as interrupted
    let status: Status = 'ACTIVE';
    let reason: string | undefined;
    try {
      const dataset = this.dataset(job.datasetArn);
      const fields = parseAvroSchema(this.schema(dataset.schemaArn).schema);
      const files = await this.readCsv(job.dataSource.dataLocation);
      if (this.closing) return; // left in flight: the next start records it as interrupted
      this.running = startImportTask({
        dataDir: this.ctx.dataDir,
        datasetArn: dataset.datasetArn,
        type: dataset.datasetType,
        fields,
        files,
        mode: job.importMode,
      });
      const result = await this.running.done.finally(() => (this.running = undefined));
      // The new data counts from here: committed together with the job's ACTIVE status below.
      await commitFile(result.staged.tmp, result.staged.target);
      this.ctx.log(
        `personalize: ${job.jobName} imported ${result.records} records (${result.total} in the dataset)`,
      );
    } catch (error) {
      if (error instanceof ImportStopped) return; // the server is closing: recorded as interrupted on the next start
      status = 'CREATE FAILED';
      if (error instanceof DataProblem || error instanceof AwsError) reason = error.message;
      else {
        reason = `Internal error: ${(error as Error)?.message ?? String(error)}`;
        this.ctx.log(
          `personalize: import ${job.jobName} failed: ${(error as Error)?.stack ?? String(error)}`,
        );
      }
    }
    job.status = status;
    if (reason !== undefined) job.failureReason = reason;
    job.lastUpdatedDateTime = this.ctx.now().toISOString();
    if (this.jobs.get(job.datasetImportJobArn) === job) await this.save();
  }

  /** The CSV file at `location`, or every *.csv directly in it when it ends in `/`. */
  private async readCsv(location: string): Promise<ImportTask['files']> {
    const { bucket, key } = parseS3(location)!;
    const none = (): DataProblem =>
      new DataProblem(`Invalid Data location: no CSV file found at ${location}.`);
    const keys: string[] = [];
    try {
      if (key === '' || key.endsWith('/')) {
        let token: string | undefined;
        do {
          const page = await this.s3.listObjectsV2({
            bucket,
            prefix: key,
            ...(token ? { continuationToken: token } : {}),
          });
          // The folder's own files: sub-folders are not imported (only data deletion jobs read them).
          for (const o of page.contents)
            if (o.key.toLowerCase().endsWith('.csv') && !o.key.slice(key.length).includes('/'))
              keys.push(o.key);
          token = page.isTruncated ? page.nextContinuationToken : undefined;
        } while (token !== undefined);
      } else {
        keys.push(key);
      }
      const files: ImportTask['files'] = [];
      for (const k of keys.sort()) {
        const object = await this.s3.getObject({ bucket, key: k });
        const chunks: Buffer[] = [];
        for await (const chunk of object.body) chunks.push(chunk as Buffer);
        // A fresh buffer of its own (never the shared pool), as it is transferred to the worker.
        const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const chunk of chunks) {
          data.set(chunk, at);
          at += chunk.length;
        }
        files.push({ name: `s3://${bucket}/${k}`, data });
      }
      if (files.length === 0) throw none();
      return files;
    } catch (error) {
      if (error instanceof AwsError && (error.code === 'NoSuchBucket' || error.code === 'NoSuchKey'))
        throw none();
      throw error;
    }
  }

  async describeDatasetImportJob(input: Input): Promise<{ datasetImportJob: unknown }> {
    const arn = str(input, 'datasetImportJobArn', true);
    const job = this.jobs.get(arn);
    if (!job) throw notFound(arn);
    return { datasetImportJob: dates(job) };
  }

  async listDatasetImportJobs(input: Input): Promise<{ datasetImportJobs: unknown[]; nextToken?: string }> {
    const datasetArn = str(input, 'datasetArn');
    // ListDatasetImportJobs declares no ResourceNotFoundException: an unknown dataset is invalid input.
    if (datasetArn !== undefined && !this.datasets.has(datasetArn))
      throw invalid(`Could not find resource with ARN ${datasetArn}`);
    const all = [...this.jobs.values()].filter(
      (j) => datasetArn === undefined || j.datasetArn === datasetArn,
    );
    const { page, nextToken } = paginate(newestFirst(all), input);
    return {
      datasetImportJobs: page.map((j) =>
        dates(
          pick(j, [
            'datasetImportJobArn',
            'jobName',
            'status',
            'failureReason',
            'importMode',
            'seq',
            'creationDateTime',
            'lastUpdatedDateTime',
          ]),
        ),
      ),
      ...(nextToken ? { nextToken } : {}),
    };
  }
}

/** The AWS JSON operation table for `registerJsonService`. */
export function personalizeHandlers(
  p: PersonalizeService,
): Record<string, (input: Input) => Promise<unknown>> {
  return {
    CreateDatasetGroup: (i) => p.createDatasetGroup(i),
    DescribeDatasetGroup: (i) => p.describeDatasetGroup(i),
    ListDatasetGroups: (i) => p.listDatasetGroups(i),
    DeleteDatasetGroup: (i) => p.deleteDatasetGroup(i),
    CreateSchema: (i) => p.createSchema(i),
    DescribeSchema: (i) => p.describeSchema(i),
    ListSchemas: (i) => p.listSchemas(i),
    DeleteSchema: (i) => p.deleteSchema(i),
    CreateDataset: (i) => p.createDataset(i),
    DescribeDataset: (i) => p.describeDataset(i),
    ListDatasets: (i) => p.listDatasets(i),
    DeleteDataset: (i) => p.deleteDataset(i),
    CreateDatasetImportJob: (i) => p.createDatasetImportJob(i),
    DescribeDatasetImportJob: (i) => p.describeDatasetImportJob(i),
    ListDatasetImportJobs: (i) => p.listDatasetImportJobs(i),
  };
}
