/**
 * Status polling shared by every long-running operation: poll, report progress, back off up to a
 * ceiling, stop at a terminal state, give up after a timeout (exit code 4), and stop at once on
 * Ctrl-C (exit code 130) — in both cases saying that the job goes on and how to re-attach.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, MlpipeError } from './errors.js';
import { interruptedError, interruptible } from './interrupt.js';

export interface WaitOptions<T> {
  /** Fetches the current state. */
  poll: () => Promise<T>;
  /** True once `state` is terminal. */
  done: (state: T) => boolean;
  /** Called after every poll (for spinners and event streams). */
  onPoll?: (state: T, elapsedMs: number) => void | Promise<void>;
  /** What is being waited for, for the timeout and interrupt messages. */
  what: string;
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  timeoutMs?: number;
  /** Stops the wait early (besides Ctrl-C, which always does). */
  signal?: AbortSignal;
  /**
   * Said when the wait stops before the end (timeout, Ctrl-C): that the job goes on, and the
   * command that re-attaches, e.g. "The import goes on; re-attach with `mlpipe import --arn …`."
   */
  reattach?: string;
}

/** Poll intervals suited to the target: the local stack answers in milliseconds, AWS in seconds. */
export function pollIntervals(target: 'local' | 'aws'): { initialIntervalMs: number; maxIntervalMs: number } {
  return target === 'local'
    ? { initialIntervalMs: 25, maxIntervalMs: 250 }
    : { initialIntervalMs: 2000, maxIntervalMs: 10000 };
}

/** Resolves with `promise`, or rejects as soon as `signal` aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

export async function waitFor<T>(options: WaitOptions<T>): Promise<T> {
  return interruptible(async (interrupt) => {
    const signal = options.signal === undefined ? interrupt : AbortSignal.any([interrupt, options.signal]);
    const started = Date.now();
    let interval = options.initialIntervalMs ?? 1000;
    const maxInterval = options.maxIntervalMs ?? 10_000;
    const timeout = options.timeoutMs ?? 60 * 60 * 1000;
    const suggestions = options.reattach === undefined ? [] : [options.reattach];
    try {
      for (;;) {
        const state = await unlessAborted(options.poll(), signal);
        const elapsed = Date.now() - started;
        await options.onPoll?.(state, elapsed);
        if (options.done(state)) return state;
        if (elapsed + interval > timeout) {
          throw new MlpipeError(
            `Timed out after ${Math.round(elapsed / 1000)}s waiting for ${options.what}.`,
            { exit: ExitCode.timedOut, code: 'TIMED_OUT', suggestions },
          );
        }
        await sleep(interval, undefined, { signal });
        interval = Math.min(maxInterval, Math.ceil(interval * 1.5));
      }
    } catch (error) {
      if (!signal.aborted || error instanceof MlpipeError) throw error;
      if (interrupt.aborted) throw interruptedError(`Stopped waiting for ${options.what}.`, suggestions);
      throw new MlpipeError(`Stopped waiting for ${options.what}.`, { code: 'ABORTED', suggestions });
    }
  });
}
