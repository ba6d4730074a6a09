/**
 * Reading a CreateSolution request into what training needs: the recipe, HPO, the event filter,
 * the algorithm hyperparameters (checked against the engine's specs now, not when training starts)
 * and, with HPO, the search the engine runs (`hpoConfig`'s ranges made into candidate values, its
 * training-job budget as the number of candidates). What the local stack does not do is refused
 * here, naming the member: AutoML, automatic training, incremental updates, event weights,
 * optimization objectives, feature transformation parameters and column selection.
 */
import type { SolutionConfig } from '@aws-sdk/client-personalize';
import { AwsError } from '../../core/errors.js';
import { invalid, str, type Input } from '../../core/json-input.js';
import {
  HYPERPARAMETER_SPECS,
  RecommenderError,
  resolveHyperparameters,
  type RecipeName,
} from '../../../recommender/index.js';
import { offeredRecipe, type RecipeDescription } from './recipes.js';

/** The hyperparameter search of a solution with performHPO. */
export interface SearchSettings {
  /** Values tried per hyperparameter (from hpoConfig's ranges); the engine's default space when absent. */
  searchSpace?: Record<string, string[]>;
  /** Candidates trained (hpoConfig.hpoResourceConfig.maxNumberOfTrainingJobs); the engine's default when absent. */
  maxCandidates?: number;
}

export interface SolutionSettings {
  recipe: RecipeDescription;
  performHPO: boolean;
  eventType?: string;
  eventValueThreshold?: number;
  /** `algorithmHyperParameters` as given (strings), checked against the recipe. */
  hyperparameters: Record<string, string>;
  search?: SearchSettings;
  /** The solutionConfig as DescribeSolution echoes it (known members only). */
  solutionConfig?: SolutionConfig;
}

/** Values tried per integer or continuous range. */
const VALUES_PER_RANGE = 4;
/** The most candidates a search may train (AWS's limit on maxNumberOfTrainingJobs). */
const MAX_TRAINING_JOBS = 40;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: unknown, path: string): Json | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(`${path} must be an object.`);
  return value;
}

function listAt(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${path} must be a list.`);
  if (value.length > 100) throw invalid(`${path} may hold at most 100 entries.`);
  return value;
}

function stringAt(value: unknown, path: string, max = 256): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${path} must be a string.`);
  if (value.length > max) throw invalid(`${path} must be at most ${max} characters.`);
  return value;
}

function numberAt(value: unknown, path: string, integer: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)))
    throw invalid(`${path} must be ${integer ? 'a whole number' : 'a number'}.`);
  return value;
}

