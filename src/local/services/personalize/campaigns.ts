/**
 * Amazon Personalize campaigns in the local stack (Create/Describe/List/Update/DeleteCampaign) and
 * the recommendations a campaign serves to Personalize Runtime (GetRecommendations,
 * GetPersonalizedRanking, in services/personalize-runtime/).
 *
 * State lives in `<dataDir>/personalize/campaigns.json`, replaced atomically on every change
 * and visible once written. A campaign goes CREATE PENDING → CREATE IN_PROGRESS → ACTIVE after provisioning delays on the
 * stack's clock; in CREATE IN_PROGRESS its solution version's model is loaded (once, through
 * `solutions.models`) into the campaigns' scoring thread (campaign-scoring.ts), where every query
 * is answered, and a model that cannot be loaded fails it (CREATE FAILED with the reason). On
 * start, the models of ACTIVE campaigns are loaded at once (`startupLoads`), not on a first request.
 * UpdateCampaign (only while ACTIVE) records `latestCampaignUpdate`, which goes through the same
 * statuses while the campaign keeps serving what it had; the new solution version, minProvisionedTPS
 * and campaignConfig take over when the update is ACTIVE. DeleteCampaign goes DELETE PENDING →
 * DELETE IN_PROGRESS → gone. minProvisionedTPS is recorded (it is what AWS bills by the hour) but
 * nothing is throttled locally. A restart resumes provisioning where it was.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { readJson } from '../../../shared/atomic-file.js';
import { RecommenderError, type RecipeName, type Recommendations } from '../../../recommender/index.js';
import { AwsError } from '../../core/errors.js';
import { invalid, str, type Input } from '../../core/json-input.js';
import type { ServiceContext } from '../../core/service.js';
import { assign, StateFile, untilWritten, type Undo } from '../../store/state-file.js';
import { readExplorationConfig, type Exploration } from './batch-inference.js';
import { CampaignScoring } from './campaign-scoring.js';
import { personalizeDir } from './dataset-files.js';
import { checkName, dates, newestFirst, notFound, paginate, pick, type Base } from './records.js';
import type { SolutionResources } from './solutions.js';

export type CampaignStatus =
  | 'CREATE PENDING'
  | 'CREATE IN_PROGRESS'
  | 'ACTIVE'
  | 'CREATE FAILED'
  | 'DELETE PENDING'
  | 'DELETE IN_PROGRESS';

/** AWS time a campaign (or an update) spends in CREATE PENDING, then CREATE IN_PROGRESS. */
export const CAMPAIGN_DELAYS_MS = [10_000, 60_000] as const;
/** AWS time a deletion spends in DELETE PENDING, then DELETE IN_PROGRESS. */
export const CAMPAIGN_DELETE_DELAYS_MS = [5_000, 10_000] as const;
/** Campaigns per account (AWS's default quota). */
export const MAX_CAMPAIGNS = 5;
/** The most recommendations one request returns. */
const MAX_RESULTS = 500;

interface CampaignConfigRecord {
  itemExplorationConfig?: Record<string, string>;
  enableMetadataWithRecommendations?: boolean;
  syncWithLatestSolutionVersion?: boolean;
}

interface UpdateRecord {
  solutionVersionArn: string;
  minProvisionedTPS: number;
  campaignConfig?: CampaignConfigRecord;
  status: CampaignStatus;
  failureReason?: string;
  creationDateTime: string;
  lastUpdatedDateTime: string;
}

interface CampaignRecord extends Base {
  name: string;
  campaignArn: string;
  solutionArn: string;
  solutionVersionArn: string;
  minProvisionedTPS: number;
  campaignConfig?: CampaignConfigRecord;
  status: CampaignStatus;
  failureReason?: string;
  latestCampaignUpdate?: UpdateRecord;
}

interface CampaignsState {
  campaigns: CampaignRecord[];
}

