/**
 * The jobs layer: long-running work of every service (Glue job runs, dataset imports, and next
 * solution versions, batch inference jobs, state machine executions) with AWS's status lifecycles.
 *
 * A service makes one `JobQueue` per kind of job (`jobs.queue({kind, lifecycle, …})`) and submits
 * work to it. The queue owns the job's phase — pending → running → succeeded | failed, or
 * stopping → stopped after `stop(id)`, or timedOut after its time limit — and the timestamps; it
 * reports every change through the submitter's `onChange`, which copies it into the service's own
 * record (in the service's field names) and saves it. The service keeps its records; the queue keeps
 * what is in flight: order, the running limit (`concurrency`; the rest wait pending in submission
 * order), the AbortSignal the work watches, and shutdown. Quotas on jobs in flight are the
 * service's to check (`inFlight()`), since AWS words each differently.
 *
 * Work ends by returning (succeeded), throwing JobFailure (failed with its message as the reason),
 * throwing JobTimedOut (timedOut, for work that keeps its own time limit on the clock, as a Step
 * Functions execution's TimeoutSeconds), or by its signal aborting (stopped, timedOut, or at shutdown failed with the kind's
 * `shutdownReason` — or, without one, left as it is on disk for the next start to fail with
 * `interruptedOutcome`). Any other error fails the job with "Internal error: …".
 *
 * Holds are a test hook: while a kind is held, its jobs wait in their running status before their
 * work starts, until released (so tests can observe and attach to running jobs without timing).
 */
import type { Clock } from '../core/clock.js';
import { untilWritten } from '../store/state-file.js';
import { inFlightStatuses, type Lifecycle } from './lifecycle.js';

/** The work failed for a reason the caller should see (the job's failureReason / ErrorMessage). */
export class JobFailure extends Error {}
/** The work noticed its signal and gave up (stop, time limit or shutdown). */
export class JobStopped extends Error {}
/** The work ran past a time limit it keeps itself (on the clock); the message is the reason. */
export class JobTimedOut extends Error {}

export interface JobState<S extends string> {
  readonly id: string;
  readonly kind: string;
  status: S;
  failureReason?: string;
  readonly createdAt: Date;
  startedAt?: Date;
  updatedAt: Date;
  endedAt?: Date;
}

export interface JobContext {
  readonly id: string;
  /** Aborted when the job is stopped, times out or the stack shuts down. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  log(line: string): void;
}

export interface JobKind<S extends string> {
  /** `<service>:<resource>`, e.g. `personalize:dataset-import-job`; holds name it. */
  kind: string;
  lifecycle: Lifecycle<S>;
  /** Jobs of this kind running at once; the others wait pending. Default: no limit. */
  concurrency?: number;
  /** Failure reason when the stack shuts down mid-job; without one the job is left for the next start. */
  shutdownReason?: string;
}

export interface Submission<S extends string> {
  /** Called after every change of the job's state (status, reason, times); may save. */
  onChange(state: Readonly<JobState<S>>): void | Promise<void>;
  /** Real-time limit of the work (its own limit, e.g. a Glue run's Timeout): then `timedOut`. */
  timeoutMs?: number;
  /** The failure reason for a time-out. */
  timeoutReason?: string;
}

type Work = (job: JobContext) => Promise<void>;

interface Entry<S extends string> {
  state: JobState<S>;
  work: Work;
  submission: Submission<S>;
  controller: AbortController;
  why?: 'stop' | 'timeout' | 'shutdown';
  done: Promise<void>;
  release?: () => void;
}

export class JobQueue<S extends string> {
  private readonly entries = new Map<string, Entry<S>>();
  /** Every job not done yet, including those no longer in flight that are still recording their end. */
  private readonly unsettled = new Set<Entry<S>>();
  private readonly waiting: Entry<S>[] = [];
  private running = 0;
  private readonly inFlightSet: ReadonlySet<S>;

