/**
 * Item metadata for Personalize's Items dataset: an items spec (glue/mappings/items/*.json) says
 * how to read a catalogue file (hetrec's movies.dat, MovieLens' movies.csv, …) and which column
 * becomes which field; `convertItems` turns the file into the Items CSV that the dataset's schema
 * wants — one column per schema field, in schema order, RFC 4180 quoting, UTF-8.
 *
 * Catalogue files are small (10k–100k lines), so the conversion runs where the CLI runs, on both
 * targets: the file is read from the lake (or a local file), converted, and the CSV written to the
 * lake's items prefix for the import job.
 *
 * Nothing is dropped silently: a line with the wrong number of fields, a value of the wrong type,
 * an empty value for a field the schema does not allow to be null, an over-long ID or categorical
 * value, or a repeated ITEM_ID fails the whole conversion with the file and line of each problem
 * (the first 10), and nothing is written.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ItemsError } from './errors.js';
import { DEFAULT_ITEMS_SPEC, ITEMS_SPEC_DIR } from './items-names.js';
import { forEachCsvRecord, UnterminatedQuoteError } from './csv.js';

export { DEFAULT_ITEMS_SPEC, ITEMS_SPEC_DIR };
const MAX_ID_LENGTH = 256;
const MAX_CATEGORICAL_LENGTH = 1000;
const MAX_PROBLEMS = 10;

/**
 * How a value is derived from its source column:
 * - `none`: as is;
 * - `year`: the 4-digit year of a value like `1995` or a title like `Toy Story (1995)`;
 * - `yearStart`: that year's 1 January 00:00 UTC in epoch seconds (a release date for CREATION_TIMESTAMP);
 * - `titleWithoutYear`: a title without its trailing ` (1995)`.
 */
const TRANSFORMS = ['none', 'year', 'yearStart', 'titleWithoutYear'] as const;
export type ItemsTransform = (typeof TRANSFORMS)[number];

const fieldName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'must be an upper-case Personalize field name');

const itemsSpecSchema = z.strictObject({
  $schema: z.string().optional(),
  specVersion: z.literal(1),
  kind: z.literal('items'),
  name: z.string().min(1),
  description: z.string().default(''),
  source: z.strictObject({
    format: z.enum(['csv', 'tsv']),
    separator: z.string().min(1).max(4),
    quote: z.string().length(1).nullable(),
    header: z.literal(true),
    encoding: z.enum(['utf-8', 'latin1']),
    /** The header the file is expected to have (any order); checked when given. */
    columns: z.array(z.string().min(1)).nullable().default(null),
  }),
  /** Values read as null (empty is always null). */
  nullValues: z.array(z.string()).default([]),
  /**
   * Multi-valued fields kept in a file of their own beside the catalogue, one (item, value) pair
   * a line — as hetrec keeps genres in movie_genres.dat (`movieID genre`) — read with the
   * catalogue's separator, quote and encoding, and joined with "|" (Personalize's multi-value form).
   */
  lists: z
    .array(
      z.strictObject({
        file: z.string().min(1),
        key: z.string().min(1),
        value: z.string().min(1),
        to: fieldName,
      }),
    )
    .default([]),
  mappings: z
    .array(
      z.strictObject({
        from: z.string().min(1),
        to: fieldName,
        transform: z.enum(TRANSFORMS).default('none'),
      }),
    )
    .min(1),
});

export type ItemsSpec = z.infer<typeof itemsSpecSchema>;

/** One field of the Items dataset's Avro schema, as far as the conversion needs it. */
export interface ItemsField {
  name: string;
  type: 'string' | 'int' | 'long' | 'float' | 'double' | 'boolean';
  nullable: boolean;
  categorical: boolean;
}

export interface ItemsConversion {
  csv: string;
  rows: number;
  columns: string[];
  /** Per output column, how many rows have no value. */
  nulls: Record<string, number>;
}

function specError(message: string, suggestions: string[] = []): ItemsError {
  return new ItemsError(message, { usage: true, code: 'ITEMS_SPEC', suggestions });
}

