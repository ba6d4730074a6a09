/** The jobs layer's public surface (see jobs.ts). */
export {
  Jobs,
  JobScope,
  JobQueue,
  JobFailure,
  JobStopped,
  JobTimedOut,
  type JobContext,
  type JobKind,
  type JobState,
  type Submission,
} from './jobs.js';
export { inFlightStatuses, interruptedOutcome, type Lifecycle } from './lifecycle.js';
export { runWorkerTask, serveWorkerTask, type WorkerTaskOptions } from './worker.js';
