/**
 * Popularity, overall and around a point in time. Real interaction data drifts: what people
 * interact with next is much closer to what was popular around their latest interaction than to
 * the all-time chart. Time is cut into bins holding equal numbers of interactions (quantiles, so
 * busy and quiet periods get the same resolution on any data set), each bin keeps its items'
 * counts (sparse), and the popularity at time t sums the bins within `window` (a share of all
 * interactions, on either side) of t's bin.
 */
import type { Sequences } from './dataset.js';

export interface TimePopularity {
  /** Bin b holds times in [edges[b], edges[b + 1]); length bins + 1. */
  edges: Float64Array;
  /** CSR over bins: item indices and their counts in the bin. */
  ptr: Uint32Array;
  item: Uint32Array;
  count: Float32Array;
}

export const TIME_BINS = 200;

export function buildTimePopularity(sequences: Sequences, bins = TIME_BINS): TimePopularity {
  const { items, times, nItems } = sequences;
  const n = items.length;
  const sorted = Float64Array.from(times).sort();
  const nBins = Math.max(1, Math.min(bins, n));
  const edges = new Float64Array(nBins + 1);
  for (let b = 0; b < nBins; b++) edges[b] = n === 0 ? 0 : sorted[Math.floor((b * n) / nBins)]!;
  edges[nBins] = n === 0 ? 0 : sorted[n - 1]! + 1;
  // Interactions by bin (counting sort), then each bin's items aggregated.
  const binOf = new Uint32Array(n);
  const binPtr = new Uint32Array(nBins + 1);
  for (let p = 0; p < n; p++) {
    const b = binIndex(edges, times[p]!);
    binOf[p] = b;
    binPtr[b + 1]!++;
  }
  for (let b = 0; b < nBins; b++) binPtr[b + 1]! += binPtr[b]!;
  const fill = binPtr.slice(0, nBins);
  const byBin = new Uint32Array(n);
  for (let p = 0; p < n; p++) byBin[fill[binOf[p]!]!++] = items[p]!;
  // Each bin's distinct items in index order with their counts, into typed arrays sized for the
  // worst case (every interaction a distinct item of its bin) and trimmed at the end.
  const acc = new Float64Array(nItems);
  const ptr = new Uint32Array(nBins + 1);
  const outItem = new Uint32Array(n);
  const outCount = new Float32Array(n);
  const touched = new Uint32Array(nItems);
  let size = 0;
  for (let b = 0; b < nBins; b++) {
    let nTouched = 0;
    for (let q = binPtr[b]!; q < binPtr[b + 1]!; q++) {
      const i = byBin[q]!;
      if (acc[i] === 0) touched[nTouched++] = i;
      acc[i]!++;
    }
    const distinct = touched.subarray(0, nTouched).sort();
    for (let t = 0; t < nTouched; t++) {
      const i = distinct[t]!;
      outItem[size] = i;
      outCount[size++] = acc[i]!;
      acc[i] = 0;
    }
    ptr[b + 1] = size;
  }
  return { edges, ptr, item: outItem.slice(0, size), count: outCount.slice(0, size) };
}

/** The bin holding time t (times before the first edge fall in bin 0, after the last in the last bin). */
export function binIndex(edges: Float64Array, t: number): number {
  let lo = 0;
  let hi = edges.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Adds to `out` each item's count in the bins within `halfWidth` bins of t's bin (a box window:
 * with halfWidth ≥ the bin count it is all-time popularity). Returns the total added.
 */
export function addTimePopularity(
  tp: TimePopularity,
  t: number,
  halfWidth: number,
  out: Float64Array,
): number {
  const nBins = tp.edges.length - 1;
  const centre = binIndex(tp.edges, t);
  let total = 0;
  const from = Math.max(0, centre - halfWidth);
  const to = Math.min(nBins - 1, centre + halfWidth);
  for (let b = from; b <= to; b++) {
    for (let e = tp.ptr[b]!; e < tp.ptr[b + 1]!; e++) {
      out[tp.item[e]!]! += tp.count[e]!;
      total += tp.count[e]!;
    }
  }
  return total;
}
