/**
 * Amazon Personalize training in the local stack: solutions (Create/Describe/List/DeleteSolution),
 * solution versions (Create/Describe/ListSolutionVersions, StopSolutionVersionCreation,
 * GetSolutionMetrics) and the recipes offered (ListRecipes, DescribeRecipe), with AWS's statuses,
 * ARNs, pagination and errors.
 *
 * State lives in `<dataDir>/personalize/solutions.json`, replaced atomically on every change; a
 * change (a request's, or a status the stack reaches) is visible only once written.
 * Solutions go CREATE PENDING → CREATE IN_PROGRESS → ACTIVE after provisioning delays on the
 * stack's clock. A solution version is a job of the jobs layer (kind `personalize:solution-version`,
 * one training at a time — each uses every core — the others wait in CREATE PENDING): it reads the
 * dataset group's imported interactions (and the Items dataset's creation timestamps) and trains
 * and evaluates with the recommender engine in a worker thread (training-task.ts), so the stack
 * keeps answering; the served model is written atomically (trained-models.ts) before ACTIVE is
 * recorded, with the offline metrics GetSolutionMetrics returns. Training progress goes to the
 * server log (Personalize writes no training log to CloudWatch Logs either). At most 20 versions
 * may be pending or in progress (LimitExceededException). A version the stack stopped (or died)
 * while training ends CREATE FAILED with a reason; one that was stopping ends CREATE STOPPED.
 *
 * trainingMode UPDATE (aws-user-personalization only, after an ACTIVE FULL version, as on AWS)
 * retrains on the dataset as it is now — new items and interactions included — with the
 * hyperparameters of the latest ACTIVE FULL version (its tuned ones after HPO) and no new search;
 * the engine has no warm start, so it takes as long as a FULL training without HPO.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { SolutionConfig } from '@aws-sdk/client-personalize';
import { readJson } from '../../../shared/atomic-file.js';
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
import { assign, StateFile, untilWritten } from '../../store/state-file.js';
import { HYPERPARAMETER_SPECS, type RecipeName } from '../../../recommender/index.js';
import { personalizeDir } from './dataset-files.js';
import type { PersonalizeService } from './dataset-resources.js';
import { offeredRecipe, OFFERED_RECIPES } from './recipes.js';
import { checkName, dates, newestFirst, notFound, paginate, pick, type Base } from './records.js';
import { readSolutionSettings, type SearchSettings } from './solution-config.js';
import { TrainingProblem } from './solution-training.js';
import { TrainedModels } from './trained-models.js';
import { runTrainingTask } from './training-task.js';

export type SolutionStatus = 'CREATE PENDING' | 'CREATE IN_PROGRESS' | 'ACTIVE' | 'CREATE FAILED';
export type SolutionVersionStatus = SolutionStatus | 'CREATE STOPPING' | 'CREATE STOPPED';
type TrainingMode = 'FULL' | 'UPDATE';

/** A solution version's statuses as the jobs layer drives them. */
export const SOLUTION_VERSION_LIFECYCLE: Lifecycle<SolutionVersionStatus> = {
  pending: 'CREATE PENDING',
  running: 'CREATE IN_PROGRESS',
  succeeded: 'ACTIVE',
  failed: 'CREATE FAILED',
  stopping: 'CREATE STOPPING',
  stopped: 'CREATE STOPPED',
};
/** The jobs layer's kind for trainings (what test holds name). */
export const SOLUTION_VERSION_JOB_KIND = 'personalize:solution-version';
/** Solution versions pending or in progress at once (AWS's quota). */
export const MAX_VERSIONS_IN_PROGRESS = 20;
/** The failure reason of a version the stack stopped, or found in progress when it started. */
export const INTERRUPTED_MESSAGE =
  'The local stack stopped while this solution version was being trained. Create a new solution version.';
/** CreateSolutionVersion's refusal when there is nothing imported to train on. */
export const NO_IMPORT_MESSAGE =
  'has no Interactions dataset with a completed import: import interactions (CreateDatasetImportJob) and wait until the import job is ACTIVE before creating a solution version.';