const CAMPAIGN_MEMBERS = [
  'name',
  'campaignArn',
  'solutionVersionArn',
  'minProvisionedTPS',
  'campaignConfig',
  'status',
  'failureReason',
  'seq',
  'creationDateTime',
  'lastUpdatedDateTime',
] as const;

/** The request's query for a campaign's model. */
export interface RecommendationsQuery {
  userId?: string;
  itemId?: string;
  numResults?: number;
}

function readTps(input: Input, fallback: number | undefined): number {
  const value = input.minProvisionedTPS;
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    return 1;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalid(`minProvisionedTPS must be a whole number of at least 1, got ${JSON.stringify(value)}.`);
  return value;
}

function readCampaignConfig(
  input: Input,
): { config: CampaignConfigRecord; exploration: Exploration | undefined } | undefined {
  const value = input.campaignConfig;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw invalid('campaignConfig must be an object with itemExplorationConfig.');
  const {
    itemExplorationConfig,
    enableMetadataWithRecommendations,
    syncWithLatestSolutionVersion,
    rankingInfluence,
    ...other
  } = value as Input;
  const unknown = Object.keys(other);
  if (unknown.length > 0)
    throw invalid(`campaignConfig has unknown member(s) ${unknown.join(', ')}: use itemExplorationConfig.`);
  if (rankingInfluence !== undefined && rankingInfluence !== null)
    throw invalid(
      'campaignConfig.rankingInfluence is for aws-user-personalization-v2 and is not served by the local stack.',
    );
  if (enableMetadataWithRecommendations === true)
    throw invalid(
      'campaignConfig.enableMetadataWithRecommendations: item metadata in recommendations is not served by the local stack; leave it false.',
    );
  if (syncWithLatestSolutionVersion === true)
    throw invalid(
      'campaignConfig.syncWithLatestSolutionVersion: automatic campaign updates are not served by the local stack; give a solution version ARN and call UpdateCampaign after training.',
    );
  const exploration = readExplorationConfig(itemExplorationConfig, 'campaignConfig.itemExplorationConfig');
  const config: CampaignConfigRecord = {
    ...(exploration === undefined ? {} : { itemExplorationConfig: exploration.config }),
    ...(typeof enableMetadataWithRecommendations === 'boolean' ? { enableMetadataWithRecommendations } : {}),
    ...(typeof syncWithLatestSolutionVersion === 'boolean' ? { syncWithLatestSolutionVersion } : {}),
  };
  return { config, exploration: exploration?.exploration };
}

function explorationOf(config: CampaignConfigRecord | undefined): Exploration {
  const e = config?.itemExplorationConfig;
  if (e === undefined) return {};
  return {
    ...(e.explorationWeight === undefined ? {} : { explorationWeight: Number(e.explorationWeight) }),
    ...(e.explorationItemAgeCutOff === undefined
      ? {}
      : { explorationItemAgeCutOff: Number(e.explorationItemAgeCutOff) }),
  };
}

function readResults(value: unknown): number {
  if (value === undefined || value === null) return 25;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_RESULTS)
    throw invalid(
      `numResults must be a whole number from 1 to ${MAX_RESULTS}, got ${JSON.stringify(value)}.`,
    );
  // AWS's model allows 0 and answers with its default.
  return value === 0 ? 25 : value;
}

export class Campaigns {
  private readonly campaigns = new Map<string, CampaignRecord>();
  private readonly state: StateFile;
  private seq = 0;
  /** Where queries are scored: one thread for every campaign. */
  private readonly scoring: CampaignScoring;
  /** The recipes of the solution versions loaded for serving (the scoring thread has them). */
  private readonly servedRecipes = new Map<string, RecipeName>();
  /** Settles when the models of the campaigns ACTIVE at start are loaded (or failed to). */
  startupLoads: Promise<void> = Promise.resolve();

  private constructor(
    private readonly ctx: ServiceContext,
    private readonly solutions: SolutionResources,
  ) {
    this.state = new StateFile(
      path.join(personalizeDir(ctx.dataDir), 'campaigns.json'),
      (line) => ctx.log(`personalize: ${line}`),
      (): CampaignsState => ({ campaigns: [...this.campaigns.values()] }),
    );
    this.scoring = new CampaignScoring(ctx.log);
  }

