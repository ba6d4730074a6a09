/**
 * The local stack's one clock, handed to every service in its context. `now()` is the time AWS
 * timestamps carry. `sleep(awsMs)` is a wait AWS would make a caller sit through — a Wait state, a
 * schedule's next tick, a resource's provisioning delay, a polling interval — shortened by the
 * time scale (real ms = AWS ms × scale; the default 0.001 turns a 60 s wait into 60 ms). Work the
 * stack really does (an ETL run, an import, training) takes the time it takes and is never scaled,
 * and neither are the limits put on that work (`sleepUnscaled`: a Step Functions task's
 * TimeoutSeconds must not cut a real Glue run short because waits are shortened).
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
  /**
   * Resolves after `ms` of this clock's time, never shortened by the time scale: a limit on work
   * (a task's or an execution's TimeoutSeconds). Rejects like `sleep` when `signal` aborts first.
   * On a ManualClock it is a sleep like any other, so tests drive deadlines by advancing it.
   */
  sleepUnscaled(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The longest delay one Node timer holds (2^31-1 ms, about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

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
    return this.wait(Math.max(0, awsMs) * this.timeScale, signal);
  }

  sleepUnscaled(ms: number, signal?: AbortSignal): Promise<void> {
    return this.wait(Math.max(0, ms), signal);
  }

  private wait(realMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      let immediate: NodeJS.Immediate | undefined;
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        if (immediate !== undefined) clearImmediate(immediate);
        if (timer !== undefined) clearTimeout(timer);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // Under a millisecond: still asynchronous, so a loop of sleeps lets I/O through.
      if (realMs < 1) {
        immediate = setImmediate(done);
        return;
      }
      // Beyond one timer's reach (a 30-day Wait at scale 1), timers are chained, not fired at once.
      const until = Date.now() + realMs;
      const arm = (): void => {
        const left = until - Date.now();
        if (left <= 0) return done();
        timer = setTimeout(left > MAX_TIMER_MS ? arm : done, Math.min(left, MAX_TIMER_MS));
      };
      arm();
    });
  }
}

interface Sleeper {
  wakeAt: number;
  durationMs: number;
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
        durationMs: awsMs,
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

  sleepUnscaled(ms: number, signal?: AbortSignal): Promise<void> {
    return this.sleep(ms, signal);
  }

  /** How many sleeps are waiting for the clock to move. */
  get pending(): number {
    return this.sleepers.size;
  }

  /** What each waiting sleep asked for (ms), in the order they started: what code is waiting on. */
  get pendingDurations(): number[] {
    return [...this.sleepers].sort((a, b) => a.seq - b.seq).map((s) => s.durationMs);
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
