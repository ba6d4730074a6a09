/**
 * The local ETL engine: streams a raw ratings file through a mapping spec (src/etl/spec.ts) into
 * Personalize's interactions CSV, in memory bounded by the distinct users and items (plus 16 bytes
 * per distinct output row for duplicate detection, see dedup.ts), never by the file size. No I/O of
 * its own: it reads the handed-in byte stream and writes through the handed-in sinks, awaiting them
 * (backpressure). Writing the output atomically is the caller's job: on failure the sinks have
 * received partial data that must be discarded.
 *
 * Parsing: the byte stream is cut into blocks of complete records (at the last newline outside
 * quotes; records are capped at 1 MiB), each block is decoded; a block with a quote character is
 * parsed with papaparse's Parser, so quotes are honoured across chunk boundaries, and one without is
 * scanned directly (the same records as papaparse's fast mode, fields taken as offsets, the output
 * row hashed as it is checked) to stay above 1M rows/s. Line numbers are physical, 1-based lines.
 *
 * Decisions
 * - Encoding: latin1 never fails. Under utf-8, blocks are checked with buffer.isUtf8; a record with
 *   an invalid byte sequence is rejected ("invalid UTF-8 ..."), counting towards the threshold; an
 *   invalid header is a structural error suggesting latin1. A UTF-8 BOM is skipped either way.
 * - CRLF, LF or mixed; a missing final newline is fine; blank lines are skipped and counted.
 * - Exact duplicate output rows (after mapping, casts and unit conversion) are collapsed, the first
 *   occurrence kept; counted in duplicatesCollapsed.
 * - Rejects go to the rejects sink as CSV `line,reason,raw` (raw = the record's fields re-joined with
 *   the separator). Filtered rows (spec filters) are not rejects; they are counted in rowsFiltered.
 * - The run fails (EtlError 'threshold') when rowsRejected > rejectThreshold x rowsRead, after the
 *   whole input is read so the report and reject file are complete. Structural problems (wrong
 *   separator, missing header or column, empty or header-only input, a runaway record) fail at once.
 */
import { isUtf8 } from 'node:buffer';
import Papa from 'papaparse';
import { HASH_SEED1, HASH_SEED2, RowHashSet } from './dedup.js';
import { EtlError, ID_TARGETS, outputColumns, type FilterOp, type MappingSpec } from './spec.js';

export interface EtlSinks {
  output(chunk: string): Promise<void> | void;
  rejects(chunk: string): Promise<void> | void;
  /**
   * Optional: the distinct users of the written rows, in first-seen order, as batch inference
   * input (JSON Lines, `{"userId":"75"}`), written once the output is complete.
   */
  users?(chunk: string): Promise<void> | void;
}

export interface EtlOptions {
  /** Overrides spec.checks.rejectThreshold (fraction of rows read, 0..1). */
  rejectThreshold?: number;
  /** Called after each block with the data rows read so far. */
  onProgress?(rowsRead: number): void;
  /** "Now" for the plausible-timestamp check, epoch ms (default Date.now()); for reproducible tests. */
  now?: number;
}

export interface RejectSample {
  line: number;
  reason: string;
}

export interface EtlReport {
  spec: string;
  outputColumns: string[];
  bytesRead: number;
  /** Data rows read (excluding the header and blank lines). */
  rowsRead: number;
  rowsWritten: number;
  rowsRejected: number;
  rowsFiltered: number;
  duplicatesCollapsed: number;
  blankLines: number;
  distinctUsers: number;
  distinctItems: number;
  usersWithAtLeast2Interactions: number;
  /** Epoch seconds of the written rows; null when nothing was written. */
  minTimestamp: number | null;
  maxTimestamp: number | null;
  firstRejects: RejectSample[];
  rejectThreshold: number;
  /** Personalize training needs >= 1,000 interactions and >= 25 users with >= 2 interactions. */
  meetsTrainingMinimums: boolean;
  /** Why the minimums are not met ('' when they are). */
  trainingMinimumsNote: string;
}

export const TRAINING_MIN_INTERACTIONS = 1000;
export const TRAINING_MIN_USERS_WITH_2 = 25;
export const MAX_RECORD_BYTES = 1 << 20;
const FLUSH_CHARS = 1 << 20;
const MAX_SAMPLES = 10;

