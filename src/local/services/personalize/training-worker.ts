/**
 * Worker-thread entry of a solution version's training: trains off the server's thread
 * (solution-training.ts), posting progress lines to the parent as it goes; the result (the model's
 * bytes, the metrics) or the failure reason (a TrainingProblem is the data's or configuration's
 * fault) goes back through the jobs layer's worker protocol.
 */
import { parentPort } from 'node:worker_threads';
import { serveWorkerTask } from '../../jobs/index.js';
import { trainSolutionVersion, TrainingProblem, type TrainingTask } from './solution-training.js';

await serveWorkerTask(
  (task: TrainingTask) =>
    trainSolutionVersion(task, (line) => parentPort?.postMessage({ type: 'progress', line })),
  (error) => error instanceof TrainingProblem,
);
