/**
 * `AWS::Personalize::Solution`: creates the solution through the local Personalize service and,
 * as AWS's handler does, returns once it is ACTIVE. The CloudFormation properties (Name,
 * DatasetGroupArn, RecipeArn, EventType, PerformAutoML, PerformHPO, SolutionConfig with
 * AlgorithmHyperParameters, EventValueThreshold, FeatureTransformationParameters, HpoConfig and
 * AutoMLConfig) are CreateSolution's members in PascalCase; hyperparameter names inside the maps
 * keep their keys, and map values are sent as strings (YAML numbers and booleans included, as
 * CloudFormation does for a Map of String). The service checks the rest (the recipe, the
 * hyperparameters against it), and its message fails the resource. Every property is create-only,
 * so a change replaces the solution (a new Name is needed, as on AWS). Ref and `SolutionArn` are
 * the solution's ARN. CloudFormation cannot set performAutoTraining: the solution does not train
 * by itself locally, while on AWS it does (every 7 days) unless turned off with UpdateSolution.
 *
 * Deleting waits (up to a minute) for a solution version in progress to end, as the service
 * refuses to delete a solution that is training; a solution that is already gone counts as deleted.
 */
import { AwsError } from '../../../core/errors.js';
import { isTemplateObject, type TemplateObject, type TemplateValue } from '../template/index.js';
import {
  isNotFound,
  personalizeOf,
  POLL_INTERVAL_MS,
  sleep,
  STABILIZE_TIMEOUT_MS,
  waitUntilActive,
  type StatusView,
} from './personalize-common.js';
import {
  invalidProperty,
  optionalBoolean,
  optionalString,
  requiredString,
  serviceFailure,
  typeName,
  type Provisioner,
} from './types.js';

const PROPERTIES = [
  'Name',
  'DatasetGroupArn',
  'RecipeArn',
  'EventType',
  'PerformAutoML',
  'PerformHPO',
  'SolutionConfig',
];

type Json = { [key: string]: JsonValue };
type JsonValue = string | number | boolean | null | JsonValue[] | Json;

/** The members of a nested CloudFormation object (`#/SolutionConfig/HpoConfig`), extraneous keys refused. */
function objectAt(
  value: TemplateValue | undefined,
  where: string,
  keys: readonly string[],
): TemplateObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isTemplateObject(value))
    throw invalidProperty(
      `Property validation failure: [#/${where}: expected type: JSONObject, found: ${typeName(value)}]`,
    );
  const extraneous = Object.keys(value).filter((key) => !keys.includes(key));
  if (extraneous.length > 0)
    throw invalidProperty(
      `Property validation failure: [${extraneous.map((key) => `#/${where}: extraneous key [${key}] is not permitted`).join(', ')}]`,
    );
  return value;
}

/** A Map of String: keys kept, scalar values as strings. */
function stringMap(value: TemplateValue | undefined, where: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isTemplateObject(value))
    throw invalidProperty(
      `Property validation failure: [#/${where}: expected type: JSONObject, found: ${typeName(value)}]`,
    );
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean')
      throw invalidProperty(
        `Property validation failure: [#/${where}/${key}: expected type: String, found: ${typeName(item)}]`,
      );
    out[key] = String(item);
  }
  return out;
}

/** A PascalCase structure → camelCase members, recursively (lists of structures too). */
function camel(value: TemplateValue): JsonValue {
  if (Array.isArray(value)) return value.map(camel);
  if (!isTemplateObject(value)) return value;
  const out: Json = {};
  for (const [key, item] of Object.entries(value))
    out[key.charAt(0).toLowerCase() + key.slice(1)] = camel(item);
  return out;
}

const HPO_KEYS = ['HpoObjective', 'HpoResourceConfig', 'AlgorithmHyperParameterRanges'] as const;
const RANGE_KEYS = [
  'IntegerHyperParameterRanges',
  'ContinuousHyperParameterRanges',
  'CategoricalHyperParameterRanges',
] as const;

