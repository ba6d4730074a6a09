/**
 * The ETL mapping spec: one JSON document (glue/mappings/*.json, schema in
 * glue/mappings/mapping-spec.schema.json) that tells both the local engine (src/etl/engine.ts) and
 * the PySpark Glue job how to turn a raw ratings file into Personalize's interactions CSV.
 *
 * `loadMappingSpec` parses rather than validates: it returns a fully typed, defaulted, frozen spec
 * or throws an EtlError naming the file and the field (`hetrec.json: mappings[1].to: ...`). Rules the
 * JSON Schema cannot express (cross references between sections) are checked here too, and the
 * Glue job must apply the same ones:
 * - `mappings` must target USER_ID, ITEM_ID and TIMESTAMP exactly once each (all required); other
 *   targets are upper-case Personalize column names (EVENT_TYPE, metadata columns).
 * - `timestamp.column` is the `from` of the TIMESTAMP mapping; `unit` ms | s | auto (> 1e11 => ms).
 * - Without a header, every referenced column must be listed in `source.columns` (by position).
 * - `eventValue`, when enabled, adds EVENT_VALUE (cast to double) after `output.columns`.
 * - `filters` compare a source column with a number (>=, >, <=, <, ==, !=) or a string (==, !=).
 * - `output.columns` lists every mapping target once, in output order.
 */
import { EtlError } from './errors.js';

export { EtlError, type EtlErrorKind } from './errors.js';

export type ColumnType = 'string' | 'long' | 'double';
export type TimestampUnit = 'ms' | 's' | 'auto';
export type FilterOp = '>=' | '>' | '==' | '<=' | '<' | '!=';

export interface SourceSpec {
  format: 'csv' | 'tsv';
  /** Field separator, 1-4 characters (`\t`, `,`, `;`, `|`, `::`). */
  separator: string;
  /** Quote character, or null when the input never quotes fields (fastest). */
  quote: string | null;
  header: boolean;
  encoding: 'utf-8' | 'latin1';
  /** Column names by position: required without a header; with one, the expected header (any order). */
  columns: readonly string[] | null;
}

export interface ColumnMapping {
  from: string;
  to: string;
  type: ColumnType;
  required: boolean;
}

export interface FilterSpec {
  column: string;
  op: FilterOp;
  value: number | string;
}

export interface EventValueSpec {
  from: string;
  enabled: boolean;
}

export interface ChecksSpec {
  maxIdLength: number;
  /** Earliest plausible timestamp, epoch seconds (default 1990-01-01T00:00:00Z = 631152000). */
  minTimestamp: number;
  /** Latest plausible timestamp is the run's "now" plus this many seconds (default 86400). */
  maxFutureSeconds: number;
  /** Fraction of rows read that may be rejected before the run fails (default 0.01). */
  rejectThreshold: number;
}

export interface MappingSpec {
  specVersion: 1;
  name: string;
  description: string;
  source: SourceSpec;
  mappings: readonly ColumnMapping[];
  drop: readonly string[];
  timestamp: { column: string; unit: TimestampUnit };
  filters: readonly FilterSpec[];
  eventValue: EventValueSpec | null;
  output: { format: 'csv'; header: true; columns: readonly string[] };
  checks: ChecksSpec;
}

export const REQUIRED_TARGETS = ['USER_ID', 'ITEM_ID', 'TIMESTAMP'] as const;
export const ID_TARGETS: ReadonlySet<string> = new Set(['USER_ID', 'ITEM_ID']);
export const DEFAULT_CHECKS: Readonly<ChecksSpec> = Object.freeze({
  maxIdLength: 256,
  minTimestamp: 631152000,
  maxFutureSeconds: 86400,
  rejectThreshold: 0.01,
});

const TOP_KEYS = new Set([
  '$schema',
  'specVersion',
  'name',
  'description',
  'source',
  'mappings',
  'drop',
  'timestamp',
  'filters',
  'eventValue',
  'output',
  'checks',
]);

type Json = unknown;
type Obj = Record<string, Json>;

class Reader {
  constructor(private readonly file: string) {}

  fail(field: string, message: string): never {
    throw new EtlError('spec', `${this.file}: ${field}: ${message}`);
  }

