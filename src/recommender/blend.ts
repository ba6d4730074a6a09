/**
 * Fitting the blend weights of aws-user-personalization's four score terms on held-out users.
 *
 * How much the factor model, the sequence neighbours, time-local popularity and item age should each count
 * depends on the data (how strongly popularity drifts, how sequential the histories are), so by
 * default (`auto`) the weights are fitted at every training run on held-out users' newest
 * interactions, in two steps:
 *  1. the ratios between the weights, which alone decide the ranking, by a grid search for the
 *     best NDCG@10 + NDCG@25 of the held-out users' top 25 (a direct fit of what is measured);
 *  2. their common scale, which decides how peaked the softmax scores are, by maximising the
 *     likelihood of the held-out items under the softmax over the catalogue (Newton's method: the
 *     objective is concave in the scale), so the scores behave like the probabilities
 *     Personalize's scores are read as.
 * Weights given as numbers are kept as they are (and then the scale is not refitted either).
 */
import { userMetrics } from './evaluate.js';
import type { ScoreTerms } from './model.js';

export interface BlendWeights {
  factor: number;
  sequence: number;
  popularity: number;
  age: number;
}

export interface BlendExample {
  terms: ScoreTerms;
  /** Items the user already has (not candidates). */
  seen: ArrayLike<number>;
  /** The held-out items. */
  truth: ArrayLike<number>;
}

/** Weights used when there are too few users to fit on. */
export const FALLBACK_WEIGHTS: Readonly<BlendWeights> = Object.freeze({
  factor: 1,
  sequence: 0.25,
  popularity: 0.5,
  age: 0.25,
});
/** Ratios tried for each free weight, relative to the factor term's weight. */
const RATIOS = [0, 0.1, 0.25, 0.5, 1, 2, 4];
/** Coordinate-search rounds at most. */
const SEARCH_ROUNDS = 3;
const TERMS = ['factor', 'sequence', 'popularity', 'age'] as const;

/** Fits the weights not given in `fixed` (those keep their given value). */
export function fitBlendWeights(
  examples: readonly BlendExample[],
  fixed: Partial<BlendWeights> = {},
): BlendWeights {
  const start: BlendWeights = { ...FALLBACK_WEIGHTS, ...fixed };
  const free = TERMS.filter((name) => fixed[name] === undefined);
  if (examples.length === 0 || free.length === 0) return start;
  const n = examples[0]!.terms.factor.length;
  const masks = examples.map((example) => {
    const mask = new Uint8Array(n);
    for (let e = 0; e < example.seen.length; e++) mask[example.seen[e]!] = 1;
    return mask;
  });
  const truths = examples.map((example) => new Set(Array.from(example.truth)));
  const top = new Int32Array(TOP);
  const quality = (w: BlendWeights): number => {
    let total = 0;
    examples.forEach((example, u) => {
      const size = topBlended(example.terms, masks[u]!, w, top);
      const m = userMetrics(top.subarray(0, size), truths[u]!);
      total += m.ndcg[1] + m.ndcg[2];
    });
    return total / examples.length;
  };
  // Step 1: the ratios, by coordinate search over RATIOS (rounds over the free weights until a
  // round changes nothing, at most SEARCH_ROUNDS: the best weight of one term depends on the
  // others'). The factor term anchors the scale when it is free and there is another free weight.
  const anchored = free.includes('factor') && free.length > 1;
  const searched = free.filter((name) => !(anchored && name === 'factor'));
  let best: BlendWeights = anchored ? { ...start, factor: 1 } : start;
  let bestQuality = quality(best);
  for (let round = 0, improved = true; round < SEARCH_ROUNDS && improved; round++) {
    improved = false;
    for (const name of searched)
      for (const ratio of RATIOS) {
        const w = { ...best, [name]: ratio };
        if (
          w[name] === best[name] ||
          (w.factor === 0 && w.sequence === 0 && w.popularity === 0 && w.age === 0)
        )
          continue;
        const q = quality(w);
        if (q > bestQuality + 1e-12) {
          bestQuality = q;
          best = w;
          improved = true;
        }
      }
  }
  if (free.length < TERMS.length) return best;
  const scale = fitScale(examples, masks, best);
  return {
    factor: round(best.factor * scale),
    sequence: round(best.sequence * scale),
    popularity: round(best.popularity * scale),
    age: round(best.age * scale),
  };
}