/** AWS time a solution spends in CREATE PENDING, then in CREATE IN_PROGRESS. */
const PROVISIONING_DELAYS_MS = [5_000, 10_000] as const;
/** Versions trained at once: a training uses every core, so the others wait in CREATE PENDING. */
const CONCURRENT_TRAININGS = 1;
/** Every training is seeded the same, so the same data and configuration train the same model. */
const SEED = 0;

/** How a solution trains (derived from its configuration when it was created; not on the wire). */
interface TrainingSettings {
  recipe: RecipeName;
  hyperparameters: Record<string, string>;
  eventValueThreshold?: number;
  search?: SearchSettings;
}

interface SolutionRecord extends Base {
  name: string;
  solutionArn: string;
  datasetGroupArn: string;
  recipeArn: string;
  performHPO: boolean;
  performAutoML: false;
  performAutoTraining: false;
  eventType?: string;
  solutionConfig?: SolutionConfig;
  status: SolutionStatus;
  training: TrainingSettings;
}

interface VersionRecord extends Base {
  name?: string;
  solutionVersionArn: string;
  solutionArn: string;
  datasetGroupArn: string;
  recipeArn: string;
  performHPO: boolean;
  performAutoML: false;
  eventType?: string;
  solutionConfig?: SolutionConfig;
  trainingMode: TrainingMode;
  trainingType: 'MANUAL';
  status: SolutionVersionStatus;
  failureReason?: string;
  trainingHours?: number;
  tunedHPOParams?: { algorithmHyperParameters: Record<string, string> };
  /** GetSolutionMetrics' metrics, once ACTIVE. */
  metrics?: Record<string, number>;
  /** The hyperparameters the model was trained with (what an UPDATE keeps). */
  trainedWith?: Record<string, string>;
}

interface SolutionsState {
  solutions: SolutionRecord[];
  versions: VersionRecord[];
}

const SOLUTION_MEMBERS = [
  'name',
  'solutionArn',
  'performHPO',
  'performAutoML',
  'performAutoTraining',
  'recipeArn',
  'datasetGroupArn',
  'eventType',
  'solutionConfig',
  'status',
  'seq',
  'creationDateTime',
  'lastUpdatedDateTime',
] as const;

const VERSION_MEMBERS = [
  'name',
  'solutionVersionArn',
  'solutionArn',
  'performHPO',
  'performAutoML',
  'recipeArn',
  'eventType',
  'datasetGroupArn',
  'solutionConfig',
  'trainingHours',
  'trainingMode',
  'tunedHPOParams',
  'status',
  'failureReason',
  'trainingType',
  'seq',
  'creationDateTime',
  'lastUpdatedDateTime',
] as const;

const VERSION_SUMMARY_MEMBERS = [
  'solutionVersionArn',
  'status',
  'trainingMode',
  'trainingType',
  'failureReason',
  'seq',
  'creationDateTime',
  'lastUpdatedDateTime',
] as const;

function checkTags(input: Input): void {
  const tags = input.tags;
  if (tags === undefined || tags === null) return;
  if (!Array.isArray(tags) || tags.length > 200)
    throw invalid('tags must be a list of at most 200 {tagKey, tagValue} entries.');
  for (const tag of tags)
    if (
      typeof tag !== 'object' ||
      tag === null ||
      typeof (tag as Input).tagKey !== 'string' ||
      typeof (tag as Input).tagValue !== 'string'
    )
      throw invalid('Every tag needs a tagKey and a tagValue, both strings.');
}

/**
 * What an UPDATE keeps of the version it updates: every hyperparameter it was trained with, but
 * blend weights the engine fitted (`auto` in the solution) are fitted again on the new data.
 */
function kept(trainedWith: Record<string, string>, training: TrainingSettings): Record<string, string> {
  const specs: Record<string, { type: string }> = HYPERPARAMETER_SPECS[training.recipe];
  return Object.fromEntries(
    Object.entries(trainedWith).filter(
      ([name]) => specs[name]?.type !== 'weight' || training.hyperparameters[name] !== undefined,
    ),
  );
}

export class SolutionResources {
  private readonly solutions = new Map<string, SolutionRecord>();
  private readonly versions = new Map<string, VersionRecord>();
  private readonly trainings: JobQueue<SolutionVersionStatus>;
  private readonly state: StateFile;
  private seq = 0;
  /** What refuses a solution's deletion while its versions are in use (campaigns, batch jobs). */
  private readonly versionUsers: ((solutionVersionArns: ReadonlySet<string>) => string | undefined)[] = [];
  /** The served models of ACTIVE versions (what batch inference and campaigns load). */
  readonly models: TrainedModels;

