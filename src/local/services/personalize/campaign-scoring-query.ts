/**
 * What a campaign asks its model, the same on the scoring thread and (without one) on the server's:
 * a user's recommendations, an item's similar items, or a ranking of items for a user.
 */
import {
  rank,
  recommend,
  similarItems,
  type Model,
  type RankQuery,
  type Recommendations,
  type SimilarItemsQuery,
  type UserQuery,
} from '../../../recommender/index.js';

export type ScoringQuery =
  | { op: 'recommend'; query: UserQuery }
  | { op: 'similar'; query: SimilarItemsQuery }
  | { op: 'rank'; query: RankQuery };

export function scoreQuery(model: Model, query: ScoringQuery): Recommendations {
  switch (query.op) {
    case 'recommend':
      return recommend(model, query.query);
    case 'similar':
      return similarItems(model, query.query);
    case 'rank':
      return rank(model, query.query);
  }
}

/**
 * One query of each kind the model serves, so its ID tables are built and the scoring code is
 * compiled before the first request rather than during it.
 */
export function warmModel(model: Model): void {
  const item = model.items[0];
  if (item === undefined) return;
  if (model.recipe === 'aws-similar-items') {
    similarItems(model, { itemId: item, numResults: 1 });
    return;
  }
  const user = model.users[0];
  recommend(model, { ...(user === undefined ? {} : { userId: user }), numResults: 1 });
  rank(model, { ...(user === undefined ? {} : { userId: user }), itemList: [item] });
}