/** Parses an items spec; errors name the file and the field. */
export function parseItemsSpec(json: string, label: string): ItemsSpec {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw specError(`${label}: not valid JSON (${(error as Error).message}).`);
  }
  const result = itemsSpecSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const at = issue.path.length === 0 ? '(top level)' : issue.path.join('.');
    throw specError(`${label}: ${at}: ${issue.message}`);
  }
  const spec = result.data;
  const targets = new Set<string>();
  spec.mappings.forEach((m, i) => {
    if (targets.has(m.to)) throw specError(`${label}: mappings[${i}].to: ${m.to} is mapped twice.`);
    targets.add(m.to);
  });
  if (!targets.has('ITEM_ID')) throw specError(`${label}: mappings: no mapping to ITEM_ID (required).`);
  spec.lists.forEach((l, i) => {
    if (targets.has(l.to)) throw specError(`${label}: lists[${i}].to: ${l.to} is mapped twice.`);
    targets.add(l.to);
  });
  return spec;
}

/**
 * Finds and reads an items spec: a path to a .json file, or a name looked up in the project's
 * glue/mappings/items/ and then in the one shipped with mlpipe.
 */
export async function loadItemsSpec(
  nameOrPath: string,
  dirs: { projectDir: string; packageRoot: string },
): Promise<{ spec: ItemsSpec; file: string }> {
  const candidates = nameOrPath.endsWith('.json')
    ? [path.resolve(nameOrPath)]
    : [dirs.projectDir, dirs.packageRoot].map((root) =>
        path.join(root, ITEMS_SPEC_DIR, `${nameOrPath}.json`),
      );
  const file = candidates.find((candidate) => existsSync(candidate));
  if (file === undefined) {
    throw specError(`No items spec "${nameOrPath}" (looked for ${candidates.join(', ')}).`, [
      `The specs shipped with mlpipe are in ${ITEMS_SPEC_DIR}/ (e.g. ${DEFAULT_ITEMS_SPEC}); or pass a path to a .json file.`,
    ]);
  }
  return { spec: parseItemsSpec(await readFile(file, 'utf8'), path.basename(file)), file };
}

/** The fields of an Items schema (Avro JSON as stored by Personalize). */
export function itemsFieldsOf(schemaJson: string): ItemsField[] {
  const schema = JSON.parse(schemaJson) as {
    fields?: Array<{ name: string; type: unknown; categorical?: boolean }>;
  };
  return (schema.fields ?? []).map((field) => {
    const members = Array.isArray(field.type) ? (field.type as unknown[]) : [field.type];
    const named = members.map((m) =>
      typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : m,
    );
    const type = named.find((t) => t !== 'null') as ItemsField['type'];
    return {
      name: field.name,
      type,
      nullable: named.includes('null'),
      categorical: field.categorical === true,
    };
  });
}