  private constructor(
    private readonly ctx: ServiceContext,
    private readonly datasets: PersonalizeService,
  ) {
    this.state = new StateFile(
      path.join(personalizeDir(ctx.dataDir), 'solutions.json'),
      (line) => ctx.log(`personalize: ${line}`),
      (): SolutionsState => ({
        solutions: [...this.solutions.values()],
        versions: [...this.versions.values()],
      }),
    );
    this.trainings = ctx.jobs.queue({
      kind: SOLUTION_VERSION_JOB_KIND,
      lifecycle: SOLUTION_VERSION_LIFECYCLE,
      concurrency: CONCURRENT_TRAININGS,
      shutdownReason: INTERRUPTED_MESSAGE,
    });
    this.models = new TrainedModels(ctx.dataDir, (arn) => this.versions.get(arn)?.status);
    datasets.addGroupUser((groupArn) => {
      const names = [...this.solutions.values()].filter((s) => s.datasetGroupArn === groupArn);
      return names.length === 0
        ? undefined
        : `delete its solution(s) first: ${names.map((s) => s.solutionArn).join(', ')}`;
    });
  }

  static async open(ctx: ServiceContext, datasets: PersonalizeService): Promise<SolutionResources> {
    const resources = new SolutionResources(ctx, datasets);
    await resources.load();
    return resources;
  }

  private arn(kind: string, name: string): string {
    return `arn:aws:personalize:${this.ctx.region}:${this.ctx.accountId}:${kind}/${name}`;
  }

  /**
   * Registers a check DeleteSolution makes: given the solution's version ARNs, the reason it cannot
   * be deleted yet (ResourceInUseException), or undefined.
   */
  addVersionUser(check: (solutionVersionArns: ReadonlySet<string>) => string | undefined): void {
    this.versionUsers.push(check);
  }

  private async load(): Promise<void> {
    const state = await readJson<SolutionsState>(this.state.path);
    const now = this.ctx.now().toISOString();
    let changed = false;
    for (const s of state?.solutions ?? []) this.solutions.set(s.solutionArn, s);
    for (const v of state?.versions ?? []) {
      const outcome = interruptedOutcome(SOLUTION_VERSION_LIFECYCLE, v.status, INTERRUPTED_MESSAGE);
      if (outcome !== undefined) {
        v.status = outcome.status;
        if (outcome.failureReason !== undefined) v.failureReason = outcome.failureReason;
        v.lastUpdatedDateTime = now;
        changed = true;
      }
      this.versions.set(v.solutionVersionArn, v);
    }
    for (const r of [...this.solutions.values(), ...this.versions.values()])
      this.seq = Math.max(this.seq, r.seq + 1);
    for (const s of this.solutions.values()) if (s.status !== 'ACTIVE') this.activate(s);
    await this.models.sweep(
      new Set(
        [...this.versions.values()].filter((v) => v.status === 'ACTIVE').map((v) => v.solutionVersionArn),
      ),
    );
    if (changed) await this.save();
  }

  private save(): Promise<void> {
    return this.state.save();
  }

  stats(): { solutions: number; solutionVersions: number } {
    return { solutions: this.solutions.size, solutionVersions: this.versions.size };
  }

  /** Waits for the last save (the jobs layer has ended the trainings before). */
  async close(): Promise<void> {
    await this.state.flush();
  }

  private base(): Base {
    const now = this.ctx.now().toISOString();
    return { seq: this.seq++, creationDateTime: now, lastUpdatedDateTime: now };
  }

