/**
 * CPU work of a job in a worker thread, so the server keeps answering: `runWorkerTask` starts a
 * module beside the caller (src/local/worker-start.ts: from the build, or under tsx), hands it its
 * input (buffers transferred, not copied), relays its other messages, and settles with its result;
 * aborting the signal terminates the thread. The worker side answers with `serveWorkerTask`.
 *
 * Messages — worker → parent: `{type:'result', value}`, `{type:'error', message, stack, problem}`
 * (problem: the failure is the input's, its message a failure reason), anything else is passed to
 * `onMessage`; parent → worker: whatever `onMessage` posts back.
 */
import { parentPort, workerData, type TransferListItem, type Worker } from 'node:worker_threads';
import { startModuleWorker } from '../worker-start.js';
import { JobFailure, JobStopped } from './jobs.js';

type WorkerReply =
  { type: 'result'; value: unknown } | { type: 'error'; message: string; stack: string; problem: boolean };

export interface WorkerTaskOptions {
  transfer?: TransferListItem[];
  signal?: AbortSignal;
  /** Other messages from the worker (progress, requests for input); `worker` can answer them. */
  onMessage?(message: unknown, worker: Worker): void;
}

/**
 * Runs `<name>.ts|js` beside `callerUrl` in a worker thread with `input` as its workerData.
 * Resolves with the value it answers; rejects with JobFailure (a problem with the input),
 * JobStopped (the signal aborted) or an Error (the worker crashed). Returns undefined when no
 * worker thread can be started at all, so the caller may run the work in-process instead.
 */
export function runWorkerTask<T>(
  callerUrl: string,
  name: string,
  input: unknown,
  options: WorkerTaskOptions = {},
): Promise<T> | undefined {
  let worker: Worker;
  try {
    worker = startModuleWorker(callerUrl, name, input, options.transfer ?? []);
  } catch {
    return undefined;
  }
  const { signal } = options;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      void worker.terminate();
      finish(() => reject(new JobStopped('stopped')));
    };
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: WorkerReply | { type?: unknown }) => {
      if (message.type === 'result') finish(() => resolve((message as { value: T }).value));
      else if (message.type === 'error') {
        const reply = message as Extract<WorkerReply, { type: 'error' }>;
        finish(() => {
          if (reply.problem) reject(new JobFailure(reply.message));
          else {
            const error = new Error(reply.message);
            error.stack = reply.stack;
            reject(error);
          }
        });
      } else options.onMessage?.(message, worker);
    });
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`The ${name} worker exited with code ${code} before finishing.`))),
    );
  });
}

/**
 * The worker side: runs `task` on the workerData and posts its result (or its error; errors for
 * which `isProblem` is true are the input's fault and become the job's failure reason as they are).
 */
export async function serveWorkerTask<I, O>(
  task: (input: I) => Promise<O>,
  isProblem: (error: unknown) => boolean = () => false,
): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveWorkerTask must run in a worker thread');
  let reply: WorkerReply;
  try {
    reply = { type: 'result', value: await task(workerData as I) };
  } catch (error) {
    reply = {
      type: 'error',
      message: (error as Error)?.message ?? String(error),
      stack: (error as Error)?.stack ?? String(error),
      problem: error instanceof JobFailure || isProblem(error),
    };
  }
  port.postMessage(reply);
  port.close();
}