  constructor(
    private readonly jobs: JobScope,
    readonly options: JobKind<S>,
  ) {
    this.inFlightSet = inFlightStatuses(options.lifecycle);
  }

  /**
   * Accepts a job: its state starts `pending` now (the caller has saved its record with that
   * status), and the work starts once a slot is free, never before the caller's request returns.
   */
  submit(id: string, work: Work, submission: Submission<S>): Readonly<JobState<S>> {
    if (this.jobs.closing) throw new Error('The jobs layer is shut down.');
    if (this.entries.has(id)) throw new Error(`Job ${id} was already submitted.`);
    const now = this.jobs.clock.now();
    const entry: Entry<S> = {
      state: {
        id,
        kind: this.options.kind,
        status: this.options.lifecycle.pending,
        createdAt: now,
        updatedAt: now,
      },
      work,
      submission,
      controller: new AbortController(),
      done: Promise.resolve(),
    };
    let finished!: () => void;
    entry.done = new Promise<void>((resolve) => (finished = resolve));
    entry.release = finished;
    this.entries.set(id, entry);
    this.unsettled.add(entry);
    this.waiting.push(entry);
    setImmediate(() => this.pump());
    return entry.state;
  }

  /** The state of a job in flight (undefined once it has ended). */
  get(id: string): Readonly<JobState<S>> | undefined {
    return this.entries.get(id)?.state;
  }

  /** Jobs pending, running or stopping, optionally only those `filter` accepts. */
  inFlight(filter?: (id: string) => boolean): number {
    let n = 0;
    for (const [id, entry] of this.entries)
      if (this.inFlightSet.has(entry.state.status) && (filter === undefined || filter(id))) n++;
    return n;
  }

  /**
   * Asks a job in flight to stop: it goes `stopping` (when the lifecycle has it) and its signal
   * aborts; it ends `stopped`. False when the job is not in flight.
   */
  async stop(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    const { lifecycle } = this.options;
    if (entry.why === undefined) {
      entry.why = 'stop';
      if (lifecycle.stopping !== undefined) {
        const before = { status: entry.state.status, updatedAt: entry.state.updatedAt };
        try {
          await this.change(entry, { status: lifecycle.stopping });
        } catch (error) {
          // Not recorded (a full disk): the stop did not happen, and the caller hears why.
          Object.assign(entry.state, before);
          entry.why = undefined;
          throw error;
        }
      }
      entry.controller.abort(new JobStopped('stopped'));
      this.dequeue(entry);
    }
    return true;
  }

  /** Forgets a job without recording anything more (its resource was deleted). */
  discard(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    entry.submission = { onChange: () => undefined };
    if (entry.why === undefined) entry.why = 'stop';
    entry.controller.abort(new JobStopped('discarded'));
    this.dequeue(entry);
  }

  /**
   * Aborts everything (the stack is shutting down) and resolves when every job has ended and
   * recorded its end (one that ended just before is still saving).
   */
  async shutdown(): Promise<void> {
    for (const entry of this.entries.values()) {
      entry.why ??= 'shutdown';
      entry.controller.abort(new JobStopped('shutdown'));
    }
    for (const entry of [...this.waiting]) this.dequeue(entry);
    await Promise.all([...this.unsettled].map((entry) => entry.done));
  }

  private dequeue(entry: Entry<S>): void {
    const at = this.waiting.indexOf(entry);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    void this.end(entry, undefined);
  }