  static async open(ctx: ServiceContext, solutions: SolutionResources): Promise<Campaigns> {
    const campaigns = new Campaigns(ctx, solutions);
    const state = await readJson<CampaignsState>(campaigns.state.path);
    for (const c of state?.campaigns ?? []) {
      campaigns.campaigns.set(c.campaignArn, c);
      campaigns.seq = Math.max(campaigns.seq, c.seq + 1);
    }
    for (const c of campaigns.campaigns.values()) campaigns.resume(c);
    campaigns.startupLoads = Promise.all(
      [...campaigns.campaigns.values()]
        .filter((c) => c.status === 'ACTIVE')
        .map(async (c) => {
          const failure = await campaigns.loadModel(c.solutionVersionArn);
          if (failure !== undefined) ctx.log(`personalize: campaign ${c.name}: ${failure}`);
        }),
    ).then(() => undefined);
    return campaigns;
  }

  /**
   * Applies a change the stack makes on its own (provisioning) once it is on disk; on a full disk it
   * waits for space, the campaign still showing what was last written.
   */
  private progress(apply: (now: string) => Undo, signal: AbortSignal): Promise<void> {
    // The clock is read once per attempt: `commit` runs `apply` twice and needs the same change.
    return untilWritten(() => {
      const now = this.now;
      return this.state.commit(() => apply(now));
    }, signal);
  }

  stats(): { campaigns: number; campaignModels: number } {
    return { campaigns: this.campaigns.size, campaignModels: this.servedRecipes.size };
  }

  /** The solution versions whose models are loaded for serving. */
  servedVersions(): string[] {
    return [...this.servedRecipes.keys()];
  }

  async close(): Promise<void> {
    await this.state.flush();
    await this.scoring.close();
  }

  /** Unloads the models no campaign serves or is being updated to any more. */
  private dropUnusedModels(): void {
    const used = new Set(this.versionsInUse());
    for (const arn of [...this.servedRecipes.keys()])
      if (!used.has(arn)) {
        this.servedRecipes.delete(arn);
        this.scoring.unload(arn);
      }
  }

  private versionsInUse(): string[] {
    return [...this.campaigns.values()].flatMap((c) => {
      const update = c.latestCampaignUpdate;
      const updating = update?.status === 'CREATE PENDING' || update?.status === 'CREATE IN_PROGRESS';
      return updating ? [c.solutionVersionArn, update.solutionVersionArn] : [c.solutionVersionArn];
    });
  }

  /** Campaigns that serve one of these solution versions (deleting their solution is refused). */
  using(solutionVersionArns: ReadonlySet<string>): string[] {
    return [...this.campaigns.values()]
      .filter(
        (c) =>
          solutionVersionArns.has(c.solutionVersionArn) ||
          (c.latestCampaignUpdate !== undefined &&
            solutionVersionArns.has(c.latestCampaignUpdate.solutionVersionArn)),
      )
      .map((c) => c.campaignArn);
  }

  /** Picks up provisioning where a restart left it. */
  private resume(c: CampaignRecord): void {
    if (c.status === 'CREATE PENDING' || c.status === 'CREATE IN_PROGRESS') this.provision(c);
    else if (c.status === 'DELETE PENDING' || c.status === 'DELETE IN_PROGRESS') this.remove(c);
    else if (
      c.latestCampaignUpdate !== undefined &&
      (c.latestCampaignUpdate.status === 'CREATE PENDING' ||
        c.latestCampaignUpdate.status === 'CREATE IN_PROGRESS')
    )
      this.applyUpdate(c, c.latestCampaignUpdate);
  }

  private get now(): string {
    return this.ctx.now().toISOString();
  }

  private current(c: CampaignRecord): boolean {
    return this.campaigns.get(c.campaignArn) === c;
  }

