/**
 * The conventions of Step Functions' service integrations, driven by each service's API model:
 * which members a parameter or result names, which values are maps (whose keys are data and stay
 * as they are: tags, hyperParameters, Glue Arguments), and how timestamps look.
 *
 * The model comes from the static schemas the installed `@aws-sdk/client-*` packages export for
 * every operation (`CreateDatasetImportJob$`: input and output shapes, read through
 * `@smithy/core/schema`'s `NormalizedSchema`), and their exported exception classes say which
 * error codes the service models. A test checks the member names and map/structure kinds against
 * botocore's models, so the two sources are known to agree.
 *
 * - aws-sdk integrations: parameters and results use the API's member names with the first letter
 *   upper-cased (`datasetArn` → `DatasetArn`, Glue's `JobName` stays), nested structures too, but
 *   map keys are kept; a member named `equals` is `EqualsValue`. Timestamps in results are ISO 8601
 *   strings.
 * - Optimized integrations (Glue's `startJobRun`) take the API's own member names and give
 *   timestamps as epoch milliseconds.
 */
import { NormalizedSchema } from '@smithy/core/schema';
import type { StaticOperationSchema } from '@smithy/types';
import { isObject, type JsonObject, type JsonValue } from './asl.js';

/** An exported member of an SDK client package: schemas, classes, anything. */
type SdkModule = Record<string, unknown>;

/** A value that does not fit the operation's input, named by where it is (`SolutionConfig.Foo`). */
export class ConventionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConventionError';
  }
}

export type TimestampStyle = 'iso' | 'epoch-millis';
export type MemberNaming = 'pascal' | 'api';

interface Member {
  name: string;
  schema: NormalizedSchema;
}

/** The key a member has in Step Functions' aws-sdk parameters and results. */
export function pascalMember(memberName: string): string {
  if (memberName === 'equals') return 'EqualsValue';
  return memberName.charAt(0).toUpperCase() + memberName.slice(1);
}

const membersCache = new WeakMap<object, Record<MemberNaming, Map<string, Member>>>();

/** A structure's members keyed as the integration spells them. */
function membersOf(schema: NormalizedSchema, naming: MemberNaming): Map<string, Member> {
  const key = schema.getSchema() as object;
  let byNaming = membersCache.get(key);
  if (byNaming === undefined) {
    byNaming = { pascal: new Map(), api: new Map() };
    for (const [name, member] of schema.structIterator()) {
      byNaming.pascal.set(pascalMember(name), { name, schema: member });
      byNaming.api.set(name, { name, schema: member });
    }
    membersCache.set(key, byNaming);
  }
  return byNaming[naming];
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isStructure(schema: NormalizedSchema): boolean {
  return schema.isStructSchema() || schema.isUnionSchema();
}

/** One operation of a service, with its input and output shapes. */
export class OperationModel {
  readonly input: NormalizedSchema;
  readonly output: NormalizedSchema;

  constructor(
    readonly name: string,
    schema: StaticOperationSchema,
  ) {
    this.input = NormalizedSchema.of(schema[4]);
    this.output = NormalizedSchema.of(schema[5]);
  }

  /**
   * `parameters` (as a Task state gives them) in the service's own wire form: members renamed to
   * the API's names, map keys kept, timestamps as epoch seconds. Throws ConventionError.
   */
  toWire(parameters: JsonValue, naming: MemberNaming): Record<string, unknown> {
    if (!isObject(parameters))
      throw new ConventionError(
        `The parameters of ${this.name} must be an object, not ${kindOf(parameters)}.`,
      );
    return toWire(this.input, parameters, naming, '') as Record<string, unknown>;
  }

  /** The service's output as the integration returns it. */
  fromWire(output: unknown, naming: MemberNaming, timestamps: TimestampStyle): JsonObject {
    const value = fromWire(this.output, output ?? {}, naming, timestamps);
    return isObject(value) ? value : {};
  }

  /**
   * Fields of a Parameters template (checked where a definition is created) that the operation's
   * input does not have: `field` is the place in the template, e.g. `SolutionConfig.Foo`. Dynamic
   * fields (`Name.$`) are checked by name only; their values are known at run time.
   */
  unknownFields(template: JsonValue, naming: MemberNaming): string[] {
    const problems: string[] = [];
    checkTemplate(this.input, template, naming, '', problems);
    return problems;
  }
}

function join(where: string, key: string): string {
  return where === '' ? key : `${where}.${key}`;
}

function toWire(schema: NormalizedSchema, value: unknown, naming: MemberNaming, where: string): unknown {
  const at = where === '' ? '' : ` at ${where}`;
  if (isStructure(schema)) {
    if (!isObject(value)) throw new ConventionError(`Expected an object${at}, got ${kindOf(value)}.`);
    const members = membersOf(schema, naming);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const member = members.get(key);
      if (member === undefined)
        throw new ConventionError(`The field '${join(where, key)}' is not supported by Step Functions.`);
      if (item === null) continue;
      out[member.name] = toWire(member.schema, item, naming, join(where, key));
    }
    return out;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) throw new ConventionError(`Expected an array${at}, got ${kindOf(value)}.`);
    const member = schema.getValueSchema();
    return value.map((item, i) => toWire(member, item, naming, `${where}[${i}]`));
  }
  if (schema.isMapSchema()) {
    if (!isObject(value)) throw new ConventionError(`Expected a map${at}, got ${kindOf(value)}.`);
    const member = schema.getValueSchema();
    const out: Record<string, unknown> = {};
    // A map's keys are data (tag keys, hyperparameter names): they keep their spelling.
    for (const [key, item] of Object.entries(value))
      out[key] = toWire(member, item, naming, join(where, key));
    return out;
  }
  if (schema.isTimestampSchema()) {
    const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN;
    if (!Number.isFinite(ms))
      throw new ConventionError(`Expected a timestamp${at}, got ${JSON.stringify(value)}.`);
    return ms / 1000;
  }
  if (schema.isDocumentSchema()) return value;
  if (schema.isBooleanSchema()) {
    if (typeof value !== 'boolean')
      throw new ConventionError(`Expected a boolean${at}, got ${kindOf(value)}.`);
    return value;
  }
  if (schema.isNumericSchema() || schema.isBigIntegerSchema() || schema.isBigDecimalSchema()) {
    if (typeof value !== 'number') throw new ConventionError(`Expected a number${at}, got ${kindOf(value)}.`);
    return value;
  }
  if (schema.isStringSchema() || schema.isBlobSchema()) {
    if (typeof value !== 'string') throw new ConventionError(`Expected a string${at}, got ${kindOf(value)}.`);
    return value;
  }
  return value;
}

