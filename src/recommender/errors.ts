/**
 * The recommender engine's one error type. Callers (the local Personalize service) map `code` to
 * their own errors: INSUFFICIENT_DATA becomes a solution version's failureReason, the others
 * InvalidInputException. Messages are written for the person who sent the request.
 */

export type RecommenderErrorCode =
  /** Too little data to train (Personalize's minimums). */
  | 'INSUFFICIENT_DATA'
  /** A hyperparameter or option is unknown, malformed or out of range. */
  | 'INVALID_HYPERPARAMETER'
  /** A query or input is malformed (bad numResults, unknown item, mismatched column lengths…). */
  | 'INVALID_INPUT'
  /** A model file is not one this engine wrote, or is damaged. */
  | 'INVALID_MODEL'
  /** The recipe cannot answer this kind of query (e.g. a user query to aws-similar-items). */
  | 'UNSUPPORTED_QUERY';

export class RecommenderError extends Error {
  override readonly name = 'RecommenderError';
  constructor(
    readonly code: RecommenderErrorCode,
    message: string,
  ) {
    super(message);
  }
}