  /** CREATE PENDING → CREATE IN_PROGRESS (the model loads) → ACTIVE, or CREATE FAILED. */
  private provision(c: CampaignRecord): void {
    this.ctx.jobs.background(`personalize: campaign ${c.name}`, async (signal) => {
      let next: Promise<void> | undefined;
      if (c.status === 'CREATE PENDING') {
        await this.ctx.clock.sleep(CAMPAIGN_DELAYS_MS[0], signal);
        if (!this.current(c)) return;
        // The next delay runs from now on the clock, while the status is written and the model loads.
        next = this.ctx.clock.sleep(CAMPAIGN_DELAYS_MS[1], signal);
        next.catch(() => undefined);
        await this.progress(
          (now) => assign(c, { status: 'CREATE IN_PROGRESS', lastUpdatedDateTime: now }),
          signal,
        );
      }
      const failure = await this.loadModel(c.solutionVersionArn);
      await (next ?? this.ctx.clock.sleep(CAMPAIGN_DELAYS_MS[1], signal));
      if (!this.current(c)) return;
      await this.progress(
        (now) =>
          assign(c, {
            status: failure === undefined ? 'ACTIVE' : 'CREATE FAILED',
            ...(failure === undefined ? {} : { failureReason: failure }),
            lastUpdatedDateTime: now,
          }),
        signal,
      );
    });
  }

  /**
   * Loads the version's model into the scoring thread (once); the failure reason when it cannot
   * be served, else undefined.
   */
  private async loadModel(solutionVersionArn: string): Promise<string | undefined> {
    try {
      const { model, bytes } = await this.solutions.models.loaded(solutionVersionArn);
      await this.scoring.load(solutionVersionArn, bytes);
      this.servedRecipes.set(solutionVersionArn, model.recipe);
      return undefined;
    } catch (error) {
      return `The model of solution version ${solutionVersionArn} could not be loaded: ${(error as Error).message}`;
    }
  }

  private applyUpdate(c: CampaignRecord, update: UpdateRecord): void {
    this.ctx.jobs.background(`personalize: campaign update ${c.name}`, async (signal) => {
      let next: Promise<void> | undefined;
      if (update.status === 'CREATE PENDING') {
        await this.ctx.clock.sleep(CAMPAIGN_DELAYS_MS[0], signal);
        if (!this.current(c) || c.latestCampaignUpdate !== update) return;
        next = this.ctx.clock.sleep(CAMPAIGN_DELAYS_MS[1], signal);
        next.catch(() => undefined);
        await this.progress(
          (now) => assign(update, { status: 'CREATE IN_PROGRESS', lastUpdatedDateTime: now }),
          signal,
        );
      }
      const failure = await this.loadModel(update.solutionVersionArn);
      await (next ?? this.ctx.clock.sleep(CAMPAIGN_DELAYS_MS[1], signal));
      if (!this.current(c) || c.latestCampaignUpdate !== update) return;
      await this.progress((now) => {
        const undoUpdate = assign(update, {
          status: failure === undefined ? 'ACTIVE' : 'CREATE FAILED',
          ...(failure === undefined ? {} : { failureReason: failure }),
          lastUpdatedDateTime: now,
        });
        const undoCampaign = assign(c, {
          ...(failure === undefined
            ? {
                solutionVersionArn: update.solutionVersionArn,
                minProvisionedTPS: update.minProvisionedTPS,
                campaignConfig: update.campaignConfig,
              }
            : {}),
          lastUpdatedDateTime: now,
        });
        return () => {
          undoCampaign();
          undoUpdate();
        };
      }, signal);
      this.dropUnusedModels();
    });
  }

