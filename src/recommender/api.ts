/**
 * The engine's operations: train, evaluate (Personalize's protocol), train-and-evaluate as a
 * solution version does, and the queries a trained model answers (recommend, rank, similar items).
 * Everything the caller names is an ID string; indices stay inside the engine.
 */
import { availableParallelism } from 'node:os';
import { buildSequences, checkTrainable, type Sequences } from './dataset.js';
import { RecommenderError } from './errors.js';
import {
  aggregateMetrics,
  distinctItems,
  EVALUATION_DEPTH,
  protocolSplit,
  TEST_USER_SHARE,
  type SolutionMetrics,
} from './evaluate.js';
import { resolveHyperparameters, type HyperparameterInput, type ParamsByRecipe } from './hyperparameters.js';
import {
  blend,
  countScores,
  exclude,
  explore,
  scoreTerms,
  similarScores,
  softmax,
  topN,
  type Model,
  type UserPersonalizationModel,
} from './model.js';
import { searchHyperparameters, type SearchOptions, type SearchResult } from './hpo.js';
import { ThreadPool } from './pool.js';
import { extendToAllUsers, trainOnSequences, type TrainContext, type TrainingProgress } from './train.js';
import {
  RECIPES,
  type HistoryEvent,
  type InteractionsInput,
  type ItemMetadataInput,
  type RecipeName,
} from './types.js';

export interface TrainOptions {
  /** Default aws-user-personalization. */
  recipe?: RecipeName;
  /** Personalize-style `algorithmHyperParameters` (strings or typed values); defaults for the rest. */
  hyperparameters?: HyperparameterInput;
  /** Seeds every random choice: same data, options and seed ⇒ same model bytes. Default 0. */
  seed?: number;
  /**
   * Threads for the parallel parts (1 = the calling thread only, no workers). Default: the
   * machine's available parallelism. The result does not depend on it.
   */
  threads?: number;
  /** Items dataset facts (creation timestamps for exploring new items). */
  itemMetadata?: ItemMetadataInput;
  /** Train on interactions of this EVENT_TYPE only (the solution's `eventType`). */
  eventType?: string;
  /** Train on interactions with EVENT_VALUE at least this only. */
  eventValueThreshold?: number;
  onProgress?: (progress: TrainingProgress) => void;
  /** Report the iALS objective per iteration (costs about a tenth more time). */
  reportLoss?: boolean;
  /** A clock in milliseconds for progress timings (the engine reads no clock of its own). */
  now?: () => number;
}

export type { TrainingProgress };

interface Prepared {
  recipe: RecipeName;
  params: ParamsByRecipe[RecipeName];
  sequences: Sequences;
  users: readonly string[];
  items: readonly string[];
  creation: Float64Array | undefined;
  seed: number;
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 8));
}

function prepare(data: InteractionsInput, options: TrainOptions): Prepared {
  const recipe = options.recipe ?? 'aws-user-personalization';
  if (!RECIPES.includes(recipe))
    throw new RecommenderError('INVALID_HYPERPARAMETER', `Unknown recipe ${JSON.stringify(recipe)}.`);
  const params = resolveHyperparameters(recipe, options.hyperparameters);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new RecommenderError('INVALID_INPUT', `The seed must be a non-negative whole number, got ${seed}.`);
  const filter = {
    ...(options.eventType === undefined ? {} : { eventType: options.eventType }),
    ...(options.eventValueThreshold === undefined
      ? {}
      : { eventValueThreshold: options.eventValueThreshold }),
  };
  const sequences = buildSequences(data, filter);
  checkTrainable(sequences);
  // Items known only from metadata join the catalogue (they can only be reached by exploration).
  let items: readonly string[] = data.items;
  let creation: Float64Array | undefined;
  const created = options.itemMetadata?.creationTimestamps;
  if (created && created.size > 0) {
    const known = new Map(data.items.map((id, i) => [id, i]));
    const extra = [...created.keys()].filter((id) => !known.has(id)).sort();
    items = [...data.items, ...extra];
    creation = new Float64Array(items.length).fill(NaN);
    items.forEach((id, i) => {
      const t = created.get(id);
      if (t !== undefined && Number.isFinite(t)) creation![i] = t;
    });
  }
  return { recipe, params, sequences, users: data.users, items, creation, seed };
}

function contextFor(prepared: Prepared, pool: ThreadPool, options: TrainOptions): TrainContext {
  return {
    pool,
    seed: prepared.seed,
    users: prepared.users,
    items: prepared.items,
    ...(prepared.creation ? { creation: prepared.creation } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.reportLoss ? { reportLoss: true } : {}),
    ...(options.now ? { now: options.now } : {}),
  };
}