  /** Moves a solution through CREATE PENDING → CREATE IN_PROGRESS → ACTIVE in the background. */
  private activate(record: SolutionRecord): void {
    // Each status shows once it is on disk (on a full disk it waits for space, still the last one).
    const step = (status: SolutionStatus, signal: AbortSignal): Promise<void> =>
      untilWritten(() => {
        // Read once: `commit` runs its function twice and needs the same change both times.
        const now = this.ctx.now().toISOString();
        return this.state.commit(() =>
          this.solutions.get(record.solutionArn) === record
            ? assign(record, { status, lastUpdatedDateTime: now })
            : () => undefined,
        );
      }, signal);
    this.ctx.jobs.background('personalize: solution provisioning', async (signal) => {
      if (record.status === 'CREATE PENDING') {
        await this.ctx.clock.sleep(PROVISIONING_DELAYS_MS[0], signal);
        // The next delay runs from now on the clock, while the status is being written.
        const next = this.ctx.clock.sleep(PROVISIONING_DELAYS_MS[1], signal);
        next.catch(() => undefined);
        await step('CREATE IN_PROGRESS', signal);
        await next;
      } else await this.ctx.clock.sleep(PROVISIONING_DELAYS_MS[1], signal);
      await step('ACTIVE', signal);
    });
  }

  private solution(arn: string): SolutionRecord {
    const s = this.solutions.get(arn);
    if (!s) throw notFound(arn);
    return s;
  }

  private version(arn: string): VersionRecord {
    const v = this.versions.get(arn);
    if (!v) throw notFound(arn);
    return v;
  }

  private versionsOf(solutionArn: string): VersionRecord[] {
    return newestFirst([...this.versions.values()].filter((v) => v.solutionArn === solutionArn));
  }

  private inFlight(v: VersionRecord): boolean {
    return this.trainings.get(v.solutionVersionArn) !== undefined;
  }

  // ---- solutions ----

