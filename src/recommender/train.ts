/**
 * Training: sequences → a model of the requested recipe. Evaluation and hyperparameter search
 * call `trainOnSequences` on user subsets with the same code that trains the served model.
 */
import { trainAls, type AlsOptions, type WeightedMatrix } from './als.js';
import type { Sequences } from './dataset.js';
import { itemCounts } from './dataset.js';
import type { ParamsByRecipe, SimilarItemsParams, UserPersonalizationParams } from './hyperparameters.js';
import { FALLBACK_WEIGHTS, fitBlendWeights, type BlendWeights } from './blend.js';
import { holdoutSplit, type TestUser } from './evaluate.js';
import {
  ageHistogram,
  foldIn,
  recencyWeights,
  scoreTerms,
  type Histories,
  type Model,
  type UserPersonalizationModel,
} from './model.js';
import type { ThreadPool } from './pool.js';
import { buildTimePopularity } from './popularity.js';
import { buildNeighbours, type NeighbourOptions } from './sequential.js';
import type { RecipeName } from './types.js';

/** Progress of a training run, for logs. */
export interface TrainingProgress {
  stage: 'factors' | 'neighbours' | 'popularity' | 'calibration' | 'evaluation' | 'search';
  /** Factors: the iteration just finished, of `of`. Search: the candidate just scored, of `of`. */
  iteration?: number;
  of?: number;
  /** Factors: the iALS objective after the iteration. */
  loss?: number;
  /** Search: the candidate's validation NDCG@10. */
  metric?: number;
  /** Time the step took (from the injected clock). */
  milliseconds?: number;
}

export interface TrainContext {
  pool: ThreadPool;
  seed: number;
  users: readonly string[];
  items: readonly string[];
  /** Creation timestamps by item index (NaN unknown), covering `items`. */
  creation?: Float64Array;
  onProgress?: (progress: TrainingProgress) => void;
  /** Compute the iALS objective after every iteration for `onProgress` (costs about a tenth more). */
  reportLoss?: boolean;
  now?: () => number;
}

/** A user × item matrix with each interaction's recency weight (duplicates add up in the solve). */
export function weightedMatrix(
  sequences: Sequences,
  params: UserPersonalizationParams,
  nItems: number,
): WeightedMatrix {
  const { nUsers, userPtr, items } = sequences;
  const weight = new Float32Array(items.length);
  for (let u = 0; u < nUsers; u++) {
    const from = userPtr[u]!;
    const w = recencyWeights(params, userPtr[u + 1]! - from);
    for (let q = 0; q < w.length; q++) weight[from + q] = w[q]!;
  }
  return { nRows: nUsers, nCols: nItems, ptr: userPtr, idx: items, weight };
}

function histories(sequences: Sequences): Histories {
  return { userPtr: sequences.userPtr, items: sequences.items, times: sequences.times };
}

function padCounts(sequences: Sequences, nItems: number): Float32Array {
  const counts = new Float32Array(nItems);
  counts.set(itemCounts(sequences));
  return counts;
}

function latest(sequences: Sequences): number {
  let t = -Infinity;
  for (let p = 0; p < sequences.times.length; p++) if (sequences.times[p]! > t) t = sequences.times[p]!;
  return Number.isFinite(t) ? t : 0;
}

/** Sequences over the full catalogue (items known only from metadata appended, with no interactions). */
function widen(sequences: Sequences, nItems: number): Sequences {
  return nItems === sequences.nItems ? sequences : { ...sequences, nItems };
}

export async function trainOnSequences<R extends RecipeName>(
  recipe: R,
  params: ParamsByRecipe[R],
  input: Sequences,
  context: TrainContext,
): Promise<Model> {
  const nItems = context.items.length;
  const sequences = widen(input, nItems);
  const base = {
    seed: context.seed,
    users: context.users,
    items: context.items,
    histories: histories(sequences),
    counts: padCounts(sequences, nItems),
    latestTimestamp: latest(sequences),
  };
  if (recipe === 'aws-popularity-count') return { ...base, recipe: 'aws-popularity-count', params: {} };
  if (recipe === 'aws-similar-items') {
    const p = params as SimilarItemsParams;
    const neighbours = await buildNeighbours(context.pool, sequences, {
      window: p.sequence_window,
      m: p.neighbours,
      backwardWeight: 1,
      distanceExponent: 0.5,
      sourceExponent: 0.5,
      targetExponent: p.popularity_discount_factor,
    });
    return { ...base, recipe: 'aws-similar-items', params: p, neighbours };
  }
  return trainUserPersonalization(params as UserPersonalizationParams, sequences, context, base);
}