async function withPool<T>(threads: number | undefined, run: (pool: ThreadPool) => Promise<T>): Promise<T> {
  const pool = ThreadPool.create(threads ?? defaultThreads());
  try {
    return await run(pool);
  } finally {
    await pool.close();
  }
}

/**
 * Trains a model on all the interactions. Throws RecommenderError INSUFFICIENT_DATA below
 * Personalize's minimums, INVALID_HYPERPARAMETER for bad hyperparameters.
 */
export async function train(data: InteractionsInput, options: TrainOptions = {}): Promise<Model> {
  const prepared = prepare(data, options);
  return withPool(options.threads, (pool) =>
    trainOnSequences(
      prepared.recipe,
      prepared.params,
      prepared.sequences,
      contextFor(prepared, pool, options),
    ),
  );
}

export interface EvaluationResult {
  /** Exactly GetSolutionMetrics' keys. */
  metrics: SolutionMetrics;
  /** Test users scored (those with a non-empty truth). */
  testUsers: number;
}

async function evaluateOn(
  prepared: Prepared,
  pool: ThreadPool,
  options: TrainOptions,
): Promise<{ evaluation: EvaluationResult; model: Model }> {
  const { sequences } = prepared;
  const split = protocolSplit(sequences, prepared.seed, TEST_USER_SHARE);
  const model = await trainOnSequences(
    prepared.recipe,
    prepared.params,
    split.train,
    contextFor(prepared, pool, options),
  );
  const started = options.now?.();
  const rankings = split.test.map((t) => {
    const from = sequences.userPtr[t.user]!;
    const input = sequences.items.subarray(from, from + t.inputLength);
    const times = sequences.times.subarray(from, from + t.inputLength);
    return topN(indexScores(model, input, times, undefined, 0, 0), EVALUATION_DEPTH);
  });
  const metrics = aggregateMetrics(
    rankings,
    split.test.map((t) => new Set(t.truth)),
    distinctItems(sequences),
  );
  options.onProgress?.({
    stage: 'evaluation',
    metric: metrics.normalized_discounted_cumulative_gain_at_10,
    ...(started === undefined ? {} : { milliseconds: options.now!() - started }),
  });
  return { evaluation: { metrics, testUsers: split.test.length }, model };
}

/**
 * Offline metrics with Personalize's protocol (see evaluate.ts): a model trained on 90% of the
 * users, scored on the other 10%'s newest interactions. Works for every recipe, so the popularity
 * baseline's metrics come from the same code.
 */
export async function evaluate(
  data: InteractionsInput,
  options: TrainOptions = {},
): Promise<EvaluationResult> {
  const prepared = prepare(data, options);
  return withPool(options.threads, async (pool) => (await evaluateOn(prepared, pool, options)).evaluation);
}

/**
 * What a solution version produces: the protocol's metrics and the model to serve, on all users.
 * The model is the evaluated one extended to the held-out users and all the data (see
 * `extendToAllUsers`), so a version trains once, not twice.
 */
export async function trainAndEvaluate(
  data: InteractionsInput,
  options: TrainOptions = {},
): Promise<{ model: Model; evaluation: EvaluationResult }> {
  const prepared = prepare(data, options);
  return withPool(options.threads, async (pool) => {
    const { evaluation, model: partial } = await evaluateOn(prepared, pool, options);
    const model = await extendToAllUsers(
      prepared.recipe,
      prepared.params,
      partial,
      prepared.sequences,
      contextFor(prepared, pool, options),
    );
    return { model, evaluation };
  });
}

/**
 * Scores over the catalogue (log-space; −Infinity = not recommendable) for a history given as
 * indices: the recipe's scoring, seen items excluded, exploration applied.
 */
function indexScores(
  model: Model,
  items: ArrayLike<number>,
  times: ArrayLike<number>,
  user: number | undefined,
  explorationWeight: number,
  explorationItemAgeCutOff: number,
): Float64Array {
  let scores: Float64Array;
  if (model.recipe === 'aws-user-personalization') {
    scores = blend(
      scoreTerms(model, { items, times, ...(user === undefined ? {} : { user }) }),
      model.weights,
    );
    exclude(scores, items);
    explore(model, scores, explorationWeight, explorationItemAgeCutOff);
  } else if (model.recipe === 'aws-popularity-count') {
    scores = countScores(model);
    exclude(scores, items);
  } else {
    // Similar items to the user's latest item, then popular ones.
    scores = popularityFallback(model);
    if (items.length > 0) {
      const similar = similarScores(model.neighbours, items[items.length - 1]!, model.items.length);
      for (let i = 0; i < scores.length; i++) if (similar[i]! > -Infinity) scores[i] = 1e6 + similar[i]!;
    }
    exclude(scores, items);
  }
  return scores;
}

