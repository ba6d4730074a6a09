/**
 * Amazon Personalize data resources in the local stack, over AWS JSON 1.1 (`AmazonPersonalize.*`):
 * Create/Describe/List/Delete DatasetGroup, Schema and Dataset, and Create/Describe/List
 * DatasetImportJob.
 *
 * State lives in `<dataDir>/personalize/state.json`, replaced atomically on every change and
 * reloaded on open (a damaged file stops start-up, naming it); a request's change is visible only once
 * written (`StateFile.commit`), so a full disk leaves no half-made resource. Dataset groups and datasets go CREATE PENDING → CREATE IN_PROGRESS → ACTIVE in
 * the background after AWS's provisioning delays on the stack's clock (10 s and 30 s of AWS time:
 * tens of milliseconds at the default time scale; a restart resumes that). Import jobs are jobs of
 * the jobs layer (kind `personalize:dataset-import-job`), run one at a time in creation order: the
 * CSV is read from S3 here, then checked and stored by dataset-import.ts in a worker thread
 * (import-task.ts), so the stack keeps answering meanwhile; a restart turns jobs that were pending
 * or in progress into CREATE FAILED.
 */
import { assign, StateFile, untilWritten } from '../../store/state-file.js';
import { checkName, dates, newestFirst, notFound, paginate, pick, type Base } from './records.js';
import { invalid, str, type Input } from '../../core/json-input.js';
import { Buffer } from 'node:buffer';
import path from 'node:path';
import { AwsError } from '../../core/errors.js';
import { commitFile, readJson } from '../../../shared/atomic-file.js';
import type { ServiceContext } from '../../core/service.js';
import { interruptedOutcome, JobFailure, type JobQueue, type Lifecycle } from '../../jobs/index.js';
import type { S3Service } from '../s3/s3-service.js';
import { promises as fs } from 'node:fs';
import { runImportTask, type ImportTask } from './import-task.js';
import { checkSchemaForType, DataProblem, parseAvroSchema, type DatasetType } from './schema.js';
import { dataFile, datasetDataDir, personalizeDir } from './dataset-files.js';

export { loadInteractions, loadMetadata, type InteractionsData, type MetadataData } from './dataset-files.js';

export const RESTART_MESSAGE = 'The local stack restarted while this import was in progress.';

export type Status = 'CREATE PENDING' | 'CREATE IN_PROGRESS' | 'ACTIVE' | 'CREATE FAILED';
const IN_FLIGHT: ReadonlySet<Status> = new Set(['CREATE PENDING', 'CREATE IN_PROGRESS']);

/** A dataset import job's statuses as the jobs layer drives them. */
export const IMPORT_LIFECYCLE: Lifecycle<Status> = {
  pending: 'CREATE PENDING',
  running: 'CREATE IN_PROGRESS',
  succeeded: 'ACTIVE',
  failed: 'CREATE FAILED',
};
/** The jobs layer's kind for imports (what test holds name). */
export const IMPORT_JOB_KIND = 'personalize:dataset-import-job';
/** AWS time a dataset group or dataset spends in CREATE PENDING, then in CREATE IN_PROGRESS. */
const PROVISIONING_DELAYS_MS = [10_000, 30_000] as const;
/** Pending or in-progress import jobs allowed at once (AWS's quota). */
export const MAX_ACTIVE_IMPORTS = 5;

interface DatasetGroupRecord extends Base {
  name: string;
  datasetGroupArn: string;
  status: Status;
  roleArn?: string;
  kmsKeyArn?: string;
  domain?: Domain;
  failureReason?: string;
}

