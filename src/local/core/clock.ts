/**
 * The local stack's one clock, handed to every service in its context. `now()` is the time AWS
 * timestamps carry. `sleep(awsMs)` is a wait AWS would make a caller sit through — a Wait state, a
 * schedule's next tick, a resource's provisioning delay, a polling interval — shortened by the
 * time scale (real ms = AWS ms × scale; the default 0.001 turns a 60 s wait into 60 ms). Work the
 * stack really does (an ETL run, an import, training) takes the time it takes and is never scaled.
 *
 * `ManualClock` is the clock tests drive: time moves only when `advance` is called, sleepers wake
 * in deadline order, and `sleeping()` tells a test (by event, not by timing) that something is
 * waiting on the clock.
 */

/** Real milliseconds per AWS millisecond by default: a 60 s wait lasts 60 ms (the CLI's default too). */
export const DEFAULT_TIME_SCALE = 0.001;

export interface Clock {
  /** The current time, as AWS timestamps show it. */
  now(): Date;
  /** Real milliseconds per AWS millisecond (1 = AWS's own durations, 0 = no waiting at all). */
  readonly timeScale: number;
  /** Resolves after `awsMs` of AWS time; rejects with the signal's reason when it aborts first. */
  sleep(awsMs: number, signal?: AbortSignal): Promise<void>;
}

/** Checks a time scale from a flag, the environment or the config file: a finite number ≥ 0. */
export function parseTimeScale(value: string | number): number | undefined {
  const scale = typeof value === 'number' ? value : value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(scale) && scale >= 0 ? scale : undefined;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/** The clock of a running stack: wall time, waits scaled by `timeScale`. */
export class ScaledClock implements Clock {
  constructor(
    readonly timeScale: number = DEFAULT_TIME_SCALE,
    private readonly wallTime: () => Date = () => new Date(),
  ) {
    if (parseTimeScale(timeScale) === undefined) throw new RangeError(`Invalid time scale ${timeScale}`);
  }

  now(): Date {
    return this.wallTime();
  }

  sleep(awsMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const realMs = Math.max(0, awsMs) * this.timeScale;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      // Under a millisecond: still asynchronous, so a loop of sleeps lets I/O through.
      const timer = realMs < 1 ? setImmediate(done) : setTimeout(done, realMs);
      const onAbort = (): void => {
        if (realMs < 1) clearImmediate(timer as NodeJS.Immediate);
        else clearTimeout(timer as NodeJS.Timeout);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface Sleeper {
  wakeAt: number;
  seq: number;
  resolve(): void;
}

/** A clock that moves only when a test advances it. AWS time and its time are one (scale 1). */
export class ManualClock implements Clock {
  readonly timeScale = 1;
  private current: number;
  private seq = 0;
  private readonly sleepers = new Set<Sleeper>();
  private readonly watchers: (() => void)[] = [];

  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  sleep(awsMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const sleeper: Sleeper = {
        wakeAt: this.current + Math.max(0, awsMs),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        this.sleepers.delete(sleeper);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.add(sleeper);
      for (const watcher of this.watchers.splice(0)) watcher();
    });
  }

  /** How many sleeps are waiting for the clock to move. */
  get pending(): number {
    return this.sleepers.size;
  }

  /** Resolves once at least `count` sleeps are waiting (at once if they already are). */
  async sleeping(count = 1): Promise<void> {
    while (this.sleepers.size < count) await new Promise<void>((resolve) => this.watchers.push(resolve));
  }

  /**
   * Moves time forward by `ms`, waking every sleep that falls due, earliest first; each woken
   * sleeper's continuation runs before the next wakes, so a sleep started by a woken one within
   * the window wakes too.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + Math.max(0, ms);
    for (;;) {
      let next: Sleeper | undefined;
      for (const sleeper of this.sleepers)
        if (
          sleeper.wakeAt <= target &&
          (next === undefined ||
            sleeper.wakeAt < next.wakeAt ||
            (sleeper.wakeAt === next.wakeAt && sleeper.seq < next.seq))
        )
          next = sleeper;
      if (next === undefined) break;
      this.sleepers.delete(next);
      this.current = Math.max(this.current, next.wakeAt);
      next.resolve();
      // Let the woken code run up to its next await on I/O or the clock.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.current = target;
  }
}
