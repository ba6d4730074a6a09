/**
 * Offline evaluation with Personalize's protocol and `GetSolutionMetrics`' metrics.
 *
 * Split (seeded): users with at least 2 interactions are shuffled and 10% of them (rounded, at
 * least one) become test users; everyone else — including users with a single interaction, who
 * cannot be split into input and truth — trains the model with all their interactions. A test
 * user's time-ordered interactions are cut at floor(0.9 · n) (at least 1, at most n − 1): the
 * oldest part is the input the model sees at query time (test users are not in training), the
 * newest part is the truth. Truth items the user already has in the input are dropped (seen items
 * are never recommended); a test user left with no truth is not scored.
 *
 * Metrics over the test users' top 25 (seen items excluded, no exploration):
 *   precision_at_K  relevant items in the top K / K
 *   normalized_discounted_cumulative_gain_at_K  DCG = Σ_{relevant at rank r ≤ K} 1/log2(1 + r),
 *                   over the ideal DCG of min(|truth|, K) relevant items at the top
 *   mean_reciprocal_rank_at_25  1 / rank of the first relevant item in the top 25 (0 if none)
 *   coverage        distinct items recommended to the test users / distinct items in the data
 * each averaged over the scored test users (coverage is over the set).
 */
import type { Sequences } from './dataset.js';
import { subsetSequences } from './dataset.js';
import { Random } from './random.js';

