/**
 * Personalize data in the local stack: Avro schema parsing (with the `categorical`/`textual` string
 * attributes) and the per-dataset-type rules (required fields and types, reserved names, metadata
 * counts), the CSV import (header, types, ID and categorical lengths, duplicates, minimum record
 * count, millisecond timestamps) and the compact on-disk form training code reads back with
 * `loadInteractions`.
 *
 * Compact format, one file per dataset, `<dataDir>/personalize/data/<group>/<TYPE>/data.bin`,
 * replaced atomically (a failed import never touches it):
 *   bytes 0–3 `MLPD`, 4–7 format version (u32 LE), 8–11 header length H (u32 LE), then H bytes of
 *   JSON `{type, count, users, items, eventTypes, hasEventValue, hasEventType, columns, rows}`, padded
 *   to a multiple of 8; for INTERACTIONS then `count` × u32 user index, `count` × u32 item index,
 *   `count` × f64 TIMESTAMP (epoch seconds), and when present `count` × f32 EVENT_VALUE and
 *   `count` × u32 EVENT_TYPE index. Items/Users datasets keep their rows in the JSON (`columns`,
 *   `rows`), with no arrays.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { forEachCsvRecord, UnterminatedQuoteError } from '../../../etl/csv.js';
import { stageFile } from '../../store/atomic.js';

export type DatasetType = 'INTERACTIONS' | 'ITEMS' | 'USERS';
export type AvroType = 'string' | 'int' | 'long' | 'float' | 'double' | 'boolean';

export interface SchemaField {
  name: string;
  type: AvroType;
  nullable: boolean;
  /** `"categorical": true`: values are categories (`a|b`), at most MAX_CATEGORICAL_LENGTH chars. */
  categorical?: boolean;
  /** `"textual": true`: free text (Items only), at most MAX_TEXTUAL_LENGTH chars. */
  textual?: boolean;
}

/** A problem with user input; the caller turns it into InvalidInputException or a failureReason. */
export class DataProblem extends Error {}

const AVRO_TYPES: ReadonlySet<string> = new Set(['string', 'int', 'long', 'float', 'double', 'boolean']);

/** Parses an Avro record schema; throws DataProblem when it is not one. */
export function parseAvroSchema(text: string): SchemaField[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DataProblem('The schema is not valid JSON: it must be an Avro record schema.');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new DataProblem('The schema must be an Avro schema JSON object.');
  const record = value as Record<string, unknown>;
  if (record.type !== 'record') throw new DataProblem('The schema must be an Avro schema of type "record".');
  if (!Array.isArray(record.fields) || record.fields.length === 0)
    throw new DataProblem('The schema must have a non-empty "fields" array.');
  const fields: SchemaField[] = [];
  const seen = new Set<string>();
  for (const raw of record.fields as unknown[]) {
    if (raw === null || typeof raw !== 'object')
      throw new DataProblem('Each schema field must be an object.');
    const f = raw as Record<string, unknown>;
    if (typeof f.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(f.name))
      throw new DataProblem(`Invalid field name: ${JSON.stringify(f.name)}.`);
    if (seen.has(f.name)) throw new DataProblem(`Duplicate field name: ${f.name}.`);
    seen.add(f.name);
    const members = Array.isArray(f.type) ? (f.type as unknown[]) : [f.type];
    let nullable = false;
    const types: string[] = [];
    for (const m of members) {
      const t =
        typeof m === 'string' ? m : m !== null && typeof m === 'object' ? (m as { type?: unknown }).type : m;
      if (t === 'null') nullable = true;
      else if (typeof t === 'string' && AVRO_TYPES.has(t)) types.push(t);
      else throw new DataProblem(`Field ${f.name} has an unsupported type: ${JSON.stringify(f.type)}.`);
    }
    if (types.length !== 1)
      throw new DataProblem(
        `Field ${f.name} must have exactly one non-null type: ${JSON.stringify(f.type)}.`,
      );
    const field: SchemaField = { name: f.name, type: types[0] as AvroType, nullable };
    for (const attribute of ['categorical', 'textual'] as const) {
      const flag = f[attribute];
      if (flag === undefined) continue;
      if (typeof flag !== 'boolean')
        throw new DataProblem(`Field ${f.name}: "${attribute}" must be true or false.`);
      if (flag && field.type !== 'string')
        throw new DataProblem(
          `Field ${f.name}: "${attribute}": true is only allowed on string fields; this one is ${field.type}.`,
        );
      if (flag) field[attribute] = true;
    }
    if (field.categorical && field.textual)
      throw new DataProblem(`Field ${f.name} cannot be both categorical and textual.`);
    fields.push(field);
  }
  return fields;
}