const SEPARATOR_NAMES: Record<string, string> = {
  '\t': 'TAB',
  ',': 'comma (,)',
  ';': 'semicolon (;)',
  '|': 'pipe (|)',
};
export function separatorName(sep: string): string {
  return SEPARATOR_NAMES[sep] ?? JSON.stringify(sep);
}

/** Delimiters papaparse replaces with ',' (the direct scanner must not treat them otherwise). */
const BAD_DELIMITERS: readonly string[] = Papa.BAD_DELIMITERS;

const NEEDS_QUOTE = /[",\r\n]/;
function csvField(s: string): string {
  return NEEDS_QUOTE.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

type Kind = 0 | 1 | 2 | 3; // string, long, double, timestamp
interface Column {
  index: number;
  from: string;
  to: string;
  kind: Kind;
  required: boolean;
  isId: boolean;
}
interface Filter {
  index: number;
  column: string;
  op: FilterOp;
  value: number | string;
  label: string;
}

function formatDay(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}

/** Parses a non-negative decimal integer of digits only; -1 when it is not one (caller falls back). */
function digitsValue(s: string): number {
  const n = s.length;
  if (n === 0 || n > 15) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const NUMBER_RE = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
function parseNumber(s: string): number {
  const d = digitsValue(s);
  if (d >= 0) return d;
  return NUMBER_RE.test(s) ? Number(s) : NaN;
}

class Transform {
  readonly report: EtlReport;
  private readonly spec: MappingSpec;
  private readonly sinks: EtlSinks;
  private readonly sep: string;
  private readonly quote: string | null;
  private columns: Column[] = [];
  private filters: Filter[] = [];
  private expected = 0;
  private headerDone: boolean;
  private nextLine = 1;
  private crlf = false;
  private readonly dedup = new RowHashSet(1 << 18);
  private readonly users = new Map<string, number>();
  private readonly items = new Set<string>();
  private readonly numericItems = new Set<number>();
  private outLines: string[] = [];
  private outChars = 0;
  private lastUser = '';
  private lastUserCount = 0;
  private out = '';
  private rej = '';
  private readonly maxId: number;
  private readonly msUnit: boolean;
  private readonly autoUnit: boolean;
  private readonly minTs: number;
  private readonly maxTs: number;
  private userCol = 0;
  private itemCol = 0;
  private parserFast: Papa.Parser;
  private parserQuoted: Papa.Parser | null = null;
  /** The separator's char code when the direct scanner can be used (one character), else -1. */
  private readonly sepCode: number;
  /** Field start offsets of the scanned line (expected + 1 slots). */
  private bounds = new Int32Array(1);
  /** Whether fastRow may handle rows (no filters). */
  private fastOk = false;

  constructor(spec: MappingSpec, sinks: EtlSinks, threshold: number, now: number) {
    this.spec = spec;
    this.sinks = sinks;
    this.sep = spec.source.separator;
    this.quote = spec.source.quote;
    this.headerDone = !spec.source.header;
    this.maxId = spec.checks.maxIdLength;
    this.msUnit = spec.timestamp.unit === 'ms';
    this.autoUnit = spec.timestamp.unit === 'auto';
    this.minTs = spec.checks.minTimestamp;
    this.maxTs = Math.floor(now / 1000) + spec.checks.maxFutureSeconds;
    this.sepCode = this.sep.length === 1 && !BAD_DELIMITERS.includes(this.sep) ? this.sep.charCodeAt(0) : -1;
    this.parserFast = new Papa.Parser({ delimiter: this.sep, newline: '\n', fastMode: true });
    this.report = {
      spec: spec.name,
      outputColumns: outputColumns(spec),
      bytesRead: 0,
      rowsRead: 0,
      rowsWritten: 0,
      rowsRejected: 0,
      rowsFiltered: 0,
      duplicatesCollapsed: 0,
      blankLines: 0,
      distinctUsers: 0,
      distinctItems: 0,
      usersWithAtLeast2Interactions: 0,
      minTimestamp: null,
      maxTimestamp: null,
      firstRejects: [],
      rejectThreshold: threshold,
      meetsTrainingMinimums: false,
      trainingMinimumsNote: '',
    };
    if (!spec.source.header) this.bind(spec.source.columns!);
    this.rej = 'line,reason,raw\n';
    this.out = this.report.outputColumns.join(',') + '\n';
  }

  /** The source columns the spec reads (mappings, eventValue, filters), in first-use order. */
  private referenced(): string[] {
    const refs = this.spec.mappings.map((m) => m.from);
    if (this.spec.eventValue?.enabled) refs.push(this.spec.eventValue.from);
    for (const f of this.spec.filters) refs.push(f.column);
    return [...new Set(refs)];
  }

  private bind(names: readonly string[]): void {
    const index = (name: string): number => names.indexOf(name);
    const byTarget = new Map(this.spec.mappings.map((m) => [m.to, m]));
    this.columns = this.spec.output.columns.map((to) => {
      const m = byTarget.get(to)!;
      const kind: Kind = to === 'TIMESTAMP' ? 3 : m.type === 'long' ? 1 : m.type === 'double' ? 2 : 0;
      return { index: index(m.from), from: m.from, to, kind, required: m.required, isId: ID_TARGETS.has(to) };
    });
    const ev = this.spec.eventValue;
    if (ev?.enabled)
      this.columns.push({
        index: index(ev.from),
        from: ev.from,
        to: 'EVENT_VALUE',
        kind: 2,
        required: true,
        isId: false,
      });
    this.filters = this.spec.filters.map((f) => ({
      index: index(f.column),
      column: f.column,
      op: f.op,
      value: f.value,
      label: `${f.column} ${f.op} ${typeof f.value === 'string' ? JSON.stringify(f.value) : f.value}`,
    }));
    this.userCol = this.columns.findIndex((c) => c.to === 'USER_ID');
    this.itemCol = this.columns.findIndex((c) => c.to === 'ITEM_ID');
    this.expected = names.length;
    this.bounds = new Int32Array(names.length + 1);
    this.fastOk = this.filters.length === 0 && this.userCol >= 0 && this.itemCol >= 0;
  }

  private structure(message: string): never {
    throw new EtlError('structure', message);
  }

  private separatorCheck(fields: string[], line: number, expected: number): void {
    if (fields.length !== 1 || expected <= 1) return;
    const text = fields[0]!;
    const seen = ['\t', ',', ';', '|'].filter((s) => s !== this.sep && text.includes(s));
    const hint = seen.length > 0 ? ` (the line contains ${seen.map(separatorName).join(', ')})` : '';
    this.structure(
      `line ${line} has 1 column, expected ${expected}: is the separator right? ` +
        `The spec expects ${separatorName(this.sep)}${hint}`,
    );
  }

  private header(fields: string[], line: number): void {
    const names = fields.map((f) => f.trim());
    const refs = this.referenced();
    this.separatorCheck(names, line, this.spec.source.columns?.length ?? refs.length);
    const missing = refs.filter((r) => !names.includes(r));
    if (missing.length === refs.length && names.every((n) => /^[-+.\d]+$/.test(n)))
      this.structure(
        `line ${line} is not a header (found: ${names.join(', ')}): the spec expects a header line with ` +
          `columns ${refs.join(', ')}; for a file without one set source.header to false and list source.columns`,
      );
    if (missing.length > 0)
      this.structure(
        `header is missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${names.join(', ')})`,
      );
    this.bind(names);
    this.headerDone = true;
  }

  private reject(line: number, reason: string, fields: string[]): void {
    const r = this.report;
    r.rowsRejected++;
    if (r.firstRejects.length < MAX_SAMPLES) r.firstRejects.push({ line, reason });
    this.rej += `${line},${csvField(reason)},${csvField(fields.join(this.sep))}\n`;
  }

  /** Processes one block of complete records (bytes). `last` marks the end of the input. */
  async block(bytes: Buffer): Promise<void> {
    const first = this.nextLine === 1;
    if (first && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
      bytes = bytes.subarray(3);
    if (first) {
      const nl = bytes.indexOf(10);
      this.crlf = nl > 0 && bytes[nl - 1] === 13;
    }
    let invalidUtf8 = false;
    let text: string;
    if (this.spec.source.encoding === 'latin1') text = bytes.toString('latin1');
    else {
      invalidUtf8 = !isUtf8(bytes);
      text = bytes.toString('utf8');
    }
    let end = text.length;
    if (end > 0 && text.charCodeAt(end - 1) === 10) end--;
    if (end > 0 && text.charCodeAt(end - 1) === 13) end--;
    if (end < text.length) text = text.slice(0, end);
    const hasQuotes = this.quote !== null && text.includes(this.quote);
    if (!hasQuotes && text !== '' && this.sepCode >= 0) {
      this.scan(text, invalidUtf8);
      if (this.rej.length > 16) await this.flushRejects();
      if (this.outChars > FLUSH_CHARS) await this.flushOutput();
      return;
    }
    let rows: string[][];
    let errors: Papa.ParseError[] = [];
    if (text === '') rows = [['']];
    else if (!hasQuotes) rows = this.parserFast.parse(text, 0, false).data as string[][];
    else {
      this.parserQuoted ??= new Papa.Parser({
        delimiter: this.sep,
        newline: this.crlf ? '\r\n' : '\n',
        quoteChar: this.quote!,
        fastMode: false,
      });
      const result = this.parserQuoted.parse(text, 0, false) as Papa.ParseResult<string[]>;
      rows = result.data;
      errors = result.errors;
    }
    const errorRows = new Map<number, string>();
    for (const e of errors) if (e.row !== undefined && !errorRows.has(e.row)) errorRows.set(e.row, e.message);

    let line = this.nextLine;
    for (let i = 0; i < rows.length; i++, line++) {
      const fields = rows[i]!;
      const n = fields.length;
      const lastField = fields[n - 1]!;
      if (lastField.length > 0 && lastField.charCodeAt(lastField.length - 1) === 13)
        fields[n - 1] = lastField.slice(0, -1);
      const recordLine = line;
      if (hasQuotes)
        for (const f of fields) for (let p = f.indexOf('\n'); p >= 0; p = f.indexOf('\n', p + 1)) line++;
      this.record(fields, recordLine, invalidUtf8, errorRows.get(i));
    }
    this.nextLine = line;
    if (this.rej.length > 16) await this.flushRejects();
    if (this.outChars > FLUSH_CHARS) await this.flushOutput();
  }

  /**
   * One record (a physical line or, quoted, several): blank, invalid UTF-8, header or data row.
   * `bad` is papaparse's error message for the record, if any.
   */
  private record(fields: string[], recordLine: number, invalidUtf8: boolean, bad: string | undefined): void {
    const r = this.report;
    const n = fields.length;
    if (n === 1 && fields[0] === '') {
      r.blankLines++;
      return;
    }
    if (invalidUtf8 && fields.some((f) => f.includes('\uFFFD'))) {
      if (!this.headerDone)
        this.structure(
          `line ${recordLine} (the header) is not valid UTF-8: is the file Latin-1? The spec says ` +
            'source.encoding utf-8; set it to latin1',
        );
      r.rowsRead++;
      this.reject(recordLine, 'invalid UTF-8 byte sequence (the spec says source.encoding utf-8)', fields);
      return;
    }
    if (!this.headerDone) {
      this.header(fields, recordLine);
      return;
    }
    r.rowsRead++;
    if (r.rowsRead === 1) this.separatorCheck(fields, recordLine, this.expected);
    if (n !== this.expected) {
      this.reject(recordLine, `expected ${this.expected} columns, found ${n}`, fields);
      return;
    }
    if (bad !== undefined) {
      this.reject(recordLine, `malformed quoted field: ${bad}`, fields);
      return;
    }
    this.row(fields, recordLine);
  }

  /**
   * A block without quotes, scanned directly (same records as papaparse's fast mode: split on LF,
   * then on the one-character separator, a trailing CR dropped). Data rows that pass every check
   * take fastRow; anything else (blank, header, invalid UTF-8, ragged, reject) goes through record.
   */
  private scan(text: string, invalidUtf8: boolean): void {
    const r = this.report;
    const sepCode = this.sepCode;
    const len = text.length;
    let line = this.nextLine;
    let nextBad = invalidUtf8 ? text.indexOf('\uFFFD') : -1;
    let pos = 0;
    while (pos <= len) {
      const bounds = this.bounds;
      const cap = bounds.length;
      bounds[0] = pos;
      let n = 1;
      let i = pos;
      for (; i < len; i++) {
        const c = text.charCodeAt(i);
        if (c === 10) break;
        if (c === sepCode) {
          if (n < cap) bounds[n] = i + 1;
          n++;
        }
      }
      let end = i;
      if (end > pos && text.charCodeAt(end - 1) === 13) end--;
      if (nextBad >= 0 && nextBad < pos) nextBad = text.indexOf('\uFFFD', pos);
      if (end === pos) r.blankLines++;
      else if (
        !this.headerDone ||
        r.rowsRead === 0 ||
        n !== this.expected ||
        (nextBad >= 0 && nextBad < end) ||
        !this.fastRow(text, end, n)
      )
        this.record(text.slice(pos, end).split(this.sep), line, invalidUtf8, undefined);
      else r.rowsRead++;
      line++;
      pos = i + 1;
    }
    this.nextLine = line;
  }

  /**
   * The common case of row(): a data row with the expected field count (offsets in this.bounds),
   * no filters, every check passing. Returns false, having changed nothing, when row() must decide.
   */
  private fastRow(text: string, end: number, n: number): boolean {
    if (!this.fastOk) return false;
    const bounds = this.bounds;
    const cols = this.columns;
    // The output row is hashed as it is validated (the same hash as RowHashSet.add(out)).
    let h1 = HASH_SEED1;
    let h2 = HASH_SEED2;
    let out = '';
    let ts = 0;
    let user = '';
    let item = '';
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c]!;
      const k = col.index;
      const s = bounds[k]!;
      const e = k + 1 < n ? bounds[k + 1]! - 1 : end;
      if (c > 0) {
        h1 = Math.imul(h1 ^ 44, 0x01000193);
        h2 = Math.imul(h2 + 44, 0x5bd1e995);
        h2 ^= h2 >>> 15;
      }
      let value: string;
      let raw: string | null = null;
      if (e === s) {
        if (col.required) return false;
        value = '';
        raw = '';
      } else if (col.kind === 3) {
        if (e - s > 15) return false;
        let v = 0;
        for (let p = s; p < e; p++) {
          const d = text.charCodeAt(p) - 48;
          if (d < 0 || d > 9) return false;
          v = v * 10 + d;
        }
        const ms = this.msUnit || (this.autoUnit && v > 1e11);
        ts = ms ? Math.floor(v / 1000) : v;
        if (ts < this.minTs || ts > this.maxTs) return false;
        // Without leading zeros the decimal digits of ts are those of the field (less 3 for ms).
        const te = ms ? e - 3 : e;
        if (te > s && (text.charCodeAt(s) !== 48 || te - s === 1)) {
          for (let p = s; p < te; p++) {
            const ch = text.charCodeAt(p);
            h1 = Math.imul(h1 ^ ch, 0x01000193);
            h2 = Math.imul(h2 + ch, 0x5bd1e995);
            h2 ^= h2 >>> 15;
          }
          value = text.slice(s, te);
        } else {
          value = '' + ts;
          for (let p = 0; p < value.length; p++) {
            const ch = value.charCodeAt(p);
            h1 = Math.imul(h1 ^ ch, 0x01000193);
            h2 = Math.imul(h2 + ch, 0x5bd1e995);
            h2 ^= h2 >>> 15;
          }
        }
      } else if (col.kind === 0) {
        if (col.isId && e - s > this.maxId) return false;
        for (let p = s; p < e; p++) {
          const ch = text.charCodeAt(p);
          if (ch === 44 || ch === 34 || ch === 13 || ch === 10) return false;
          h1 = Math.imul(h1 ^ ch, 0x01000193);
          h2 = Math.imul(h2 + ch, 0x5bd1e995);
          h2 ^= h2 >>> 15;
        }
        value = raw = text.slice(s, e);
      } else if (col.kind === 1) {
        for (let p = s; p < e; p++) {
          const ch = text.charCodeAt(p);
          if (ch < 48 || ch > 57) return false;
          h1 = Math.imul(h1 ^ ch, 0x01000193);
          h2 = Math.imul(h2 + ch, 0x5bd1e995);
          h2 ^= h2 >>> 15;
        }
        value = raw = text.slice(s, e);
      } else {
        const v = parseNumber(text.slice(s, e));
        if (v !== v || !Number.isFinite(v)) return false;
        value = '' + v;
        for (let p = 0; p < value.length; p++) {
          const ch = value.charCodeAt(p);
          h1 = Math.imul(h1 ^ ch, 0x01000193);
          h2 = Math.imul(h2 + ch, 0x5bd1e995);
          h2 ^= h2 >>> 15;
        }
      }
      if (c === this.userCol) user = raw ?? text.slice(s, e);
      if (c === this.itemCol) item = raw ?? text.slice(s, e);
      out = c === 0 ? value : out + ',' + value;
    }
    if (!this.dedup.addHash(h1, h2)) {
      this.report.duplicatesCollapsed++;
      return true;
    }
    this.written(out, ts, user, item);
    return true;
  }

  private row(fields: string[], line: number): void {
    const r = this.report;
    for (let f = 0; f < this.filters.length; f++) {
      const filter = this.filters[f]!;
      const raw = fields[filter.index]!;
      let keep: boolean;
      if (typeof filter.value === 'number') {
        const v = parseNumber(raw);
        if (v !== v) {
          this.reject(
            line,
            `${filter.column} is not a number: ${JSON.stringify(raw)} (filter ${filter.label})`,
            fields,
          );
          return;
        }
        keep = compare(v, filter.op, filter.value);
      } else keep = compare(raw, filter.op, filter.value);
      if (!keep) {
        r.rowsFiltered++;
        return;
      }
    }
    let out = '';
    let ts = 0;
    const cols = this.columns;
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c]!;
      const raw = fields[col.index]!;
      let value: string;
      if (raw.length === 0) {
        if (col.required) {
          this.reject(line, `empty ${col.to} (column ${col.from})`, fields);
          return;
        }
        value = '';
      } else if (col.kind === 3) {
        let v = digitsValue(raw);
        if (v < 0) {
          v = parseNumber(raw);
          if (v !== v) {
            this.reject(
              line,
              `${col.from} is not a number: ${JSON.stringify(raw)} (column ${col.from})`,
              fields,
            );
            return;
          }
          if (v < 0) {
            this.reject(line, `${col.from} is negative: ${JSON.stringify(raw)} (column ${col.from})`, fields);
            return;
          }
        }
        ts = this.msUnit || (this.autoUnit && v > 1e11) ? Math.floor(v / 1000) : Math.floor(v);
        if (ts < this.minTs || ts > this.maxTs) {
          const unit = this.spec.timestamp.unit;
          const why =
            ts < this.minTs
              ? `is before ${formatDay(this.minTs)}`
              : `is after ${formatDay(this.maxTs)} (now + ${this.spec.checks.maxFutureSeconds} s)`;
          this.reject(
            line,
            `${col.from} out of range: ${ts} s ${why}; is the unit right? (timestamp.unit ${unit})`,
            fields,
          );
          return;
        }
        value = '' + ts;
      } else if (col.kind === 0) {
        if (col.isId && raw.length > this.maxId) {
          this.reject(
            line,
            `${col.to} is ${raw.length} characters long, more than ${this.maxId} (column ${col.from})`,
            fields,
          );
          return;
        }
        value = csvField(raw);
      } else if (col.kind === 1) {
        const t = raw.trim();
        if (!/^[+-]?\d+$/.test(t)) {
          this.reject(
            line,
            `${col.to} is not an integer: ${JSON.stringify(raw)} (column ${col.from})`,
            fields,
          );
          return;
        }
        value = t;
      } else {
        const v = parseNumber(raw);
        if (v !== v || !Number.isFinite(v)) {
          this.reject(line, `${col.to} is not a number: ${JSON.stringify(raw)} (column ${col.from})`, fields);
          return;
        }
        value = '' + v;
      }
      out = c === 0 ? value : out + ',' + value;
    }
    this.accept(out, ts, fields[cols[this.userCol]!.index]!, fields[cols[this.itemCol]!.index]!);
  }

  /** Writes a mapped row unless it is a duplicate, and updates the report's statistics. */
  private accept(out: string, ts: number, user: string, item: string): void {
    const r = this.report;
    if (!this.dedup.add(out)) {
      r.duplicatesCollapsed++;
      return;
    }
    this.written(out, ts, user, item);
  }

  /** Records a written (non-duplicate) row. */
  private written(out: string, ts: number, user: string, item: string): void {
    const r = this.report;
    this.outLines.push(out);
    this.outChars += out.length;
    r.rowsWritten++;
    if (r.minTimestamp === null || ts < r.minTimestamp) r.minTimestamp = ts;
    if (r.maxTimestamp === null || ts > r.maxTimestamp) r.maxTimestamp = ts;
    if (user === this.lastUser) this.lastUserCount++;
    else {
      this.countUser();
      this.lastUser = user;
      this.lastUserCount = 1;
    }
    // Canonical decimal IDs go into a number set (no string hashing): "7" and "07" stay distinct.
    const itemNumber = item.charCodeAt(0) === 48 ? -1 : digitsValue(item);
    if (itemNumber >= 0) this.numericItems.add(itemNumber);
    else this.items.add(item);
  }

  private countUser(): void {
    if (this.lastUserCount > 0)
      this.users.set(this.lastUser, (this.users.get(this.lastUser) ?? 0) + this.lastUserCount);
  }

  async flushOutput(): Promise<void> {
    const lines = this.outLines;
    const chunk = lines.length > 0 ? this.out + lines.join('\n') + '\n' : this.out;
    this.out = '';
    this.outLines = [];
    this.outChars = 0;
    if (chunk.length > 0) await this.sinks.output(chunk);
  }

  /** The written rows' distinct users as JSON Lines (`{"userId":"…"}`), in chunks of about 64 KiB. */
  async writeUsers(sink: (chunk: string) => Promise<void> | void): Promise<void> {
    let chunk = '';
    for (const user of this.users.keys()) {
      chunk += `{"userId":${JSON.stringify(user)}}\n`;
      if (chunk.length >= 65_536) {
        await sink(chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) await sink(chunk);
  }

  async flushRejects(): Promise<void> {
    const chunk = this.rej;
    this.rej = '';
    if (chunk.length > 0) await this.sinks.rejects(chunk);
  }

  finish(): void {
    const r = this.report;
    if (!this.headerDone || r.rowsRead === 0) {
      const cols = this.referenced().join(', ');
      if (r.bytesRead === 0 || (!this.headerDone && this.spec.source.header))
        this.structure(
          `the input is empty${r.bytesRead === 0 ? '' : ' (only blank lines)'}: expected ` +
            (this.spec.source.header
              ? `a header line with columns ${cols} and data rows`
              : `data rows with ${this.expected} columns`),
        );
      if (this.spec.source.header) this.structure('the input has only a header line and no data rows');
      this.structure('the input has only blank lines and no data rows');
    }
    this.countUser();
    this.lastUserCount = 0;
    r.distinctUsers = this.users.size;
    r.distinctItems = this.items.size + this.numericItems.size;
    let with2 = 0;
    for (const count of this.users.values()) if (count >= 2) with2++;
    r.usersWithAtLeast2Interactions = with2;
    const notes: string[] = [];
    if (r.rowsWritten < TRAINING_MIN_INTERACTIONS)
      notes.push(`${r.rowsWritten} interactions, Personalize needs at least ${TRAINING_MIN_INTERACTIONS}`);
    if (with2 < TRAINING_MIN_USERS_WITH_2)
      notes.push(
        `${with2} users with at least 2 interactions, Personalize needs at least ${TRAINING_MIN_USERS_WITH_2}`,
      );
    r.meetsTrainingMinimums = notes.length === 0;
    r.trainingMinimumsNote = notes.join('; ');
  }
}

function compare<T extends number | string>(a: T, op: FilterOp, b: T): boolean {
  switch (op) {
    case '>=':
      return a >= b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '<':
      return a < b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/**
 * Cuts a byte stream into blocks of complete records: each block ends just after a newline that is
 * outside quotes (or at the end of the input). Memory: one partial record (<= MAX_RECORD_BYTES).
 */
async function* recordBlocks(
  input: AsyncIterable<Buffer | Uint8Array | string>,
  quote: string | null,
  counter: { bytes: number },
): AsyncGenerator<Buffer> {
  const q = quote === null ? -1 : quote.charCodeAt(0);
  let carry: Buffer[] = [];
  let carryBytes = 0;
  let parity = 0; // quotes seen in the carry, mod 2
  for await (const piece of input) {
    const chunk =
      typeof piece === 'string'
        ? Buffer.from(piece, 'utf8')
        : Buffer.isBuffer(piece)
          ? piece
          : Buffer.from(piece);
    counter.bytes += chunk.length;
    let cut = -1;
    if (q < 0 || (parity === 0 && chunk.indexOf(q) < 0)) cut = chunk.lastIndexOf(10);
    else {
      const quotes: number[] = [];
      for (let p = chunk.indexOf(q); p >= 0; p = chunk.indexOf(q, p + 1)) quotes.push(p);
      for (let k = quotes.length; k >= 0 && cut < 0; k--) {
        if (((parity + k) & 1) !== 0) continue;
        const start = k === 0 ? 0 : quotes[k - 1]! + 1;
        const end = k === quotes.length ? chunk.length : quotes[k]!;
        if (end <= start) continue;
        const nl = chunk.lastIndexOf(10, end - 1);
        if (nl >= start) cut = nl;
      }
      if (cut < 0) parity = (parity + quotes.length) & 1;
      else {
        let after = 0;
        for (const p of quotes) if (p > cut) after++;
        parity = after & 1;
      }
    }
    if (cut < 0) {
      carry.push(chunk);
      carryBytes += chunk.length;
      if (carryBytes > MAX_RECORD_BYTES)
        throw new EtlError(
          'structure',
          `a record is longer than ${MAX_RECORD_BYTES} bytes (no line end${q >= 0 ? ' outside quotes' : ''}): ` +
            'is this a text file with the right separator and quoting?',
        );
      continue;
    }
    const head = chunk.subarray(0, cut + 1);
    yield carry.length === 0 ? head : Buffer.concat([...carry, head]);
    carry = cut + 1 < chunk.length ? [chunk.subarray(cut + 1)] : [];
    carryBytes = chunk.length - cut - 1;
  }
  if (carryBytes > 0) yield Buffer.concat(carry);
}

/**
 * Runs the ETL: reads `input` (a byte stream: a fs/S3 Readable or any async iterable of chunks),
 * writes the output CSV and the reject CSV through `sinks`, and resolves with the report. Throws
 * EtlError ('structure' at once, 'threshold' at the end) with the first rejects attached.
 */
export async function runEtl(
  spec: MappingSpec,
  input: AsyncIterable<Buffer | Uint8Array | string>,
  sinks: EtlSinks,
  options: EtlOptions = {},
): Promise<EtlReport> {
  const threshold = options.rejectThreshold ?? spec.checks.rejectThreshold;
  if (!(threshold >= 0 && threshold <= 1))
    throw new EtlError('spec', `rejectThreshold must be between 0 and 1, got ${threshold}`);
  const t = new Transform(spec, sinks, threshold, options.now ?? Date.now());
  const counter = { bytes: 0 };
  for await (const block of recordBlocks(input, spec.source.quote, counter)) {
    t.report.bytesRead = counter.bytes;
    await t.block(block);
    options.onProgress?.(t.report.rowsRead);
  }
  const r = t.report;
  r.bytesRead = counter.bytes;
  t.finish();
  await t.flushRejects();
  if (r.rowsRejected > threshold * r.rowsRead) {
    const pct = (x: number): string => `${+(x * 100).toFixed(2)}%`;
    const sample = r.firstRejects
      .slice(0, 3)
      .map((x) => `line ${x.line}: ${x.reason}`)
      .join('; ');
    throw new EtlError(
      'threshold',
      `${r.rowsRejected} of ${r.rowsRead} rows rejected (${pct(r.rowsRejected / r.rowsRead)}), more than the ` +
        `reject threshold of ${pct(threshold)}; first rejects: ${sample}`,
      r.firstRejects,
    );
  }
  await t.flushOutput();
  if (sinks.users) await t.writeUsers(sinks.users.bind(sinks));
  return r;
}
