// The jobs layer and the clock: lifecycles, the running limit, stop, time limits, shutdown, holds,
// worker tasks, the manual clock tests drive and the scaled clock's scale. Every wait here is on an
// event (a status change, a sleeper appearing on the manual clock), never on elapsed time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, parseTimeScale, ScaledClock } from '../../src/local/core/clock.js';
import { openOrder } from '../../src/local/core/registry.js';
import { defineService } from '../../src/local/core/service.js';
import {
  interruptedOutcome,
  JobFailure,
  Jobs,
  JobTimedOut,
  type JobState,
  type Lifecycle,
} from '../../src/local/jobs/index.js';

type Status =
  'CREATE PENDING' | 'CREATE IN_PROGRESS' | 'ACTIVE' | 'CREATE FAILED' | 'CREATE STOPPING' | 'CREATE STOPPED';
const LIFECYCLE: Lifecycle<Status> = {
  pending: 'CREATE PENDING',
  running: 'CREATE IN_PROGRESS',
  succeeded: 'ACTIVE',
  failed: 'CREATE FAILED',
  stopping: 'CREATE STOPPING',
  stopped: 'CREATE STOPPED',
};

/** Records every status a job goes through and resolves `ended` at its last. */
function recorder(): {
  statuses: Status[];
  reasons: (string | undefined)[];
  ended: Promise<JobState<Status>>;
  onChange(state: Readonly<JobState<Status>>): void;
} {
  const statuses: Status[] = [];
  const reasons: (string | undefined)[] = [];
  let resolve!: (state: JobState<Status>) => void;
  const ended = new Promise<JobState<Status>>((r) => (resolve = r));
  return {
    statuses,
    reasons,
    ended,
    onChange(state) {
      statuses.push(state.status);
      reasons.push(state.failureReason);
      if (state.endedAt !== undefined) resolve({ ...state });
    },
  };
}

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('jobs layer', () => {
  // Jobs wait on promises and unref'd timers only (a server keeps the process alive): so do the tests.
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => undefined, 60_000);
  });
  after(() => clearInterval(keepAlive));

  it('drives a job pending → running → succeeded, and a JobFailure to failed with its reason', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const scope = new Jobs(clock).scope('test');
    const queue = scope.queue({ kind: 'test:job', lifecycle: LIFECYCLE });
    const ok = recorder();
    const state = queue.submit('a', async () => undefined, { onChange: ok.onChange });
    assert.equal(state.status, 'CREATE PENDING', 'pending when submit returns');
    const end = await ok.ended;
    assert.deepEqual(ok.statuses, ['CREATE IN_PROGRESS', 'ACTIVE']);
    assert.equal(end.endedAt?.toISOString(), '2026-01-01T00:00:00.000Z', 'timestamps come from the clock');
    const bad = recorder();
    queue.submit(
      'b',
      async () => {
        throw new JobFailure('Input CSV is missing the following columns: [USER_ID]');
      },
      { onChange: bad.onChange },
    );
    assert.equal((await bad.ended).status, 'CREATE FAILED');
    assert.equal(bad.reasons.at(-1), 'Input CSV is missing the following columns: [USER_ID]');
    const broken = recorder();
    queue.submit(
      'c',
      async () => {
        throw new Error('disk full');
      },
      { onChange: broken.onChange },
    );
    assert.equal((await broken.ended).failureReason, 'Internal error: disk full');
  });

  it('runs at most `concurrency` jobs at once; the rest wait pending in submission order', async () => {
    const scope = new Jobs(new ManualClock()).scope('test');
    const queue = scope.queue({ kind: 'test:serial', lifecycle: LIFECYCLE, concurrency: 1 });
    const order: string[] = [];
    const first = gate();
    const started = gate();
    const a = recorder();
    const b = recorder();
    queue.submit(
      'a',
      async () => {
        order.push('a');
        started.open();
        await first.promise;
      },
      { onChange: a.onChange },
    );
    queue.submit('b', async () => void order.push('b'), { onChange: b.onChange });
    await started.promise;
    assert.equal(queue.get('b')?.status, 'CREATE PENDING');
    assert.equal(queue.inFlight(), 2);
    first.open();
    await b.ended;
    assert.deepEqual(order, ['a', 'b']);
    assert.equal(queue.inFlight(), 0);
  });

  it('stop: stopping, then stopped when the work notices its signal', async () => {
    const scope = new Jobs(new ManualClock()).scope('test');
    const queue = scope.queue({ kind: 'test:stop', lifecycle: LIFECYCLE });
    const running = gate();
    const job = recorder();
    queue.submit(
      'a',
      (ctx) =>
        new Promise<void>((_, reject) => {
          running.open();
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        }),
      { onChange: job.onChange },
    );
    await running.promise;
    assert.equal(await queue.stop('a'), true);
    await job.ended;
    assert.deepEqual(job.statuses, ['CREATE IN_PROGRESS', 'CREATE STOPPING', 'CREATE STOPPED']);
    assert.equal(await queue.stop('a'), false, 'no longer in flight');
  });

  it('stop before the job starts: stopping, stopped, the work never runs (even while the stop is being recorded)', async () => {
    const scope = new Jobs(new ManualClock()).scope('test');
    const queue = scope.queue({ kind: 'test:stop-early', lifecycle: LIFECYCLE });
    const job = recorder();
    let ran = false;
    queue.submit(
      'a',
      async () => {
        ran = true;
      },
      {
        // Recording takes I/O turns (a save), during which the queue would otherwise start the job.
        onChange: async (state) => {
          job.onChange(state);
          await new Promise((resolve) => setImmediate(resolve));
        },
      },
    );
    assert.equal(await queue.stop('a'), true);
    await job.ended;
    assert.deepEqual(job.statuses, ['CREATE STOPPING', 'CREATE STOPPED']);
    assert.equal(ran, false);
  });

  it('a time limit ends the job timedOut (or failed) with the given reason', async () => {
    const scope = new Jobs(new ManualClock()).scope('test');
    const queue = scope.queue({
      kind: 'test:timeout',
      lifecycle: {
        pending: 'STARTING',
        running: 'RUNNING',
        succeeded: 'SUCCEEDED',
        failed: 'FAILED',
        timedOut: 'TIMEOUT',
      },
    });
    let resolve!: (state: Readonly<JobState<string>>) => void;
    const ended = new Promise<Readonly<JobState<string>>>((r) => (resolve = r));
    queue.submit(
      'a',
      (ctx) =>
        new Promise<void>((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        ),
      {
        timeoutMs: 1,
        timeoutReason: 'Job run timed out after 1 minutes.',
        onChange: (state) => {
          if (state.endedAt !== undefined) resolve({ ...state });
        },
      },
    );
    const state = await ended;
    assert.equal(state.status, 'TIMEOUT');
    assert.equal(state.failureReason, 'Job run timed out after 1 minutes.');
  });

  it('work that keeps its own limit on the clock ends timedOut with its reason (JobTimedOut)', async () => {
    const clock = new ManualClock();
    const scope = new Jobs(clock).scope('test');
    const queue = scope.queue({
      kind: 'test:own-limit',
      lifecycle: {
        pending: 'RUNNING',
        running: 'RUNNING',
        succeeded: 'SUCCEEDED',
        failed: 'FAILED',
        timedOut: 'TIMED_OUT',
      },
    });
    const statuses: string[] = [];
    let resolve!: (state: Readonly<JobState<string>>) => void;
    const ended = new Promise<Readonly<JobState<string>>>((r) => (resolve = r));
    queue.submit(
      'a',
      async (ctx) => {
        await ctx.clock.sleepUnscaled(30_000, ctx.signal);
        throw new JobTimedOut('The execution ran past its TimeoutSeconds (30).');
      },
      {
        onChange: (state) => {
          statuses.push(state.status);
          if (state.endedAt !== undefined) resolve({ ...state });
        },
      },
    );
    await clock.sleeping();
    assert.deepEqual(clock.pendingDurations, [30_000]);
    await clock.advance(30_000);
    const state = await ended;
    assert.deepEqual(statuses, ['RUNNING', 'TIMED_OUT']);
    assert.equal(state.failureReason, 'The execution ran past its TimeoutSeconds (30).');
  });

  it('shutdown waits for a job that has ended but is still recording its end', async () => {
    const scope = new Jobs(new ManualClock()).scope('test');
    const queue = scope.queue({ kind: 'test:ending', lifecycle: LIFECYCLE });
    const recording = gate();
    const saved = gate();
    let recorded = false;
    queue.submit('a', async () => undefined, {
      onChange: async (state) => {
        if (state.endedAt === undefined) return;
        recording.open();
        await saved.promise;
        recorded = true;
      },
    });
    await recording.promise;
    let closed = false;
    const closing = scope.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false, 'closed while a job was still recording its end');
    saved.open();
    await closing;
    assert.equal(recorded, true);
  });

  it('shutdown fails running jobs with the kind’s reason, or leaves them for the next start', async () => {
    const jobs = new Jobs(new ManualClock());
    const scope = jobs.scope('test');
    const withReason = scope.queue({
      kind: 'test:a',
      lifecycle: LIFECYCLE,
      shutdownReason: 'The stack shut down.',
    });
    const without = scope.queue({ kind: 'test:b', lifecycle: LIFECYCLE });
    const a = recorder();
    const b = recorder();
    const forever = (ctx: { signal: AbortSignal }): Promise<void> =>
      new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    const both = gate();
    let running = 0;
    const counting = (ctx: { signal: AbortSignal }): Promise<void> => {
      if (++running === 2) both.open();
      return forever(ctx);
    };
    withReason.submit('a', counting, { onChange: a.onChange });
    without.submit('b', counting, { onChange: b.onChange });
    await both.promise;
    await jobs.close();
    assert.deepEqual(a.statuses, ['CREATE IN_PROGRESS', 'CREATE FAILED']);
    assert.equal(a.reasons.at(-1), 'The stack shut down.');
    assert.deepEqual(b.statuses, ['CREATE IN_PROGRESS'], 'left in flight: nothing more recorded');
    assert.throws(() => without.submit('c', forever, { onChange: () => undefined }), /shut down/);
    // What the next start makes of such a record:
    assert.deepEqual(interruptedOutcome(LIFECYCLE, 'CREATE IN_PROGRESS', 'restarted'), {
      status: 'CREATE FAILED',
      failureReason: 'restarted',
    });
    assert.deepEqual(interruptedOutcome(LIFECYCLE, 'CREATE STOPPING', 'restarted'), {
      status: 'CREATE STOPPED',
    });
    assert.equal(interruptedOutcome(LIFECYCLE, 'ACTIVE', 'restarted'), undefined);
  });

  it('a hold keeps jobs of its kind in their running status until released', async () => {
    const jobs = new Jobs(new ManualClock());
    const queue = jobs.scope('test').queue({ kind: 'test:held', lifecycle: LIFECYCLE });
    const hold = jobs.hold('test:held');
    const job = recorder();
    let worked = false;
    const reached = new Promise<void>((resolve) => {
      queue.submit('a', async () => void (worked = true), {
        onChange: (state) => {
          job.onChange(state);
          if (state.status === 'CREATE IN_PROGRESS') setImmediate(resolve);
        },
      });
    });
    await reached;
    while (jobs.heldCount('test:held') === 0) await new Promise((r) => setImmediate(r));
    assert.equal(worked, false);
    assert.equal(queue.get('a')?.status, 'CREATE IN_PROGRESS');
    hold.release();
    assert.equal((await job.ended).status, 'ACTIVE');
    assert.equal(worked, true);
  });
});