interface SchemaRecord extends Base {
  name: string;
  schemaArn: string;
  schema: string;
  domain?: Domain;
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

type Domain = 'ECOMMERCE' | 'VIDEO_ON_DEMAND';

function domain(input: Input): Domain | undefined {
  const value = str(input, 'domain');
  if (value !== undefined && value !== 'ECOMMERCE' && value !== 'VIDEO_ON_DEMAND')
    throw invalid(`Invalid domain ${value}: use ECOMMERCE or VIDEO_ON_DEMAND.`);
  return value;
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
  /** Imports run one at a time, in creation order. */
  private readonly imports: JobQueue<Status>;
  private seq = 0;
  private readonly state: StateFile;
  private readonly s3: S3Service;

  private constructor(private readonly ctx: ServiceContext) {
    this.s3 = ctx.service<S3Service>('s3');
    this.state = new StateFile(
      this.statePath,
      (line) => this.ctx.log(`personalize: ${line}`),
      (): PersonalizeState => ({
        datasetGroups: [...this.groups.values()],
        schemas: [...this.schemas.values()],
        datasets: [...this.datasets.values()],
        importJobs: [...this.jobs.values()],
      }),
    );
    this.imports = ctx.jobs.queue({ kind: IMPORT_JOB_KIND, lifecycle: IMPORT_LIFECYCLE, concurrency: 1 });
  }

  static async open(ctx: ServiceContext): Promise<PersonalizeService> {
    const service = new PersonalizeService(ctx);
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
      const outcome = interruptedOutcome(IMPORT_LIFECYCLE, j.status, RESTART_MESSAGE);
      if (outcome !== undefined) {
        j.status = outcome.status;
        if (outcome.failureReason !== undefined) j.failureReason = outcome.failureReason;
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

  /** Records progress the stack makes on its own (statuses); kept in memory if the write fails. */
  private save(): Promise<void> {
    return this.state.save();
  }

  /** Adds a record once it is on disk (`conflict` refuses a key taken meanwhile). */
  private insert<V>(map: Map<string, V>, key: string, value: V, conflict: () => AwsError): Promise<void> {
    return this.state.commit(() => {
      if (map.has(key)) throw conflict();
      map.set(key, value);
      return () => map.delete(key);
    });
  }

  /** Removes records once their removal is on disk. */
  private remove<V>(map: Map<string, V>, keys: string[]): Promise<void> {
    return this.state.commit(() => {
      const removed = keys.flatMap((key) => (map.has(key) ? [[key, map.get(key)!] as const] : []));
      for (const [key] of removed) map.delete(key);
      return () => {
        for (const [key, value] of removed) map.set(key, value);
      };
    });
  }

  stats(): { datasetGroups: number; datasets: number; importJobs: number } {
    return { datasetGroups: this.groups.size, datasets: this.datasets.size, importJobs: this.jobs.size };
  }

  /**
   * Waits for the last save. The jobs layer stopped the running import before (left as it is on
   * disk: the next start records it as interrupted) and the provisioning delays.
   */
  async close(): Promise<void> {
    await this.state.flush();
  }

  /** Moves a group or dataset through CREATE PENDING → CREATE IN_PROGRESS → ACTIVE in the background. */
  private activate(record: DatasetGroupRecord | DatasetRecord): void {
    // Each status shows once it is on disk (on a full disk it waits for space, still the last one).
    const step = (status: Status, signal: AbortSignal): Promise<void> =>
      untilWritten(() => {
        // Read once: `commit` runs its function twice and needs the same change both times.
        const now = this.ctx.now().toISOString();
        return this.state.commit(() => {
          const stored =
            'datasetArn' in record
              ? this.datasets.get(record.datasetArn)
              : this.groups.get(record.datasetGroupArn);
          if (stored !== record) return () => undefined;
          return assign<DatasetGroupRecord | DatasetRecord>(record, {
            status,
            lastUpdatedDateTime: now,
          });
        });
      }, signal);
    this.ctx.jobs.background('personalize: provisioning', async (signal) => {
      await this.ctx.clock.sleep(PROVISIONING_DELAYS_MS[0], signal);
      // The next delay runs from now on the clock, while the status is being written.
      const next = this.ctx.clock.sleep(PROVISIONING_DELAYS_MS[1], signal);
      next.catch(() => undefined);
      await step('CREATE IN_PROGRESS', signal);
      await next;
      await step('ACTIVE', signal);
    });
  }

  private base(): Base {
    const now = this.ctx.now().toISOString();
    return { seq: this.seq++, creationDateTime: now, lastUpdatedDateTime: now };
  }

  /** Checks other resources make on a dataset group before it is deleted (what still uses it, if anything). */
  private readonly groupUsers: ((datasetGroupArn: string) => string | undefined)[] = [];

  /** Registers a check DeleteDatasetGroup makes (solutions: the group still has solutions). */
  addGroupUser(check: (datasetGroupArn: string) => string | undefined): void {
    this.groupUsers.push(check);
  }

  /** A dataset group's status, or undefined when there is no such group. */
  datasetGroupStatus(datasetGroupArn: string): Status | undefined {
    return this.groups.get(datasetGroupArn)?.status;
  }

  /**
   * The datasets of a group training reads, each with whether an import into it completed (an
   * ACTIVE import job: then its stored data file is there).
   */
  trainingData(
    datasetGroupArn: string,
  ): Partial<Record<DatasetType, { datasetArn: string; file: string; imported: boolean }>> {
    const out: Partial<Record<DatasetType, { datasetArn: string; file: string; imported: boolean }>> = {};
    for (const d of this.datasets.values()) {
      if (d.datasetGroupArn !== datasetGroupArn) continue;
      const file = dataFile(this.ctx.dataDir, d.datasetArn);
      if (file === undefined) continue;
      const imported = [...this.jobs.values()].some(
        (j) => j.datasetArn === d.datasetArn && j.status === 'ACTIVE',
      );
      out[d.datasetType] = { datasetArn: d.datasetArn, file, imported };
    }
    return out;
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

  async createDatasetGroup(input: Input): Promise<{ datasetGroupArn: string; domain?: Domain }> {
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
    await this.insert(
      this.groups,
      arn,
      record,
      () => new AwsError('ResourceAlreadyExistsException', `Dataset group ${name} already exists.`),
    );
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
    for (const check of this.groupUsers) {
      const user = check(arn);
      if (user !== undefined)
        throw new AwsError('ResourceInUseException', `Dataset group ${g.name} is still used: ${user}`);
    }
    await this.remove(this.groups, [arn]);
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
    const record: SchemaRecord = {
      ...this.base(),
      name,
      schemaArn: arn,
      schema: text,
      ...(d === undefined ? {} : { domain: d }),
    };
    await this.insert(
      this.schemas,
      arn,
      record,
      () => new AwsError('ResourceAlreadyExistsException', `Schema ${name} already exists.`),
    );
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
    await this.remove(this.schemas, [arn]);
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
    await this.insert(
      this.datasets,
      arn,
      record,
      () =>
        new AwsError('ResourceAlreadyExistsException', `Dataset ${name} already exists in ${group.name}.`),
    );
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
    await this.state.commit(() => {
      const dataset = this.datasets.get(arn);
      const jobs = [...this.jobs.values()].filter((j) => j.datasetArn === arn);
      this.datasets.delete(arn);
      for (const j of jobs) this.jobs.delete(j.datasetImportJobArn);
      return () => {
        if (dataset !== undefined) this.datasets.set(arn, dataset);
        for (const j of jobs) this.jobs.set(j.datasetImportJobArn, j);
      };
    });
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
    if (this.ctx.jobs.closing)
      throw new AwsError('InternalFailure', 'The local stack is shutting down.', 500);
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
    await this.insert(
      this.jobs,
      arn,
      job,
      () => new AwsError('ResourceAlreadyExistsException', `Dataset import job ${jobName} already exists.`),
    );
    this.imports.submit(arn, (running) => this.runImport(job, running.signal), {
      // Each status shows once it is on disk (the jobs layer retries it on a full disk).
      onChange: (state) =>
        this.state.commit(() =>
          this.jobs.get(job.datasetImportJobArn) === job
            ? assign(job, {
                status: state.status,
                ...(state.failureReason === undefined ? {} : { failureReason: state.failureReason }),
                lastUpdatedDateTime: state.updatedAt.toISOString(),
              })
            : () => undefined,
        ),
    });
    return { datasetImportJobArn: arn };
  }

  /**
   * An import's work (CREATE IN_PROGRESS): reads the CSV, checks and stores it in a worker thread,
   * and commits the new data just before the jobs layer records ACTIVE. A problem with the data
   * fails the job with its message as the failure reason.
   */
  private async runImport(job: ImportJobRecord, signal: AbortSignal): Promise<void> {
    try {
      const dataset = this.dataset(job.datasetArn);
      const fields = parseAvroSchema(this.schema(dataset.schemaArn).schema);
      const files = await this.readCsv(job.dataSource.dataLocation);
      signal.throwIfAborted();
      const result = await runImportTask(
        {
          dataDir: this.ctx.dataDir,
          datasetArn: dataset.datasetArn,
          type: dataset.datasetType,
          fields,
          files,
          mode: job.importMode,
        },
        signal,
      );
      // The new data counts from here: committed together with the job's ACTIVE status.
      await commitFile(result.staged.tmp, result.staged.target);
      this.ctx.log(
        `personalize: ${job.jobName} imported ${result.records} records (${result.total} in the dataset)`,
      );
    } catch (error) {
      if (error instanceof DataProblem || error instanceof AwsError) throw new JobFailure(error.message);
      throw error;
    }
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