/** SolutionConfig → CreateSolution's solutionConfig. */
function solutionConfigOf(properties: TemplateObject): Json | undefined {
  const config = objectAt(properties.SolutionConfig, 'SolutionConfig', [
    'AlgorithmHyperParameters',
    'AutoMLConfig',
    'EventValueThreshold',
    'FeatureTransformationParameters',
    'HpoConfig',
  ]);
  if (config === undefined) return undefined;
  const out: Json = {};
  const hyperparameters = stringMap(
    config.AlgorithmHyperParameters,
    'SolutionConfig/AlgorithmHyperParameters',
  );
  if (hyperparameters !== undefined) out.algorithmHyperParameters = hyperparameters;
  const transformations = stringMap(
    config.FeatureTransformationParameters,
    'SolutionConfig/FeatureTransformationParameters',
  );
  if (transformations !== undefined) out.featureTransformationParameters = transformations;
  const threshold = optionalString(config, 'EventValueThreshold');
  if (threshold !== undefined) out.eventValueThreshold = threshold;
  const autoML = objectAt(config.AutoMLConfig, 'SolutionConfig/AutoMLConfig', ['MetricName', 'RecipeList']);
  if (autoML !== undefined) out.autoMLConfig = camel(autoML);
  const hpo = objectAt(config.HpoConfig, 'SolutionConfig/HpoConfig', HPO_KEYS);
  if (hpo !== undefined) {
    objectAt(hpo.HpoObjective, 'SolutionConfig/HpoConfig/HpoObjective', [
      'Type',
      'MetricName',
      'MetricRegex',
    ]);
    objectAt(hpo.HpoResourceConfig, 'SolutionConfig/HpoConfig/HpoResourceConfig', [
      'MaxNumberOfTrainingJobs',
      'MaxParallelTrainingJobs',
    ]);
    objectAt(
      hpo.AlgorithmHyperParameterRanges,
      'SolutionConfig/HpoConfig/AlgorithmHyperParameterRanges',
      RANGE_KEYS,
    );
    out.hpoConfig = camel(hpo);
  }
  return out;
}

async function describeSolution(
  personalize: ReturnType<typeof personalizeOf>,
  solutionArn: string,
): Promise<StatusView> {
  const { solution } = await personalize.describeSolution({ solutionArn });
  return solution as StatusView;
}

export const personalizeSolutionProvisioner: Provisioner = {
  type: 'AWS::Personalize::Solution',
  attributes: ['SolutionArn'],
  replacementProperties: PROPERTIES,
  properties: PROPERTIES,
  requiredProperties: ['Name', 'DatasetGroupArn'],

  async create(properties, ctx) {
    const input: Json = {
      name: requiredString(properties, 'Name'),
      datasetGroupArn: requiredString(properties, 'DatasetGroupArn'),
    };
    const recipeArn = optionalString(properties, 'RecipeArn');
    const eventType = optionalString(properties, 'EventType');
    const performAutoML = optionalBoolean(properties, 'PerformAutoML');
    const performHPO = optionalBoolean(properties, 'PerformHPO');
    const solutionConfig = solutionConfigOf(properties);
    if (recipeArn !== undefined) input.recipeArn = recipeArn;
    if (eventType !== undefined && eventType !== '') input.eventType = eventType;
    if (performAutoML !== undefined) input.performAutoML = performAutoML;
    if (performHPO !== undefined) input.performHPO = performHPO;
    if (solutionConfig !== undefined) input.solutionConfig = solutionConfig;
    const personalize = personalizeOf(ctx);
    let solutionArn: string;
    try {
      ({ solutionArn } = await personalize.createSolution(input));
    } catch (error) {
      throw serviceFailure(error, 'Personalize');
    }
    try {
      await waitUntilActive(ctx, `Solution ${input.name as string}`, () =>
        describeSolution(personalize, solutionArn),
      );
    } catch (error) {
      await personalize.deleteSolution({ solutionArn }).catch(() => undefined);
      throw serviceFailure(error, 'Personalize');
    }
    return { physicalId: solutionArn, attributes: { SolutionArn: solutionArn } };
  },

  // Every property is create-only: the engine replaces the solution instead of calling this.
  async update() {
    return {};
  },

  async delete(physicalId, _properties, ctx) {
    const personalize = personalizeOf(ctx);
    const deadline = Date.now() + STABILIZE_TIMEOUT_MS;
    for (;;) {
      try {
        await personalize.deleteSolution({ solutionArn: physicalId });
        return;
      } catch (error) {
        if (isNotFound(error)) return;
        // A solution version in progress holds the solution: wait for it to end, then try again.
        if (error instanceof AwsError && error.code === 'ResourceInUseException' && Date.now() < deadline) {
          await sleep(ctx, POLL_INTERVAL_MS);
          continue;
        }
        throw serviceFailure(error, 'Personalize');
      }
    }
  },
};