export const METRIC_NAMES = [
  'coverage',
  'mean_reciprocal_rank_at_25',
  'normalized_discounted_cumulative_gain_at_10',
  'normalized_discounted_cumulative_gain_at_25',
  'normalized_discounted_cumulative_gain_at_5',
  'precision_at_10',
  'precision_at_25',
  'precision_at_5',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
/** Exactly the keys of Personalize's GetSolutionMetrics `metrics`. */
export type SolutionMetrics = Record<MetricName, number>;

export const TEST_USER_SHARE = 0.1;
export const INPUT_SHARE = 0.9;
/** Recommendations scored per test user (the largest K of the metrics). */
export const EVALUATION_DEPTH = 25;

export interface TestUser {
  user: number;
  /** Input interactions: positions [start, start + inputLength) of the full sequences. */
  inputLength: number;
  /** Distinct truth items, not in the input. */
  truth: Uint32Array;
}

export interface ProtocolSplit {
  /** Training sequences: all users except the test users, full histories. */
  train: Sequences;
  test: TestUser[];
}

/** Number of input interactions for a user with n interactions. */
export function inputLength(n: number): number {
  return Math.min(n - 1, Math.max(1, Math.floor(INPUT_SHARE * n)));
}

/** Personalize's split of `sequences` (see the module header), seeded. */
export function protocolSplit(sequences: Sequences, seed: number, share = TEST_USER_SHARE): ProtocolSplit {
  return holdoutSplit(sequences, seed, { share, keepInput: false });
}

export interface HoldoutOptions {
  share: number;
  /** Keep the held-out users' input part in the training sequences (else they are left out entirely). */
  keepInput: boolean;
  /** At most this many held-out users. */
  maxUsers?: number;
  /** Random stream (different uses of one seed draw different users). */
  stream?: number;
}

/** The protocol's user split, also used to carve validation and calibration users from training users. */
export function holdoutSplit(sequences: Sequences, seed: number, options: HoldoutOptions): ProtocolSplit {
  const { nUsers, userPtr, items } = sequences;
  const eligible: number[] = [];
  for (let u = 0; u < nUsers; u++) if (userPtr[u + 1]! - userPtr[u]! >= 2) eligible.push(u);
  const order = new Random(seed, options.stream ?? 2).shuffle(Uint32Array.from(eligible));
  const wanted = Math.max(1, Math.round(options.share * eligible.length));
  const nTest = Math.min(eligible.length, options.maxUsers ?? Infinity, wanted);
  const chosen = Array.from(order.subarray(0, nTest)).sort((a, b) => a - b);
  const include = new Uint8Array(nUsers).fill(1);
  const lengths = new Uint32Array(nUsers);
  for (let u = 0; u < nUsers; u++) lengths[u] = userPtr[u + 1]! - userPtr[u]!;
  const test: TestUser[] = [];
  for (const u of chosen) {
    const from = userPtr[u]!;
    const n = userPtr[u + 1]! - from;
    const length = inputLength(n);
    if (options.keepInput) lengths[u] = length;
    else include[u] = 0;
    const seen = new Set<number>();
    for (let e = from; e < from + length; e++) seen.add(items[e]!);
    const truth = new Set<number>();
    for (let e = from + length; e < from + n; e++) if (!seen.has(items[e]!)) truth.add(items[e]!);
    if (truth.size > 0) test.push({ user: u, inputLength: length, truth: Uint32Array.from(truth) });
  }
  return { train: subsetSequences(sequences, include, lengths), test };
}

export interface UserMetrics {
  reciprocalRank: number;
  ndcg: [number, number, number];
  precision: [number, number, number];
}

const CUTOFFS = [5, 10, 25] as const;

/** The per-user metrics of a ranked list against a truth set. */
export function userMetrics(ranked: ArrayLike<number>, truth: ReadonlySet<number>): UserMetrics {
  const ndcg: [number, number, number] = [0, 0, 0];
  const precision: [number, number, number] = [0, 0, 0];
  let reciprocalRank = 0;
  CUTOFFS.forEach((k, c) => {
    let dcg = 0;
    let hits = 0;
    for (let r = 0; r < Math.min(k, ranked.length); r++)
      if (truth.has(ranked[r]!)) {
        hits++;
        dcg += 1 / Math.log2(r + 2);
        if (reciprocalRank === 0) reciprocalRank = 1 / (r + 1);
      }
    let ideal = 0;
    for (let r = 0; r < Math.min(k, truth.size); r++) ideal += 1 / Math.log2(r + 2);
    ndcg[c] = ideal > 0 ? dcg / ideal : 0;
    precision[c] = hits / k;
  });
  return { reciprocalRank, ndcg, precision };
}

/** Averages per-user metrics and computes coverage; `catalogueSize` = distinct items in the data. */
export function aggregateMetrics(
  rankings: readonly ArrayLike<number>[],
  truths: readonly ReadonlySet<number>[],
  catalogueSize: number,
): SolutionMetrics {
  const sums = { rr: 0, ndcg: [0, 0, 0], precision: [0, 0, 0] };
  const recommended = new Set<number>();
  rankings.forEach((ranked, u) => {
    const m = userMetrics(ranked, truths[u]!);
    sums.rr += m.reciprocalRank;
    for (let c = 0; c < 3; c++) {
      sums.ndcg[c]! += m.ndcg[c]!;
      sums.precision[c]! += m.precision[c]!;
    }
    for (let r = 0; r < Math.min(EVALUATION_DEPTH, ranked.length); r++) recommended.add(ranked[r]!);
  });
  const n = Math.max(1, rankings.length);
  return {
    coverage: catalogueSize > 0 ? recommended.size / catalogueSize : 0,
    mean_reciprocal_rank_at_25: sums.rr / n,
    normalized_discounted_cumulative_gain_at_10: sums.ndcg[1]! / n,
    normalized_discounted_cumulative_gain_at_25: sums.ndcg[2]! / n,
    normalized_discounted_cumulative_gain_at_5: sums.ndcg[0]! / n,
    precision_at_10: sums.precision[1]! / n,
    precision_at_25: sums.precision[2]! / n,
    precision_at_5: sums.precision[0]! / n,
  };
}

/** Distinct items with at least one interaction. */
export function distinctItems(sequences: Sequences): number {
  const seen = new Uint8Array(sequences.nItems);
  let n = 0;
  for (let p = 0; p < sequences.items.length; p++)
    if (!seen[sequences.items[p]!]) {
      seen[sequences.items[p]!] = 1;
      n++;
    }
  return n;
}