function timestamp(value: unknown, style: TimestampStyle): JsonValue {
  const date =
    value instanceof Date
      ? value
      : typeof value === 'number'
        ? new Date(value * 1000)
        : typeof value === 'string'
          ? new Date(value)
          : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) return null;
  return style === 'iso' ? date.toISOString() : date.getTime();
}

function fromWire(
  schema: NormalizedSchema,
  value: unknown,
  naming: MemberNaming,
  style: TimestampStyle,
): JsonValue {
  if (value === undefined || value === null) return null;
  if (isStructure(schema)) {
    if (typeof value !== 'object' || Array.isArray(value)) return null;
    const source = value as Record<string, unknown>;
    const out: JsonObject = {};
    for (const [name, member] of schema.structIterator()) {
      const item = source[name];
      if (item === undefined || item === null) continue;
      out[naming === 'pascal' ? pascalMember(name) : name] = fromWire(member, item, naming, style);
    }
    return out;
  }
  if (schema.isListSchema()) {
    if (!Array.isArray(value)) return null;
    const member = schema.getValueSchema();
    return value.map((item) => fromWire(member, item, naming, style));
  }
  if (schema.isMapSchema()) {
    if (typeof value !== 'object' || Array.isArray(value)) return null;
    const member = schema.getValueSchema();
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>))
      out[key] = fromWire(member, item, naming, style);
    return out;
  }
  if (schema.isTimestampSchema()) return timestamp(value, style);
  if (schema.isBlobSchema() && value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}

function checkTemplate(
  schema: NormalizedSchema,
  template: JsonValue,
  naming: MemberNaming,
  where: string,
  problems: string[],
): void {
  if (isStructure(schema) && isObject(template)) {
    const members = membersOf(schema, naming);
    for (const [rawKey, item] of Object.entries(template)) {
      const dynamic = rawKey.endsWith('.$');
      const key = dynamic ? rawKey.slice(0, -2) : rawKey;
      const member = members.get(key);
      if (member === undefined) problems.push(join(where, key));
      else if (!dynamic) checkTemplate(member.schema, item, naming, join(where, key), problems);
    }
  } else if (schema.isListSchema() && Array.isArray(template)) {
    const member = schema.getValueSchema();
    template.forEach((item, i) => checkTemplate(member, item, naming, `${where}[${i}]`, problems));
  } else if (schema.isMapSchema() && isObject(template)) {
    const member = schema.getValueSchema();
    for (const [rawKey, item] of Object.entries(template)) {
      if (!rawKey.endsWith('.$')) checkTemplate(member, item, naming, join(where, rawKey), problems);
    }
  }
}

/** A service's API model, from its SDK client package. */
export class ServiceModel {
  private readonly operations = new Map<string, OperationModel | null>();
  private readonly baseException: (new (...args: never[]) => unknown) | undefined;

  constructor(private readonly sdk: SdkModule) {
    const base = Object.entries(sdk).find(
      ([name, value]) => name.endsWith('ServiceException') && typeof value === 'function',
    );
    this.baseException = base?.[1] as (new (...args: never[]) => unknown) | undefined;
  }

  /** The operation named `name` (`CreateDatasetImportJob`), if the API has it. */
  operation(name: string): OperationModel | undefined {
    let model = this.operations.get(name);
    if (model === undefined) {
      const schema = Object.hasOwn(this.sdk, `${name}$`) ? this.sdk[`${name}$`] : undefined;
      model =
        Array.isArray(schema) && schema[0] === 9 && schema[2] === name
          ? new OperationModel(name, schema as StaticOperationSchema)
          : null;
      this.operations.set(name, model);
    }
    return model ?? undefined;
  }

  /** Whether `code` is an exception the service's API models (so Step Functions names it as is). */
  isModeledError(code: string): boolean {
    const value = Object.hasOwn(this.sdk, code) ? this.sdk[code] : undefined;
    const base = this.baseException;
    return (
      typeof value === 'function' &&
      base !== undefined &&
      (value as { prototype: unknown }).prototype instanceof base
    );
  }
}
