/**
 * Implicit alternating least squares (iALS) with the Gramian trick, conjugate-gradient row solves
 * and frequency-scaled regularisation (Hu, Koren & Volinsky 2008; Takács, Pilászy & Tikk 2011;
 * Rendle et al., "Revisiting the Performance of iALS on Item Recommendation Benchmarks", 2022).
 *
 * Objective, over users u, items i, observed pairs S with weights w_ui:
 *   Σ_S w_ui (1 − x_u·y_i)² + α₀ Σ_u Σ_i (x_u·y_i)² + λ Σ_u (W_u + α₀|I|)^ν ‖x_u‖² + λ Σ_i (W_i + α₀|U|)^ν ‖y_i‖²
 * where W_u is the sum of u's observed weights. α₀ (`unobserved_weight`) is the weight of every
 * unobserved pair; ν (`regularization_exponent`) scales regularisation with activity, so heavy
 * users and popular items are not under-regularised. Observed weights carry recency (see
 * model.ts): a user's recent interactions pull harder than old ones.
 */
import { balancedRanges, type ThreadPool } from './pool.js';
import { Random } from './random.js';

export interface AlsOptions {
  factors: number;
  iterations: number;
  cgSteps: number;
  regularization: number;
  regularizationExponent: number;
  unobservedWeight: number;
  seed: number;
  /** Called after every iteration with the objective (when asked for) and the iteration's time. */
  onIteration?: (iteration: number, loss: number | undefined, milliseconds: number) => void;
  reportLoss?: boolean;
  /** Milliseconds since some fixed point (the engine takes no clock of its own). */
  now?: () => number;
  /**
   * Start from these factors (users × k, items × k) instead of a random draw: continuing a model
   * on more data. Rows of users or items without interactions still come out zero.
   */
  init?: { users: Float32Array; items: Float32Array };
}

/** A user × item CSR with observed weights. */
export interface WeightedMatrix {
  nRows: number;
  nCols: number;
  ptr: Uint32Array;
  idx: Uint32Array;
  weight: Float32Array;
}

export interface AlsFactors {
  users: Float32Array;
  items: Float32Array;
  /** α₀ × Σ_i y_i y_iᵀ of the final item factors (for folding users in). */
  itemGram: Float64Array;
}

/** The transpose of a CSR matrix (stable: rows of the result list columns in increasing order). */
export function transpose(m: WeightedMatrix): WeightedMatrix {
  const ptr = new Uint32Array(m.nCols + 1);
  for (let e = 0; e < m.idx.length; e++) ptr[m.idx[e]! + 1]!++;
  for (let c = 0; c < m.nCols; c++) ptr[c + 1]! += ptr[c]!;
  const fill = ptr.slice(0, m.nCols);
  const idx = new Uint32Array(m.idx.length);
  const weight = new Float32Array(m.idx.length);
  for (let r = 0; r < m.nRows; r++)
    for (let e = m.ptr[r]!; e < m.ptr[r + 1]!; e++) {
      const at = fill[m.idx[e]!]!++;
      idx[at] = r;
      weight[at] = m.weight[e]!;
    }
  return { nRows: m.nCols, nCols: m.nRows, ptr, idx, weight };
}

const GRAM_CHUNK = 2048;
const LOSS_PARTS = 32;

