/**
 * Hyperparameter search (Personalize's `performHPO`): candidates are trained on the training
 * users minus a validation slice and scored by NDCG@10 on that slice, with the protocol's own
 * input/truth cut. The protocol's test users are set aside first and never seen, so the metrics
 * of the tuned solution version stay honest. Candidates come from a seeded random draw over the
 * search space (the defaults, or the given hyperparameters, are always candidate 1); the blend
 * weights are fitted inside every candidate's training, so the search spends its budget on what
 * needs retraining.
 */
import {
  aggregateMetrics,
  distinctItems,
  EVALUATION_DEPTH,
  holdoutSplit,
  protocolSplit,
} from './evaluate.js';
import { RecommenderError } from './errors.js';
import {
  HYPERPARAMETER_SPECS,
  hyperparametersAsStrings,
  resolveHyperparameters,
  type HyperparameterInput,
} from './hyperparameters.js';
import { blend, exclude, scoreTerms, topN, type UserPersonalizationModel } from './model.js';
import { Random } from './random.js';
import { trainOnSequences, type TrainContext } from './train.js';
import type { Sequences } from './dataset.js';

/** Values tried per hyperparameter when no search space is given. */
export const DEFAULT_SEARCH_SPACE: Readonly<Record<string, readonly (string | number | boolean)[]>> =
  Object.freeze({
    hidden_dimension: [64, 100, 149, 200],
    regularization: [0.005, 0.02, 0.08],
    unobserved_weight: [0.02, 0.05, 0.15],
    recency_half_life: [8, 16, 48, 200],
    recency_floor: [0.1, 0.2, 0.5],
    popularity_window: [0.005, 0.015, 0.05],
    sequence_window: [3, 5, 10],
  });

export interface SearchOptions {
  /** Values to try per hyperparameter (Personalize's hpoConfig ranges, made discrete). */
  searchSpace?: Readonly<Record<string, readonly (string | number | boolean)[]>>;
  /** Candidates trained, including the first (base) one. Default 6. */
  maxCandidates?: number;
  /** Stop starting new candidates after this many milliseconds of the injected clock. */
  budgetMilliseconds?: number;
}

export interface SearchCandidate {
  hyperparameters: Record<string, string>;
  /** Validation NDCG@10. */
  ndcgAt10: number;
  precisionAt10: number;
}

export interface SearchResult {
  /** The best candidate's hyperparameters, every one as a string (`tunedHPOParams`). */
  best: Record<string, string>;
  candidates: SearchCandidate[];
  validationUsers: number;
}

const VALIDATION_SHARE = 0.1;
/** Validation users scored at most (enough for a stable NDCG, bounded time at large sizes). */
const MAX_VALIDATION_USERS = 1000;

export async function searchHyperparameters(
  sequences: Sequences,
  base: HyperparameterInput,
  context: TrainContext,
  options: SearchOptions,
): Promise<SearchResult> {
  const space = options.searchSpace ?? DEFAULT_SEARCH_SPACE;
  const specs: Record<string, unknown> = HYPERPARAMETER_SPECS['aws-user-personalization'];
  for (const name of Object.keys(space))
    if (!(name in specs))
      throw new RecommenderError(
        'INVALID_HYPERPARAMETER',
        `Unknown hyperparameter ${name} in the search space.`,
      );
  const maxCandidates = options.maxCandidates ?? 6;
  // Test users out first (never seen), then the validation slice of the rest.
  const { train } = protocolSplit(sequences, context.seed);
  const validation = holdoutSplit(train, context.seed, {
    share: VALIDATION_SHARE,
    keepInput: false,
    maxUsers: MAX_VALIDATION_USERS,
    stream: 4,
  });
  const catalogue = distinctItems(sequences);
  const random = new Random(context.seed, 5);
  const drawn: HyperparameterInput[] = [{ ...base }];
  const seen = new Set([JSON.stringify(resolveHyperparameters('aws-user-personalization', base))]);
  for (let attempt = 0; drawn.length < maxCandidates && attempt < maxCandidates * 20; attempt++) {
    const candidate: Record<string, string | number | boolean> = { ...base };
    for (const [name, values] of Object.entries(space))
      if (values.length > 0) candidate[name] = values[random.below(values.length)]!;
    const key = JSON.stringify(resolveHyperparameters('aws-user-personalization', candidate));
    if (seen.has(key)) continue;
    seen.add(key);
    drawn.push(candidate);
  }
  const now = context.now;
  const started = now?.();
  const candidates: SearchCandidate[] = [];
  let best: { params: Record<string, string>; ndcg: number } | undefined;
  for (const [index, input] of drawn.entries()) {
    if (index > 0 && started !== undefined && options.budgetMilliseconds !== undefined)
      if (now!() - started > options.budgetMilliseconds) break;
    const candidateStarted = now?.();
    const params = resolveHyperparameters('aws-user-personalization', input);
    const model = (await trainOnSequences('aws-user-personalization', params, validation.train, {
      ...context,
      onProgress: undefined,
    })) as UserPersonalizationModel;
    const rankings = validation.test.map((t) => {
      const from = train.userPtr[t.user]!;
      const items = train.items.subarray(from, from + t.inputLength);
      const scores = blend(
        scoreTerms(model, { items, times: train.times.subarray(from, from + t.inputLength) }),
        model.weights,
      );
      exclude(scores, items);
      return topN(scores, EVALUATION_DEPTH);
    });
    const metrics = aggregateMetrics(
      rankings,
      validation.test.map((t) => new Set(t.truth)),
      catalogue,
    );
    // Report the fitted blend weights as the tuned values of the `auto` ones.
    const tuned = hyperparametersAsStrings({
      ...params,
      factor_weight: model.weights.factor,
      sequence_weight: model.weights.sequence,
      popularity_weight: model.weights.popularity,
      age_weight: model.weights.age,
    });
    const ndcg = metrics.normalized_discounted_cumulative_gain_at_10;
    candidates.push({ hyperparameters: tuned, ndcgAt10: ndcg, precisionAt10: metrics.precision_at_10 });
    context.onProgress?.({
      stage: 'search',
      iteration: index + 1,
      of: drawn.length,
      metric: ndcg,
      ...(candidateStarted === undefined ? {} : { milliseconds: now!() - candidateStarted }),
    });
    if (!best || ndcg > best.ndcg) best = { params: tuned, ndcg };
  }
  return { best: best!.params, candidates, validationUsers: validation.test.length };
}
