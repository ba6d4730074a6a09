/**
 * Trained models (one shape per recipe) and how they answer: per-item scores for a user's
 * history, exclusions, exploration, top-N selection and Personalize-style softmax scores.
 *
 * aws-user-personalization scores item i for a user with time-ordered history h as the sum of
 * three log-space terms (a product of experts, so the softmax of the sum is a proper distribution):
 *   factor_weight     · (x_u·y_i) / σ_u      iALS preference, standardised per user (σ_u: its spread
 *                                            over the catalogue); x_u is the trained vector of a known
 *                                            user or is folded in from the given history
 *   sequence_weight   · log(1 + s_i / s̄_u)   s_i = Σ_q r_q · N(h_q → i) over the last `bptt` items,
 *                                            N the sequential item-to-item neighbours, r_q the recency
 *                                            weight of the q-th newest; s̄_u the mean of the non-zero s
 *   popularity_weight · log p_t(i)           popularity around the user's latest timestamp t (the
 *                                            interactions within a share `popularity_window` of all
 *                                            interactions on either side of t), mixed with
 *                                            a little all-time popularity so nothing is impossible
 *   age_weight        · log(a_u(b) / N_t(b))  how old items are when this user takes them: b is item
 *                                            i's age bin at t (time since it became available, in
 *                                            doubling day bins), a_u the user's recency-weighted
 *                                            share of interactions in each age bin mixed half and
 *                                            half with everyone's, N_t(b) the number of items in
 *                                            bin b at t (so the term is a per-item rate). Real
 *                                            catalogues release items over time and people differ
 *                                            in how much they take new releases versus the back
 *                                            catalogue; popularity alone does not tell them apart
 * Recency weight of the q-th newest interaction (q = 0 the latest), with `recency_mask`:
 *   r_q = recency_floor + (1 − recency_floor) · 2^(−q / recency_half_life), else 1.
 */
import { addNeighbours, type Neighbours } from './sequential.js';
import { addTimePopularity, type TimePopularity } from './popularity.js';
import type { SimilarItemsParams, UserPersonalizationParams } from './hyperparameters.js';

/** Users' time-ordered histories (CSR), as trained on. */
export interface Histories {
  userPtr: Uint32Array;
  items: Uint32Array;
  times: Float64Array;
}

interface ModelBase {
  seed: number;
  users: readonly string[];
  /** The catalogue: item IDs by index (the interactions' items, then items known only from metadata). */
  items: readonly string[];
  histories: Histories;
  /** Interactions per item in the training data. */
  counts: Float32Array;
  /** The latest timestamp in the training data (epoch seconds): "now" for exploration and cold users. */
  latestTimestamp: number;
}

export interface PopularityCountModel extends ModelBase {
  recipe: 'aws-popularity-count';
  params: Record<string, never>;
}

export interface SimilarItemsModel extends ModelBase {
  recipe: 'aws-similar-items';
  params: SimilarItemsParams;
  neighbours: Neighbours;
}

export interface UserPersonalizationModel extends ModelBase {
  recipe: 'aws-user-personalization';
  params: UserPersonalizationParams;
  /** Factor count k; user (nUsers × k) and item (nItems × k) factors; unobserved weight × item Gramian. */
  factors: number;
  userFactors: Float32Array;
  itemFactors: Float32Array;
  itemGram: Float64Array;
  neighbours: Neighbours;
  timePopularity: TimePopularity;
  /** The blend weights in use: the given ones, or those fitted at training (`auto`). */
  weights: { factor: number; sequence: number; popularity: number; age: number };
  /** Interactions in the training data by the item's age bin at the time (see `ageBin`). */
  ageHistogram: Float64Array;
  /** When each item became available (creation timestamp, else first interaction; epoch seconds; NaN unknown). */
  itemStart: Float64Array;
}

export type Model = PopularityCountModel | SimilarItemsModel | UserPersonalizationModel;