/** Calibration users for fitting `auto` blend weights: a tenth of the training users, at most this many. */
const CALIBRATION_SHARE = 0.1;
const MAX_CALIBRATION_USERS = 1000;
/** Fewer held-out users than this give too noisy a fit: the fallback weights are used. */
const MIN_CALIBRATION_USERS = 20;

async function trainUserPersonalization(
  p: UserPersonalizationParams,
  sequences: Sequences,
  context: TrainContext,
  base: Omit<
    UserPersonalizationModel,
    | 'recipe'
    | 'params'
    | 'factors'
    | 'userFactors'
    | 'itemFactors'
    | 'itemGram'
    | 'neighbours'
    | 'timePopularity'
    | 'weights'
    | 'itemStart'
    | 'ageHistogram'
  >,
): Promise<UserPersonalizationModel> {
  const nItems = context.items.length;
  const now = context.now;
  const fixed: Partial<BlendWeights> = {};
  if (p.factor_weight !== 'auto') fixed.factor = p.factor_weight;
  if (p.sequence_weight !== 'auto') fixed.sequence = p.sequence_weight;
  if (p.popularity_weight !== 'auto') fixed.popularity = p.popularity_weight;
  if (p.age_weight !== 'auto') fixed.age = p.age_weight;
  // With weights to fit, the newest tenth of some training users' interactions is held out of the
  // components (never out of the served histories) and their softmax is fitted to it.
  let fitOn = sequences;
  let calibration: TestUser[] = [];
  if (Object.keys(fixed).length < 4) {
    const split = holdoutSplit(sequences, context.seed, {
      share: CALIBRATION_SHARE,
      keepInput: true,
      maxUsers: MAX_CALIBRATION_USERS,
      stream: 3,
    });
    if (split.test.length >= MIN_CALIBRATION_USERS) {
      fitOn = split.train;
      calibration = split.test;
    }
  }
  const factors = await trainAls(context.pool, weightedMatrix(fitOn, p, nItems), {
    ...alsOptions(p, context),
    onIteration: (iteration, loss, milliseconds) =>
      context.onProgress?.({
        stage: 'factors',
        iteration,
        of: p.training_iterations,
        ...(loss === undefined ? {} : { loss }),
        ...(now ? { milliseconds } : {}),
      }),
  });
  let started = now?.() ?? 0;
  const neighbours = await buildNeighbours(context.pool, fitOn, sequenceNeighbourOptions(p));
  context.onProgress?.({ stage: 'neighbours', ...(now ? { milliseconds: now() - started } : {}) });
  started = now?.() ?? 0;
  const itemStart = itemStarts(sequences, nItems, context.creation);
  const model: UserPersonalizationModel = {
    ...base,
    counts: padCounts(fitOn, nItems),
    recipe: 'aws-user-personalization',
    params: p,
    factors: p.hidden_dimension,
    userFactors: factors.users,
    itemFactors: factors.items,
    itemGram: factors.itemGram,
    neighbours,
    timePopularity: buildTimePopularity(fitOn),
    weights: { ...FALLBACK_WEIGHTS, ...fixed },
    itemStart,
    ageHistogram: ageHistogram(fitOn.items, fitOn.times, itemStart),
  };
  context.onProgress?.({ stage: 'popularity', ...(now ? { milliseconds: now() - started } : {}) });
  if (calibration.length > 0) {
    started = now?.() ?? 0;
    const examples = calibration.map((t) => {
      const from = sequences.userPtr[t.user]!;
      const input = sequences.items.subarray(from, from + t.inputLength);
      // The user's trained vector: it was fitted on exactly this input (their newest tenth was
      // held out of the factors), so no fold-in is needed.
      const terms = scoreTerms(model, {
        items: input,
        times: sequences.times.subarray(from, from + t.inputLength),
        user: t.user,
      });
      return { terms, seen: input, truth: t.truth };
    });
    model.weights = fitBlendWeights(examples, fixed);
    // Back to the whole data for serving: counts, time popularity, item ages, and the calibration
    // users' vectors folded in from their full histories.
    model.counts = base.counts;
    model.timePopularity = buildTimePopularity(sequences);
    model.ageHistogram = ageHistogram(sequences.items, sequences.times, itemStart);
    const k = p.hidden_dimension;
    for (const t of calibration) {
      const from = sequences.userPtr[t.user]!;
      const history = sequences.items.subarray(from, sequences.userPtr[t.user + 1]!);
      model.userFactors.set(foldIn(model, history, recencyWeights(p, history.length)), t.user * k);
    }
    context.onProgress?.({ stage: 'calibration', ...(now ? { milliseconds: now() - started } : {}) });
  }
  return model;
}

