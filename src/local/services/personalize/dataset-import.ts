/**
 * A dataset import's checks and storing: the CSV files read against the schema (header, types, ID
 * and categorical lengths, duplicates, minimum record count, millisecond timestamps), then the
 * dataset's new data staged in the stored format (src/datasets) for the caller to commit — FULL
 * replaces, INCREMENTAL appends. Runs in the import's worker thread (import-worker.ts).
 */
import { forEachCsvRecord, UnterminatedQuoteError } from '../../../etl/csv.js';
import { appendInteractions, InteractionRows } from '../../../datasets/columns.js';
import { encodeInteractions, encodeMetadata } from '../../../datasets/interactions.js';
import { stageFile } from '../../../shared/atomic-file.js';
import { dataFile, loadInteractions, loadMetadata } from './dataset-files.js';
import { DataProblem, type DatasetType, type SchemaField } from './schema.js';

export const MIN_RECORDS = 1000;
export const MAX_ID_LENGTH = 256;
export const MAX_CATEGORICAL_LENGTH = 1000;
export const MAX_TEXTUAL_LENGTH = 20000;
/** Epoch values above this are taken for milliseconds (1e11 seconds is the year 5138). */
const MILLIS_THRESHOLD = 1e11;

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
    const tmp = await stageFile(file, encodeMetadata(type, { columns, rows: all }));
    return { records: rows.length, total: all.length, staged: { tmp, target: file } };
  }
  const previous =
    options.mode === 'INCREMENTAL' ? await loadInteractions(options.dataDir, options.datasetArn) : undefined;
  const data = appendInteractions(
    previous,
    interactions!,
    fields.map((f) => f.name),
  );
  const tmp = await stageFile(file, encodeInteractions(data));
  return { records: imported, total: data.count, staged: { tmp, target: file } };
}