/** Share of all-time popularity mixed into the time-local popularity. */
const GLOBAL_POPULARITY_SHARE = 0.05;
/** Keeps log p finite for items nobody interacted with. */
const POPULARITY_FLOOR = 1e-9;
/** CG steps when folding a user in from scratch (the trained users were warm-started every iteration). */
const FOLD_IN_STEPS = 12;
/** Item-age bins: bin b holds ages of 2^b − 1 to 2^(b+1) − 1 days (the last bin: older). */
export const AGE_BINS = 20;
/** Share of everyone's age profile mixed into a user's (a user's own few interactions are noisy). */
const AGE_GLOBAL_SHARE = 0.5;
/** Added to every age-bin share so that no age is impossible. */
const AGE_FLOOR = 1e-4;

/** The age bin of an item `seconds` after it became available (negative ages: bin 0). */
export function ageBin(seconds: number): number {
  const days = seconds > 0 ? seconds / 86_400 : 0;
  return Math.min(AGE_BINS - 1, Math.floor(Math.log2(1 + days)));
}

/** Interactions by the age bin of their item at the time (`itemStart` NaN: not counted). */
export function ageHistogram(
  items: ArrayLike<number>,
  times: ArrayLike<number>,
  itemStart: Float64Array,
): Float64Array {
  const histogram = new Float64Array(AGE_BINS);
  for (let e = 0; e < items.length; e++) {
    const start = itemStart[items[e]!]!;
    if (!Number.isNaN(start)) histogram[ageBin(times[e]! - start)]!++;
  }
  return histogram;
}

export function recencyWeights(params: UserPersonalizationParams, length: number): Float64Array {
  const w = new Float64Array(length);
  for (let q = 0; q < length; q++)
    w[length - 1 - q] = params.recency_mask
      ? params.recency_floor + (1 - params.recency_floor) * Math.pow(2, -q / params.recency_half_life)
      : 1;
  return w;
}

/** L2 regularisation of a user with observed weight sum W (see als.ts). */
export function userRegularization(
  params: UserPersonalizationParams,
  weightSum: number,
  nItems: number,
): number {
  return (
    params.regularization *
    Math.pow(weightSum + params.unobserved_weight * nItems, params.regularization_exponent)
  );
}

/**
 * A user vector for history `items` with observed weights `w`: the iALS row solve against fixed
 * item factors, by conjugate gradient from zero.
 */
export function foldIn(
  model: UserPersonalizationModel,
  items: ArrayLike<number>,
  w: ArrayLike<number>,
): Float64Array {
  const k = model.factors;
  const y = model.itemFactors;
  const gram = model.itemGram;
  let weightSum = 0;
  for (let e = 0; e < items.length; e++) weightSum += w[e]!;
  const lambda = userRegularization(model.params, weightSum, model.items.length);
  const x = new Float64Array(k);
  const r = new Float64Array(k);
  for (let e = 0; e < items.length; e++) {
    const base = items[e]! * k;
    for (let f = 0; f < k; f++) r[f]! += w[e]! * y[base + f]!;
  }
  const p = Float64Array.from(r);
  const ap = new Float64Array(k);
  let rs = 0;
  for (let f = 0; f < k; f++) rs += r[f]! * r[f]!;
  for (let step = 0; step < FOLD_IN_STEPS && rs > 1e-20; step++) {
    for (let i = 0; i < k; i++) {
      let s = lambda * p[i]!;
      for (let j = 0; j < k; j++) s += gram[i * k + j]! * p[j]!;
      ap[i] = s;
    }
    for (let e = 0; e < items.length; e++) {
      const base = items[e]! * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += y[base + f]! * p[f]!;
      const c = w[e]! * dot;
      for (let f = 0; f < k; f++) ap[f]! += c * y[base + f]!;
    }
    let pap = 0;
    for (let f = 0; f < k; f++) pap += p[f]! * ap[f]!;
    if (!(pap > 0)) break;
    const alpha = rs / pap;
    let next = 0;
    for (let f = 0; f < k; f++) {
      x[f]! += alpha * p[f]!;
      r[f]! -= alpha * ap[f]!;
      next += r[f]! * r[f]!;
    }
    const beta = next / rs;
    rs = next;
    for (let f = 0; f < k; f++) p[f] = r[f]! + beta * p[f]!;
  }
  return x;
}

