/**
 * The recipes the local Personalize offers — the three the recommender engine (src/recommender)
 * implements — as ListRecipes and DescribeRecipe show them, and the reading of a `recipeArn`:
 * an offered recipe, a recipe AWS has that the local stack does not offer (refused, naming the
 * offered ones), or no recipe at all.
 */
import { AwsError } from '../../core/errors.js';
import { RECIPES, type RecipeName } from '../../../recommender/index.js';

export interface RecipeDescription {
  name: RecipeName;
  recipeArn: string;
  algorithmArn: string;
  featureTransformationArn: string;
  recipeType: 'USER_PERSONALIZATION' | 'RELATED_ITEMS';
  description: string;
  /** When AWS made the recipe available (what DescribeRecipe reports as its creation time). */
  created: string;
}

const RECIPE_PREFIX = 'arn:aws:personalize:::recipe/';

export function recipeArn(name: string): string {
  return `${RECIPE_PREFIX}${name}`;
}

/** The offered recipes, in the order ListRecipes gives them. */
export const OFFERED_RECIPES: readonly RecipeDescription[] = [
  {
    name: 'aws-user-personalization',
    recipeArn: recipeArn('aws-user-personalization'),
    algorithmArn: 'arn:aws:personalize:::algorithm/aws-user-personalization',
    featureTransformationArn: 'arn:aws:personalize:::feature-transformation/user-personalization',
    recipeType: 'USER_PERSONALIZATION',
    description:
      'Personalized recommendations from interactions: implicit-feedback factors with recency-weighted histories, ' +
      'sequential item neighbours and time-local popularity, with exploration of new items (local recommender engine).',
    created: '2020-08-17T00:00:00Z',
  },
  {
    name: 'aws-popularity-count',
    recipeArn: recipeArn('aws-popularity-count'),
    algorithmArn: 'arn:aws:personalize:::algorithm/aws-popularity-count',
    featureTransformationArn: 'arn:aws:personalize:::feature-transformation/popularity-count',
    recipeType: 'USER_PERSONALIZATION',
    description:
      'The most popular items by interaction count, the same for every user (items a user already has left out): the baseline to compare against.',
    created: '2018-11-28T00:00:00Z',
  },
  {
    name: 'aws-similar-items',
    recipeArn: recipeArn('aws-similar-items'),
    algorithmArn: 'arn:aws:personalize:::algorithm/aws-similar-items',
    featureTransformationArn: 'arn:aws:personalize:::feature-transformation/similar-items',
    recipeType: 'RELATED_ITEMS',
    description:
      "Items similar to a given item, from items that appear near each other in users' histories (local recommender engine).",
    created: '2022-11-15T00:00:00Z',
  },
];

// Every offered recipe is one the engine implements.
for (const recipe of OFFERED_RECIPES)
  if (!RECIPES.includes(recipe.name)) throw new Error(`The engine has no recipe ${recipe.name}`);

/** Recipes AWS has that the local stack does not offer (so a request for one is told so). */
const AWS_ONLY_RECIPES = new Set([
  'aws-user-personalization-v2',
  'aws-personalized-ranking',
  'aws-personalized-ranking-v2',
  'aws-sims',
  'aws-trending-now',
  'aws-next-best-action',
  'aws-item-affinity',
  'aws-item-attribute-affinity',
  'aws-semantic-similarity',
  'aws-hrnn',
  'aws-hrnn-metadata',
  'aws-hrnn-coldstart',
]);

function offeredNames(): string {
  return OFFERED_RECIPES.map((r) => r.name).join(', ');
}

/**
 * The offered recipe an ARN names. A recipe AWS has but the local stack does not offer, or no
 * recipe at all, is ResourceNotFoundException (locally it does not exist), naming the offered ones.
 */
export function offeredRecipe(arn: string): RecipeDescription {
  const found = OFFERED_RECIPES.find((r) => r.recipeArn === arn);
  if (found) return found;
  const name = arn.startsWith(RECIPE_PREFIX) ? arn.slice(RECIPE_PREFIX.length) : undefined;
  if (name !== undefined && (AWS_ONLY_RECIPES.has(name) || /^aws-(ecomm|vod)-/.test(name)))
    throw new AwsError(
      'ResourceNotFoundException',
      `Recipe ${arn} is not offered by the local stack; it offers ${offeredNames()} (arn:aws:personalize:::recipe/<name>). Use ${name} on AWS.`,
    );
  throw new AwsError(
    'ResourceNotFoundException',
    `Could not find recipe ${arn}. The local stack offers ${offeredNames()} (arn:aws:personalize:::recipe/<name>).`,
  );
}
