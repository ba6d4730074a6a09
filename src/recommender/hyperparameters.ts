/**
 * Hyperparameters by recipe, as Personalize takes them (`algorithmHyperParameters`: name → string)
 * and as the engine uses them (typed values). What each one does is documented in index.ts.
 */
import { RecommenderError } from './errors.js';
import type { RecipeName } from './types.js';

type Spec =
  | { type: 'int'; default: number; min: number; max: number }
  | { type: 'float'; default: number; min: number; max: number }
  | { type: 'bool'; default: boolean }
  /** A number, or "auto": fitted on a held-out slice of the training users at every training run. */
  | { type: 'weight'; default: 'auto'; min: number; max: number };

const USER_PERSONALIZATION = {
  hidden_dimension: { type: 'int', default: 96, min: 32, max: 256 },
  bptt: { type: 'int', default: 32, min: 2, max: 512 },
  recency_mask: { type: 'bool', default: true },
  exploration_weight: { type: 'float', default: 0.3, min: 0, max: 1 },
  exploration_item_age_cut_off: { type: 'float', default: 30, min: 1, max: 36500 },
  training_iterations: { type: 'int', default: 5, min: 1, max: 50 },
  cg_steps: { type: 'int', default: 2, min: 1, max: 20 },
  regularization: { type: 'float', default: 0.02, min: 0, max: 100 },
  regularization_exponent: { type: 'float', default: 1, min: 0, max: 1 },
  unobserved_weight: { type: 'float', default: 0.05, min: 0.0001, max: 10 },
  recency_half_life: { type: 'float', default: 16, min: 0.5, max: 100000 },
  recency_floor: { type: 'float', default: 0.2, min: 0, max: 1 },
  sequence_window: { type: 'int', default: 5, min: 1, max: 50 },
  neighbours: { type: 'int', default: 100, min: 10, max: 1000 },
  popularity_window: { type: 'float', default: 0.015, min: 0.001, max: 1 },
  factor_weight: { type: 'weight', default: 'auto', min: 0, max: 100 },
  sequence_weight: { type: 'weight', default: 'auto', min: 0, max: 100 },
  popularity_weight: { type: 'weight', default: 'auto', min: 0, max: 100 },
  age_weight: { type: 'weight', default: 'auto', min: 0, max: 100 },
} as const satisfies Record<string, Spec>;

const SIMILAR_ITEMS = {
  sequence_window: { type: 'int', default: 10, min: 1, max: 100 },
  neighbours: { type: 'int', default: 100, min: 10, max: 1000 },
  popularity_discount_factor: { type: 'float', default: 0.5, min: 0, max: 1 },
} as const satisfies Record<string, Spec>;

const POPULARITY_COUNT = {} as const satisfies Record<string, Spec>;

export const HYPERPARAMETER_SPECS = {
  'aws-user-personalization': USER_PERSONALIZATION,
  'aws-similar-items': SIMILAR_ITEMS,
  'aws-popularity-count': POPULARITY_COUNT,
} as const;

type Value<S> = S extends { type: 'bool' }
  ? boolean
  : S extends { type: 'weight' }
    ? number | 'auto'
    : number;
type Params<T> = { -readonly [K in keyof T]: Value<T[K]> };

export type UserPersonalizationParams = Params<typeof USER_PERSONALIZATION>;
export type SimilarItemsParams = Params<typeof SIMILAR_ITEMS>;
export type PopularityCountParams = Params<typeof POPULARITY_COUNT>;

export interface ParamsByRecipe {
  'aws-user-personalization': UserPersonalizationParams;
  'aws-similar-items': SimilarItemsParams;
  'aws-popularity-count': PopularityCountParams;
}

/** Hyperparameters as given: strings (as Personalize stores them) or typed values. */
export type HyperparameterInput = Readonly<Record<string, string | number | boolean>>;

function parseValue(
  recipe: string,
  name: string,
  spec: Spec,
  raw: string | number | boolean,
): number | boolean | 'auto' {
  const bad = (why: string): never => {
    throw new RecommenderError(
      'INVALID_HYPERPARAMETER',
      `Invalid value ${JSON.stringify(raw)} for hyperparameter ${name} of ${recipe}: ${why}.`,
    );
  };
  if (spec.type === 'bool') {
    if (typeof raw === 'boolean') return raw;
    const text = String(raw).trim().toLowerCase();
    if (text === 'true') return true;
    if (text === 'false') return false;
    return bad('expected true or false');
  }
  if (spec.type === 'weight' && typeof raw === 'string' && raw.trim().toLowerCase() === 'auto') return 'auto';
  const value =
    typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(value)) return bad('expected a number');
  if (spec.type === 'int' && !Number.isInteger(value)) return bad('expected a whole number');
  if (value < spec.min || value > spec.max) return bad(`expected a value from ${spec.min} to ${spec.max}`);
  return value;
}

/** Defaults overridden by `input`; unknown names and bad values are INVALID_HYPERPARAMETER errors. */
export function resolveHyperparameters<R extends RecipeName>(
  recipe: R,
  input: HyperparameterInput = {},
): ParamsByRecipe[R] {
  const specs: Record<string, Spec> = HYPERPARAMETER_SPECS[recipe];
  const out: Record<string, number | boolean | 'auto'> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = spec.default;
  for (const [name, raw] of Object.entries(input)) {
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs);
      throw new RecommenderError(
        'INVALID_HYPERPARAMETER',
        `Unknown hyperparameter ${name} for ${recipe}` +
          (known.length ? `; it takes ${known.join(', ')}.` : '; it takes none.'),
      );
    }
    out[name] = parseValue(recipe, name, spec, raw);
  }
  return out as ParamsByRecipe[R];
}

/** Typed hyperparameters as Personalize reports them (`tunedHPOParams`-style: name → string). */
export function hyperparametersAsStrings(params: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) out[name] = String(value);
  return out;
}