/** A user's history as item indices and times (oldest first). */
export interface IndexedHistory {
  items: ArrayLike<number>;
  times: ArrayLike<number>;
  /** The trained user's index, when the history is a trained user's own (their vector is reused). */
  user?: number;
}

/** The three terms of the user-personalization score, before weighting. */
export interface ScoreTerms {
  /** x_u·y_i / σ_u (zero when the user has no history). */
  factor: Float64Array;
  /** log(1 + s_i / s̄_u). */
  sequence: Float64Array;
  /** log p_t(i). */
  popularity: Float64Array;
  /** log(a_u(b) / N_t(b)) (zero when the user has no history). */
  age: Float64Array;
}

/** out[i] = x · y[i*k .. i*k+k) for the n rows of y, four products at a time. */
function dotProducts(x: Float64Array, y: Float32Array, k: number, n: number, out: Float64Array): void {
  const k4 = k - (k % 4);
  for (let i = 0; i < n; i++) {
    const base = i * k;
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    let f = 0;
    for (; f < k4; f += 4) {
      a += x[f]! * y[base + f]!;
      b += x[f + 1]! * y[base + f + 1]!;
      c += x[f + 2]! * y[base + f + 2]!;
      d += x[f + 3]! * y[base + f + 3]!;
    }
    for (; f < k; f++) a += x[f]! * y[base + f]!;
    out[i] = a + b + c + d;
  }
}

export function scoreTerms(model: UserPersonalizationModel, history: IndexedHistory): ScoreTerms {
  const n = model.items.length;
  const params = model.params;
  const length = history.items.length;
  const factor = new Float64Array(n);
  const sequence = new Float64Array(n);
  const popularity = new Float64Array(n);
  const age = new Float64Array(n);
  if (length > 0) {
    const k = model.factors;
    // One array type for the user's vector (a trained row is Float32, a folded-in one Float64), so
    // the catalogue's dot products run as one monomorphic loop.
    const x =
      history.user !== undefined
        ? Float64Array.from(model.userFactors.subarray(history.user * k, (history.user + 1) * k))
        : foldIn(model, history.items, recencyWeights(params, length));
    dotProducts(x, model.itemFactors, k, n, factor);
    let sum = 0;
    let sumSq = 0;
    for (let i = 0; i < n; i++) {
      const dot = factor[i]!;
      sum += dot;
      sumSq += dot * dot;
    }
    const mean = sum / n;
    const sigma = Math.sqrt(Math.max(sumSq / n - mean * mean, 0));
    if (sigma > 0) for (let i = 0; i < n; i++) factor[i] = (factor[i]! - mean) / sigma;
    const window = Math.min(length, params.bptt);
    const w = recencyWeights(params, window);
    for (let q = 0; q < window; q++)
      addNeighbours(model.neighbours, history.items[length - window + q]!, w[q]!, sequence);
    let total = 0;
    let positive = 0;
    for (let i = 0; i < n; i++)
      if (sequence[i]! > 0) {
        total += sequence[i]!;
        positive++;
      }
    if (positive > 0) {
      const mean = total / positive;
      for (let i = 0; i < n; i++) sequence[i] = Math.log1p(sequence[i]! / mean);
    }
  }
  const t = length > 0 ? history.times[length - 1]! : model.latestTimestamp;
  addPopularityTerm(model, t, popularity);
  if (length > 0) setAgeTerm(model, history, t, age);
  return { factor, sequence, popularity, age };
}

