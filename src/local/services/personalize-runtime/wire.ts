/**
 * Personalize Runtime's operations: GetRecommendations (a campaign's recommendations for a
 * `userId`, or items similar to an `itemId` for an aws-similar-items campaign) and
 * GetPersonalizedRanking (a user's order of the given `inputList`). Each item carries its `score`
 * where the recipe gives one (aws-user-personalization), none for aws-popularity-count and
 * aws-similar-items, as on AWS. Recommenders (domain dataset groups), filters, promotions, item
 * metadata and contextual metadata are refused with a message saying so. Typed with
 * @aws-sdk/client-personalize-runtime's request and response types.
 */
import type {
  GetPersonalizedRankingRequest,
  GetPersonalizedRankingResponse,
  GetRecommendationsRequest,
  GetRecommendationsResponse,
  PredictedItem,
} from '@aws-sdk/client-personalize-runtime';
import { invalid, members, str, type Input } from '../../core/json-input.js';
import type { OperationTable } from '../../core/service.js';
import { Campaigns } from '../personalize/campaigns.js';
import type { Recommendations } from '../../../recommender/index.js';

/** Longest user or item ID (Personalize's ID limit). */
const MAX_ID_LENGTH = 256;

function id(input: Input, name: string, required: boolean): string | undefined {
  const value = required ? str(input, name, true) : str(input, name);
  if (value !== undefined && (value === '' || value.length > MAX_ID_LENGTH))
    throw invalid(`${name} must be 1 to ${MAX_ID_LENGTH} characters long.`);
  return value;
}

/** Members the local stack does not serve: refused by name rather than ignored. */
function refuseUnserved(input: Input): void {
  if (input.recommenderArn !== undefined && input.recommenderArn !== null)
    throw invalid(
      'recommenderArn: recommenders (domain dataset groups) are not served by the local stack; use a campaignArn.',
    );
  if (input.filterArn !== undefined && input.filterArn !== null)
    throw invalid(
      'filterArn: filters are not served by the local stack (CreateFilter is not implemented); leave filterArn out.',
    );
  if (input.filterValues !== undefined && input.filterValues !== null)
    throw invalid('filterValues: filters are not served by the local stack; leave filterValues out.');
  if (Array.isArray(input.promotions) && input.promotions.length > 0)
    throw invalid('promotions are not served by the local stack; leave them out.');
  if (input.metadataColumns !== undefined && input.metadataColumns !== null)
    throw invalid(
      'metadataColumns: item metadata in recommendations is not served by the local stack; leave it out.',
    );
  const context = input.context;
  if (
    context !== undefined &&
    context !== null &&
    (typeof context !== 'object' || Object.keys(context).length > 0)
  )
    throw invalid(
      'context: contextual metadata is not used by the local recommender (it trains on interactions only); leave context out.',
    );
}

function items(recs: Recommendations): PredictedItem[] {
  return recs.itemIds.map((itemId, i) =>
    recs.scores === undefined ? { itemId } : { itemId, score: recs.scores[i]! },
  );
}

export function personalizeRuntimeOperations(campaigns: Campaigns): OperationTable {
  return {
    GetRecommendations: async (request: GetRecommendationsRequest): Promise<GetRecommendationsResponse> => {
      const input = members(request);
      refuseUnserved(input);
      const campaignArn = str(input, 'campaignArn');
      if (campaignArn === undefined) throw invalid('campaignArn is required.');
      const userId = id(input, 'userId', false);
      const itemId = id(input, 'itemId', false);
      const numResults = input.numResults;
      if (numResults !== undefined && numResults !== null && typeof numResults !== 'number')
        throw invalid('numResults must be a number.');
      const recs = await campaigns.recommendations(campaignArn, {
        ...(userId === undefined ? {} : { userId }),
        ...(itemId === undefined ? {} : { itemId }),
        ...(typeof numResults === 'number' ? { numResults } : {}),
      });
      return { itemList: items(recs), recommendationId: Campaigns.recommendationId() };
    },
    GetPersonalizedRanking: async (
      request: GetPersonalizedRankingRequest,
    ): Promise<GetPersonalizedRankingResponse> => {
      const input = members(request);
      refuseUnserved(input);
      const campaignArn = str(input, 'campaignArn', true);
      const userId = id(input, 'userId', true)!;
      const list = input.inputList;
      if (!Array.isArray(list) || list.length === 0)
        throw invalid('inputList is required: a list of 1 to 500 item IDs to rank.');
      if (list.length > 500) throw invalid(`inputList holds ${list.length} items; the most is 500.`);
      for (const item of list)
        if (typeof item !== 'string' || item === '' || item.length > MAX_ID_LENGTH)
          throw invalid(`Every inputList entry must be an item ID of 1 to ${MAX_ID_LENGTH} characters.`);
      const recs = await campaigns.ranking(campaignArn, userId, list as string[]);
      return { personalizedRanking: items(recs), recommendationId: Campaigns.recommendationId() };
    },
  };
}