function yearOf(value: string): number | undefined {
  const m = /^\s*(\d{4})\s*$/.exec(value) ?? /\((\d{4})\)\s*$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

function applyTransform(value: string, transform: ItemsTransform): string | null {
  switch (transform) {
    case 'none':
      return value;
    case 'year': {
      const year = yearOf(value);
      return year === undefined ? null : String(year);
    }
    case 'yearStart': {
      const year = yearOf(value);
      return year === undefined ? null : String(Date.UTC(year, 0, 1) / 1000);
    }
    case 'titleWithoutYear':
      return value.replace(/\s*\(\d{4}\)\s*$/, '');
  }
}

function typeProblem(value: string, field: ItemsField): string | undefined {
  switch (field.type) {
    case 'int':
    case 'long':
      return /^-?\d+$/.test(value)
        ? undefined
        : `${field.name} must be an integer (${field.type}), got "${value}"`;
    case 'float':
    case 'double':
      return value.trim() !== '' && Number.isFinite(Number(value))
        ? undefined
        : `${field.name} must be a number (${field.type}), got "${value}"`;
    case 'boolean':
      return /^(true|false)$/i.test(value)
        ? undefined
        : `${field.name} must be true or false, got "${value}"`;
    default:
      if (field.name === 'ITEM_ID' && value.length > MAX_ID_LENGTH)
        return `ITEM_ID is ${value.length} characters long; Personalize allows at most ${MAX_ID_LENGTH}`;
      if (field.categorical && value.length > MAX_CATEGORICAL_LENGTH)
        return `${field.name} is a categorical value of ${value.length} characters; Personalize allows at most ${MAX_CATEGORICAL_LENGTH}`;
      return undefined;
  }
}

/**
 * Reads each list file of the spec that was found: its header must name the key and value
 * columns; values are kept per key in file order, each once. Bad lines are problems of the whole
 * conversion, named by file and line.
 */
function readLists(
  spec: ItemsSpec,
  files: Readonly<Record<string, Buffer>>,
  problem: (line: number, message: string, file?: string) => void,
): Map<string, { values: Map<string, string[]> }> {
  const lists = new Map<string, { values: Map<string, string[]> }>();
  for (const list of spec.lists) {
    const content = files[list.file];
    if (content === undefined) continue;
    const text = spec.source.encoding === 'latin1' ? content.toString('latin1') : content.toString('utf8');
    const values = new Map<string, string[]>();
    let keyAt = -1;
    let valueAt = -1;
    let width = 0;
    forEachCsvRecord(
      text,
      (record, line) => {
        if (line === 1) {
          const header = record.map((h) => h.trim());
          keyAt = header.indexOf(list.key);
          valueAt = header.indexOf(list.value);
          width = header.length;
          if (keyAt < 0 || valueAt < 0)
            problem(
              1,
              `the header lacks ${list.key} or ${list.value} (it has ${header.join(', ')})`,
              list.file,
            );
          return;
        }
        if (keyAt < 0 || valueAt < 0) return;
        if (record.length !== width) {
          problem(line, `${record.length} fields, but the header has ${width}`, list.file);
          return;
        }
        const value = record[valueAt]!.trim();
        if (value === '' || spec.nullValues.includes(value)) return;
        const key = record[keyAt]!;
        const existing = values.get(key);
        if (existing === undefined) values.set(key, [value]);
        else if (!existing.includes(value)) existing.push(value);
      },
      { separator: spec.source.separator, quote: spec.source.quote },
    );
    lists.set(list.to, { values });
  }
  return lists;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * Converts a catalogue file to the Items CSV for `fields` (the dataset's schema). `label` names the
 * file in errors. Throws ItemsError (`usage` for a spec that does not fit the schema or the file;
 * otherwise listing the bad lines) and returns nothing partial.
 */
export function convertItems(
  content: Buffer,
  label: string,
  spec: ItemsSpec,
  fields: readonly ItemsField[],
  /** The spec's list files by name (those not found beside the catalogue are left out: their field stays empty). */
  listFiles: Readonly<Record<string, Buffer>> = {},
): ItemsConversion {
  const names = fields.map((f) => f.name);
  for (const m of [...spec.mappings, ...spec.lists.map((l) => ({ from: l.file, to: l.to }))]) {
    if (!names.includes(m.to))
      throw specError(
        `Items spec ${spec.name} maps ${m.from} to ${m.to}, which the Items dataset's schema does not have (its fields: ${names.join(', ')}).`,
        ['Change the spec, or the Items schema in templates/personalize.yaml.'],
      );
  }
  const byTarget = new Map(spec.mappings.map((m) => [m.to, m]));
  const listed = new Set(spec.lists.map((l) => l.to));
  for (const field of fields) {
    if (!byTarget.has(field.name) && !listed.has(field.name) && !field.nullable)
      throw specError(
        `The Items schema's field ${field.name} (${field.type}) cannot be null, but items spec ${spec.name} has no mapping to it.`,
      );
  }

  const text = spec.source.encoding === 'latin1' ? content.toString('latin1') : content.toString('utf8');
  const problems: string[] = [];
  let problemCount = 0;
  const problem = (line: number, message: string, file = label): void => {
    problemCount += 1;
    if (problems.length < MAX_PROBLEMS) problems.push(`${file} line ${line}: ${message}`);
  };

  // Catalogues are small: read every record first, then check them.
  const records: { values: string[]; line: number }[] = [];
  let openQuoteAt: number | undefined;
  try {
    forEachCsvRecord(text, (values, line) => records.push({ values, line }), {
      separator: spec.source.separator,
      quote: spec.source.quote,
    });
  } catch (error) {
    if (!(error instanceof UnterminatedQuoteError)) throw error;
    openQuoteAt = error.line; // reported after the lines before it
  }
  const first = records.shift();
  if (first === undefined)
    throw new ItemsError(`${label} is empty: expected a header line and items.`, { code: 'ITEMS_EMPTY' });
  const header = first.values.map((h) => h.trim());
  const expected = spec.source.columns ?? [];
  const wanted = [...new Set([...expected, ...spec.mappings.map((m) => m.from)])];
  const missing = wanted.filter((column) => !header.includes(column));
  if (missing.length > 0) {
    throw new ItemsError(
      `${label} line 1: the header lacks ${missing.join(', ')} (it has ${header.join(', ')}).`,
      {
        usage: true,
        code: 'ITEMS_HEADER',
        suggestions: [`Is this the file items spec ${spec.name} is for? Choose another with --items-spec.`],
      },
    );
  }
  const sourceIndex = new Map(header.map((h, i) => [h, i]));
  const lists = readLists(spec, listFiles, problem);
  const nullValues = new Set(spec.nullValues);
  const out: string[] = [names.map(csvField).join(',')];
  const nulls: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const seen = new Map<string, number>();

  for (const { values, line } of records) {
    if (values.length !== header.length) {
      problem(line, `${values.length} fields, but the header has ${header.length}`);
      continue;
    }
    const row: string[] = [];
    let bad = false;
    for (const field of fields) {
      const mapping = byTarget.get(field.name);
      let value: string | null = null;
      const list = lists.get(field.name);
      if (list !== undefined) {
        value = list.values.get(values[sourceIndex.get(byTarget.get('ITEM_ID')!.from)!]!)?.join('|') ?? null;
      } else if (mapping !== undefined) {
        const raw = values[sourceIndex.get(mapping.from)!]!;
        value = raw === '' || nullValues.has(raw) ? null : applyTransform(raw, mapping.transform);
      }
      if (value === null || value === '') {
        if (!field.nullable) {
          problem(
            line,
            `${field.name} is empty${mapping ? ` (column ${mapping.from})` : ''}, and the Items schema does not allow null for it`,
          );
          bad = true;
          break;
        }
        nulls[field.name]! += 1;
        row.push('');
        continue;
      }
      const wrong = typeProblem(value, field);
      if (wrong !== undefined) {
        problem(line, wrong);
        bad = true;
        break;
      }
      row.push(csvField(value));
    }
    if (bad) continue;
    const id = values[sourceIndex.get(byTarget.get('ITEM_ID')!.from)!]!;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      problem(line, `ITEM_ID ${id} repeats the item on line ${earlier}`);
      continue;
    }
    seen.set(id, line);
    out.push(row.join(','));
  }

  if (openQuoteAt !== undefined)
    problem(
      openQuoteAt,
      'a quoted field starts here and never closes, so the rest of the file would be one value',
    );
  if (problemCount > 0) {
    throw new ItemsError(
      `${label}: ${problemCount} line(s) cannot become items:\n  ${problems.join('\n  ')}${problemCount > problems.length ? `\n  … and ${problemCount - problems.length} more` : ''}`,
      {
        code: 'ITEMS_INVALID',
        suggestions: [
          'Nothing was written or imported. Fix the file (or the items spec) and run the command again.',
        ],
      },
    );
  }
  if (out.length === 1) throw new ItemsError(`${label} has a header but no items.`, { code: 'ITEMS_EMPTY' });
  return { csv: `${out.join('\n')}\n`, rows: out.length - 1, columns: names, nulls };
}