/** Popularity as scores far below any similarity score (a fallback that keeps the popularity order). */
function popularityFallback(model: Model): Float64Array {
  const scores = new Float64Array(model.items.length);
  for (let i = 0; i < scores.length; i++) scores[i] = Math.log(model.counts[i]! + 1e-9) - 1e3;
  return scores;
}

export interface ExplorationOverride {
  /** 0–1; the model's exploration_weight by default (a batch/campaign itemExplorationConfig overrides it). */
  explorationWeight?: number;
  /** Days; the model's exploration_item_age_cut_off by default. */
  explorationItemAgeCutOff?: number;
}

export interface UserQuery extends ExplorationOverride {
  /** A user of the training data (their stored history is used), or any other ID (then `history`). */
  userId?: string;
  /** Interactions to use as (or add to) the user's history, e.g. an unknown user's, in any order. */
  history?: readonly HistoryEvent[];
  /** 1–500, default 25. */
  numResults?: number;
}

export interface Recommendations {
  itemIds: string[];
  /** Softmax scores (over all recommendable items); absent for aws-popularity-count and aws-similar-items. */
  scores?: number[];
}

interface ResolvedHistory {
  items: Uint32Array;
  times: Float64Array;
  user: number | undefined;
}

function itemLookup(model: Model): Map<string, number> {
  let map = lookups.get(model);
  if (!map) {
    map = new Map(model.items.map((id, i) => [id, i]));
    lookups.set(model, map);
  }
  return map;
}

function userLookup(model: Model): Map<string, number> {
  let map = userLookups.get(model);
  if (!map) {
    map = new Map(model.users.map((id, u) => [id, u]));
    userLookups.set(model, map);
  }
  return map;
}

// Per-model ID → index tables, built on first query and dropped with the model.
const lookups = new WeakMap<Model, Map<string, number>>();
const userLookups = new WeakMap<Model, Map<string, number>>();

function resolveHistory(model: Model, query: UserQuery): ResolvedHistory {
  const u = query.userId === undefined ? undefined : userLookup(model).get(query.userId);
  const { userPtr, items, times } = model.histories;
  const stored = u === undefined ? 0 : userPtr[u + 1]! - userPtr[u]!;
  const extra = (query.history ?? [])
    .map((event) => ({ item: itemLookup(model).get(event.itemId), t: event.timestamp }))
    .filter((e): e is { item: number; t: number } => e.item !== undefined && Number.isFinite(e.t));
  for (const event of query.history ?? [])
    if (!Number.isFinite(event.timestamp))
      throw new RecommenderError(
        'INVALID_INPUT',
        `History event for item ${event.itemId} has no valid timestamp.`,
      );
  const outItems = new Uint32Array(stored + extra.length);
  const outTimes = new Float64Array(stored + extra.length);
  if (u !== undefined) {
    outItems.set(items.subarray(userPtr[u]!, userPtr[u + 1]!));
    outTimes.set(times.subarray(userPtr[u]!, userPtr[u + 1]!));
  }
  if (extra.length > 0) {
    // Merge by time, stored interactions first on ties (a stable sort keeps input order).
    const merged = [
      ...Array.from(outItems.subarray(0, stored), (item, e) => ({ item, t: outTimes[e]! })),
      ...extra,
    ].sort((a, b) => a.t - b.t);
    merged.forEach((e, q) => {
      outItems[q] = e.item;
      outTimes[q] = e.t;
    });
  }
  // A known user's trained vector is reused only when nothing was added to their history.
  return { items: outItems, times: outTimes, user: extra.length === 0 ? u : undefined };
}

function checkNumResults(n: number | undefined): number {
  const value = n ?? 25;
  if (!Number.isInteger(value) || value < 1 || value > 500)
    throw new RecommenderError(
      'INVALID_INPUT',
      `numResults must be a whole number from 1 to 500, got ${value}.`,
    );
  return value;
}

function exploration(model: Model, query: ExplorationOverride): [number, number] {
  const params = model.recipe === 'aws-user-personalization' ? model.params : undefined;
  const weight = query.explorationWeight ?? params?.exploration_weight ?? 0;
  const cutOff = query.explorationItemAgeCutOff ?? params?.exploration_item_age_cut_off ?? 30;
  if (!(weight >= 0 && weight <= 1))
    throw new RecommenderError('INVALID_INPUT', `explorationWeight must be from 0 to 1, got ${weight}.`);
  if (!(cutOff > 0))
    throw new RecommenderError('INVALID_INPUT', `explorationItemAgeCutOff must be positive, got ${cutOff}.`);
  return [weight, cutOff];
}

/**
 * Top-N items for a user: a trained user by ID (their history and vector), an unknown user by the
 * `history` given (folded in), or nobody (popular items). Items the user has are never
 * recommended. aws-similar-items answers with items similar to the user's latest one.
 */
