/**
 * The local recommender: interactions → models → top-N with scores, and offline evaluation with
 * Personalize's protocol and metrics. Pure TypeScript with no AWS knowledge: it takes data and
 * options, returns data, reads no clock but an injected one, and does I/O only on the bytes it is
 * handed. Parallel parts run on a pool of worker threads sharing memory (`threads`; 1 = inline).
 *
 * Recipes (Personalize's names)
 * - aws-user-personalization (default): an implicit-feedback model for temporal holdouts — iALS
 *   factors with recency-weighted confidences, sequential item-to-item neighbours over the user's
 *   latest interactions, popularity around the user's latest timestamp, and how old the items the
 *   user takes tend to be (new releases versus the back catalogue), blended in log space
 *   (see model.ts); users outside the training data are folded in from their history at query
 *   time. Scores are a softmax over the catalogue (they sum to 1 over all recommendable items);
 *   items the user has are excluded; users with no history get popular items; new items are
 *   explored per exploration_weight / exploration_item_age_cut_off.
 * - aws-popularity-count: the most-interacted items (seen items excluded), no scores.
 * - aws-similar-items: co-occurrence neighbours of an item (`similarItems`), popular items after them.
 *
 * aws-user-personalization hyperparameters (algorithmHyperParameters; strings as Personalize sends them)
 *   hidden_dimension (96; 32–256)    factors per user and item in the iALS model.
 *   bptt (32; 2–512)                 the sequence window: how many of the user's most recent
 *                                    interactions feed the sequential item-to-item term.
 *   recency_mask (true)              weight a user's interactions by their position in the user's
 *                                    sequence (newest 1, halving every recency_half_life positions
 *                                    back, never below recency_floor), in training, fold-in and the
 *                                    sequence window; false: every interaction weighs 1 (order-blind).
 *   exploration_weight (0.3; 0–1)    how strongly items younger than the cut-off are lifted, more
 *                                    the fewer interactions they have (0 = pure relevance). Query-time:
 *                                    a batch job's/campaign's itemExplorationConfig overrides it.
 *   exploration_item_age_cut_off (30 days)  items first seen (or created, per the Items dataset)
 *                                    within this many days of the latest interaction are explored.
 *   training_iterations (5; 1–50)    iALS sweeps (each solves users, then items).
 *   cg_steps (2; 1–20)               conjugate-gradient steps per row solve (warm-started).
 *   regularization (0.02)            λ of the frequency-scaled L2 penalty λ·(W + α₀·n)^ν.
 *   regularization_exponent (1; 0–1) ν: how regularisation grows with a user's/item's activity.
 *   unobserved_weight (0.05)         α₀: the weight of every unobserved user–item pair.
 *   recency_half_life (16)           positions back from the newest at which the recency weight halves.
 *   recency_floor (0.2; 0–1)         the least weight an old interaction keeps.
 *   sequence_window (5; 1–50)        positions around an item that count as "next to it" when the
 *                                    sequential neighbours are counted (nearer counts more).
 *   neighbours (100)                 sequential neighbours kept per item.
 *   popularity_window (0.015; 0–1]   time-local popularity counts the interactions within this
 *                                    share of all interactions on either side of the user's latest
 *                                    timestamp (1 = all-time popularity).
 *   factor_weight, sequence_weight, popularity_weight, age_weight ("auto")  the blend weights of
 *                                    the four terms; "auto" fits them at every training run on a
 *                                    held-out tenth of the training users (see blend.ts), or give
 *                                    numbers (age_weight 0: no item-age term).
 * aws-similar-items: sequence_window (10), neighbours (100), popularity_discount_factor (0.5; 0–1:
 * how much popular neighbours are discounted). aws-popularity-count: none.
 *
 * Training needs at least 1,000 interactions and 25 users with at least 2 interactions
 * (RecommenderError INSUFFICIENT_DATA with Personalize's message otherwise).
 */
export {
  defaultThreads,
  evaluate,
  rank,
  recommend,
  scoreCatalogue,
  similarItems,
  train,
  trainAndEvaluate,
  tune,
  type EvaluationResult,
  type ExplorationOverride,
  type RankQuery,
  type Recommendations,
  type SimilarItemsQuery,
  type TrainOptions,
  type TrainingProgress,
  type TuneOptions,
  type UserQuery,
} from './api.js';
export { MIN_INTERACTIONS, MIN_USERS_WITH_TWO } from './dataset.js';
export { RecommenderError, type RecommenderErrorCode } from './errors.js';
export {
  aggregateMetrics,
  inputLength,
  METRIC_NAMES,
  protocolSplit,
  userMetrics,
  type MetricName,
  type SolutionMetrics,
} from './evaluate.js';
export { deserializeModel, MODEL_FORMAT_VERSION, serializeModel } from './format.js';
export { DEFAULT_SEARCH_SPACE, type SearchCandidate, type SearchOptions, type SearchResult } from './hpo.js';
export {
  HYPERPARAMETER_SPECS,
  hyperparametersAsStrings,
  resolveHyperparameters,
  type HyperparameterInput,
} from './hyperparameters.js';
export type { Model, PopularityCountModel, SimilarItemsModel, UserPersonalizationModel } from './model.js';
export {
  RECIPES,
  type HistoryEvent,
  type InteractionsInput,
  type ItemMetadataInput,
  type RecipeName,
} from './types.js';