/** Recommendations scored per calibration user (the largest K of the metrics). */
const TOP = 25;

/**
 * The `top.length` best unmasked items under weights `w` into `top`, best first (ties: lower
 * index first, as `topN`); returns how many there are. One pass with a sorted insertion buffer:
 * after the first few items almost every item fails the threshold test, so this costs little
 * more than blending the terms.
 */
function topBlended(terms: ScoreTerms, mask: Uint8Array, w: BlendWeights, top: Int32Array): number {
  const { factor, sequence, popularity, age } = terms;
  const wf = w.factor;
  const ws = w.sequence;
  const wp = w.popularity;
  const wa = w.age;
  const capacity = top.length;
  const values = new Float64Array(capacity);
  let size = 0;
  let threshold = -Infinity;
  for (let i = 0; i < factor.length; i++) {
    if (mask[i]) continue;
    const v = wf * factor[i]! + ws * sequence[i]! + wp * popularity[i]! + wa * age[i]!;
    // Items come in index order, so an equal score never displaces a kept item.
    if (size === capacity && !(v > threshold)) continue;
    let c = size < capacity ? size++ : capacity - 1;
    while (c > 0 && values[c - 1]! < v) {
      values[c] = values[c - 1]!;
      top[c] = top[c - 1]!;
      c--;
    }
    values[c] = v;
    top[c] = i;
    if (size === capacity) threshold = values[capacity - 1]!;
  }
  return size;
}

/**
 * The common scale c of the weights that maximises the held-out items' log-likelihood under the
 * softmax over the catalogue, Σ_u Σ_{t ∈ truth_u} (c·s_t − log Σ_i e^{c·s_i}). The objective is
 * concave in c (its second derivative is −Σ_u |truth_u|·Var_u(s)), so Newton's method from c = 1
 * converges in a few passes; steps are capped at a factor e either way and c kept in [0.05, 20].
 */
function fitScale(examples: readonly BlendExample[], masks: readonly Uint8Array[], w: BlendWeights): number {
  const n = examples[0]!.terms.factor.length;
  const s = new Float64Array(n);
  let c = 1;
  for (let iteration = 0; iteration < 30; iteration++) {
    let gradient = 0;
    let curvature = 0;
    examples.forEach((example, u) => {
      const { factor, sequence, popularity, age } = example.terms;
      const mask = masks[u]!;
      let max = -Infinity;
      for (let i = 0; i < n; i++) {
        s[i] = mask[i]
          ? NaN
          : w.factor * factor[i]! +
            w.sequence * sequence[i]! +
            w.popularity * popularity[i]! +
            w.age * age[i]!;
        if (s[i]! > max) max = s[i]!;
      }
      // Moments of s under the softmax p_i ∝ e^{c·s_i}, shifted by the maximum for stability.
      let z = 0;
      let first = 0;
      let second = 0;
      for (let i = 0; i < n; i++) {
        if (mask[i]) continue;
        const d = s[i]! - max;
        const e = Math.exp(c * d);
        z += e;
        first += e * d;
        second += e * d * d;
      }
      const mean = first / z;
      const variance = Math.max(0, second / z - mean * mean);
      const t = example.truth.length;
      for (let q = 0; q < t; q++) gradient += s[example.truth[q]!]! - max - mean;
      curvature += t * variance;
    });
    if (!(curvature > 0)) break;
    const next = Math.min(
      20,
      Math.max(0.05, Math.min(c * Math.E, Math.max(c / Math.E, c + gradient / curvature))),
    );
    const done = Math.abs(next - c) <= 1e-6 * c;
    c = next;
    if (done) break;
  }
  return c;
}

/** Six significant digits: the weights are reported as hyperparameter strings. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}