export function recommend(model: Model, query: UserQuery = {}): Recommendations {
  const n = checkNumResults(query.numResults);
  const [weight, cutOff] = exploration(model, query);
  const history = resolveHistory(model, query);
  const scores = indexScores(model, history.items, history.times, history.user, weight, cutOff);
  const top = topN(scores, n);
  const itemIds = top.map((i) => model.items[i]!);
  if (model.recipe !== 'aws-user-personalization') return { itemIds };
  const p = softmax(scores);
  return { itemIds, scores: top.map((i) => p[i]!) };
}

export interface RankQuery extends UserQuery {
  /** The items to rank (Personalize's personalized ranking `inputList`), up to 500. */
  itemList: readonly string[];
}

/**
 * The given items in the user's order of preference (best first) with softmax scores over the
 * list. Items the model does not know go last, in the order given, with score 0. Seen items are
 * ranked too: the caller asked about them.
 */
export function rank(model: Model, query: RankQuery): Recommendations {
  if (query.itemList.length === 0 || query.itemList.length > 500)
    throw new RecommenderError(
      'INVALID_INPUT',
      `itemList must hold 1 to 500 items, got ${query.itemList.length}.`,
    );
  const history = resolveHistory(model, query);
  const lookup = itemLookup(model);
  const known: number[] = [];
  const unknown: string[] = [];
  for (const id of new Set(query.itemList)) {
    const i = lookup.get(id);
    if (i === undefined) unknown.push(id);
    else known.push(i);
  }
  let scores: Float64Array;
  if (model.recipe === 'aws-user-personalization') {
    const terms = scoreTerms(model, {
      items: history.items,
      times: history.times,
      ...(history.user === undefined ? {} : { user: history.user }),
    });
    scores = blend(terms, model.weights);
  } else if (model.recipe === 'aws-popularity-count') scores = countScores(model);
  else scores = indexScores(model, history.items, history.times, undefined, 0, 0);
  // Seen items are excluded from recommendations, not from ranking: score them like the rest.
  if (model.recipe === 'aws-similar-items')
    for (const i of known) if (scores[i] === -Infinity) scores[i] = Math.log(model.counts[i]! + 1e-9) - 1e3;
  const top = topN(scores, known.length, known);
  const itemIds = [...top.map((i) => model.items[i]!), ...unknown];
  if (model.recipe !== 'aws-user-personalization') return { itemIds };
  const p = softmax(scores, known);
  return { itemIds, scores: [...top.map((i) => p[i]!), ...unknown.map(() => 0)] };
}

export interface SimilarItemsQuery {
  itemId: string;
  /** 1–500, default 25. */
  numResults?: number;
}

/**
 * Items similar to `itemId` (aws-similar-items models): its co-occurrence neighbours, best first,
 * then popular items when it has fewer than asked for or is unknown. The item itself is excluded.
 */
export function similarItems(model: Model, query: SimilarItemsQuery): Recommendations {
  if (model.recipe !== 'aws-similar-items')
    throw new RecommenderError(
      'UNSUPPORTED_QUERY',
      `A ${model.recipe} model does not answer itemId queries; use an aws-similar-items solution.`,
    );
  const n = checkNumResults(query.numResults);
  const i = itemLookup(model).get(query.itemId);
  const scores = indexScores(model, i === undefined ? [] : [i], [], undefined, 0, 0);
  return { itemIds: topN(scores, n).map((j) => model.items[j]!) };
}

/**
 * The full score distribution for a user query (softmax over every recommendable item; 0 for
 * excluded ones), for aws-user-personalization models: what `recommend`'s scores are read from.
 */
export function scoreCatalogue(model: UserPersonalizationModel, query: UserQuery = {}): Float64Array {
  const [weight, cutOff] = exploration(model, query);
  const history = resolveHistory(model, query);
  return softmax(indexScores(model, history.items, history.times, history.user, weight, cutOff));
}

export interface TuneOptions extends TrainOptions, SearchOptions {}

/**
 * Hyperparameter search for aws-user-personalization on a validation slice of the training users
 * (the protocol's test users are never used); returns the best hyperparameters as strings, ready
 * to train with and to report as `tunedHPOParams`.
 */
export async function tune(data: InteractionsInput, options: TuneOptions = {}): Promise<SearchResult> {
  const prepared = prepare(data, { ...options, recipe: 'aws-user-personalization' });
  return withPool(options.threads, (pool) =>
    searchHyperparameters(
      prepared.sequences,
      options.hyperparameters ?? {},
      contextFor(prepared, pool, options),
      {
        ...(options.searchSpace ? { searchSpace: options.searchSpace } : {}),
        ...(options.maxCandidates === undefined ? {} : { maxCandidates: options.maxCandidates }),
        ...(options.budgetMilliseconds === undefined
          ? {}
          : { budgetMilliseconds: options.budgetMilliseconds }),
      },
    ),
  );
}