  obj(value: Json, field: string, keys: readonly string[]): Obj {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(field, 'must be an object');
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) this.fail(field, `unknown key "${key}" (allowed: ${keys.join(', ')})`);
    }
    return value as Obj;
  }

  str(
    value: Json,
    field: string,
    opts: { min?: number; max?: number; oneOf?: readonly string[] } = {},
  ): string {
    if (typeof value !== 'string') this.fail(field, `must be a string, got ${describe(value)}`);
    if (opts.oneOf && !opts.oneOf.includes(value))
      this.fail(
        field,
        `must be one of ${opts.oneOf.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(value)}`,
      );
    if (opts.min !== undefined && value.length < opts.min)
      this.fail(field, `must have at least ${opts.min} character(s)`);
    if (opts.max !== undefined && value.length > opts.max)
      this.fail(field, `must have at most ${opts.max} characters`);
    return value;
  }

  bool(value: Json, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${describe(value)}`);
    return value;
  }

  num(value: Json, field: string, min: number, max: number, integer = false): number {
    if (typeof value !== 'number' || !Number.isFinite(value))
      this.fail(field, `must be a number, got ${describe(value)}`);
    if (integer && !Number.isInteger(value)) this.fail(field, `must be an integer, got ${value}`);
    if (value < min || value > max) this.fail(field, `must be between ${min} and ${max}, got ${value}`);
    return value;
  }

  arr(value: Json, field: string, min = 0): Json[] {
    if (!Array.isArray(value)) this.fail(field, `must be an array, got ${describe(value)}`);
    if (value.length < min) this.fail(field, `must have at least ${min} item(s)`);
    return value;
  }

  names(value: Json, field: string, min = 0): string[] {
    const out = this.arr(value, field, min).map((v, i) =>
      this.str(v, `${field}[${i}]`, { min: 1, max: 256 }),
    );
    const seen = new Set<string>();
    out.forEach((name, i) => {
      if (seen.has(name)) this.fail(`${field}[${i}]`, `duplicate name ${JSON.stringify(name)}`);
      seen.add(name);
    });
    return out;
  }
}

function describe(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

const TYPES = ['string', 'long', 'double'] as const;
const UNITS = ['ms', 's', 'auto'] as const;
const OPS = ['>=', '>', '==', '<=', '<', '!='] as const;
const TARGET_RE = /^[A-Z][A-Z0-9_]*$/;

/**
 * Parses a mapping spec (a JSON string, or an already parsed value) into a typed, defaulted and
 * frozen MappingSpec. `fileLabel` names the spec in errors. Throws EtlError (kind 'spec').
 */
export function loadMappingSpec(json: string | unknown, fileLabel: string): MappingSpec {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw new EtlError('spec', `${fileLabel}: not valid JSON: ${(error as Error).message}`);
    }
  }
  const r = new Reader(fileLabel);
  const top = r.obj(value, '(top level)', [...TOP_KEYS]);
  for (const key of ['specVersion', 'name', 'source', 'mappings', 'timestamp', 'output'])
    if (!(key in top)) r.fail(key, 'is required');
  if (top.specVersion !== 1) r.fail('specVersion', `must be 1, got ${describe(top.specVersion)}`);
  const name = r.str(top.name, 'name', { min: 1, max: 128 });
  const description = top.description === undefined ? '' : r.str(top.description, 'description');

  const s = r.obj(top.source, 'source', ['format', 'separator', 'quote', 'header', 'encoding', 'columns']);
  for (const key of ['format', 'separator', 'header', 'encoding'])
    if (!(key in s)) r.fail(`source.${key}`, 'is required');
  const format = r.str(s.format, 'source.format', { oneOf: ['csv', 'tsv'] }) as 'csv' | 'tsv';
  const separator = r.str(s.separator, 'source.separator', { min: 1, max: 4 });
  if (/["\r\n]/.test(separator)) r.fail('source.separator', 'must not contain a quote or a newline');
  const quote =
    s.quote === undefined || s.quote === null ? null : r.str(s.quote, 'source.quote', { min: 1, max: 1 });
  if (quote !== null && (separator.includes(quote) || quote === '\n' || quote === '\r'))
    r.fail('source.quote', 'must differ from the separator and newlines');
  const header = r.bool(s.header, 'source.header');
  const encoding = r.str(s.encoding, 'source.encoding', { oneOf: ['utf-8', 'latin1'] }) as 'utf-8' | 'latin1';
  const columns =
    s.columns === undefined || s.columns === null ? null : r.names(s.columns, 'source.columns', 1);
  if (!header && columns === null) r.fail('source.columns', 'is required when source.header is false');

  const mappings: ColumnMapping[] = r.arr(top.mappings, 'mappings', 3).map((m, i) => {
    const f = `mappings[${i}]`;
    const o = r.obj(m, f, ['from', 'to', 'type', 'required']);
    for (const key of ['from', 'to', 'type']) if (!(key in o)) r.fail(`${f}.${key}`, 'is required');
    const to = r.str(o.to, `${f}.to`, { min: 1, max: 64 });
    if (!TARGET_RE.test(to))
      r.fail(`${f}.to`, `must be an upper-case column name like USER_ID, got ${JSON.stringify(to)}`);
    return {
      from: r.str(o.from, `${f}.from`, { min: 1, max: 256 }),
      to,
      type: r.str(o.type, `${f}.type`, { oneOf: TYPES }) as ColumnType,
      required: o.required === undefined ? true : r.bool(o.required, `${f}.required`),
    };
  });
  const targets = new Set<string>();
  mappings.forEach((m, i) => {
    if (targets.has(m.to)) r.fail(`mappings[${i}].to`, `${m.to} is mapped twice`);
    targets.add(m.to);
    if (m.to === 'EVENT_VALUE') r.fail(`mappings[${i}].to`, 'use the eventValue section for EVENT_VALUE');
  });
  for (const target of REQUIRED_TARGETS) {
    const index = mappings.findIndex((m) => m.to === target);
    if (index < 0)
      r.fail('mappings', `no mapping to ${target} (USER_ID, ITEM_ID and TIMESTAMP are required)`);
    if (!mappings[index]!.required) r.fail(`mappings[${index}].required`, `${target} must be required`);
    if (target === 'TIMESTAMP' && mappings[index]!.type !== 'long')
      r.fail(`mappings[${index}].type`, 'TIMESTAMP must be of type long');
  }

  const drop = top.drop === undefined ? [] : r.names(top.drop, 'drop');
  const ts = r.obj(top.timestamp, 'timestamp', ['column', 'unit']);
  const timestamp = {
    column: r.str(ts.column, 'timestamp.column', { min: 1 }),
    unit: r.str(ts.unit, 'timestamp.unit', { oneOf: UNITS }) as TimestampUnit,
  };
  const tsMapping = mappings.find((m) => m.to === 'TIMESTAMP')!;
  if (tsMapping.from !== timestamp.column)
    r.fail('timestamp.column', `must be the column mapped to TIMESTAMP (${JSON.stringify(tsMapping.from)})`);

  const filters: FilterSpec[] = (top.filters === undefined ? [] : r.arr(top.filters, 'filters')).map(
    (x, i) => {
      const f = `filters[${i}]`;
      const o = r.obj(x, f, ['column', 'op', 'value']);
      const op = r.str(o.op, `${f}.op`, { oneOf: OPS }) as FilterOp;
      const equality = op === '==' || op === '!=';
      if (typeof o.value !== 'number' && !(typeof o.value === 'string' && equality))
        r.fail(`${f}.value`, equality ? 'must be a number or a string' : `must be a number for ${op}`);
      const v =
        typeof o.value === 'number'
          ? r.num(o.value, `${f}.value`, -Number.MAX_VALUE, Number.MAX_VALUE)
          : (o.value as string);
      return { column: r.str(o.column, `${f}.column`, { min: 1 }), op, value: v };
    },
  );

  let eventValue: EventValueSpec | null = null;
  if (top.eventValue !== undefined && top.eventValue !== null) {
    const o = r.obj(top.eventValue, 'eventValue', ['from', 'enabled']);
    eventValue = {
      from: r.str(o.from, 'eventValue.from', { min: 1 }),
      enabled: o.enabled === undefined ? false : r.bool(o.enabled, 'eventValue.enabled'),
    };
  }

  const out = r.obj(top.output, 'output', ['format', 'header', 'columns']);
  if (out.format !== undefined) r.str(out.format, 'output.format', { oneOf: ['csv'] });
  if (out.header !== undefined && out.header !== true)
    r.fail('output.header', 'must be true (Personalize needs a header)');
  const outColumns = r.names(out.columns, 'output.columns', 3);
  outColumns.forEach((c, i) => {
    if (!targets.has(c)) r.fail(`output.columns[${i}]`, `${c} is not the target of any mapping`);
  });
  for (const t of targets)
    if (!outColumns.includes(t)) r.fail('output.columns', `missing ${t} (a mapping target)`);

  let checks: ChecksSpec = { ...DEFAULT_CHECKS };
  if (top.checks !== undefined) {
    const c = r.obj(top.checks, 'checks', [
      'maxIdLength',
      'minTimestamp',
      'maxFutureSeconds',
      'rejectThreshold',
    ]);
    let minTimestamp = DEFAULT_CHECKS.minTimestamp;
    if (c.minTimestamp !== undefined) {
      const text = r.str(c.minTimestamp, 'checks.minTimestamp');
      const ms = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$/.test(text) ? Date.parse(text) : NaN;
      if (!Number.isFinite(ms))
        r.fail('checks.minTimestamp', `must be an ISO date like 1990-01-01, got ${JSON.stringify(text)}`);
      minTimestamp = Math.floor(ms / 1000);
    }
    checks = {
      maxIdLength:
        c.maxIdLength === undefined
          ? DEFAULT_CHECKS.maxIdLength
          : r.num(c.maxIdLength, 'checks.maxIdLength', 1, 256, true),
      minTimestamp,
      maxFutureSeconds:
        c.maxFutureSeconds === undefined
          ? DEFAULT_CHECKS.maxFutureSeconds
          : r.num(c.maxFutureSeconds, 'checks.maxFutureSeconds', 0, 1e10, true),
      rejectThreshold:
        c.rejectThreshold === undefined
          ? DEFAULT_CHECKS.rejectThreshold
          : r.num(c.rejectThreshold, 'checks.rejectThreshold', 0, 1),
    };
  }

  // Every referenced source column must exist when columns are known up front.
  if (columns !== null) {
    const known = new Set(columns);
    const refs: [string, string][] = [
      ...mappings.map((m, i): [string, string] => [`mappings[${i}].from`, m.from]),
      ...filters.map((f, i): [string, string] => [`filters[${i}].column`, f.column]),
      ...drop.map((d, i): [string, string] => [`drop[${i}]`, d]),
    ];
    if (eventValue) refs.push(['eventValue.from', eventValue.from]);
    for (const [field, col] of refs)
      if (!known.has(col))
        r.fail(field, `column ${JSON.stringify(col)} is not in source.columns (${columns.join(', ')})`);
  }

  return deepFreeze({
    specVersion: 1,
    name,
    description,
    source: { format, separator, quote, header, encoding, columns },
    mappings,
    drop,
    timestamp,
    filters,
    eventValue,
    output: { format: 'csv', header: true, columns: outColumns },
    checks,
  });
}

export interface SpecOverrides {
  /** Keep eventValue.from as EVENT_VALUE (true) or drop it (false). */
  eventValue?: boolean;
  /** Filters added after the spec's own, e.g. [{ column: 'rating', op: '>=', value: 4 }]. */
  filters?: readonly FilterSpec[];
  rejectThreshold?: number;
}

/**
 * A copy of `spec` with run-time overrides applied (job arguments such as `--event-value true`),
 * re-checked by loadMappingSpec so an override can never produce an invalid spec.
 */
export function withOverrides(
  spec: MappingSpec,
  overrides: SpecOverrides,
  fileLabel = spec.name,
): MappingSpec {
  const json = specToJson(spec);
  if (overrides.eventValue !== undefined) {
    if (!spec.eventValue)
      throw new EtlError('spec', `${fileLabel}: eventValue: the spec names no column to keep as EVENT_VALUE`);
    json.eventValue = { from: spec.eventValue.from, enabled: overrides.eventValue };
  }
  if (overrides.filters) json.filters = [...spec.filters, ...overrides.filters];
  if (overrides.rejectThreshold !== undefined)
    (json.checks as Obj).rejectThreshold = overrides.rejectThreshold;
  return loadMappingSpec(json, fileLabel);
}

/** The JSON form of a spec (what loadMappingSpec accepts), e.g. to hand to the Glue job. */
export function specToJson(spec: MappingSpec): Obj {
  return {
    specVersion: 1,
    name: spec.name,
    description: spec.description,
    source: { ...spec.source, columns: spec.source.columns ? [...spec.source.columns] : null },
    mappings: spec.mappings.map((m) => ({ ...m })),
    drop: [...spec.drop],
    timestamp: { ...spec.timestamp },
    filters: spec.filters.map((f) => ({ ...f })),
    eventValue: spec.eventValue ? { ...spec.eventValue } : null,
    output: { format: 'csv', header: true, columns: [...spec.output.columns] },
    checks: {
      maxIdLength: spec.checks.maxIdLength,
      minTimestamp: new Date(spec.checks.minTimestamp * 1000).toISOString().replace('.000Z', 'Z'),
      maxFutureSeconds: spec.checks.maxFutureSeconds,
      rejectThreshold: spec.checks.rejectThreshold,
    },
  };
}

/** The output header columns: output.columns, plus EVENT_VALUE when eventValue is enabled. */
export function outputColumns(spec: MappingSpec): string[] {
  return spec.eventValue?.enabled ? [...spec.output.columns, 'EVENT_VALUE'] : [...spec.output.columns];
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
