/**
 * The engine's thread pool. `threads` = 1 runs every task inline on the calling thread; more
 * starts that many worker threads that share the big arrays through SharedArrayBuffers (shared
 * once, never copied) and take tasks from one queue. Tasks write disjoint rows, and reductions are
 * summed by the caller in task order, so results are identical for any thread count.
 *
 * The pool may itself run inside a worker thread (the local stack trains in one): Node supports
 * nested workers, and the caller can pass `threads: 1` to stay on its own thread.
 */
import type { Worker } from 'node:worker_threads';
import { RecommenderError } from './errors.js';
import { runTask, type SharedArray, type Task, type TaskResult } from './tasks.js';
import { startEngineWorker } from './worker-start.js';

type Reply = { id: number; result?: TaskResult; error?: string };

type ArrayConstructor<T> = { new (buffer: ArrayBuffer | SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };

export class ThreadPool {
  private readonly arrays = new Map<string, SharedArray>();
  private readonly workers: Worker[] = [];
  private failure: Error | undefined;

  private constructor(readonly threads: number) {}

  static create(threads: number): ThreadPool {
    if (!Number.isInteger(threads) || threads < 1 || threads > 256)
      throw new RecommenderError(
        'INVALID_INPUT',
        `threads must be a whole number from 1 to 256, got ${threads}.`,
      );
    const pool = new ThreadPool(threads);
    if (threads > 1) {
      for (let t = 0; t < threads; t++) {
        const worker = startEngineWorker('worker', undefined);
        worker.on('error', (error) => {
          pool.failure ??= error;
        });
        pool.workers.push(worker);
      }
    }
    return pool;
  }

  /** A zeroed array, in shared memory when worker threads will read it. */
  alloc<T extends SharedArray>(ctor: ArrayConstructor<T>, length: number): T {
    const bytes = length * ctor.BYTES_PER_ELEMENT;
    return new ctor(this.threads > 1 ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  }

  /** A shared copy of `source` (or `source` itself when running inline). */
  copy<T extends SharedArray>(ctor: ArrayConstructor<T> & { new (length: number): T }, source: T): T {
    if (this.threads === 1) return source;
    const out = this.alloc(ctor, source.length);
    out.set(source as never);
    return out;
  }

  /** Makes `array` (from `alloc`/`copy`) readable by tasks as `name`. */
  share(name: string, array: SharedArray): void {
    this.arrays.set(name, array);
    for (const worker of this.workers) worker.postMessage({ type: 'share', name, array });
  }

  /** Runs the tasks (any order, any thread) and returns their results in task order. */
  async run(tasks: Task[]): Promise<TaskResult[]> {
    if (this.threads === 1) return tasks.map((task) => runTask(task, this.arrays));
    const results: TaskResult[] = new Array<TaskResult>(tasks.length);
    let next = 0;
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const onExit = (code: number): void =>
              reject(this.failure ?? new Error(`A recommender worker stopped (exit code ${code}).`));
            const onError = (error: Error): void => reject(error);
            const done = (error?: Error): void => {
              worker.off('message', onMessage);
              worker.off('exit', onExit);
              worker.off('error', onError);
              if (error) reject(error);
              else resolve();
            };
            const send = (): void => {
              if (next >= tasks.length) return done();
              const id = next++;
              worker.postMessage({ type: 'task', id, task: tasks[id] });
            };
            const onMessage = (reply: Reply): void => {
              if (reply.error !== undefined) return done(new Error(reply.error));
              results[reply.id] = reply.result;
              send();
            };
            worker.on('message', onMessage);
            worker.once('exit', onExit);
            worker.once('error', onError);
            send();
          }),
      ),
    );
    return results;
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
    this.arrays.clear();
  }
}

/** Splits rows [0, n) into ranges of about equal cost (cost(u) per row), at most `parts` of them. */
export function balancedRanges(n: number, parts: number, cost: (row: number) => number): [number, number][] {
  let total = 0;
  for (let u = 0; u < n; u++) total += cost(u);
  const ranges: [number, number][] = [];
  const target = total / parts;
  let start = 0;
  let acc = 0;
  for (let u = 0; u < n; u++) {
    acc += cost(u);
    if (acc >= target && ranges.length < parts - 1) {
      ranges.push([start, u + 1]);
      start = u + 1;
      acc = 0;
    }
  }
  if (start < n || ranges.length === 0) ranges.push([start, n]);
  return ranges;
}
