/**
 * What the project's solution is, as the config file's `training` section says it: the recipe,
 * HPO, and the recipe's hyperparameters by their Personalize names — only the ones AWS's recipes
 * take too, so the same settings deploy to both targets. And how solutions are named: a solution's
 * configuration cannot change after it is created, so its name carries the configuration (the
 * recipe, and a short hash of HPO and hyperparameters when they differ from the recipe's
 * defaults); changing the configuration names a new solution, which CloudFormation creates before
 * deleting the old one. `mlpipe train --recipe …`/`--hpo` find or create their solutions by the
 * same names.
 */
import { createHash } from 'node:crypto';
import { HYPERPARAMETER_SPECS } from '../../recommender/hyperparameters.js';

/** The recipes the pipeline trains with (those the local stack offers; AWS has them all). */
export const TRAINING_RECIPES = [
  'aws-user-personalization',
  'aws-similar-items',
  'aws-popularity-count',
] as const;
export type TrainingRecipe = (typeof TRAINING_RECIPES)[number];
export const DEFAULT_RECIPE: TrainingRecipe = 'aws-user-personalization';
/** The popularity baseline `mlpipe metrics` compares against. */
export const BASELINE_RECIPE = 'aws-popularity-count';

/**
 * The hyperparameters a config file may set, per recipe: Personalize's documented ones that the
 * local engine implements too, with the stack parameter each is passed as.
 */
export const CONFIG_HYPERPARAMETERS = {
  hidden_dimension: { recipe: 'aws-user-personalization', parameter: 'HiddenDimension' },
  bptt: { recipe: 'aws-user-personalization', parameter: 'Bptt' },
  recency_mask: { recipe: 'aws-user-personalization', parameter: 'RecencyMask' },
  exploration_weight: { recipe: 'aws-user-personalization', parameter: 'ExplorationWeight' },
  exploration_item_age_cut_off: { recipe: 'aws-user-personalization', parameter: 'ExplorationItemAgeCutOff' },
  popularity_discount_factor: { recipe: 'aws-similar-items', parameter: 'PopularityDiscountFactor' },
} as const satisfies Record<string, { recipe: TrainingRecipe; parameter: string }>;
export type ConfigHyperparameter = keyof typeof CONFIG_HYPERPARAMETERS;

/** The engine's range for a config hyperparameter (one source of truth for both). */
export function hyperparameterSpec(
  name: ConfigHyperparameter,
): { type: 'int' | 'float'; min: number; max: number } | { type: 'bool' } {
  const specs: Record<string, { type: string; min?: number; max?: number }> =
    HYPERPARAMETER_SPECS[CONFIG_HYPERPARAMETERS[name].recipe];
  const spec = specs[name]!;
  return spec.type === 'bool'
    ? { type: 'bool' }
    : { type: spec.type as 'int' | 'float', min: spec.min!, max: spec.max! };
}

/** How a solution is configured, as far as its name goes. */
export interface SolutionShape {
  recipe: string;
  hpo: boolean;
  /** algorithmHyperParameters (strings, as Personalize takes them). */
  hyperparameters: Readonly<Record<string, string>>;
}

const RECIPE_TOKENS: Readonly<Record<string, string>> = {
  'aws-user-personalization': 'personalization',
  'aws-popularity-count': 'popularity',
  'aws-similar-items': 'similar-items',
};

/**
 * `<project>-<recipe>` for a recipe with its defaults, `<project>-<recipe>-<hash>` otherwise:
 * e.g. mlpipe-personalization, mlpipe-popularity, mlpipe-personalization-3f9a2. At most 63
 * characters (a project name is at most 41).
 */
export function solutionName(project: string, shape: SolutionShape): string {
  const token = RECIPE_TOKENS[shape.recipe] ?? shape.recipe.replace(/^aws-/, '');
  const entries = Object.entries(shape.hyperparameters).sort(([a], [b]) => a.localeCompare(b));
  const suffix =
    shape.hpo || entries.length > 0
      ? `-${createHash('sha256')
          .update(JSON.stringify({ hpo: shape.hpo, hyperparameters: entries }))
          .digest('hex')
          .slice(0, 5)}`
      : '';
  const tail = `-${token}${suffix}`;
  return `${project.slice(0, Math.max(1, 63 - tail.length))}${tail}`.slice(0, 63);
}
