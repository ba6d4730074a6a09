/**
 * A solution version's CPU work, as it runs in the training worker thread (or inline when no worker
 * can start): read the dataset group's stored interactions (and the Items dataset's creation
 * timestamps, for exploring new items), search hyperparameters when the solution does HPO, then
 * train and evaluate with Personalize's protocol (src/recommender) and serialize the served model.
 * Progress goes to `onProgress` as log lines. A problem with the data or the configuration is a
 * TrainingProblem whose message becomes the version's failureReason as it is.
 */
import { readInteractions, readMetadata } from '../../../datasets/interactions.js';
import {
  RecommenderError,
  serializeModel,
  trainAndEvaluate,
  tune,
  type RecipeName,
  type SolutionMetrics,
  type TrainingProgress,
} from '../../../recommender/index.js';

/** What a solution version is trained from. */
export interface TrainingTask {
  /** The INTERACTIONS dataset's stored data file. */
  interactionsFile: string;
  /** The ITEMS dataset's stored data file, when the group has one with data. */
  itemsFile?: string;
  recipe: RecipeName;
  /** The solution's algorithmHyperParameters (or, for an UPDATE, the hyperparameters it updates). */
  hyperparameters: Record<string, string>;
  eventType?: string;
  eventValueThreshold?: number;
  /** Search hyperparameters first (performHPO). */
  search?: { searchSpace?: Record<string, string[]>; maxCandidates?: number };
  seed: number;
  /** Engine threads (default: the machine's). */
  threads?: number;
}

export interface TrainingOutcome {
  /** The served model (an `MLRM` file's bytes). */
  model: Uint8Array;
  metrics: SolutionMetrics;
  testUsers: number;
  /** The hyperparameters the model was trained with (every one, as strings). */
  hyperparameters: Record<string, string>;
  /** After a search: the best candidate's hyperparameters (tunedHPOParams). */
  tuned?: Record<string, string>;
  interactions: number;
  users: number;
  items: number;
  /** Items with a CREATION_TIMESTAMP from the Items dataset. */
  itemsWithCreationTime: number;
}

/** The data or configuration cannot train a model; the message is the failure reason. */
export class TrainingProblem extends Error {}

/** CREATION_TIMESTAMP (epoch seconds) by ITEM_ID from a stored Items dataset. */
async function creationTimestamps(file: string): Promise<Map<string, number>> {
  const items = await readMetadata(file);
  const out = new Map<string, number>();
  if (items === undefined) return out;
  const id = items.columns.indexOf('ITEM_ID');
  const created = items.columns.indexOf('CREATION_TIMESTAMP');
  if (id < 0 || created < 0) return out;
  for (const row of items.rows) {
    const value = Number(row[created]);
    if (row[created] !== '' && Number.isFinite(value)) out.set(row[id]!, value);
  }
  return out;
}

function describe(progress: TrainingProgress): string {
  const took = progress.milliseconds === undefined ? '' : ` (${Math.round(progress.milliseconds)} ms)`;
  switch (progress.stage) {
    case 'factors':
      return `factors: iteration ${progress.iteration}/${progress.of}${progress.loss === undefined ? '' : `, loss ${progress.loss.toPrecision(5)}`}${took}`;
    case 'search':
      return `hyperparameter search: candidate ${progress.iteration}/${progress.of}, validation NDCG@10 ${progress.metric?.toFixed(4)}${took}`;
    case 'evaluation':
      return `evaluation: NDCG@10 ${progress.metric?.toFixed(4)} on the held-out users${took}`;
    default:
      return `${progress.stage}: done${took}`;
  }
}

export async function trainSolutionVersion(
  task: TrainingTask,
  onProgress: (line: string) => void = () => undefined,
): Promise<TrainingOutcome> {
  const data = await readInteractions(task.interactionsFile);
  if (data === undefined || data.count === 0)
    throw new TrainingProblem('The interactions dataset has no data: import interactions first.');
  const created =
    task.itemsFile === undefined ? new Map<string, number>() : await creationTimestamps(task.itemsFile);
  onProgress(
    `training ${task.recipe} on ${data.count} interactions of ${data.users.length} users and ${data.items.length} items` +
      (created.size > 0 ? ` (${created.size} items with a creation time)` : '') +
      (task.search ? ', with a hyperparameter search' : ''),
  );
  const now = (): number => performance.now();
  const report = (progress: TrainingProgress): void => onProgress(describe(progress));
  const common = {
    seed: task.seed,
    ...(task.threads === undefined ? {} : { threads: task.threads }),
    ...(task.eventType === undefined ? {} : { eventType: task.eventType }),
    ...(task.eventValueThreshold === undefined ? {} : { eventValueThreshold: task.eventValueThreshold }),
    ...(created.size > 0 ? { itemMetadata: { creationTimestamps: created } } : {}),
    onProgress: report,
    now,
  };
  try {
    let hyperparameters = task.hyperparameters;
    let tuned: Record<string, string> | undefined;
    if (task.search !== undefined) {
      const result = await tune(data, {
        ...common,
        hyperparameters,
        ...(task.search.searchSpace === undefined ? {} : { searchSpace: task.search.searchSpace }),
        ...(task.search.maxCandidates === undefined ? {} : { maxCandidates: task.search.maxCandidates }),
      });
      tuned = result.best;
      hyperparameters = result.best;
      onProgress(
        `hyperparameter search: best of ${result.candidates.length} candidates on ${result.validationUsers} validation users`,
      );
    }
    const { model, evaluation } = await trainAndEvaluate(data, {
      ...common,
      recipe: task.recipe,
      hyperparameters,
    });
    return {
      model: serializeModel(model),
      metrics: evaluation.metrics,
      testUsers: evaluation.testUsers,
      hyperparameters,
      ...(tuned === undefined ? {} : { tuned }),
      interactions: data.count,
      users: data.users.length,
      items: data.items.length,
      itemsWithCreationTime: created.size,
    };
  } catch (error) {
    // The engine's messages are written for the requester (Personalize's own for too little data).
    if (error instanceof RecommenderError) throw new TrainingProblem(error.message);
    throw error;
  }
}