function setAgeTerm(
  model: UserPersonalizationModel,
  history: IndexedHistory,
  t: number,
  out: Float64Array,
): void {
  const { itemStart, ageHistogram: everyone } = model;
  const length = history.items.length;
  const w = recencyWeights(model.params, length);
  const own = new Float64Array(AGE_BINS);
  let ownTotal = 0;
  for (let q = 0; q < length; q++) {
    const start = itemStart[history.items[q]!]!;
    if (Number.isNaN(start)) continue;
    own[ageBin(history.times[q]! - start)]! += w[q]!;
    ownTotal += w[q]!;
  }
  let everyoneTotal = 0;
  for (let b = 0; b < AGE_BINS; b++) everyoneTotal += everyone[b]!;
  const bins = new Uint8Array(out.length);
  const itemsInBin = new Float64Array(AGE_BINS);
  for (let i = 0; i < out.length; i++) {
    const start = itemStart[i]!;
    bins[i] = Number.isNaN(start) ? AGE_BINS : ageBin(t - start);
    if (bins[i]! < AGE_BINS) itemsInBin[bins[i]!]!++;
  }
  const logRate = new Float64Array(AGE_BINS + 1);
  for (let b = 0; b < AGE_BINS; b++) {
    const mine = ownTotal > 0 ? own[b]! / ownTotal : 0;
    const theirs = everyoneTotal > 0 ? everyone[b]! / everyoneTotal : 0;
    const share = ownTotal > 0 ? (1 - AGE_GLOBAL_SHARE) * mine + AGE_GLOBAL_SHARE * theirs : theirs;
    logRate[b] = Math.log((share + AGE_FLOOR) / Math.max(1, itemsInBin[b]!));
  }
  // Items of unknown age (known only from metadata, without a creation time): the floor.
  logRate[AGE_BINS] = Math.log(AGE_FLOOR / Math.max(1, out.length));
  for (let i = 0; i < out.length; i++) out[i] = logRate[bins[i]!]!;
}

function addPopularityTerm(model: UserPersonalizationModel, t: number, out: Float64Array): void {
  const nBins = model.timePopularity.edges.length - 1;
  const halfWidth = Math.max(1, Math.round(model.params.popularity_window * nBins));
  const local = new Float64Array(out.length);
  const localTotal = addTimePopularity(model.timePopularity, t, halfWidth, local);
  let globalTotal = 0;
  for (let i = 0; i < out.length; i++) globalTotal += model.counts[i]!;
  const a = localTotal > 0 ? (1 - GLOBAL_POPULARITY_SHARE) / localTotal : 0;
  const b = globalTotal > 0 ? (localTotal > 0 ? GLOBAL_POPULARITY_SHARE : 1) / globalTotal : 0;
  for (let i = 0; i < out.length; i++)
    out[i] = Math.log(a * local[i]! + b * model.counts[i]! + POPULARITY_FLOOR);
}

/** Blends the terms with the model's weights (or `weights`, for tuning) into `out`. */
export function blend(
  terms: ScoreTerms,
  weights: { factor: number; sequence: number; popularity: number; age: number },
  out: Float64Array = new Float64Array(terms.factor.length),
): Float64Array {
  const { factor, sequence, popularity, age } = terms;
  const { factor: wf, sequence: ws, popularity: wp, age: wa } = weights;
  for (let i = 0; i < out.length; i++)
    out[i] = wf * factor[i]! + ws * sequence[i]! + wp * popularity[i]! + wa * age[i]!;
  return out;
}

/**
 * Applies exploration: each item first seen (or created) within the age cut-off moves a share of
 * the way from its score to the best score, the share being `weight` × novelty, where novelty
 * 1 / (1 + ln(1 + interactions)) is 1 for an item nobody has interacted with yet. Scale-free, so
 * it means the same for every user; weight 0 changes nothing, weight 1 puts unseen new items on top.
 */
