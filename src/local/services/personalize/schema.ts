/**
 * Personalize schemas: Avro record parsing (with the `categorical`/`textual` string attributes) and
 * the per-dataset-type rules (required fields and types, reserved names, metadata counts).
 * `DataProblem` is a problem with user input; callers turn it into InvalidInputException or a
 * failureReason.
 */
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
