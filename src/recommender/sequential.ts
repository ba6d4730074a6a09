/**
 * Item-to-item neighbours from the order of users' sequences: what tends to come right after (and,
 * weighted less, right before) an item in the same user's history. On rating data collected
 * through a UI (MovieLens's signup pages, carousels) and on session data, the next interactions
 * follow the last few closely; co-occurrence at a short distance captures that and taste together.
 * The same builder, symmetric and with a wider window, gives `aws-similar-items` its neighbours.
 */
import type { Sequences } from './dataset.js';
import { itemCounts } from './dataset.js';
import { balancedRanges, type ThreadPool } from './pool.js';

export interface Neighbours {
  /** Neighbours kept per item. */
  m: number;
  /** nItems × m neighbour indices, best first (weight 0 marks an empty slot). */
  index: Uint32Array;
  weight: Float32Array;
}

export interface NeighbourOptions {
  /** Positions ahead (and behind) that count as co-occurring. */
  window: number;
  /** Neighbours kept per item. */
  m: number;
  /** Weight of a co-occurrence before the item relative to one after it (1 = symmetric). */
  backwardWeight: number;
  /** How fast the weight falls with distance d: 1 / d^distanceExponent. */
  distanceExponent: number;
  sourceExponent: number;
  targetExponent: number;
}

export async function buildNeighbours(
  pool: ThreadPool,
  sequences: Sequences,
  options: NeighbourOptions,
): Promise<Neighbours> {
  const { nItems, nUsers, userPtr, items } = sequences;
  const n = items.length;
  const userOf = pool.alloc(Uint32Array, n);
  for (let u = 0; u < nUsers; u++) userOf.fill(u, userPtr[u]!, userPtr[u + 1]!);
  const occPtr = pool.alloc(Uint32Array, nItems + 1);
  for (let p = 0; p < n; p++) occPtr[items[p]! + 1]!++;
  for (let i = 0; i < nItems; i++) occPtr[i + 1]! += occPtr[i]!;
  const fill = occPtr.slice(0, nItems);
  const occ = pool.alloc(Uint32Array, n);
  for (let p = 0; p < n; p++) occ[fill[items[p]!]!++] = p;
  const counts = pool.copy(Float64Array, itemCounts(sequences));
  const forward = pool.alloc(Float64Array, options.window + 1);
  const backward = pool.alloc(Float64Array, options.window + 1);
  for (let d = 1; d <= options.window; d++) {
    forward[d] = 1 / Math.pow(d, options.distanceExponent);
    backward[d] = options.backwardWeight / Math.pow(d, options.distanceExponent);
  }
  const outIndex = pool.alloc(Uint32Array, nItems * options.m);
  const outWeight = pool.alloc(Float32Array, nItems * options.m);
  const arrays = {
    userPtr: pool.copy(Uint32Array, userPtr),
    items: pool.copy(Uint32Array, items),
    userOf,
    occPtr,
    occ,
    counts,
    forward,
    backward,
    outIndex,
    outWeight,
  };
  const names = {} as Record<keyof typeof arrays, string>;
  for (const [name, array] of Object.entries(arrays)) {
    pool.share(`nb.${name}`, array);
    names[name as keyof typeof arrays] = `nb.${name}`;
  }
  const ranges = balancedRanges(
    nItems,
    pool.threads * 8,
    (i) => 16 + (occPtr[i + 1]! - occPtr[i]!) * options.window,
  );
  await pool.run(
    ranges.map(([start, end]) => ({
      kind: 'neighbours' as const,
      arrays: names,
      window: options.window,
      m: options.m,
      sourceExponent: options.sourceExponent,
      targetExponent: options.targetExponent,
      start,
      end,
    })),
  );
  return { m: options.m, index: Uint32Array.from(outIndex), weight: Float32Array.from(outWeight) };
}

/** out[i] += w · weight(j → i) for each neighbour i of j. */
export function addNeighbours(nb: Neighbours, j: number, w: number, out: Float64Array): void {
  const base = j * nb.m;
  for (let t = 0; t < nb.m; t++) {
    const weight = nb.weight[base + t]!;
    if (weight === 0) break;
    out[nb.index[base + t]!]! += w * weight;
  }
}
