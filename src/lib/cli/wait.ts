/**
 * Status polling shared by every long-running operation: poll, report progress, back off up to a
 * ceiling, stop at a terminal state, give up after a timeout (exit code 4) or when aborted.
 */
import { ExitCode, MlpipeError } from './errors.js';

export interface WaitOptions<T> {
  /** Fetches the current state. */
  poll: () => Promise<T>;
  /** True once `state` is terminal. */
  done: (state: T) => boolean;
  /** Called after every poll (for spinners and event streams). */
  onPoll?: (state: T, elapsedMs: number) => void | Promise<void>;
  /** What is being waited for, for the timeout message. */
  what: string;
  initialIntervalMs?: number;
  maxIntervalMs?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Extra hint when the wait times out (e.g. how to re-attach). */
  timeoutSuggestion?: string;
}

/** Poll intervals suited to the target: the local stack answers in milliseconds, AWS in seconds. */
export function pollIntervals(target: 'local' | 'aws'): { initialIntervalMs: number; maxIntervalMs: number } {
  return target === 'local'
    ? { initialIntervalMs: 25, maxIntervalMs: 250 }
    : { initialIntervalMs: 2000, maxIntervalMs: 10000 };
}

export async function waitFor<T>(options: WaitOptions<T>): Promise<T> {
  const started = Date.now();
  let interval = options.initialIntervalMs ?? 1000;
  const maxInterval = options.maxIntervalMs ?? 10_000;
  const timeout = options.timeoutMs ?? 60 * 60 * 1000;
  for (;;) {
    if (options.signal?.aborted)
      throw new MlpipeError(`Stopped waiting for ${options.what}.`, { code: 'ABORTED' });
    const state = await options.poll();
    const elapsed = Date.now() - started;
    await options.onPoll?.(state, elapsed);
    if (options.done(state)) return state;
    if (elapsed + interval > timeout) {
      throw new MlpipeError(`Timed out after ${Math.round(elapsed / 1000)}s waiting for ${options.what}.`, {
        exit: ExitCode.timedOut,
        code: 'TIMED_OUT',
        suggestions: options.timeoutSuggestion === undefined ? [] : [options.timeoutSuggestion],
      });
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(maxInterval, Math.ceil(interval * 1.5));
  }
}