  async createSolution(input: Input): Promise<{ solutionArn: string }> {
    const name = str(input, 'name', true);
    checkName(name, 'name');
    const datasetGroupArn = str(input, 'datasetGroupArn', true);
    const settings = readSolutionSettings(input);
    checkTags(input);
    const groupStatus = this.datasets.datasetGroupStatus(datasetGroupArn);
    if (groupStatus === undefined) throw notFound(datasetGroupArn);
    if (groupStatus !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Dataset group ${datasetGroupArn} is in ${groupStatus} state; wait until it is ACTIVE.`,
      );
    const solutionArn = this.arn('solution', name);
    if (this.solutions.has(solutionArn))
      throw new AwsError('ResourceAlreadyExistsException', `Solution ${name} already exists.`);
    const record: SolutionRecord = {
      ...this.base(),
      name,
      solutionArn,
      datasetGroupArn,
      recipeArn: settings.recipe.recipeArn,
      performHPO: settings.performHPO,
      performAutoML: false,
      performAutoTraining: false,
      ...(settings.eventType === undefined ? {} : { eventType: settings.eventType }),
      ...(settings.solutionConfig === undefined ? {} : { solutionConfig: settings.solutionConfig }),
      status: 'CREATE PENDING',
      training: {
        recipe: settings.recipe.name,
        hyperparameters: settings.hyperparameters,
        ...(settings.eventValueThreshold === undefined
          ? {}
          : { eventValueThreshold: settings.eventValueThreshold }),
        ...(settings.search === undefined ? {} : { search: settings.search }),
      },
    };
    await this.state.commit(() => {
      if (this.solutions.has(solutionArn))
        throw new AwsError('ResourceAlreadyExistsException', `Solution ${name} already exists.`);
      this.solutions.set(solutionArn, record);
      return () => this.solutions.delete(solutionArn);
    });
    this.activate(record);
    return { solutionArn };
  }

  private versionSummary(v: VersionRecord): unknown {
    return dates(pick(v, [...VERSION_SUMMARY_MEMBERS]));
  }

  async describeSolution(input: Input): Promise<{ solution: unknown }> {
    const s = this.solution(str(input, 'solutionArn', true));
    const latest = this.versionsOf(s.solutionArn)[0];
    return {
      solution: {
        ...dates(pick(s, [...SOLUTION_MEMBERS])),
        ...(latest === undefined ? {} : { latestSolutionVersion: this.versionSummary(latest) }),
      },
    };
  }

  async listSolutions(input: Input): Promise<{ solutions: unknown[]; nextToken?: string }> {
    const groupArn = str(input, 'datasetGroupArn');
    // ListSolutions declares no ResourceNotFoundException: an unknown group is invalid input.
    if (groupArn !== undefined && this.datasets.datasetGroupStatus(groupArn) === undefined)
      throw invalid(`Could not find resource with ARN ${groupArn}`);
    const all = [...this.solutions.values()].filter(
      (s) => groupArn === undefined || s.datasetGroupArn === groupArn,
    );
    const { page, nextToken } = paginate(newestFirst(all), input);
    return {
      solutions: page.map((s) =>
        dates(
          pick(s, [
            'name',
            'solutionArn',
            'status',
            'recipeArn',
            'seq',
            'creationDateTime',
            'lastUpdatedDateTime',
          ]),
        ),
      ),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async deleteSolution(input: Input): Promise<Record<string, never>> {
    const arn = str(input, 'solutionArn', true);
    const s = this.solution(arn);
    const training = this.versionsOf(arn).find((v) => this.inFlight(v));
    if (training)
      throw new AwsError(
        'ResourceInUseException',
        `Solution ${s.name} has a solution version in ${training.status} state: ${training.solutionVersionArn}. Stop it (StopSolutionVersionCreation) or wait for it to end.`,
      );
    const versionArns = new Set(this.versionsOf(arn).map((v) => v.solutionVersionArn));
    for (const check of this.versionUsers) {
      const reason = check(versionArns);
      if (reason !== undefined)
        throw new AwsError('ResourceInUseException', `Solution ${s.name} is in use; ${reason}.`);
    }
    // The models go first, while the ARNs are still taken.
    for (const v of this.versionsOf(arn)) await this.models.remove(v.solutionVersionArn);
    await this.state.commit(() => {
      const solution = this.solutions.get(arn);
      const versions = this.versionsOf(arn);
      for (const v of versions) this.versions.delete(v.solutionVersionArn);
      this.solutions.delete(arn);
      return () => {
        if (solution !== undefined) this.solutions.set(arn, solution);
        for (const v of versions) this.versions.set(v.solutionVersionArn, v);
      };
    });
    return {};
  }

  // ---- solution versions ----

  async createSolutionVersion(input: Input): Promise<{ solutionVersionArn: string }> {
    const solutionArn = str(input, 'solutionArn', true);
    const name = str(input, 'name');
    if (name !== undefined) checkName(name, 'name');
    const mode = str(input, 'trainingMode') ?? 'FULL';
    if (mode === 'AUTOTRAIN')
      throw invalid(
        'trainingMode AUTOTRAIN is set by Personalize for automatic training; use FULL or UPDATE.',
      );
    if (mode !== 'FULL' && mode !== 'UPDATE')
      throw invalid(`Invalid trainingMode ${mode}: use FULL or UPDATE.`);
    checkTags(input);
    const solution = this.solution(solutionArn);
    if (solution.status !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Solution ${solutionArn} is in ${solution.status} state; wait until it is ACTIVE.`,
      );
    if (name !== undefined && this.versionsOf(solutionArn).some((v) => v.name === name))
      throw new AwsError(
        'ResourceAlreadyExistsException',
        `Solution ${solution.name} already has a solution version named ${name}.`,
      );
    const data = this.datasets.trainingData(solution.datasetGroupArn);
    if (data.INTERACTIONS?.imported !== true)
      throw invalid(`Dataset group ${solution.datasetGroupArn} ${NO_IMPORT_MESSAGE}`);
    let updates: VersionRecord | undefined;
    if (mode === 'UPDATE') {
      if (solution.training.recipe !== 'aws-user-personalization')
        throw invalid(
          `trainingMode UPDATE is for aws-user-personalization solutions; ${solution.name} uses ${solution.training.recipe}. Use FULL.`,
        );
      updates = this.versionsOf(solutionArn).find((v) => v.status === 'ACTIVE' && v.trainingMode === 'FULL');
      if (updates === undefined)
        throw invalid(
          `trainingMode UPDATE needs an ACTIVE solution version of ${solution.name} trained with FULL; create one with trainingMode FULL first.`,
        );
    }
    const active = this.trainings.inFlight();
    if (active >= MAX_VERSIONS_IN_PROGRESS)
      throw new AwsError(
        'LimitExceededException',
        `There are already ${active} solution versions pending or in progress (limit ${MAX_VERSIONS_IN_PROGRESS}).`,
      );
    if (this.ctx.jobs.closing)
      throw new AwsError('InternalFailure', 'The local stack is shutting down.', 500);
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (this.versions.has(`${solutionArn}/${id}`));
    const version: VersionRecord = {
      ...this.base(),
      ...(name === undefined ? {} : { name }),
      solutionVersionArn: `${solutionArn}/${id}`,
      solutionArn,
      datasetGroupArn: solution.datasetGroupArn,
      recipeArn: solution.recipeArn,
      performHPO: solution.performHPO,
      performAutoML: false,
      ...(solution.eventType === undefined ? {} : { eventType: solution.eventType }),
      ...(solution.solutionConfig === undefined ? {} : { solutionConfig: solution.solutionConfig }),
      trainingMode: mode,
      trainingType: 'MANUAL',
      status: 'CREATE PENDING',
      ...(updates?.tunedHPOParams === undefined ? {} : { tunedHPOParams: updates.tunedHPOParams }),
    };
    await this.state.commit(() => {
      if (this.versions.has(version.solutionVersionArn))
        throw new AwsError('ResourceAlreadyExistsException', `${version.solutionVersionArn} already exists.`);
      this.versions.set(version.solutionVersionArn, version);
      return () => this.versions.delete(version.solutionVersionArn);
    });
    // What training found, shown with the ACTIVE status (both once they are on disk).
    let trained: Partial<VersionRecord> = {};
    const train = async (job: JobContext): Promise<void> => {
      trained = await this.train(version, solution, updates, job);
    };
    this.trainings.submit(version.solutionVersionArn, train, {
      onChange: (state) =>
        this.state.commit(() =>
          this.versions.get(version.solutionVersionArn) === version
            ? assign(version, {
                ...(state.status === 'ACTIVE' ? trained : {}),
                status: state.status,
                ...(state.failureReason === undefined ? {} : { failureReason: state.failureReason }),
                lastUpdatedDateTime: state.updatedAt.toISOString(),
              })
            : () => undefined,
        ),
    });
    return { solutionVersionArn: version.solutionVersionArn };
  }