/** How aws-user-personalization counts sequential neighbours (see sequential.ts). */
function sequenceNeighbourOptions(p: UserPersonalizationParams): NeighbourOptions {
  return {
    window: p.sequence_window,
    m: p.neighbours,
    backwardWeight: 0.5,
    distanceExponent: 1,
    sourceExponent: 1,
    targetExponent: 0.3,
  };
}

/** When each item became available: its creation timestamp, else its first interaction (NaN: neither). */
function itemStarts(sequences: Sequences, nItems: number, creation: Float64Array | undefined): Float64Array {
  const itemStart = new Float64Array(nItems).fill(NaN);
  if (creation) itemStart.set(creation.subarray(0, nItems));
  const { items, times } = sequences;
  for (let e = 0; e < items.length; e++) {
    const i = items[e]!;
    if (creation && !Number.isNaN(creation[i]!)) continue;
    if (!(itemStart[i]! <= times[e]!)) itemStart[i] = times[e]!;
  }
  return itemStart;
}

/** iALS sweeps over all the data when a model trained on part of the users is extended to all. */
const EXTENSION_ITERATIONS = 1;

/**
 * The model a solution version serves, from the model its evaluation trained on the protocol's
 * training users, instead of training a second model from scratch: the held-out users join the
 * histories, the counts, time popularity and neighbours are rebuilt on all the data, the
 * held-out users' vectors are folded in from their full histories, and one warm-started iALS
 * sweep over all the data lets the item factors take in what those users did. The blend weights
 * fitted for the evaluation model are kept (the held-out users are a random tenth, so they do
 * not shift what the weights balance).
 */
export async function extendToAllUsers<R extends RecipeName>(
  recipe: R,
  params: ParamsByRecipe[R],
  partial: Model,
  input: Sequences,
  context: TrainContext,
): Promise<Model> {
  if (partial.recipe !== 'aws-user-personalization' || recipe !== 'aws-user-personalization')
    // Counts and neighbours are all the other recipes have: training them again costs no more.
    return trainOnSequences(recipe, params, input, context);
  const p = params as UserPersonalizationParams;
  const nItems = context.items.length;
  const sequences = widen(input, nItems);
  const now = context.now;
  let started = now?.() ?? 0;
  const model: UserPersonalizationModel = {
    ...partial,
    histories: histories(sequences),
    counts: padCounts(sequences, nItems),
    latestTimestamp: latest(sequences),
    userFactors: Float32Array.from(partial.userFactors),
    itemStart: itemStarts(sequences, nItems, context.creation),
  };
  model.ageHistogram = ageHistogram(sequences.items, sequences.times, model.itemStart);
  const k = p.hidden_dimension;
  const { userPtr } = sequences;
  const partialPtr = partial.histories.userPtr;
  for (let u = 0; u < sequences.nUsers; u++) {
    const n = userPtr[u + 1]! - userPtr[u]!;
    if (n === 0 || partialPtr[u + 1]! - partialPtr[u]! === n) continue;
    const history = sequences.items.subarray(userPtr[u]!, userPtr[u + 1]!);
    model.userFactors.set(foldIn(model, history, recencyWeights(p, n)), u * k);
  }
  const factors = await trainAls(context.pool, weightedMatrix(sequences, p, nItems), {
    ...alsOptions(p, context),
    iterations: EXTENSION_ITERATIONS,
    init: { users: model.userFactors, items: partial.itemFactors },
  });
  model.userFactors = factors.users;
  model.itemFactors = factors.items;
  model.itemGram = factors.itemGram;
  context.onProgress?.({ stage: 'factors', ...(now ? { milliseconds: now() - started } : {}) });
  started = now?.() ?? 0;
  model.neighbours = await buildNeighbours(context.pool, sequences, sequenceNeighbourOptions(p));
  context.onProgress?.({ stage: 'neighbours', ...(now ? { milliseconds: now() - started } : {}) });
  started = now?.() ?? 0;
  model.timePopularity = buildTimePopularity(sequences);
  context.onProgress?.({ stage: 'popularity', ...(now ? { milliseconds: now() - started } : {}) });
  return model;
}

function alsOptions(p: UserPersonalizationParams, context: TrainContext): AlsOptions {
  return {
    factors: p.hidden_dimension,
    iterations: p.training_iterations,
    cgSteps: p.cg_steps,
    regularization: p.regularization,
    regularizationExponent: p.regularization_exponent,
    unobservedWeight: p.unobserved_weight,
    seed: context.seed,
    reportLoss: context.reportLoss === true,
    ...(context.now ? { now: context.now } : {}),
  };
}