  private pump(): void {
    const limit = this.options.concurrency ?? Number.POSITIVE_INFINITY;
    while (this.running < limit && this.waiting.length > 0) {
      const entry = this.waiting.shift()!;
      this.running++;
      void this.execute(entry).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async execute(entry: Entry<S>): Promise<void> {
    const { lifecycle } = this.options;
    const signal = entry.controller.signal;
    let timer: NodeJS.Timeout | undefined;
    let error: unknown;
    try {
      // A stop asked for while the job waited (its signal aborts only once the stop is recorded).
      if (signal.aborted || entry.why !== undefined) throw new JobStopped('stopped');
      const now = this.jobs.clock.now();
      // The work starts once its running status is on disk (a full disk: it waits, still pending).
      await this.persistently(entry, () => this.change(entry, { status: lifecycle.running, startedAt: now }));
      if (signal.aborted) throw new JobStopped('stopped');
      if (entry.submission.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          entry.why ??= 'timeout';
          entry.controller.abort(new JobStopped('timeout'));
        }, entry.submission.timeoutMs);
        timer.unref();
      }
      await this.jobs.held(this.options.kind, signal);
      await entry.work({
        id: entry.state.id,
        signal,
        clock: this.jobs.clock,
        log: (line) => this.jobs.log(`${this.options.kind} ${entry.state.id}: ${line}`),
      });
      if (signal.aborted) throw new JobStopped('stopped');
    } catch (caught) {
      error = caught ?? new Error('failed');
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
    await this.end(entry, error);
  }

  /** Records how the job ended (error undefined and not aborted: succeeded). */
  private async end(entry: Entry<S>, error: unknown): Promise<void> {
    const { lifecycle } = this.options;
    // No longer in flight from here: a stop or a count now sees the job as ended.
    this.entries.delete(entry.state.id);
    try {
      if (entry.controller.signal.aborted || error instanceof JobStopped) {
        switch (entry.why) {
          case 'shutdown':
            if (this.options.shutdownReason !== undefined)
              await this.finish(entry, lifecycle.failed, this.options.shutdownReason);
            break; // otherwise left in flight on disk: the next start fails it
          case 'timeout':
            await this.finish(
              entry,
              lifecycle.timedOut ?? lifecycle.failed,
              entry.submission.timeoutReason ?? 'The job timed out.',
            );
            break;
          default:
            await this.finish(entry, lifecycle.stopped ?? lifecycle.failed, undefined);
        }
      } else if (error === undefined) {
        await this.finish(entry, lifecycle.succeeded, undefined);
      } else if (error instanceof JobTimedOut) {
        await this.finish(entry, lifecycle.timedOut ?? lifecycle.failed, error.message);
      } else if (error instanceof JobFailure) {
        await this.finish(entry, lifecycle.failed, error.message);
      } else {
        this.jobs.log(
          `${this.options.kind} ${entry.state.id} failed: ${(error as Error)?.stack ?? String(error)}`,
        );
        await this.finish(
          entry,
          lifecycle.failed,
          `Internal error: ${(error as Error)?.message ?? String(error)}`,
        );
      }
    } catch (saveError) {
      this.jobs.log(`${this.options.kind} ${entry.state.id}: recording its end failed: ${String(saveError)}`);
    } finally {
      this.unsettled.delete(entry);
      entry.release?.();
    }
  }

  /**
   * Records how a job ended. Its end is shown only once the service has written it, so on a full
   * disk this waits, the job still showing its last written status, until the write succeeds.
   */
  private async finish(entry: Entry<S>, status: S, reason: string | undefined): Promise<void> {
    const now = this.jobs.clock.now();
    const patch: Partial<JobState<S>> = {
      status,
      endedAt: now,
      ...(reason === undefined ? {} : { failureReason: reason }),
    };
    await this.persistently(entry, () => this.change(entry, patch));
  }

  /** Runs a change until the service has written it (see `untilWritten`); logs a full disk once per job. */
  private persistently(entry: Entry<S>, change: () => Promise<void>): Promise<void> {
    let told = false;
    return untilWritten(change, this.jobs.closedSignal, (error) => {
      if (told) return;
      told = true;
      this.jobs.log(
        `${this.options.kind} ${entry.state.id}: cannot record ${entry.state.status} (${(error as Error).message}); retrying until there is space`,
      );
    });
  }

  private async change(entry: Entry<S>, patch: Partial<JobState<S>>): Promise<void> {
    Object.assign(entry.state, patch, {
      updatedAt: patch.endedAt ?? patch.startedAt ?? this.jobs.clock.now(),
    });
    await entry.submission.onChange(entry.state);
  }
}

/** The stack's jobs layer: one per server. Each service gets its own scope (`scope(name)`). */
export class Jobs {
  closing = false;
  private readonly holds = new Map<string, Set<() => void>>();
  private readonly heldKinds = new Set<string>();
  private readonly scopes: JobScope[] = [];