  /**
   * A version's training (CREATE IN_PROGRESS): the group's data as it is now, the solution's
   * configuration (an UPDATE: the hyperparameters of the version it updates, no search), the
   * model written before the jobs layer records ACTIVE.
   */
  private async train(
    version: VersionRecord,
    solution: SolutionRecord,
    updates: VersionRecord | undefined,
    job: JobContext,
  ): Promise<Partial<VersionRecord>> {
    const data = this.datasets.trainingData(solution.datasetGroupArn);
    // The import may have been deleted since the version was created.
    if (data.INTERACTIONS?.imported !== true)
      throw new JobFailure(`Dataset group ${solution.datasetGroupArn} ${NO_IMPORT_MESSAGE}`);
    const { training } = solution;
    const started = performance.now();
    let outcome;
    try {
      outcome = await runTrainingTask(
        {
          interactionsFile: data.INTERACTIONS.file,
          ...(data.ITEMS?.imported === true ? { itemsFile: data.ITEMS.file } : {}),
          recipe: training.recipe,
          hyperparameters:
            updates?.trainedWith === undefined
              ? training.hyperparameters
              : kept(updates.trainedWith, training),
          ...(solution.eventType === undefined ? {} : { eventType: solution.eventType }),
          ...(training.eventValueThreshold === undefined
            ? {}
            : { eventValueThreshold: training.eventValueThreshold }),
          ...(training.search === undefined || updates !== undefined ? {} : { search: training.search }),
          seed: SEED,
        },
        { signal: job.signal, onProgress: (line) => job.log(line) },
      );
    } catch (error) {
      if (error instanceof TrainingProblem) throw new JobFailure(error.message);
      throw error;
    }
    if (job.signal.aborted) return {}; // stopped meanwhile: no model
    await this.models.write(version.solutionVersionArn, outcome.model);
    const trainingHours = (performance.now() - started) / 3_600_000;
    const m = outcome.metrics;
    job.log(
      `trained in ${(trainingHours * 3600).toFixed(1)} s on ${outcome.interactions} interactions: ` +
        `NDCG@10 ${m.normalized_discounted_cumulative_gain_at_10.toFixed(4)}, precision@10 ${m.precision_at_10.toFixed(4)}, ` +
        `coverage ${m.coverage.toFixed(4)} (${outcome.testUsers} test users)`,
    );
    return {
      trainingHours,
      metrics: outcome.metrics,
      trainedWith: outcome.hyperparameters,
      ...(outcome.tuned === undefined ? {} : { tunedHPOParams: { algorithmHyperParameters: outcome.tuned } }),
    };
  }

