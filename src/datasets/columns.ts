/**
 * Building an interactions dataset from rows as they are read: string columns interned per column,
 * numeric ones as float64, exact duplicate rows dropped as they arrive (`InteractionRows`), and the
 * rows appended to a previous dataset's interned tables (`appendInteractions`) into the stored
 * form (interactions.ts).
 */
import type { InteractionsData } from './interactions.js';

/** The value type of a column, as the schema declares it (Avro primitive names). */
export type ColumnType = 'string' | 'int' | 'long' | 'float' | 'double' | 'boolean';

/** Whether an integer's text is exactly how the number prints (no leading zeros, no -0, ≤ 2^53). */
function plainInteger(raw: string): boolean {
  const digits = raw.charCodeAt(0) === 45 ? 1 : 0;
  return raw.length - digits <= 15 && (raw.charCodeAt(digits) !== 48 || raw.length === 1);
}

/** Strings numbered in first-seen order. */
export class Interner {
  readonly list: string[];
  private readonly index: Map<string, number>;

  constructor(initial: readonly string[] = []) {
    this.list = [...initial];
    this.index = new Map(initial.map((v, i) => [v, i]));
  }

  id(value: string): number {
    let i = this.index.get(value);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(value);
      this.index.set(value, i);
    }
    return i;
  }
}

/**
 * An import's interaction rows as columns — numeric fields (TIMESTAMP, EVENT_VALUE, other numbers)
 * as float64, every other field interned per column — with exact duplicates dropped as rows arrive,
 * through an open-addressing hash table over the column values (compared in full on a hash match).
 * Duplicates are exact as text: comparing numbers stands in for comparing text only while every
 * numeric value is written the way the number prints (`100`, not `0100`, `1.0` or a long beyond
 * 2^53); a row with any other spelling is compared by its text instead.
 */
export class InteractionRows {
  count = 0;
  private capacity: number;
  private readonly numeric: boolean[];
  private readonly interners: (Interner | undefined)[];
  private columns: (Uint32Array | Float64Array)[];
  private slots: Int32Array;
  private readonly scratch = new Float64Array(1);
  private readonly scratchBits = new Uint32Array(this.scratch.buffer);
  private readonly integer: boolean[];
  /** Rows deduplicated by their text (1), not in the hash table. */
  private viaText: Uint8Array;
  private textKeys: Set<string> | undefined;

  /** `expectedRows` sizes the columns and table up front (they grow past it as needed). */
  constructor(
    private readonly fields: readonly { type: ColumnType }[],
    expectedRows = 0,
  ) {
    this.capacity = 1 << Math.max(16, Math.ceil(Math.log2(expectedRows + 1)));
    this.slots = new Int32Array(this.capacity * 2).fill(-1);
    this.numeric = fields.map((f) => f.type !== 'string' && f.type !== 'boolean');
    this.integer = fields.map((f) => f.type === 'int' || f.type === 'long');
    this.viaText = new Uint8Array(this.capacity);
    this.interners = fields.map((_, k) => (this.numeric[k] ? undefined : new Interner()));
    this.columns = fields.map((_, k) =>
      this.numeric[k] ? new Float64Array(this.capacity) : new Uint32Array(this.capacity),
    );
  }

