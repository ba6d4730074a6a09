/**
 * A clock tests move by hand: `sleep` resolves only when `advance` passes its deadline (or its
 * signal aborts), and `sleeping()` resolves when someone starts to sleep, so tests wait on what the
 * code does rather than on how fast it does it.
 */
import type { Clock } from '../../src/local/services/stepfunctions/ports.js';

interface Sleeper {
  at: number;
  ms: number;
  resolve: () => void;
}

export class ManualClock implements Clock {
  private time: number;
  private readonly sleepers = new Set<Sleeper>();
  private waiters: (() => void)[] = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.time = start;
  }

  now(): Date {
    return new Date(this.time);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const sleeper: Sleeper = {
        at: this.time + Math.max(0, ms),
        ms,
        resolve: () => {
          this.sleepers.delete(sleeper);
          signal?.removeEventListener('abort', sleeper.resolve);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
      signal?.addEventListener('abort', sleeper.resolve, { once: true });
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    });
  }

  /** The durations (ms) of the sleeps in progress, in the order they started. */
  get pending(): number[] {
    return [...this.sleepers].map((s) => s.ms);
  }

  /** Resolves once at least `count` sleeps are in progress. */
  async sleeping(count = 1): Promise<number[]> {
    while (this.sleepers.size < count) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.pending;
  }

  /** Moves time on by `ms`, waking every sleep whose deadline has come. */
  advance(ms: number): void {
    this.time += ms;
    for (const sleeper of [...this.sleepers]) if (sleeper.at <= this.time) sleeper.resolve();
  }

  /** Moves time to the earliest deadline of the sleeps in progress (after waiting for one). */
  async advanceToNext(): Promise<void> {
    await this.sleeping();
    const next = Math.min(...[...this.sleepers].map((s) => s.at));
    this.advance(Math.max(0, next - this.time));
  }
}
