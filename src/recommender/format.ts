/**
 * The model file: compact, versioned, loaded without parsing the numbers.
 *
 *   bytes 0–3 `MLRM`, 4–7 format version (u32 LE), 8–11 header length H (u32 LE), then H bytes of
 *   JSON `{recipe, seed, params, latestTimestamp, users, items, …recipe fields, arrays: [{name,
 *   type, length}]}` padded with spaces to a multiple of 8, then each array in `arrays` order as
 *   little-endian typed data, each padded to a multiple of 8 bytes.
 *
 * Loading builds typed-array views on the given bytes when they are 8-byte aligned (one copy
 * otherwise), so a model loads in the time it takes to parse the header's ID tables.
 *
 * Versions: 1 had no item-age term (aws-user-personalization's `ageHistogram` and `weights.age`);
 * 2 adds it. Version 1 files still load, with the age term's weight 0, so they score as before.
 */
import { RecommenderError } from './errors.js';
import { AGE_BINS, type Model } from './model.js';

const MAGIC = 'MLRM';
export const MODEL_FORMAT_VERSION = 2;
/** The oldest format version this engine still reads. */
const OLDEST_READABLE_VERSION = 1;

type ArrayType = 'u32' | 'f32' | 'f64';
type Typed = Uint32Array | Float32Array | Float64Array;

const TYPES: Record<
  ArrayType,
  { new (buffer: ArrayBufferLike, offset: number, length: number): Typed; bytes: number }
> = {
  u32: Uint32Array,
  f32: Float32Array,
  f64: Float64Array,
} as unknown as Record<
  ArrayType,
  { new (buffer: ArrayBufferLike, offset: number, length: number): Typed; bytes: number }
>;
const BYTES: Record<ArrayType, number> = { u32: 4, f32: 4, f64: 8 };

function typeOf(array: Typed): ArrayType {
  if (array instanceof Uint32Array) return 'u32';
  if (array instanceof Float32Array) return 'f32';
  return 'f64';
}

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** The arrays of a model by name, and the rest of it as JSON-able fields. */
function split(model: Model): { fields: Record<string, unknown>; arrays: [string, Typed][] } {
  const arrays: [string, Typed][] = [
    ['histories.userPtr', model.histories.userPtr],
    ['histories.items', model.histories.items],
    ['histories.times', model.histories.times],
    ['counts', model.counts],
  ];
  const fields: Record<string, unknown> = {
    recipe: model.recipe,
    seed: model.seed,
    params: model.params,
    latestTimestamp: model.latestTimestamp,
    users: model.users,
    items: model.items,
  };
  if (model.recipe === 'aws-similar-items' || model.recipe === 'aws-user-personalization') {
    fields.neighbours = model.neighbours.m;
    arrays.push(['neighbours.index', model.neighbours.index], ['neighbours.weight', model.neighbours.weight]);
  }
  if (model.recipe === 'aws-user-personalization') {
    fields.factors = model.factors;
    fields.weights = model.weights;
    arrays.push(
      ['userFactors', model.userFactors],
      ['itemFactors', model.itemFactors],
      ['itemGram', model.itemGram],
      ['timePopularity.edges', model.timePopularity.edges],
      ['timePopularity.ptr', model.timePopularity.ptr],
      ['timePopularity.item', model.timePopularity.item],
      ['timePopularity.count', model.timePopularity.count],
      ['itemStart', model.itemStart],
      ['ageHistogram', model.ageHistogram],
    );
  }
  return { fields, arrays };
}