  /** Adds a checked row (values in schema field order) unless it repeats an earlier one exactly. */
  add(row: readonly string[]): void {
    if (this.count === this.capacity) this.grow();
    const at = this.count;
    let hash = 0x811c9dc5;
    let plain = true;
    for (let k = 0; k < row.length; k++) {
      const raw = row[k]!;
      let bits: number;
      if (this.numeric[k]) {
        const value = raw === '' ? Number.NaN : Number(raw);
        (this.columns[k] as Float64Array)[at] = value;
        if (plain && raw !== '') plain = this.integer[k] ? plainInteger(raw) : String(value) === raw;
        this.scratch[0] = value;
        bits = this.scratchBits[0]! ^ Math.imul(this.scratchBits[1]!, 0x9e3779b1);
      } else {
        bits = this.interners[k]!.id(raw);
        (this.columns[k] as Uint32Array)[at] = bits;
      }
      hash = Math.imul(hash ^ bits, 0x01000193);
    }
    if (!plain) {
      this.textKeys ??= new Set();
      const key = row.join('\u0000');
      if (this.textKeys.has(key)) return; // an exact duplicate: the new row is dropped
      this.textKeys.add(key);
      this.viaText[at] = 1;
      this.count++;
      return;
    }
    this.viaText[at] = 0;
    const mask = this.slots.length - 1;
    for (let slot = (hash ^ (hash >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const other = this.slots[slot]!;
      if (other < 0) {
        this.slots[slot] = at;
        this.count++;
        return;
      }
      if (this.same(other, at)) return; // an exact duplicate: the new row is dropped
    }
  }

  /** The interned strings of a string column (undefined for a numeric one or no column). */
  values(k: number): readonly string[] | undefined {
    return k < 0 ? undefined : this.interners[k]?.list;
  }

  ids(k: number): Uint32Array | undefined {
    const column = k < 0 ? undefined : this.columns[k];
    return column instanceof Uint32Array ? column : undefined;
  }

  numbers(k: number): Float64Array | undefined {
    const column = k < 0 ? undefined : this.columns[k];
    return column instanceof Float64Array ? column : undefined;
  }

  private same(a: number, b: number): boolean {
    for (const column of this.columns) if (!Object.is(column[a], column[b])) return false;
    return true;
  }

  private grow(): void {
    this.capacity *= 2;
    this.columns = this.columns.map((old) => {
      const bigger =
        old instanceof Float64Array ? new Float64Array(this.capacity) : new Uint32Array(this.capacity);
      bigger.set(old);
      return bigger;
    });
    const viaText = new Uint8Array(this.capacity);
    viaText.set(this.viaText);
    this.viaText = viaText;
    // Keep the table at most half full: rebuild it for the kept rows.
    this.slots = new Int32Array(this.capacity * 2).fill(-1);
    const mask = this.slots.length - 1;
    for (let row = 0; row < this.count; row++) {
      if (this.viaText[row] === 1) continue;
      let slot = this.hashOf(row) & mask;
      while (this.slots[slot]! >= 0) slot = (slot + 1) & mask;
      this.slots[slot] = row;
    }
  }

  private hashOf(row: number): number {
    let hash = 0x811c9dc5;
    for (let k = 0; k < this.columns.length; k++) {
      let bits: number;
      if (this.numeric[k]) {
        this.scratch[0] = (this.columns[k] as Float64Array)[row]!;
        bits = this.scratchBits[0]! ^ Math.imul(this.scratchBits[1]!, 0x9e3779b1);
      } else bits = (this.columns[k] as Uint32Array)[row]!;
      hash = Math.imul(hash ^ bits, 0x01000193);
    }
    return hash ^ (hash >>> 15);
  }
}

/**
 * The dataset after appending `rows` (columns named by `columnNames`, USER_ID, ITEM_ID and
 * TIMESTAMP required, EVENT_VALUE and EVENT_TYPE optional) to `previous` (undefined: a new
 * dataset). The previous interned IDs keep their indexes; new ones follow.
 */
export function appendInteractions(
  previous: InteractionsData | undefined,
  rows: InteractionRows,
  columnNames: readonly string[],
): InteractionsData {
  const rowsIn = rows;
  const col = (name: string): number => columnNames.indexOf(name);
  const [u, it, ts, ev, et] = ['USER_ID', 'ITEM_ID', 'TIMESTAMP', 'EVENT_VALUE', 'EVENT_TYPE'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const base = previous?.count ?? 0;
  const imported = rows.count;
  const count = base + imported;
  const users = new Interner(previous?.users ?? []);
  const items = new Interner(previous?.items ?? []);
  const eventTypes = new Interner(previous?.eventTypes ?? []);
  const hasEventValue = ev >= 0 || previous?.eventValues !== undefined;
  const hasEventType = et >= 0 || previous?.eventTypeIndex !== undefined;
  const userIndex = new Uint32Array(count);
  const itemIndex = new Uint32Array(count);
  const timestamps = new Float64Array(count);
  const eventValues = hasEventValue ? new Float32Array(count) : undefined;
  const eventTypeIndex = hasEventType ? new Uint32Array(count) : undefined;
  if (previous) {
    userIndex.set(previous.userIndex);
    itemIndex.set(previous.itemIndex);
    timestamps.set(previous.timestamps);
    if (eventValues) {
      if (previous.eventValues) eventValues.set(previous.eventValues);
      else eventValues.fill(Number.NaN, 0, base);
    }
    if (eventTypeIndex) {
      if (previous.eventTypeIndex) eventTypeIndex.set(previous.eventTypeIndex);
      else eventTypeIndex.fill(eventTypes.id(''), 0, base);
    }
  }
  // This import's interned values map onto the dataset's tables (the previous ones come first).
  const remap = (column: number, table: Interner): Uint32Array | undefined => {
    const values = rowsIn.values(column);
    return values === undefined ? undefined : Uint32Array.from(values, (v) => table.id(v));
  };
  const userMap = remap(u, users)!;
  const itemMap = remap(it, items)!;
  const typeMap = et >= 0 ? remap(et, eventTypes) : undefined;
  const userCol = rowsIn.ids(u)!;
  const itemCol = rowsIn.ids(it)!;
  const tsCol = rowsIn.numbers(ts)!;
  const evCol = ev >= 0 ? rowsIn.numbers(ev) : undefined;
  const typeCol = et >= 0 ? rowsIn.ids(et) : undefined;
  const emptyType = eventTypeIndex !== undefined && typeCol === undefined ? eventTypes.id('') : 0;
  for (let k = 0; k < imported; k++) {
    const at = base + k;
    userIndex[at] = userMap[userCol[k]!]!;
    itemIndex[at] = itemMap[itemCol[k]!]!;
    timestamps[at] = tsCol[k]!;
    if (eventValues) eventValues[at] = evCol === undefined ? Number.NaN : evCol[k]!;
    if (eventTypeIndex) eventTypeIndex[at] = typeCol === undefined ? emptyType : typeMap![typeCol[k]!]!;
  }
  const data: InteractionsData = {
    count,
    users: users.list,
    items: items.list,
    userIndex,
    itemIndex,
    timestamps,
  };
  if (eventValues) data.eventValues = eventValues;
  if (eventTypeIndex) {
    data.eventTypes = eventTypes.list;
    data.eventTypeIndex = eventTypeIndex;
  }
  return data;
}
