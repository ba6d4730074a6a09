/**
 * The engine's numeric inner loops, shared by the main thread and the worker threads: each kernel
 * works on a range of rows of typed arrays (plain or SharedArrayBuffer-backed) and writes only
 * the rows it was given, so ranges can run on any thread and the result does not depend on how
 * the work was split. Loops are over flat row-major typed arrays with locals hoisted, which is
 * what V8 compiles to tight machine code.
 */

/** What the implicit-ALS row solve reads and writes. */
export interface SolveArrays {
  /** CSR of the side being solved: row pointers, column indices, observed weights. */
  ptr: Uint32Array;
  idx: Uint32Array;
  weight: Float32Array;
  /** The other side's factors (nOther × k), fixed during this half-iteration. */
  fixed: Float32Array;
  /** Unobserved weight × the other side's Gramian (k × k, float64). */
  gram: Float64Array;
  /** L2 regularisation per row. */
  reg: Float32Array;
  /** The factors being solved (rows × k), read as the warm start and overwritten. */
  out: Float32Array;
}

/**
 * Implicit ALS, one half-iteration over rows [start, end): for each row u, a few conjugate-gradient
 * steps from the current value towards the solution of
 *   (gram + Σ_j w_uj y_j y_jᵀ + reg_u I) x_u = Σ_j w_uj y_j
 * (the Gramian trick: unobserved items enter through `gram` once, not one by one), so one row
 * costs O(k² + n_u·k) per step instead of the O(n_u·k² + k³) of a direct solve.
 */