function booleanMember(input: Input, name: string): boolean | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean.`);
  return value;
}

function stringMap(value: unknown, path: string): Record<string, string> {
  const map = objectAt(value, path) ?? {};
  const entries = Object.entries(map);
  if (entries.length > 100) throw invalid(`${path} may hold at most 100 entries.`);
  for (const [key, item] of entries) {
    if (key.length > 256) throw invalid(`${path} has a key longer than 256 characters.`);
    stringAt(item, `${path}.${key}`, 1000);
    if (typeof item !== 'string') throw invalid(`${path}.${key} must be a string.`);
  }
  return map as Record<string, string>;
}

/** Checks hyperparameters against the recipe's specs, naming the member at fault. */
function checkHyperparameters(recipe: RecipeName, values: Record<string, string>, path: string): void {
  for (const [name, value] of Object.entries(values)) {
    try {
      resolveHyperparameters(recipe, { [name]: value });
    } catch (error) {
      if (error instanceof RecommenderError) throw invalid(`${path}.${name}: ${error.message}`);
      throw error;
    }
  }
}

/** Evenly spaced values from min to max (geometric for positive ranges spanning a factor of 10 or more). */
function spaced(min: number, max: number, integer: boolean): string[] {
  const values: number[] = [];
  const geometric = !integer && min > 0 && max / min >= 10;
  for (let k = 0; k < VALUES_PER_RANGE; k++) {
    const t = k / (VALUES_PER_RANGE - 1);
    const v = geometric ? min * (max / min) ** t : min + (max - min) * t;
    values.push(integer ? Math.round(v) : Number(v.toPrecision(6)));
  }
  return [...new Set(values)].map(String);
}

/** hpoConfig → the engine's search: candidate values per hyperparameter and the candidate budget. */
function readSearch(recipe: RecipeName, config: Json | undefined, path: string): SearchSettings {
  const search: SearchSettings = {};
  if (config === undefined) return search;
  const objective = objectAt(config.hpoObjective, `${path}.hpoObjective`);
  if (objective !== undefined)
    for (const member of ['type', 'metricName', 'metricRegex'])
      stringAt(objective[member], `${path}.hpoObjective.${member}`);
  const resources = objectAt(config.hpoResourceConfig, `${path}.hpoResourceConfig`);
  if (resources !== undefined) {
    const jobs = stringAt(
      resources.maxNumberOfTrainingJobs,
      `${path}.hpoResourceConfig.maxNumberOfTrainingJobs`,
    );
    if (jobs !== undefined) {
      const n = Number(jobs);
      if (!/^\d+$/.test(jobs) || n < 1 || n > MAX_TRAINING_JOBS)
        throw invalid(
          `${path}.hpoResourceConfig.maxNumberOfTrainingJobs must be a whole number from 1 to ${MAX_TRAINING_JOBS}, got "${jobs}".`,
        );
      search.maxCandidates = n;
    }
    const parallel = stringAt(
      resources.maxParallelTrainingJobs,
      `${path}.hpoResourceConfig.maxParallelTrainingJobs`,
    );
    if (parallel !== undefined && (!/^\d+$/.test(parallel) || Number(parallel) < 1))
      throw invalid(
        `${path}.hpoResourceConfig.maxParallelTrainingJobs must be a whole number of at least 1, got "${parallel}".`,
      );
  }
  const ranges = objectAt(config.algorithmHyperParameterRanges, `${path}.algorithmHyperParameterRanges`);
  if (ranges === undefined) return search;
  const space: Record<string, string[]> = {};
  const specs: Record<string, unknown> = HYPERPARAMETER_SPECS[recipe];
  const add = (kind: string, i: number, range: unknown, values: (r: Json, at: string) => string[]): void => {
    const at = `${path}.algorithmHyperParameterRanges.${kind}[${i}]`;
    const r = objectAt(range, at);
    const name = r === undefined ? undefined : stringAt(r.name, `${at}.name`);
    if (r === undefined || name === undefined || name === '') throw invalid(`${at}.name is required.`);
    if (!(name in specs))
      throw invalid(
        `${at}.name: ${recipe} has no hyperparameter ${name} to tune; it takes ${Object.keys(specs).join(', ')}.`,
      );
    if (space[name] !== undefined) throw invalid(`${at}.name: ${name} has more than one range.`);
    const list = values(r, at);
    if (list.length === 0) throw invalid(`${at} gives no value to try.`);
    for (const v of list) checkHyperparameters(recipe, { [name]: v }, at);
    space[name] = list;
  };
  const numeric =
    (integer: boolean) =>
    (r: Json, at: string): string[] => {
      const min = numberAt(r.minValue, `${at}.minValue`, integer);
      const max = numberAt(r.maxValue, `${at}.maxValue`, integer);
      if (min > max) throw invalid(`${at}: minValue ${min} is greater than maxValue ${max}.`);
      return spaced(min, max, integer);
    };
  listAt(
    ranges.integerHyperParameterRanges,
    `${path}.algorithmHyperParameterRanges.integerHyperParameterRanges`,
  ).forEach((r, i) => add('integerHyperParameterRanges', i, r, numeric(true)));
  listAt(
    ranges.continuousHyperParameterRanges,
    `${path}.algorithmHyperParameterRanges.continuousHyperParameterRanges`,
  ).forEach((r, i) => add('continuousHyperParameterRanges', i, r, numeric(false)));
  listAt(
    ranges.categoricalHyperParameterRanges,
    `${path}.algorithmHyperParameterRanges.categoricalHyperParameterRanges`,
  ).forEach((r, i) =>
    add('categoricalHyperParameterRanges', i, r, (range, at) =>
      listAt(range.values, `${at}.values`).map((v, k) => {
        const value = stringAt(v, `${at}.values[${k}]`, 1000);
        if (value === undefined) throw invalid(`${at}.values[${k}] must be a string.`);
        return value;
      }),
    ),
  );
  if (Object.keys(space).length > 0) search.searchSpace = space;
  return search;
}

function refuse(member: string, why: string): AwsError {
  return invalid(`${member} is not supported by the local stack: ${why}`);
}

/** The members of CreateSolution that say how to train, read and checked. */
export function readSolutionSettings(input: Input): SolutionSettings {
  if (booleanMember(input, 'performAutoML') === true)
    throw refuse(
      'performAutoML',
      'choose the recipe with recipeArn (AWS recommends matching the recipe to the use case instead of AutoML too).',
    );
  if (booleanMember(input, 'performAutoTraining') === true)
    throw refuse(
      'performAutoTraining',
      'solution versions are trained only when asked for (CreateSolutionVersion, `mlpipe train`); set performAutoTraining to false.',
    );
  if (booleanMember(input, 'performIncrementalUpdate') === true)
    throw refuse('performIncrementalUpdate', 'no offered recipe updates incrementally; set it to false.');
  const arn = str(input, 'recipeArn');
  if (arn === undefined || arn === '')
    throw invalid('recipeArn is required (the local stack does not choose recipes with AutoML).');
  const recipe = offeredRecipe(arn);
  const performHPO = booleanMember(input, 'performHPO') ?? false;
  const eventType = stringAt(input.eventType, 'eventType');
  const config = objectAt(input.solutionConfig, 'solutionConfig');
  const settings: SolutionSettings = { recipe, performHPO, hyperparameters: {} };
  if (eventType !== undefined && eventType !== '') settings.eventType = eventType;
  if (performHPO && recipe.name !== 'aws-user-personalization')
    throw invalid(
      `performHPO: hyperparameter optimization is offered for aws-user-personalization only; ${recipe.name} ${recipe.name === 'aws-popularity-count' ? 'has no hyperparameters' : 'takes its hyperparameters as given'}.`,
    );
  if (config === undefined) {
    // performHPO without an hpoConfig searches the recipe's default ranges.
    if (performHPO) settings.search = {};
    return settings;
  }
  for (const [member, why] of [
    ['eventsConfig', 'interactions are not weighted by event type; filter them with eventType instead.'],
    ['optimizationObjective', 'the recipes rank by relevance only.'],
    ['trainingDataConfig', 'the recipes use no metadata columns but CREATION_TIMESTAMP.'],
  ] as const)
    if (config[member] !== undefined && config[member] !== null)
      throw refuse(`solutionConfig.${member}`, why);
  const transformations = stringMap(
    config.featureTransformationParameters,
    'solutionConfig.featureTransformationParameters',
  );
  if (Object.keys(transformations).length > 0)
    throw refuse(
      'solutionConfig.featureTransformationParameters',
      'the recipes take no feature transformation parameters.',
    );
  settings.hyperparameters = stringMap(
    config.algorithmHyperParameters,
    'solutionConfig.algorithmHyperParameters',
  );
  checkHyperparameters(recipe.name, settings.hyperparameters, 'solutionConfig.algorithmHyperParameters');
  const threshold = stringAt(config.eventValueThreshold, 'solutionConfig.eventValueThreshold');
  if (threshold !== undefined) {
    const value = threshold.trim() === '' ? Number.NaN : Number(threshold);
    if (!Number.isFinite(value))
      throw invalid(`solutionConfig.eventValueThreshold must be a number, got "${threshold}".`);
    settings.eventValueThreshold = value;
  }
  const hpo = objectAt(config.hpoConfig, 'solutionConfig.hpoConfig');
  const search = readSearch(recipe.name, hpo, 'solutionConfig.hpoConfig');
  if (performHPO) settings.search = search;
  const autoML = objectAt(config.autoMLConfig, 'solutionConfig.autoMLConfig');
  const autoTraining = objectAt(config.autoTrainingConfig, 'solutionConfig.autoTrainingConfig');
  // The echo keeps the members AWS's model declares and the local stack accepted.
  const echo: SolutionConfig = {};
  if (threshold !== undefined) echo.eventValueThreshold = threshold;
  if (hpo !== undefined) echo.hpoConfig = hpo as SolutionConfig['hpoConfig'];
  if (config.algorithmHyperParameters !== undefined && config.algorithmHyperParameters !== null)
    echo.algorithmHyperParameters = settings.hyperparameters;
  if (autoML !== undefined) echo.autoMLConfig = autoML as SolutionConfig['autoMLConfig'];
  if (autoTraining !== undefined)
    echo.autoTrainingConfig = autoTraining as SolutionConfig['autoTrainingConfig'];
  settings.solutionConfig = echo;
  return settings;
}