  private remove(c: CampaignRecord): void {
    this.ctx.jobs.background(`personalize: campaign deletion ${c.name}`, async (signal) => {
      let next: Promise<void> | undefined;
      if (c.status === 'DELETE PENDING') {
        await this.ctx.clock.sleep(CAMPAIGN_DELETE_DELAYS_MS[0], signal);
        if (!this.current(c)) return;
        next = this.ctx.clock.sleep(CAMPAIGN_DELETE_DELAYS_MS[1], signal);
        next.catch(() => undefined);
        await this.progress(
          (now) => assign(c, { status: 'DELETE IN_PROGRESS', lastUpdatedDateTime: now }),
          signal,
        );
      }
      await (next ?? this.ctx.clock.sleep(CAMPAIGN_DELETE_DELAYS_MS[1], signal));
      if (!this.current(c)) return;
      await this.progress(() => {
        if (!this.current(c)) return () => undefined;
        this.campaigns.delete(c.campaignArn);
        return () => this.campaigns.set(c.campaignArn, c);
      }, signal);
      this.dropUnusedModels();
    });
  }

  private campaign(arn: string): CampaignRecord {
    const c = this.campaigns.get(arn);
    if (!c) throw notFound(arn);
    return c;
  }

  /** An ACTIVE solution version and its recipe ARN (the errors Create/UpdateCampaign give). */
  private async activeVersion(
    solutionVersionArn: string,
  ): Promise<{ recipeArn: string; solutionArn: string }> {
    if (solutionVersionArn.endsWith('/$LATEST'))
      throw invalid(
        `solutionVersionArn ${solutionVersionArn}: the SolutionArn/$LATEST form (automatic campaign updates) is not served by the local stack; give a solution version ARN.`,
      );
    const { solutionVersion } = (await this.solutions.describeSolutionVersion({ solutionVersionArn })) as {
      solutionVersion: { status: string; recipeArn: string; solutionArn: string };
    };
    if (solutionVersion.status !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Solution version ${solutionVersionArn} is in ${solutionVersion.status} state; a campaign needs an ACTIVE solution version.`,
      );
    return solutionVersion;
  }

  private static checkExplorationRecipe(
    parsed: ReturnType<typeof readCampaignConfig>,
    recipeArn: string,
    solutionVersionArn: string,
  ): void {
    if (parsed?.exploration !== undefined && !recipeArn.endsWith('/aws-user-personalization'))
      throw invalid(
        `campaignConfig.itemExplorationConfig is for aws-user-personalization solution versions; ${solutionVersionArn} uses ${recipeArn}. Leave it out.`,
      );
  }

  async createCampaign(input: Input): Promise<{ campaignArn: string }> {
    const name = str(input, 'name', true);
    checkName(name, 'name');
    const solutionVersionArn = str(input, 'solutionVersionArn', true);
    const minProvisionedTPS = readTps(input, undefined);
    const parsed = readCampaignConfig(input);
    const tags = input.tags;
    if (tags !== undefined && tags !== null && (!Array.isArray(tags) || tags.length > 200))
      throw invalid('tags must be a list of at most 200 {tagKey, tagValue} entries.');
    const version = await this.activeVersion(solutionVersionArn);
    Campaigns.checkExplorationRecipe(parsed, version.recipeArn, solutionVersionArn);
    const campaignArn = `arn:aws:personalize:${this.ctx.region}:${this.ctx.accountId}:campaign/${name}`;
    if (this.campaigns.has(campaignArn))
      throw new AwsError('ResourceAlreadyExistsException', `Campaign ${name} already exists.`);
    if (this.campaigns.size >= MAX_CAMPAIGNS)
      throw new AwsError(
        'LimitExceededException',
        `There are already ${this.campaigns.size} campaigns (limit ${MAX_CAMPAIGNS}). Delete one first.`,
      );
    const now = this.ctx.now().toISOString();
    const record: CampaignRecord = {
      seq: this.seq++,
      creationDateTime: now,
      lastUpdatedDateTime: now,
      name,
      campaignArn,
      solutionArn: version.solutionArn,
      solutionVersionArn,
      minProvisionedTPS,
      ...(parsed === undefined ? {} : { campaignConfig: parsed.config }),
      status: 'CREATE PENDING',
    };
    await this.state.commit(() => {
      if (this.campaigns.has(campaignArn))
        throw new AwsError('ResourceAlreadyExistsException', `Campaign ${name} already exists.`);
      this.campaigns.set(campaignArn, record);
      return () => this.campaigns.delete(campaignArn);
    });
    this.provision(record);
    return { campaignArn };
  }

  private view(c: CampaignRecord): unknown {
    const u = c.latestCampaignUpdate;
    return {
      ...dates(pick(c, [...CAMPAIGN_MEMBERS])),
      ...(u === undefined
        ? {}
        : {
            latestCampaignUpdate: {
              ...u,
              creationDateTime: new Date(u.creationDateTime),
              lastUpdatedDateTime: new Date(u.lastUpdatedDateTime),
            },
          }),
    };
  }

  async describeCampaign(input: Input): Promise<{ campaign: unknown }> {
    return { campaign: this.view(this.campaign(str(input, 'campaignArn', true))) };
  }

  async listCampaigns(input: Input): Promise<{ campaigns: unknown[]; nextToken?: string }> {
    const solutionArn = str(input, 'solutionArn');
    const all = [...this.campaigns.values()].filter(
      (c) => solutionArn === undefined || c.solutionArn === solutionArn,
    );
    const { page, nextToken } = paginate(newestFirst(all), input);
    return {
      campaigns: page.map((c) =>
        dates(
          pick(c, [
            'name',
            'campaignArn',
            'status',
            'failureReason',
            'seq',
            'creationDateTime',
            'lastUpdatedDateTime',
          ]),
        ),
      ),
      ...(nextToken ? { nextToken } : {}),
    };
  }

  async updateCampaign(input: Input): Promise<{ campaignArn: string }> {
    const campaignArn = str(input, 'campaignArn', true);
    const c = this.campaign(campaignArn);
    const solutionVersionArn = str(input, 'solutionVersionArn') ?? c.solutionVersionArn;
    const minProvisionedTPS = readTps(input, c.minProvisionedTPS);
    const parsed = readCampaignConfig(input);
    if (c.status !== 'ACTIVE')
      throw new AwsError(
        'ResourceInUseException',
        `Campaign ${c.name} is in ${c.status} state; only an ACTIVE campaign can be updated.`,
      );
    const pendingUpdate = c.latestCampaignUpdate;
    if (
      pendingUpdate !== undefined &&
      (pendingUpdate.status === 'CREATE PENDING' || pendingUpdate.status === 'CREATE IN_PROGRESS')
    )
      throw new AwsError(
        'ResourceInUseException',
        `Campaign ${c.name} has an update in ${pendingUpdate.status} state; wait for it to end.`,
      );
    const version = await this.activeVersion(solutionVersionArn);
    const config = parsed === undefined ? c.campaignConfig : parsed.config;
    Campaigns.checkExplorationRecipe(
      parsed ?? (config?.itemExplorationConfig ? { config, exploration: explorationOf(config) } : undefined),
      version.recipeArn,
      solutionVersionArn,
    );
    if (version.solutionArn !== c.solutionArn)
      throw invalid(
        `Solution version ${solutionVersionArn} is not a version of the campaign's solution ${c.solutionArn}.`,
      );
    const now = this.ctx.now().toISOString();
    const update: UpdateRecord = {
      solutionVersionArn,
      minProvisionedTPS,
      ...(config === undefined ? {} : { campaignConfig: config }),
      status: 'CREATE PENDING',
      creationDateTime: now,
      lastUpdatedDateTime: now,
    };
    await this.state.commit(() => {
      // Checked again after earlier writes: an update or delete that came first wins.
      if (c.status !== 'ACTIVE' || c.latestCampaignUpdate !== pendingUpdate)
        throw new AwsError('ResourceInUseException', `Campaign ${c.name} changed meanwhile; try again.`);
      return assign(c, { latestCampaignUpdate: update, lastUpdatedDateTime: now });
    });
    this.applyUpdate(c, update);
    return { campaignArn };
  }