export function solveRows(a: SolveArrays, k: number, steps: number, start: number, end: number): void {
  const { ptr, idx, weight, fixed, gram, reg, out } = a;
  const x = new Float64Array(k);
  const r = new Float64Array(k);
  const p = new Float64Array(k);
  const ap = new Float64Array(k);
  for (let u = start; u < end; u++) {
    const from = ptr[u]!;
    const to = ptr[u + 1]!;
    const row = u * k;
    if (from === to) {
      out.fill(0, row, row + k);
      continue;
    }
    const lambda = reg[u]!;
    for (let f = 0; f < k; f++) x[f] = out[row + f]!;
    // r = b − A x = Σ w_j (1 − y_j·x) y_j − gram·x − λx.
    symmetricTimes(gram, x, r, k, lambda);
    for (let f = 0; f < k; f++) r[f] = -r[f]!;
    for (let e = from; e < to; e++) {
      const base = idx[e]! * k;
      axpy(weight[e]! * (1 - dot(fixed, base, x, k)), fixed, base, r, k);
    }
    let rs = 0;
    for (let f = 0; f < k; f++) {
      p[f] = r[f]!;
      rs += r[f]! * r[f]!;
    }
    for (let step = 0; step < steps && rs > 1e-20; step++) {
      symmetricTimes(gram, p, ap, k, lambda);
      for (let e = from; e < to; e++) {
        const base = idx[e]! * k;
        axpy(weight[e]! * dot(fixed, base, p, k), fixed, base, ap, k);
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
    for (let f = 0; f < k; f++) out[row + f] = x[f]!;
  }
}

/** y[base .. base + k) · v, unrolled by four (V8 keeps the four sums in registers). */
export function dot(y: Float32Array, base: number, v: Float64Array, k: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let f = 0;
  for (; f + 3 < k; f += 4) {
    s0 += y[base + f]! * v[f]!;
    s1 += y[base + f + 1]! * v[f + 1]!;
    s2 += y[base + f + 2]! * v[f + 2]!;
    s3 += y[base + f + 3]! * v[f + 3]!;
  }
  for (; f < k; f++) s0 += y[base + f]! * v[f]!;
  return s0 + s1 + s2 + s3;
}

/** acc += c · y[base .. base + k), unrolled by four. */
export function axpy(c: number, y: Float32Array, base: number, acc: Float64Array, k: number): void {
  let f = 0;
  for (; f + 3 < k; f += 4) {
    acc[f]! += c * y[base + f]!;
    acc[f + 1]! += c * y[base + f + 1]!;
    acc[f + 2]! += c * y[base + f + 2]!;
    acc[f + 3]! += c * y[base + f + 3]!;
  }
  for (; f < k; f++) acc[f]! += c * y[base + f]!;
}

/** out = (gram + λI) · v for symmetric k × k gram, rows unrolled by four. */
export function symmetricTimes(
  gram: Float64Array,
  v: Float64Array,
  out: Float64Array,
  k: number,
  lambda: number,
): void {
  for (let i = 0; i < k; i++) {
    const base = i * k;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j + 3 < k; j += 4) {
      s0 += gram[base + j]! * v[j]!;
      s1 += gram[base + j + 1]! * v[j + 1]!;
      s2 += gram[base + j + 2]! * v[j + 2]!;
      s3 += gram[base + j + 3]! * v[j + 3]!;
    }
    for (; j < k; j++) s0 += gram[base + j]! * v[j]!;
    out[i] = s0 + s1 + s2 + s3 + lambda * v[i]!;
  }
}

/** Σ_{rows in [start, end)} f fᵀ (k × k, float64, full matrix). */
export function gramianChunk(factors: Float32Array, k: number, start: number, end: number): Float64Array {
  const g = new Float64Array(k * k);
  const row = new Float64Array(k);
  for (let u = start; u < end; u++) {
    const offset = u * k;
    for (let f = 0; f < k; f++) row[f] = factors[offset + f]!;
    for (let i = 0; i < k; i++) {
      const fi = row[i]!;
      if (fi === 0) continue;
      const base = i * k;
      let j = i;
      for (; j + 3 < k; j += 4) {
        g[base + j]! += fi * row[j]!;
        g[base + j + 1]! += fi * row[j + 1]!;
        g[base + j + 2]! += fi * row[j + 2]!;
        g[base + j + 3]! += fi * row[j + 3]!;
      }
      for (; j < k; j++) g[base + j]! += fi * row[j]!;
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) g[i * k + j] = g[j * k + i]!;
  return g;
}

/** What the item-to-item neighbour build reads and writes. */
export interface NeighbourArrays {
  /** User sequences (time order): row pointers and item per position. */
  userPtr: Uint32Array;
  items: Uint32Array;
  /** The user owning each position. */
  userOf: Uint32Array;
  /** Positions of each item: CSR over items. */
  occPtr: Uint32Array;
  occ: Uint32Array;
  /** Interactions per item. */
  counts: Float64Array;
  /** Weight of a co-occurrence d positions later (index d, 1 ≤ d ≤ window) and earlier. */
  forward: Float64Array;
  backward: Float64Array;
  /** Output: for each item, `m` neighbour indices and weights (weight 0 = no neighbour). */
  outIndex: Uint32Array;
  outWeight: Float32Array;
}

/**
 * Item-to-item neighbours for items [start, end): for every occurrence of item j, the items up to
 * `window` positions after it (and, weighted separately, before it) in the same user's sequence
 * are credited with a weight that falls with distance. A neighbour's total is normalised by
 * count(j)^sourceExponent · count(i)^targetExponent (popularity discount) and the `m` best are kept,
 * ties by index so the result is deterministic.
 */
export function neighbourRows(
  a: NeighbourArrays,
  window: number,
  m: number,
  sourceExponent: number,
  targetExponent: number,
  start: number,
  end: number,
): void {
  const { userPtr, items, userOf, occPtr, occ, counts, forward, backward, outIndex, outWeight } = a;
  const nItems = counts.length;
  const acc = new Float64Array(nItems);
  const touched = new Uint32Array(nItems);
  const mark = new Uint8Array(nItems);
  const heap = new Uint32Array(m);
  const targetScale = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) targetScale[i] = Math.pow(Math.max(1, counts[i]!), targetExponent);
  for (let j = start; j < end; j++) {
    let nTouched = 0;
    for (let o = occPtr[j]!; o < occPtr[j + 1]!; o++) {
      const g = occ[o]!;
      const u = userOf[g]!;
      const from = userPtr[u]!;
      const to = userPtr[u + 1]!;
      for (let d = 1; d <= window; d++) {
        const after = g + d;
        if (after < to) {
          const i = items[after]!;
          if (!mark[i]) {
            mark[i] = 1;
            touched[nTouched++] = i;
          }
          acc[i]! += forward[d]!;
        }
        const before = g - d;
        if (before >= from) {
          const i = items[before]!;
          if (!mark[i]) {
            mark[i] = 1;
            touched[nTouched++] = i;
          }
          acc[i]! += backward[d]!;
        }
      }
    }
    const source = Math.pow(Math.max(1, counts[j]!), sourceExponent);
    // The m best by a size-m min-heap (root = worst kept; ties: the higher index is worse).
    let size = 0;
    for (let t = 0; t < nTouched; t++) {
      const i = touched[t]!;
      if (i === j || !(acc[i]! > 0)) {
        acc[i] = 0;
        continue;
      }
      acc[i] = acc[i]! / (source * targetScale[i]!);
      if (size < m) {
        heap[size] = i;
        siftUp(heap, acc, size++);
      } else if (worse(acc, heap[0]!, i)) {
        heap[0] = i;
        siftDown(heap, acc, 0, size);
      }
    }
    // Heapsort in place: moving the worst to the end each time leaves the kept items best first.
    for (let last = size - 1; last > 0; last--) {
      const swap = heap[0]!;
      heap[0] = heap[last]!;
      heap[last] = swap;
      siftDown(heap, acc, 0, last);
    }
    const base = j * m;
    for (let t = 0; t < size; t++) {
      outIndex[base + t] = heap[t]!;
      outWeight[base + t] = acc[heap[t]!]!;
    }
    for (let t = size; t < m; t++) {
      outIndex[base + t] = 0;
      outWeight[base + t] = 0;
    }
    for (let t = 0; t < nTouched; t++) {
      const i = touched[t]!;
      acc[i] = 0;
      mark[i] = 0;
    }
  }
}

/** Whether item x ranks below item y by `acc` (ties: the higher index ranks below). */
function worse(acc: Float64Array, x: number, y: number): boolean {
  return acc[x]! < acc[y]! || (acc[x] === acc[y] && x > y);
}

/** Restores the min-heap order (root = worst) from position c up. */
function siftUp(heap: Uint32Array, acc: Float64Array, c: number): void {
  while (c > 0) {
    const parent = (c - 1) >> 1;
    if (!worse(acc, heap[c]!, heap[parent]!)) break;
    const swap = heap[c]!;
    heap[c] = heap[parent]!;
    heap[parent] = swap;
    c = parent;
  }
}

/** Restores the min-heap order of heap[0, size) from position c down. */
function siftDown(heap: Uint32Array, acc: Float64Array, c: number, size: number): void {
  for (;;) {
    const l = 2 * c + 1;
    const r = l + 1;
    let w = c;
    if (l < size && worse(acc, heap[l]!, heap[w]!)) w = l;
    if (r < size && worse(acc, heap[r]!, heap[w]!)) w = r;
    if (w === c) return;
    const swap = heap[c]!;
    heap[c] = heap[w]!;
    heap[w] = swap;
    c = w;
  }
}

/**
 * The implicit-ALS objective over rows [start, end) of the user side:
 *   Σ_obs w (1 − x·y)² + xᵀ·gram·x + reg_u ‖x‖²
 * (gram already carries the unobserved weight), for progress reports.
 */
export function lossRows(a: SolveArrays, users: Float32Array, k: number, start: number, end: number): number {
  const { ptr, idx, weight, fixed, gram, reg } = a;
  let loss = 0;
  for (let u = start; u < end; u++) {
    const row = u * k;
    let norm = 0;
    let quad = 0;
    for (let i = 0; i < k; i++) {
      const xi = users[row + i]!;
      norm += xi * xi;
      let s = 0;
      for (let j = 0; j < k; j++) s += gram[i * k + j]! * users[row + j]!;
      quad += xi * s;
    }
    loss += quad + reg[u]! * norm;
    for (let e = ptr[u]!; e < ptr[u + 1]!; e++) {
      const base = idx[e]! * k;
      let dot = 0;
      for (let f = 0; f < k; f++) dot += fixed[base + f]! * users[row + f]!;
      loss += weight[e]! * (1 - dot) * (1 - dot);
    }
  }
  return loss;
}