  constructor(
    readonly clock: Clock,
    readonly log: (line: string) => void = () => undefined,
  ) {}

  /** The jobs of one service: closed with it (before the services it depends on). */
  scope(owner: string): JobScope {
    const scope = new JobScope(this, owner);
    this.scopes.push(scope);
    return scope;
  }

  /** Test hook: jobs of `kind` that start from now on wait in their running status until released. */
  hold(kind: string): { release(): void } {
    this.heldKinds.add(kind);
    return { release: () => this.release(kind) };
  }

  release(kind: string): void {
    this.heldKinds.delete(kind);
    for (const wake of this.holds.get(kind) ?? []) wake();
    this.holds.delete(kind);
  }

  /** How many jobs of `kind` are waiting at a hold right now. */
  heldCount(kind: string): number {
    return this.holds.get(kind)?.size ?? 0;
  }

  /** Resolves at once unless `kind` is held; then when released (or rejects when aborted). */
  held(kind: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(new JobStopped('stopped'));
    if (!this.heldKinds.has(kind)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiters = this.holds.get(kind) ?? new Set<() => void>();
      this.holds.set(kind, waiters);
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        waiters.delete(wake);
        reject(new JobStopped('stopped'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.add(wake);
    });
  }

  /** Stops every scope's jobs and tasks (those not closed with their service yet). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.scopes.map((scope) => scope.close()));
  }
}

/** One service's queues and background tasks. */
export class JobScope {
  closing = false;
  private readonly queues: JobQueue<string>[] = [];
  private readonly tasks = new Set<Promise<void>>();
  private readonly tasksController = new AbortController();

  constructor(
    readonly jobs: Jobs,
    readonly owner: string,
  ) {}

  get clock(): Clock {
    return this.jobs.clock;
  }

  /** Aborts when the scope closes (the stack is stopping). */
  get closedSignal(): AbortSignal {
    return this.tasksController.signal;
  }

  log(line: string): void {
    this.jobs.log(line);
  }

  held(kind: string, signal: AbortSignal): Promise<void> {
    return this.jobs.held(kind, signal);
  }

  /** A queue for one kind of job. */
  queue<S extends string>(kind: JobKind<S>): JobQueue<S> {
    const queue = new JobQueue<S>(this, kind);
    this.queues.push(queue as unknown as JobQueue<string>);
    return queue;
  }

  /**
   * A background task that is not a job (e.g. moving a dataset group to ACTIVE after AWS's
   * provisioning delay on the clock): its signal aborts when the service closes, which waits for it.
   */
  background(label: string, task: (signal: AbortSignal) => Promise<void>): void {
    if (this.closing) return;
    const signal = this.tasksController.signal;
    const running: Promise<void> = task(signal)
      .catch((error: unknown) => {
        if (!signal.aborted) this.log(`${label} failed: ${(error as Error)?.stack ?? String(error)}`);
      })
      .finally(() => this.tasks.delete(running));
    this.tasks.add(running);
  }

  /** Stops the scope's jobs and background tasks and waits for them to record how they ended. */
  async close(): Promise<void> {
    this.closing = true;
    this.tasksController.abort(new JobStopped('shutdown'));
    await Promise.all(this.queues.map((queue) => queue.shutdown()));
    await Promise.all([...this.tasks]);
  }
}