/** The model as a model file's bytes. */
export function serializeModel(model: Model): Uint8Array {
  const { fields, arrays } = split(model);
  const header = {
    ...fields,
    arrays: arrays.map(([name, array]) => ({ name, type: typeOf(array), length: array.length })),
  };
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = align8(12 + json.length) - 12;
  if (padded !== json.length) {
    const withPad = new Uint8Array(padded).fill(0x20);
    withPad.set(json);
    json = withPad;
  }
  let total = 12 + json.length;
  for (const [, array] of arrays) total += align8(array.byteLength);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  for (let c = 0; c < 4; c++) out[c] = MAGIC.charCodeAt(c);
  view.setUint32(4, MODEL_FORMAT_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let offset = 12 + json.length;
  for (const [, array] of arrays) {
    out.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
    offset += align8(array.byteLength);
  }
  return out;
}

function invalid(message: string): never {
  throw new RecommenderError('INVALID_MODEL', message);
}

/** A model from a model file's bytes (views on `bytes` when it is 8-byte aligned). */
export function deserializeModel(bytes: Uint8Array): Model {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 4)) !== MAGIC)
    invalid('This is not a recommender model file.');
  let data = bytes;
  if (data.byteOffset % 8 !== 0) data = Uint8Array.from(bytes);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = view.getUint32(4, true);
  if (version < OLDEST_READABLE_VERSION || version > MODEL_FORMAT_VERSION)
    invalid(
      `Model format version ${version} is not supported (this engine reads versions ${OLDEST_READABLE_VERSION} to ${MODEL_FORMAT_VERSION}).`,
    );
  const length = view.getUint32(8, true);
  if (12 + length > data.length) invalid('The model file is truncated.');
  let header: Record<string, unknown> & { arrays: { name: string; type: ArrayType; length: number }[] };
  try {
    header = JSON.parse(new TextDecoder().decode(data.subarray(12, 12 + length))) as typeof header;
  } catch {
    return invalid('The model file header is damaged.');
  }
  const arrays = new Map<string, Typed>();
  let offset = 12 + length;
  for (const { name, type, length: n } of header.arrays ?? []) {
    const ctor = TYPES[type];
    if (!ctor || !Number.isInteger(n) || n < 0) invalid(`The model file describes a bad array ${name}.`);
    const byteLength = n * BYTES[type];
    if (offset + byteLength > data.length) invalid('The model file is truncated.');
    arrays.set(name, new ctor(data.buffer, data.byteOffset + offset, n));
    offset += align8(byteLength);
  }
  const get = <T extends Typed>(name: string): T =>
    (arrays.get(name) as T | undefined) ?? invalid(`The model file lacks ${name}.`);
  const base = {
    seed: header.seed as number,
    users: header.users as string[],
    items: header.items as string[],
    latestTimestamp: header.latestTimestamp as number,
    histories: {
      userPtr: get<Uint32Array>('histories.userPtr'),
      items: get<Uint32Array>('histories.items'),
      times: get<Float64Array>('histories.times'),
    },
    counts: get<Float32Array>('counts'),
  };
  switch (header.recipe) {
    case 'aws-popularity-count':
      return { ...base, recipe: 'aws-popularity-count', params: {} };
    case 'aws-similar-items':
      return {
        ...base,
        recipe: 'aws-similar-items',
        params: header.params as Extract<Model, { recipe: 'aws-similar-items' }>['params'],
        neighbours: {
          m: header.neighbours as number,
          index: get<Uint32Array>('neighbours.index'),
          weight: get<Float32Array>('neighbours.weight'),
        },
      };
    case 'aws-user-personalization': {
      type Fitted = Extract<Model, { recipe: 'aws-user-personalization' }>;
      const params = header.params as Omit<Fitted['params'], 'age_weight'> & { age_weight?: number | 'auto' };
      const weights = header.weights as Omit<Fitted['weights'], 'age'> & { age?: number };
      return {
        ...base,
        recipe: 'aws-user-personalization',
        // A version 1 model had no age term: its weight was 0 in effect.
        params: { ...params, age_weight: params.age_weight ?? 0 },
        factors: header.factors as number,
        weights: { ...weights, age: weights.age ?? 0 },
        userFactors: get<Float32Array>('userFactors'),
        itemFactors: get<Float32Array>('itemFactors'),
        itemGram: get<Float64Array>('itemGram'),
        neighbours: {
          m: header.neighbours as number,
          index: get<Uint32Array>('neighbours.index'),
          weight: get<Float32Array>('neighbours.weight'),
        },
        timePopularity: {
          edges: get<Float64Array>('timePopularity.edges'),
          ptr: get<Uint32Array>('timePopularity.ptr'),
          item: get<Uint32Array>('timePopularity.item'),
          count: get<Float32Array>('timePopularity.count'),
        },
        itemStart: get<Float64Array>('itemStart'),
        ageHistogram: version >= 2 ? get<Float64Array>('ageHistogram') : new Float64Array(AGE_BINS),
      };
    }
    default:
      return invalid(`The model file names an unknown recipe ${JSON.stringify(header.recipe)}.`);
  }
}