export async function trainAls(
  pool: ThreadPool,
  matrix: WeightedMatrix,
  options: AlsOptions,
): Promise<AlsFactors> {
  const k = options.factors;
  const byItem = transpose(matrix);
  const sides = { user: matrix, item: byItem };
  const users = pool.alloc(Float32Array, matrix.nRows * k);
  const items = pool.alloc(Float32Array, matrix.nCols * k);
  if (options.init) {
    users.set(options.init.users.subarray(0, users.length));
    items.set(options.init.items.subarray(0, items.length));
  } else {
    const random = new Random(options.seed, 1);
    const scale = 0.1 / Math.sqrt(k);
    for (let e = 0; e < items.length; e++) items[e] = (random.next() * 2 - 1) * scale * Math.sqrt(3);
  }
  // Items nobody interacted with stay at zero (nothing to learn from).
  for (let i = 0; i < byItem.nRows; i++)
    if (byItem.ptr[i] === byItem.ptr[i + 1]) items.fill(0, i * k, (i + 1) * k);

  const gram = pool.alloc(Float64Array, k * k);
  pool.share('gram', gram);
  pool.share('factors.user', users);
  pool.share('factors.item', items);
  const ranges: Record<'user' | 'item', [number, number][]> = { user: [], item: [] };
  for (const side of ['user', 'item'] as const) {
    const m = sides[side];
    pool.share(`${side}.ptr`, pool.copy(Uint32Array, m.ptr));
    pool.share(`${side}.idx`, pool.copy(Uint32Array, m.idx));
    pool.share(`${side}.weight`, pool.copy(Float32Array, m.weight));
    const reg = pool.alloc(Float32Array, m.nRows);
    for (let r = 0; r < m.nRows; r++) {
      let w = 0;
      for (let e = m.ptr[r]!; e < m.ptr[r + 1]!; e++) w += m.weight[e]!;
      reg[r] =
        options.regularization *
        Math.pow(w + options.unobservedWeight * m.nCols, options.regularizationExponent);
    }
    pool.share(`${side}.reg`, reg);
    // About four ranges per thread, balanced by the rows' CG cost (k² per row + k per interaction).
    ranges[side] = balancedRanges(m.nRows, pool.threads * 4, (r) => k + m.ptr[r + 1]! - m.ptr[r]!);
  }
  const names = (side: 'user' | 'item') => {
    const other = side === 'user' ? 'item' : 'user';
    return {
      ptr: `${side}.ptr`,
      idx: `${side}.idx`,
      weight: `${side}.weight`,
      fixed: `factors.${other}`,
      gram: 'gram',
      reg: `${side}.reg`,
      out: `factors.${side}`,
    };
  };
  const computeGram = async (side: 'user' | 'item', rows: number): Promise<void> => {
    const tasks = [];
    for (let start = 0; start < rows; start += GRAM_CHUNK)
      tasks.push({
        kind: 'gram' as const,
        factors: `factors.${side}`,
        k,
        start,
        end: Math.min(rows, start + GRAM_CHUNK),
      });
    const partials = await pool.run(tasks);
    gram.fill(0);
    // Summed in chunk order whatever the thread count, so the model bytes do not depend on it.
    for (const partial of partials) {
      const p = partial as Float64Array;
      for (let e = 0; e < gram.length; e++) gram[e]! += p[e]!;
    }
    for (let e = 0; e < gram.length; e++) gram[e]! *= options.unobservedWeight;
  };
  const now = options.now;
  for (let iteration = 1; iteration <= options.iterations; iteration++) {
    const started = now?.() ?? 0;
    for (const side of ['user', 'item'] as const) {
      await computeGram(side === 'user' ? 'item' : 'user', side === 'user' ? matrix.nCols : matrix.nRows);
      await pool.run(
        ranges[side].map(([start, end]) => ({
          kind: 'solve' as const,
          arrays: names(side),
          k,
          steps: options.cgSteps,
          start,
          end,
        })),
      );
    }
    let loss: number | undefined;
    if (options.reportLoss) {
      await computeGram('item', matrix.nCols);
      const parts = balancedRanges(matrix.nRows, LOSS_PARTS, () => 1);
      const partials = await pool.run(
        parts.map(([start, end]) => ({ kind: 'loss' as const, arrays: names('user'), k, start, end })),
      );
      loss = 0;
      for (const p of partials) loss += p as number;
      for (let i = 0; i < byItem.nRows; i++) {
        const reg = lossRegItem(items, k, i, options, byItem);
        loss += reg;
      }
    }
    options.onIteration?.(iteration, loss, (now?.() ?? 0) - started);
  }
  await computeGram('item', matrix.nCols);
  const itemGram = Float64Array.from(gram);
  return { users: Float32Array.from(users), items: Float32Array.from(items), itemGram };
}

function lossRegItem(
  items: Float32Array,
  k: number,
  i: number,
  options: AlsOptions,
  byItem: WeightedMatrix,
): number {
  let norm = 0;
  for (let f = 0; f < k; f++) norm += items[i * k + f]! * items[i * k + f]!;
  if (norm === 0) return 0;
  let w = 0;
  for (let e = byItem.ptr[i]!; e < byItem.ptr[i + 1]!; e++) w += byItem.weight[e]!;
  return (
    options.regularization *
    Math.pow(w + options.unobservedWeight * byItem.nCols, options.regularizationExponent) *
    norm
  );
}