interface Rule {
  required: Record<string, AvroType[]>;
  optional: Record<string, AvroType[]>;
  /** Fields needed besides the required ones ("Your schema must have at minimum one metadata field"). */
  minMetadata: number;
  maxMetadata: number;
}

const NUMERIC: AvroType[] = ['float', 'double', 'int', 'long'];
const RULES: Record<DatasetType, Rule> = {
  INTERACTIONS: {
    required: { USER_ID: ['string'], ITEM_ID: ['string'], TIMESTAMP: ['long'] },
    optional: {
      EVENT_TYPE: ['string'],
      EVENT_VALUE: NUMERIC,
      IMPRESSION: ['string'],
      RECOMMENDATION_ID: ['string'],
      EVENT_ATTRIBUTION_SOURCE: ['string'],
    },
    minMetadata: 0,
    maxMetadata: 5,
  },
  ITEMS: {
    required: { ITEM_ID: ['string'] },
    optional: { CREATION_TIMESTAMP: ['long'] },
    minMetadata: 1,
    maxMetadata: 100,
  },
  USERS: { required: { USER_ID: ['string'] }, optional: {}, minMetadata: 1, maxMetadata: 25 },
};

/** Column names Personalize reserves (compared case-insensitively) that a schema may not use as-is. */
const RESERVED = new Set(['USERID', 'ITEMID', 'EVENTTYPE', 'EVENTVALUE', 'SCORE', 'RECOMMENDATIONS']);

/** Checks a schema's fields against a dataset type's rules; throws DataProblem naming the field. */
export function checkSchemaForType(fields: SchemaField[], type: DatasetType): void {
  const rule = RULES[type];
  const byName = new Map(fields.map((f) => [f.name, f]));
  const label = type.charAt(0) + type.slice(1).toLowerCase();
  for (const [name, types] of Object.entries(rule.required)) {
    const field = byName.get(name);
    if (!field)
      throw new DataProblem(`The ${label} schema must have a required field ${name} (${types[0]}).`);
    if (!types.includes(field.type) || field.nullable)
      throw new DataProblem(
        `Field ${name} in an ${label} schema must be of type ${types.join(' or ')}, not null.`,
      );
  }
  const required = Object.keys(rule.required).length;
  if (fields.length - required < rule.minMetadata)
    throw new DataProblem(
      `Your schema must have at minimum one metadata field: an ${label} schema needs a field besides ${Object.keys(rule.required).join(', ')}.`,
    );
  let metadata = 0;
  const known = new Set([...Object.keys(rule.required), ...Object.keys(rule.optional)]);
  for (const field of fields) {
    const optional = rule.optional[field.name];
    if (optional && !optional.includes(field.type))
      throw new DataProblem(`Field ${field.name} must be of type ${optional.join(' or ')}.`);
    if (field.textual && type !== 'ITEMS')
      throw new DataProblem(`Field ${field.name}: textual fields are only allowed in an Items schema.`);
    if (known.has(field.name)) continue;
    const upper = field.name.toUpperCase();
    if ([...known].some((k) => k === upper) || RESERVED.has(upper.replace(/_/g, '')))
      throw new DataProblem(`Field name ${field.name} is reserved; use ${upper} or another name.`);
    metadata++;
  }
  if (metadata > rule.maxMetadata)
    throw new DataProblem(
      `An ${label} schema can have at most ${rule.maxMetadata} metadata fields; this one has ${metadata}.`,
    );
}

/** The compact, typed form of an interactions dataset. */
export interface InteractionsData {
  count: number;
  /** User IDs by index. */
  users: string[];
  /** Item IDs by index. */
  items: string[];
  userIndex: Uint32Array;
  itemIndex: Uint32Array;
  /** Unix epoch seconds. */
  timestamps: Float64Array;
  eventValues?: Float32Array;
  eventTypes?: string[];
  eventTypeIndex?: Uint32Array;
}

/** Rows of an Items or Users dataset. */
export interface MetadataData {
  columns: string[];
  rows: string[][];
}

interface Header {
  type: DatasetType;
  count: number;
  users?: string[];
  items?: string[];
  eventTypes?: string[];
  hasEventValue?: boolean;
  hasEventType?: boolean;
  columns?: string[];
  rows?: string[][];
}

const MAGIC = 'MLPD';
const FORMAT_VERSION = 1;
export const MIN_RECORDS = 1000;
export const MAX_ID_LENGTH = 256;
export const MAX_CATEGORICAL_LENGTH = 1000;
export const MAX_TEXTUAL_LENGTH = 20000;
/** Epoch values above this are taken for milliseconds (1e11 seconds is the year 5138). */
const MILLIS_THRESHOLD = 1e11;