  async describeSolutionVersion(input: Input): Promise<{ solutionVersion: unknown }> {
    const v = this.version(str(input, 'solutionVersionArn', true));
    return { solutionVersion: dates(pick(v, [...VERSION_MEMBERS])) };
  }

  async listSolutionVersions(input: Input): Promise<{ solutionVersions: unknown[]; nextToken?: string }> {
    const solutionArn = str(input, 'solutionArn');
    if (solutionArn !== undefined) this.solution(solutionArn);
    const all = [...this.versions.values()].filter(
      (v) => solutionArn === undefined || v.solutionArn === solutionArn,
    );
    const { page, nextToken } = paginate(newestFirst(all), input);
    return {
      solutionVersions: page.map((v) => this.versionSummary(v)),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async stopSolutionVersionCreation(input: Input): Promise<Record<string, never>> {
    const arn = str(input, 'solutionVersionArn', true);
    const v = this.version(arn);
    if (!this.inFlight(v))
      throw invalid(
        `Solution version ${arn} is in ${v.status} state; only a version in CREATE PENDING or CREATE IN_PROGRESS can be stopped.`,
      );
    // Stopping one that is already stopping changes nothing.
    await this.trainings.stop(arn);
    return {};
  }

  async getSolutionMetrics(
    input: Input,
  ): Promise<{ solutionVersionArn: string; metrics: Record<string, number> }> {
    const arn = str(input, 'solutionVersionArn', true);
    const v = this.version(arn);
    if (v.status !== 'ACTIVE' || v.metrics === undefined) {
      if (this.inFlight(v))
        throw new AwsError(
          'ResourceInUseException',
          `Solution version ${arn} is in ${v.status} state; its metrics are there once it is ACTIVE.`,
        );
      throw invalid(`Solution version ${arn} ended ${v.status}; it has no metrics.`);
    }
    return { solutionVersionArn: arn, metrics: v.metrics };
  }

  // ---- recipes ----

  private recipeRecords(): (Base & (typeof OFFERED_RECIPES)[number])[] {
    // Listing order is the offered order; seq counts down so pagination tokens work as elsewhere.
    return OFFERED_RECIPES.map((r, i) => ({
      ...r,
      seq: OFFERED_RECIPES.length - i,
      creationDateTime: r.created,
      lastUpdatedDateTime: r.created,
    }));
  }

  async listRecipes(input: Input): Promise<{ recipes: unknown[]; nextToken?: string }> {
    const provider = str(input, 'recipeProvider');
    if (provider !== undefined && provider !== 'SERVICE')
      throw invalid(`Invalid recipeProvider ${provider}: use SERVICE.`);
    const domain = str(input, 'domain');
    if (domain !== undefined && domain !== 'ECOMMERCE' && domain !== 'VIDEO_ON_DEMAND')
      throw invalid(`Invalid domain ${domain}: use ECOMMERCE or VIDEO_ON_DEMAND.`);
    // The offered recipes are custom ones; no domain recipe is offered.
    const { page, nextToken } = paginate(domain === undefined ? this.recipeRecords() : [], input);
    return {
      recipes: page.map((r) =>
        dates({
          name: r.name,
          recipeArn: r.recipeArn,
          status: 'ACTIVE',
          seq: r.seq,
          creationDateTime: r.creationDateTime,
          lastUpdatedDateTime: r.lastUpdatedDateTime,
        }),
      ),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async describeRecipe(input: Input): Promise<{ recipe: unknown }> {
    const recipe = offeredRecipe(str(input, 'recipeArn', true));
    return {
      recipe: {
        name: recipe.name,
        recipeArn: recipe.recipeArn,
        algorithmArn: recipe.algorithmArn,
        featureTransformationArn: recipe.featureTransformationArn,
        status: 'ACTIVE',
        description: recipe.description,
        creationDateTime: new Date(recipe.created),
        recipeType: recipe.recipeType,
        lastUpdatedDateTime: new Date(recipe.created),
      },
    };
  }
}
