/**
 * The engine's input shapes. They are structural: the local stack's stored interactions dataset
 * (interned ID tables plus typed columns) fits `InteractionsInput` as it is, without a copy.
 */

/** Interactions as interned typed columns, one entry per interaction. */
export interface InteractionsInput {
  count: number;
  /** User IDs by index (`userIndex` values point here). */
  users: readonly string[];
  /** Item IDs by index (`itemIndex` values point here). */
  items: readonly string[];
  userIndex: Uint32Array;
  itemIndex: Uint32Array;
  /** Unix epoch seconds. */
  timestamps: Float64Array;
  /** EVENT_VALUE, when the dataset has it (only used by `eventValueThreshold`). */
  eventValues?: Float32Array;
  /** EVENT_TYPE names by index, when the dataset has them. */
  eventTypes?: readonly string[];
  eventTypeIndex?: Uint32Array;
}

/** Optional item metadata (the Items dataset), used for exploring new items. */
export interface ItemMetadataInput {
  /** CREATION_TIMESTAMP (epoch seconds) by item ID; items without one are aged from their first interaction. */
  creationTimestamps?: ReadonlyMap<string, number>;
}

/** An interaction of a user the model was not trained on: their history, given at query time. */
export interface HistoryEvent {
  itemId: string;
  /** Unix epoch seconds. */
  timestamp: number;
}

export const RECIPES = ['aws-user-personalization', 'aws-popularity-count', 'aws-similar-items'] as const;
export type RecipeName = (typeof RECIPES)[number];