  async deleteCampaign(input: Input): Promise<Record<string, never>> {
    const c = this.campaign(str(input, 'campaignArn', true));
    if (c.status !== 'ACTIVE' && c.status !== 'CREATE FAILED')
      throw new AwsError(
        'ResourceInUseException',
        `Campaign ${c.name} is in ${c.status} state; it can be deleted once it is ACTIVE or CREATE FAILED.`,
      );
    const now = this.now;
    await this.state.commit(() => {
      // Checked again after earlier writes: a delete that came first wins.
      if (c.status === 'DELETE PENDING' || !this.current(c)) throw notFound(c.campaignArn);
      return assign(c, { status: 'DELETE PENDING', lastUpdatedDateTime: now });
    });
    this.remove(c);
    return {};
  }

  // ---- what Personalize Runtime serves ----

  /**
   * The ACTIVE campaign's solution version (its model loaded in the scoring thread), recipe and
   * exploration (ResourceNotFoundException otherwise).
   */
  private async served(
    campaignArn: string,
  ): Promise<{ version: string; recipe: RecipeName; exploration: Exploration }> {
    const c = this.campaigns.get(campaignArn);
    if (c === undefined) throw notFound(campaignArn);
    if (c.status !== 'ACTIVE')
      throw new AwsError(
        'ResourceNotFoundException',
        `Campaign ${campaignArn} is in ${c.status} state; it serves recommendations once it is ACTIVE.`,
      );
    const version = c.solutionVersionArn;
    // Loaded when the campaign provisioned or the stack started; again only after a failed load.
    if (!this.servedRecipes.has(version)) {
      const failure = await this.loadModel(version);
      if (failure !== undefined)
        throw new AwsError('ResourceNotFoundException', `Campaign ${campaignArn} cannot serve: ${failure}`);
    }
    const recipe = this.servedRecipes.get(version)!;
    return {
      version,
      recipe,
      exploration: recipe === 'aws-user-personalization' ? explorationOf(c.campaignConfig) : {},
    };
  }