export function personalizeDir(dataDir: string): string {
  return path.join(dataDir, 'personalize');
}

/** `arn:…:dataset/<group>/<TYPE>` → `<dataDir>/personalize/data/<group>/<TYPE>`. */
export function datasetDataDir(dataDir: string, datasetArn: string): string | undefined {
  const m = /:dataset\/([a-zA-Z0-9][a-zA-Z0-9\-_]{0,62})\/(INTERACTIONS|ITEMS|USERS)$/.exec(datasetArn);
  if (!m) return undefined;
  return path.join(personalizeDir(dataDir), 'data', m[1]!, m[2]!);
}

function dataFile(dataDir: string, datasetArn: string): string | undefined {
  const dir = datasetDataDir(dataDir, datasetArn);
  return dir === undefined ? undefined : path.join(dir, 'data.bin');
}

async function readStored(
  file: string,
): Promise<{ header: Header; buffer: Buffer; offset: number } | undefined> {
  let buffer: Buffer;
  try {
    buffer = await fs.readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (buffer.length < 12 || buffer.toString('latin1', 0, 4) !== MAGIC)
    throw new Error(`${file} is not a Personalize data file.`);
  if (buffer.readUInt32LE(4) !== FORMAT_VERSION) throw new Error(`${file} has an unknown format version.`);
  const length = buffer.readUInt32LE(8);
  const header = JSON.parse(buffer.toString('utf8', 12, 12 + length)) as Header;
  return { header, buffer, offset: align8(12 + length) };
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function slice<T>(buffer: Buffer, offset: number, bytes: number, make: (ab: ArrayBuffer) => T): T {
  const copy = new ArrayBuffer(bytes);
  new Uint8Array(copy).set(buffer.subarray(offset, offset + bytes));
  return make(copy);
}

/** The imported interactions of a dataset, or undefined if it has none (or is not INTERACTIONS). */
export async function loadInteractions(
  dataDir: string,
  datasetArn: string,
): Promise<InteractionsData | undefined> {
  const file = dataFile(dataDir, datasetArn);
  if (file === undefined) return undefined;
  const stored = await readStored(file);
  if (!stored || stored.header.type !== 'INTERACTIONS') return undefined;
  const { header, buffer } = stored;
  let offset = stored.offset;
  const n = header.count;
  const take = <T>(bytes: number, make: (ab: ArrayBuffer) => T): T => {
    const value = slice(buffer, offset, bytes, make);
    offset += align8(bytes);
    return value;
  };
  const data: InteractionsData = {
    count: n,
    users: header.users ?? [],
    items: header.items ?? [],
    userIndex: take(n * 4, (ab) => new Uint32Array(ab)),
    itemIndex: take(n * 4, (ab) => new Uint32Array(ab)),
    timestamps: take(n * 8, (ab) => new Float64Array(ab)),
  };
  if (header.hasEventValue) data.eventValues = take(n * 4, (ab) => new Float32Array(ab));
  if (header.hasEventType) {
    data.eventTypes = header.eventTypes ?? [];
    data.eventTypeIndex = take(n * 4, (ab) => new Uint32Array(ab));
  }
  return data;
}

/** The imported rows of an Items or Users dataset, or undefined. */
export async function loadMetadata(dataDir: string, datasetArn: string): Promise<MetadataData | undefined> {
  const file = dataFile(dataDir, datasetArn);
  if (file === undefined) return undefined;
  const stored = await readStored(file);
  if (!stored || stored.header.type === 'INTERACTIONS') return undefined;
  return { columns: stored.header.columns ?? [], rows: stored.header.rows ?? [] };
}

function encode(header: Header, arrays: ArrayBufferView[]): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const parts: Buffer[] = [];
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(FORMAT_VERSION, 4);
  prefix.writeUInt32LE(json.length, 8);
  parts.push(prefix, json, Buffer.alloc(align8(12 + json.length) - 12 - json.length));
  for (const a of arrays) {
    parts.push(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.alloc(align8(a.byteLength) - a.byteLength),
    );
  }
  return Buffer.concat(parts);
}

/** A parsed CSV file: its name (for messages) and text. */
export interface CsvFile {
  name: string;
  text: string;
}

export interface ImportResult {
  /** Records imported by this job (after collapsing duplicates). */
  records: number;
  /** Records the dataset holds afterwards. */
  total: number;
  /**
   * The dataset's new data file, written and fsynced as `tmp`; the caller commits it (renames it
   * over `target`) when it records the job ACTIVE, so the two cannot disagree.
   */
  staged: { tmp: string; target: string };
}

const INTEGER = /^-?\d+$/;
/** A decimal number as CSV writes it (no hex, no surrounding spaces, no Infinity/NaN). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Whether an integer's text is exactly how the number prints (no leading zeros, no -0, ≤ 2^53). */
function plainInteger(raw: string): boolean {
  const digits = raw.charCodeAt(0) === 45 ? 1 : 0;
  return raw.length - digits <= 15 && (raw.charCodeAt(digits) !== 48 || raw.length === 1);
}
const BOOLEAN = /^(true|false)$/i;

/** What is wrong with a value, as a message taking "on line N of FILE"; undefined when it is fine. */
function valueProblem(field: SchemaField, value: string): ((where: string) => string) | undefined {
  if (value === '')
    return field.nullable ? undefined : (where) => `Empty value for required column ${field.name} ${where}.`;
  const invalid = (where: string): string =>
    `Invalid ${field.type} value ${JSON.stringify(value)} for ${field.name} ${where}.`;
  switch (field.type) {
    case 'int':
    case 'long':
      return INTEGER.test(value) ? undefined : invalid;
    case 'float':
    case 'double':
      return DECIMAL.test(value) && Number.isFinite(Number(value)) ? undefined : invalid;
    case 'boolean':
      return BOOLEAN.test(value) ? undefined : invalid;
    case 'string':
      if ((field.name === 'USER_ID' || field.name === 'ITEM_ID') && value.length > MAX_ID_LENGTH)
        return (where) => `${field.name} ${where} is longer than ${MAX_ID_LENGTH} characters.`;
      if (field.categorical && value.length > MAX_CATEGORICAL_LENGTH)
        return (where) =>
          `Categorical value for ${field.name} ${where} is longer than ${MAX_CATEGORICAL_LENGTH} characters.`;
      if (field.textual && value.length > MAX_TEXTUAL_LENGTH)
        return (where) =>
          `Textual value for ${field.name} ${where} is longer than ${MAX_TEXTUAL_LENGTH} characters.`;
  }
  return undefined;
}

/** Strings numbered in first-seen order. */
class Interner {
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
class InteractionRows {
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
    private readonly fields: readonly SchemaField[],
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
 * Validates CSV files against a schema and stages the dataset's compact data (FULL replaces,
 * INCREMENTAL appends) in a temp file for the caller to commit. Throws DataProblem with the failure
 * reason; nothing is staged then.
 */
export async function importCsv(options: {
  dataDir: string;
  datasetArn: string;
  type: DatasetType;
  fields: SchemaField[];
  files: CsvFile[];
  mode: 'FULL' | 'INCREMENTAL';
  signal?: AbortSignal;
}): Promise<ImportResult> {
  const { fields, type } = options;
  const timestampAt = fields.findIndex(
    (f) => f.name === (type === 'INTERACTIONS' ? 'TIMESTAMP' : type === 'ITEMS' ? 'CREATION_TIMESTAMP' : ''),
  );
  // Interactions go straight into interned, typed columns with an exact duplicate check on them
  // (no per-row strings or arrays kept); Items/Users rows are few and kept as strings.
  const lines = (text: string): number => {
    let count = 0;
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) count++;
    return count;
  };
  const interactions =
    type === 'INTERACTIONS'
      ? new InteractionRows(
          fields,
          options.files.reduce((sum, file) => sum + lines(file.text), 0),
        )
      : undefined;
  const seen = new Set<string>();
  let rows: string[][] = [];
  for (const file of options.files) {
    if (options.signal?.aborted) throw new Error('aborted');
    let header: string[] | undefined;
    let positions: number[] = [];
    let inOrder = false;
    try {
      forEachCsvRecord(file.text, (values, line) => {
        if (header === undefined) {
          header = values.map((h) => h.trim());
          const named = header;
          const missing = fields.filter((f) => !f.nullable && !named.includes(f.name)).map((f) => f.name);
          if (missing.length > 0)
            throw new DataProblem(`Input CSV is missing the following columns: [${missing.join(', ')}]`);
          const unknown = named.filter((h) => !fields.some((f) => f.name === h));
          if (unknown.length > 0)
            throw new DataProblem(
              `Input CSV has columns that are not in the schema: [${unknown.join(', ')}] (${file.name}).`,
            );
          positions = fields.map((f) => named.indexOf(f.name));
          // The common case, columns in schema order: rows are the parsed records themselves.
          inOrder = named.length === fields.length && positions.every((p, k) => p === k);
          return;
        }
        if (values.length !== header.length)
          throw new DataProblem(
            `Line ${line} of ${file.name} has ${values.length} columns; the header has ${header.length}.`,
          );
        const row = inOrder ? values : positions.map((p) => (p < 0 ? '' : values[p]!));
        for (let k = 0; k < fields.length; k++) {
          const problem = valueProblem(fields[k]!, row[k]!);
          if (problem !== undefined) throw new DataProblem(problem(`on line ${line} of ${file.name}`));
        }
        if (timestampAt >= 0) {
          const ts = Number(row[timestampAt]);
          if (ts > MILLIS_THRESHOLD)
            throw new DataProblem(
              `${fields[timestampAt]!.name} values look like milliseconds (e.g. ${ts} on line ${line} of ${file.name}); Personalize expects Unix epoch seconds.`,
            );
        }
        if (interactions !== undefined) {
          interactions.add(row);
          return;
        }
        const key = row.join('\u0000');
        if (seen.has(key)) return;
        seen.add(key);
        rows.push(row);
      });
    } catch (error) {
      if (error instanceof UnterminatedQuoteError)
        throw new DataProblem(
          `A quoted field that starts on line ${error.line} of ${file.name} has no closing quote: the rest of the file would be one value.`,
        );
      throw error;
    }
  }
  if (type !== 'INTERACTIONS') {
    // Exact repeats collapsed above. Of two different records for one ID the later one stays, as
    // Personalize replaces a record with a newer one for the same ID.
    const idAt = fields.findIndex((f) => f.name === (type === 'ITEMS' ? 'ITEM_ID' : 'USER_ID'));
    const position = new Map<string, number>();
    const kept: string[][] = [];
    for (const row of rows) {
      const at = position.get(row[idAt]!);
      if (at === undefined) {
        position.set(row[idAt]!, kept.length);
        kept.push(row);
      } else kept[at] = row;
    }
    rows = kept;
  }
  const imported = interactions?.count ?? rows.length;
  const minimum = type === 'INTERACTIONS' ? MIN_RECORDS : 1;
  if (imported < minimum)
    throw new DataProblem(
      `The input data has fewer than ${minimum} records (${imported} after collapsing exact duplicates); an import needs at least ${minimum}.`,
    );
  const file = dataFile(options.dataDir, options.datasetArn);
  if (file === undefined) throw new Error(`Bad dataset ARN ${options.datasetArn}`);
  if (type !== 'INTERACTIONS') {
    const columns = fields.map((f) => f.name);
    let all = rows;
    if (options.mode === 'INCREMENTAL') {
      const previous = await loadMetadata(options.dataDir, options.datasetArn);
      if (previous) {
        // A record whose ID the dataset already has replaces it in place; new IDs are appended.
        const remap = columns.map((c) => previous.columns.indexOf(c));
        all = previous.rows.map((r) => remap.map((p) => (p < 0 ? '' : r[p]!)));
        const idAt = columns.indexOf(type === 'ITEMS' ? 'ITEM_ID' : 'USER_ID');
        const position = new Map(all.map((r, k) => [r[idAt]!, k]));
        for (const row of rows) {
          const at = position.get(row[idAt]!);
          if (at === undefined) {
            position.set(row[idAt]!, all.length);
            all.push(row);
          } else all[at] = row;
        }
      }
    }
    const tmp = await stageFile(file, encode({ type, count: all.length, columns, rows: all }, []));
    return { records: rows.length, total: all.length, staged: { tmp, target: file } };
  }
  const rowsIn = interactions!;
  const col = (name: string): number => fields.findIndex((f) => f.name === name);
  const [u, it, ts, ev, et] = ['USER_ID', 'ITEM_ID', 'TIMESTAMP', 'EVENT_VALUE', 'EVENT_TYPE'].map(col) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const previous =
    options.mode === 'INCREMENTAL' ? await loadInteractions(options.dataDir, options.datasetArn) : undefined;
  const base = previous?.count ?? 0;
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
  const arrays: ArrayBufferView[] = [userIndex, itemIndex, timestamps];
  if (eventValues) arrays.push(eventValues);
  if (eventTypeIndex) arrays.push(eventTypeIndex);
  const header: Header = {
    type,
    count,
    users: users.list,
    items: items.list,
    hasEventValue,
    hasEventType,
    ...(hasEventType ? { eventTypes: eventTypes.list } : {}),
  };
  const tmp = await stageFile(file, encode(header, arrays));
  return { records: imported, total: count, staged: { tmp, target: file } };
}