describe('clock', () => {
  it('a manual clock wakes sleepers in deadline order only when advanced', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const woke: string[] = [];
    void clock.sleep(60_000).then(() => woke.push('60s'));
    void clock.sleep(1_000).then(() => woke.push('1s'));
    await clock.sleeping(2);
    await clock.advance(999);
    assert.deepEqual(woke, []);
    await clock.advance(1);
    assert.deepEqual(woke, ['1s']);
    await clock.advance(60_000);
    assert.deepEqual(woke, ['1s', '60s']);
    assert.equal(clock.now().toISOString(), '2026-01-01T00:01:01.000Z');
    const aborted = new AbortController();
    const sleeping = clock.sleep(5_000, aborted.signal);
    aborted.abort(new Error('stopped'));
    await assert.rejects(sleeping, /stopped/);
    assert.equal(clock.pending, 0);
  });

  it('a scaled clock shortens waits by its scale; the scale is a number ≥ 0', async () => {
    const clock = new ScaledClock(0);
    await clock.sleep(3_600_000); // an hour of AWS time at scale 0: no wait at all
    assert.equal(new ScaledClock().timeScale, 0.001);
    assert.equal(parseTimeScale('0.5'), 0.5);
    assert.equal(parseTimeScale('-1'), undefined);
    assert.equal(parseTimeScale('soon'), undefined);
    assert.throws(() => new ScaledClock(-1), /Invalid time scale/);
  });

  it('a scaled clock chains timers past one Node timer’s reach, never scales sleepUnscaled, and stops on abort', async () => {
    const controller = new AbortController();
    const woke: string[] = [];
    const long = new ScaledClock(1).sleep(2 ** 31 + 60_000, controller.signal).then(
      () => woke.push('long'),
      () => woke.push('long aborted'),
    );
    const limit = new ScaledClock(0).sleepUnscaled(60_000, controller.signal).then(
      () => woke.push('limit'),
      () => woke.push('limit aborted'),
    );
    // A single timer that long would overflow to 1 ms, and a scaled 60 s at scale 0 would not wait:
    // either would fire before this 20 ms timer.
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(woke, []);
    controller.abort(new Error('stopped'));
    await Promise.all([long, limit]);
    assert.deepEqual(woke.sort(), ['limit aborted', 'long aborted']);
  });

  it('a manual clock says what its sleepers wait for, unscaled deadlines among them', async () => {
    const clock = new ManualClock();
    void clock.sleep(1_200_000);
    void clock.sleepUnscaled(5_000);
    await clock.sleeping(2);
    assert.deepEqual(clock.pendingDurations, [1_200_000, 5_000]);
    await clock.advance(5_000);
    assert.deepEqual(clock.pendingDurations, [1_200_000]);
    await clock.advance(1_195_000);
    assert.deepEqual(clock.pendingDurations, []);
  });
});

describe('service registry', () => {
  const service = (name: string, dependsOn: string[] = []) =>
    defineService({
      name,
      displayName: name,
      signingName: name,
      protocol: { kind: 'json', version: '1.1', targetPrefix: name },
      dependsOn,
      open: async () => ({}),
      operations: () => ({}),
    });

  it('opens services after what they depend on, list order otherwise, and refuses cycles and unknown names', () => {
    assert.deepEqual(
      openOrder([
        service('cfn', ['glue', 's3']),
        service('s3'),
        service('glue', ['logs', 's3']),
        service('logs'),
      ]).map((s) => s.name),
      ['s3', 'logs', 'glue', 'cfn'],
    );
    assert.throws(() => openOrder([service('a', ['b']), service('b', ['a'])]), /cycle: a → b → a/);
    assert.throws(
      () => openOrder([service('a', ['nope'])]),
      /depends on nope, which is not in the services list/,
    );
  });
});