  /** GetRecommendations: by userId (USER_PERSONALIZATION recipes) or itemId (aws-similar-items). */
  async recommendations(campaignArn: string, query: RecommendationsQuery): Promise<Recommendations> {
    const numResults = readResults(query.numResults);
    const { version, recipe, exploration } = await this.served(campaignArn);
    try {
      if (recipe === 'aws-similar-items') {
        if (query.itemId === undefined)
          throw invalid(
            `itemId is required: campaign ${campaignArn} serves an aws-similar-items (RELATED_ITEMS) solution version, which recommends items similar to an item.`,
          );
        return await this.scoring.score(version, {
          op: 'similar',
          query: { itemId: query.itemId, numResults },
        });
      }
      if (query.userId === undefined)
        throw invalid(
          `userId is required: campaign ${campaignArn} serves a ${recipe} (USER_PERSONALIZATION) solution version, which recommends items for a user. Items similar to an item come from an aws-similar-items campaign.`,
        );
      return await this.scoring.score(version, {
        op: 'recommend',
        query: { userId: query.userId, numResults, ...exploration },
      });
    } catch (error) {
      if (error instanceof RecommenderError) throw invalid(error.message);
      throw error;
    }
  }

  /** GetPersonalizedRanking: the given items in the user's order (unknown items last). */
  async ranking(campaignArn: string, userId: string, itemList: readonly string[]): Promise<Recommendations> {
    const { version, recipe } = await this.served(campaignArn);
    if (recipe === 'aws-similar-items')
      throw invalid(
        `Campaign ${campaignArn} serves an aws-similar-items (RELATED_ITEMS) solution version, which does not rank items for a user; use a campaign of an aws-user-personalization solution version.`,
      );
    try {
      return await this.scoring.score(version, { op: 'rank', query: { userId, itemList } });
    } catch (error) {
      if (error instanceof RecommenderError) throw invalid(error.message);
      throw error;
    }
  }

  /** A recommendation ID in AWS's form (`RID-` and a UUID). */
  static recommendationId(): string {
    return `RID-${randomUUID()}`;
  }
}
