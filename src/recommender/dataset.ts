/**
 * Interactions → per-user sequences in time order (the form every recipe trains from), the
 * training minimums Personalize enforces, and user subsets for evaluation splits.
 *
 * A sequence is a CSR slice: the user's interactions sorted by timestamp, ties kept in input order
 * (MovieLens stores whole seconds, so a signup burst has many equal timestamps and the input order
 * is the best order there is). Item and user index spaces are those of the input, so a model and
 * the dataset agree on indices.
 */
import { RecommenderError } from './errors.js';
import type { InteractionsInput } from './types.js';

export const MIN_INTERACTIONS = 1000;
export const MIN_USERS_WITH_TWO = 25;

export interface Sequences {
  nUsers: number;
  nItems: number;
  /** CSR row pointers, nUsers + 1 entries. */
  userPtr: Uint32Array;
  /** Item index of each interaction, users' rows in time order. */
  items: Uint32Array;
  /** Timestamp (epoch seconds) of each interaction, aligned with `items`. */
  times: Float64Array;
}

export interface SequenceFilter {
  /** Train only on interactions of this EVENT_TYPE (Personalize's solution `eventType`). */
  eventType?: string;
  /** Train only on interactions whose EVENT_VALUE is at least this (solution `eventValueThreshold`). */
  eventValueThreshold?: number;
}

function checkColumns(data: InteractionsInput): void {
  const n = data.count;
  if (!Number.isInteger(n) || n < 0)
    throw new RecommenderError('INVALID_INPUT', `Invalid interaction count ${n}.`);
  const columns: [string, { length: number } | undefined][] = [
    ['userIndex', data.userIndex],
    ['itemIndex', data.itemIndex],
    ['timestamps', data.timestamps],
  ];
  if (data.eventValues) columns.push(['eventValues', data.eventValues]);
  if (data.eventTypeIndex) columns.push(['eventTypeIndex', data.eventTypeIndex]);
  for (const [name, column] of columns)
    if (!column || column.length < n)
      throw new RecommenderError('INVALID_INPUT', `Column ${name} has fewer than ${n} entries.`);
  const nUsers = data.users.length;
  const nItems = data.items.length;
  for (let r = 0; r < n; r++) {
    if (data.userIndex[r]! >= nUsers || data.itemIndex[r]! >= nItems || !Number.isFinite(data.timestamps[r]!))
      throw new RecommenderError(
        'INVALID_INPUT',
        `Interaction ${r} has a user/item index or timestamp out of range.`,
      );
  }
}

/** Builds time-ordered sequences from the interactions that pass `filter`. */
export function buildSequences(data: InteractionsInput, filter: SequenceFilter = {}): Sequences {
  checkColumns(data);
  const n = data.count;
  const nUsers = data.users.length;
  const nItems = data.items.length;
  let keep: Uint8Array | undefined;
  if (filter.eventType !== undefined || filter.eventValueThreshold !== undefined) {
    keep = new Uint8Array(n).fill(1);
    if (filter.eventType !== undefined) {
      const type = data.eventTypes?.indexOf(filter.eventType) ?? -1;
      if (!data.eventTypeIndex || type < 0) keep.fill(0);
      else for (let r = 0; r < n; r++) if (data.eventTypeIndex[r] !== type) keep[r] = 0;
    }
    if (filter.eventValueThreshold !== undefined) {
      const values = data.eventValues;
      if (!values)
        throw new RecommenderError(
          'INVALID_INPUT',
          'eventValueThreshold needs an EVENT_VALUE column in the interactions dataset.',
        );
      for (let r = 0; r < n; r++) if (!(values[r]! >= filter.eventValueThreshold)) keep[r] = 0;
    }
  }
  const userPtr = new Uint32Array(nUsers + 1);
  for (let r = 0; r < n; r++) if (!keep || keep[r]) userPtr[data.userIndex[r]! + 1]!++;
  for (let u = 0; u < nUsers; u++) userPtr[u + 1]! += userPtr[u]!;
  const total = userPtr[nUsers]!;
  // Rows grouped by user in input order (a stable counting sort), then each group sorted by time.
  const order = new Uint32Array(total);
  const fill = userPtr.slice(0, nUsers);
  for (let r = 0; r < n; r++) if (!keep || keep[r]) order[fill[data.userIndex[r]!]!++] = r;
  const ts = data.timestamps;
  const byTime = (a: number, b: number): number => ts[a]! - ts[b]! || a - b;
  for (let u = 0; u < nUsers; u++) {
    const start = userPtr[u]!;
    const end = userPtr[u + 1]!;
    let sorted = true;
    for (let p = start + 1; p < end && sorted; p++) if (byTime(order[p - 1]!, order[p]!) > 0) sorted = false;
    if (!sorted) order.subarray(start, end).sort(byTime);
  }
  const items = new Uint32Array(total);
  const times = new Float64Array(total);
  for (let p = 0; p < total; p++) {
    const r = order[p]!;
    items[p] = data.itemIndex[r]!;
    times[p] = ts[r]!;
  }
  return { nUsers, nItems, userPtr, items, times };
}

/** Throws Personalize's training errors when there is too little data. */
export function checkTrainable(sequences: Sequences): void {
  const total = sequences.userPtr[sequences.nUsers]!;
  if (total < MIN_INTERACTIONS)
    throw new RecommenderError(
      'INSUFFICIENT_DATA',
      `Dataset has fewer than ${MIN_INTERACTIONS} interactions (it has ${total}).`,
    );
  let usersWithTwo = 0;
  for (let u = 0; u < sequences.nUsers; u++)
    if (sequences.userPtr[u + 1]! - sequences.userPtr[u]! >= 2) usersWithTwo++;
  if (usersWithTwo < MIN_USERS_WITH_TWO)
    throw new RecommenderError(
      'INSUFFICIENT_DATA',
      `Dataset has fewer than ${MIN_USERS_WITH_TWO} users with at least 2 interactions each.`,
    );
}

/**
 * The same sequences with only the users marked in `include`, and each included user cut to
 * their first `lengths[u]` interactions when `lengths` is given. Index spaces are unchanged;
 * excluded users have empty rows.
 */
export function subsetSequences(sequences: Sequences, include: Uint8Array, lengths?: Uint32Array): Sequences {
  const { nUsers, userPtr } = sequences;
  const ptr = new Uint32Array(nUsers + 1);
  for (let u = 0; u < nUsers; u++) {
    const length = include[u] ? (lengths ? lengths[u]! : userPtr[u + 1]! - userPtr[u]!) : 0;
    ptr[u + 1] = ptr[u]! + length;
  }
  const items = new Uint32Array(ptr[nUsers]!);
  const times = new Float64Array(ptr[nUsers]!);
  for (let u = 0; u < nUsers; u++) {
    const length = ptr[u + 1]! - ptr[u]!;
    if (length === 0) continue;
    items.set(sequences.items.subarray(userPtr[u]!, userPtr[u]! + length), ptr[u]!);
    times.set(sequences.times.subarray(userPtr[u]!, userPtr[u]! + length), ptr[u]!);
  }
  return { nUsers, nItems: sequences.nItems, userPtr: ptr, items, times };
}

/** Interactions per item over all users' sequences. */
export function itemCounts(sequences: Sequences): Float64Array {
  const counts = new Float64Array(sequences.nItems);
  const { items } = sequences;
  for (let p = 0; p < items.length; p++) counts[items[p]!]!++;
  return counts;
}
