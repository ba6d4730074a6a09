/**
 * Fitting the blend weights of aws-user-personalization's three score terms on held-out users.
 *
 * How much the factor model, the sequence neighbours and time-local popularity should each count
 * depends on the data (how strongly popularity drifts, how sequential the histories are), so by
 * default (`auto`) the weights are fitted at every training run on held-out users' newest
 * interactions, in two steps:
 *  1. the ratios between the weights, which alone decide the ranking, by a grid search for the
 *     best NDCG@10 + NDCG@25 of the held-out users' top 25 (a direct fit of what is measured);
 *  2. their common scale, which decides how peaked the softmax scores are, by maximising the
 *     likelihood of the held-out items under the softmax over the catalogue, so the scores
 *     behave like the probabilities Personalize's scores are read as.
 * Weights given as numbers are kept as they are (and then the scale is not refitted either).
 */
import { userMetrics } from './evaluate.js';
import { topN, type ScoreTerms } from './model.js';

export interface BlendWeights {
  factor: number;
  sequence: number;
  popularity: number;
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
});
/** Ratios tried for each free weight, relative to the factor term's weight. */
const RATIOS = [0, 0.1, 0.25, 0.5, 1, 2, 4];
const TERMS = ['factor', 'sequence', 'popularity'] as const;

/** Fits the weights not given in `fixed` (those keep their given value). */
export function fitBlendWeights(
  examples: readonly BlendExample[],
  fixed: Partial<BlendWeights> = {},
): BlendWeights {
  const start: BlendWeights = { ...FALLBACK_WEIGHTS, ...fixed };
  const free = TERMS.filter((name) => fixed[name] === undefined);
  if (examples.length === 0 || free.length === 0) return start;
  const masks = examples.map((example) => {
    const mask = new Uint8Array(example.terms.factor.length);
    for (let e = 0; e < example.seen.length; e++) mask[example.seen[e]!] = 1;
    return mask;
  });
  const truths = examples.map((example) => new Set(Array.from(example.truth)));
  const scores = new Float64Array(examples[0]!.terms.factor.length);
  const quality = (w: BlendWeights): number => {
    let total = 0;
    examples.forEach((example, u) => {
      const { factor, sequence, popularity } = example.terms;
      const mask = masks[u]!;
      for (let i = 0; i < scores.length; i++)
        scores[i] = mask[i]
          ? -Infinity
          : w.factor * factor[i]! + w.sequence * sequence[i]! + w.popularity * popularity[i]!;
      const m = userMetrics(topN(scores, 25), truths[u]!);
      total += m.ndcg[1] + m.ndcg[2];
    });
    return total / examples.length;
  };
  // Step 1: the ratios, by coordinate search over RATIOS (one round over the free weights). The
  // factor term anchors the scale when it is free and there is another free weight (weight 1).
  const anchored = free.includes('factor') && free.length > 1;
  const searched = free.filter((name) => !(anchored && name === 'factor'));
  let best: BlendWeights = anchored ? { ...start, factor: 1 } : start;
  let bestQuality = quality(best);
  for (let round = 0; round < 1; round++)
    for (const name of searched)
      for (const ratio of RATIOS) {
        const w = { ...best, [name]: ratio };
        if (w[name] === best[name] || (w.factor === 0 && w.sequence === 0 && w.popularity === 0)) continue;
        const q = quality(w);
        if (q > bestQuality + 1e-12) {
          bestQuality = q;
          best = w;
        }
      }
  if (free.length < 3) return best;
  // Step 2: the common scale, by golden-section search on the log-likelihood over log(scale).
  const logLikelihood = (scale: number): number => {
    let ll = 0;
    examples.forEach((example, u) => {
      const { factor, sequence, popularity } = example.terms;
      const mask = masks[u]!;
      let max = -Infinity;
      for (let i = 0; i < scores.length; i++) {
        scores[i] = mask[i]
          ? -Infinity
          : scale *
            (best.factor * factor[i]! + best.sequence * sequence[i]! + best.popularity * popularity[i]!);
        if (scores[i]! > max) max = scores[i]!;
      }
      let z = 0;
      for (let i = 0; i < scores.length; i++) if (!mask[i]) z += Math.exp(scores[i]! - max);
      const logZ = max + Math.log(z);
      for (let t = 0; t < example.truth.length; t++) ll += scores[example.truth[t]!]! - logZ;
    });
    return ll;
  };
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = hi - ratio * (hi - lo);
  let b = lo + ratio * (hi - lo);
  let fa = logLikelihood(Math.exp(a));
  let fb = logLikelihood(Math.exp(b));
  for (let iteration = 0; iteration < 24; iteration++) {
    if (fa >= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - ratio * (hi - lo);
      fa = logLikelihood(Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + ratio * (hi - lo);
      fb = logLikelihood(Math.exp(b));
    }
  }
  const scale = Math.exp((lo + hi) / 2);
  return {
    factor: round(best.factor * scale),
    sequence: round(best.sequence * scale),
    popularity: round(best.popularity * scale),
  };
}

/** Six significant digits: the weights are reported as hyperparameter strings. */
function round(value: number): number {
  return Number(value.toPrecision(6));
}