export function explore(
  model: UserPersonalizationModel,
  scores: Float64Array,
  weight: number,
  ageCutOffDays: number,
): void {
  if (!(weight > 0)) return;
  const cutOff = model.latestTimestamp - ageCutOffDays * 86_400;
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  if (max === -Infinity) return;
  for (let i = 0; i < scores.length; i++) {
    const start = model.itemStart[i]!;
    if (!(start >= cutOff) || scores[i] === -Infinity) continue;
    const novelty = 1 / (1 + Math.log1p(model.counts[i]!));
    scores[i]! += weight * novelty * (max - scores[i]!);
  }
}

/** Marks a history's items -Infinity (never recommended again). */
export function exclude(scores: Float64Array, items: ArrayLike<number>): void {
  for (let e = 0; e < items.length; e++) scores[items[e]!] = -Infinity;
}

/**
 * The indices of the `n` highest finite scores, best first (ties: lower index first), over all
 * items or over `candidates`.
 */
export function topN(scores: Float64Array, n: number, candidates?: ArrayLike<number>): number[] {
  const heapIdx: number[] = [];
  // Min-heap by (score, −index): the root is the worst kept item.
  const worse = (a: number, b: number): boolean =>
    scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
  const push = (i: number): void => {
    if (scores[i] === -Infinity || Number.isNaN(scores[i]!)) return;
    if (heapIdx.length < n) {
      heapIdx.push(i);
      let c = heapIdx.length - 1;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (!worse(heapIdx[c]!, heapIdx[parent]!)) break;
        [heapIdx[c], heapIdx[parent]] = [heapIdx[parent]!, heapIdx[c]!];
        c = parent;
      }
    } else if (n > 0 && worse(heapIdx[0]!, i)) {
      heapIdx[0] = i;
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        const r = l + 1;
        let m = c;
        if (l < heapIdx.length && worse(heapIdx[l]!, heapIdx[m]!)) m = l;
        if (r < heapIdx.length && worse(heapIdx[r]!, heapIdx[m]!)) m = r;
        if (m === c) break;
        [heapIdx[c], heapIdx[m]] = [heapIdx[m]!, heapIdx[c]!];
        c = m;
      }
    }
  };
  if (candidates) for (let e = 0; e < candidates.length; e++) push(candidates[e]!);
  else for (let i = 0; i < scores.length; i++) push(i);
  return heapIdx.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0));
}

/** Softmax over the finite scores (of `candidates`, or of all items): probabilities summing to 1. */
export function softmax(scores: Float64Array, candidates?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(scores.length);
  let max = -Infinity;
  const each = (visit: (i: number) => void): void => {
    if (candidates) for (let e = 0; e < candidates.length; e++) visit(candidates[e]!);
    else for (let i = 0; i < scores.length; i++) visit(i);
  };
  each((i) => {
    if (scores[i]! > max) max = scores[i]!;
  });
  if (max === -Infinity) return out;
  let total = 0;
  each((i) => {
    const s = scores[i]!;
    if (s === -Infinity || out[i]! > 0) return;
    out[i] = Math.exp(s - max);
    total += out[i]!;
  });
  for (let i = 0; i < out.length; i++) out[i]! /= total;
  return out;
}

/** Item popularity scores for the popularity recipe and cold fallbacks: the count, as a float64 score. */
export function countScores(model: ModelBase): Float64Array {
  return Float64Array.from(model.counts);
}

export function similarScores(neighbours: Neighbours, item: number, nItems: number): Float64Array {
  const scores = new Float64Array(nItems).fill(-Infinity);
  const base = item * neighbours.m;
  for (let t = 0; t < neighbours.m; t++) {
    const w = neighbours.weight[base + t]!;
    if (w === 0) break;
    scores[neighbours.index[base + t]!] = Math.log(w);
  }
  return scores;
}
