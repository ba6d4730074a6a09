/**
 * Runs a solution version's training (solution-training.ts) in a worker thread (training-worker.ts)
 * through the jobs layer's worker runner, so the stack keeps answering while it trains; or in the
 * calling thread when no worker can start. Aborting the signal (StopSolutionVersionCreation, the
 * stack stopping) terminates the worker and the engine's threads with it.
 */
import { runWorkerTask } from '../../jobs/index.js';
import { trainSolutionVersion, type TrainingOutcome, type TrainingTask } from './solution-training.js';

/** A progress line the worker posts while it trains. */
interface ProgressMessage {
  type: 'progress';
  line: string;
}

function isProgress(message: unknown): message is ProgressMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === 'progress' &&
    typeof (message as { line?: unknown }).line === 'string'
  );
}

/**
 * Trains; rejects with JobFailure for a problem with the data or configuration (its message the
 * failure reason), JobStopped when `signal` aborts.
 */
export function runTrainingTask(
  task: TrainingTask,
  options: { signal: AbortSignal; onProgress: (line: string) => void },
): Promise<TrainingOutcome> {
  const running = runWorkerTask<TrainingOutcome>(import.meta.url, 'training-worker', task, {
    signal: options.signal,
    onMessage: (message) => {
      if (isProgress(message)) options.onProgress(message.line);
    },
  });
  if (running !== undefined) return running;
  return trainSolutionVersion(task, options.onProgress);
}
