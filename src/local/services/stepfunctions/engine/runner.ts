/**
 * Runs one execution of a compiled state machine: the interpreter walks the states; every Task
 * goes to a handler of ours (never to the interpreter's default, AWS Lambda), which calls the bound
 * integration with AWS's Retry rules and TimeoutSeconds on the injected clock; the history is
 * recorded as things happen. Wait states and retry intervals are waits AWS imposes, so they are
 * `clock.sleep`s (the clock's time scale shortens them); TimeoutSeconds bound real work, so they
 * are `clock.sleepUnscaled`. The run ends SUCCEEDED or FAILED on its own, ABORTED when stopped,
 * TIMED_OUT at the state machine's TimeoutSeconds, and FAILED with `States.Runtime` when its
 * history reaches 25,000 events, or with the caller's reason when the stack shuts down.
 *
 * Constructing a run records ExecutionStarted; `start()` runs it (the service starts it as a job
 * of the jobs layer); a run stopped before it started ends with `endUnstarted`.
 */
import type { HistoryEventType } from '@aws-sdk/client-sfn';
import type { Clock } from '../../../core/clock.js';
import { isObject, walkStates, type JsonObject, type JsonValue } from './asl.js';
import type { CompiledMachine, StateInfo } from './compile.js';
import { StatesRuntimeError, statesTimeoutError } from './errors.js';
import { EngineEventMapper, HISTORY_LIMIT, HistoryRecorder, json } from './history.js';
import { TaskFailure, type TaskContext } from './integrations.js';
import { loadInterpreter, type Interpreter } from './interpreter.js';
import { evaluatePath } from './paths.js';

export interface ExecutionIdentity {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  stateMachineName: string;
  roleArn: string;
  startDate: Date;
}

export interface RunnerOptions {
  clock: Clock;
  region: string;
  /** Called after every history event (the service persists from here). */
  onHistory?: () => void;
  /** For internal errors of a task handler. */
  log?: (line: string) => void;
  historyLimit?: number;
}

export type EndStatus = 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface ExecutionOutcome {
  status: EndStatus;
  stopDate: Date;
  output?: string;
  error?: string;
  cause?: string;
}

type Requested = Omit<ExecutionOutcome, 'stopDate'>;

/** Thrown into a handler whose execution is ending: the interpreter is aborted, nothing is recorded. */
class ExecutionEnding extends Error {
  constructor() {
    super('The execution is ending.');
    this.name = 'ExecutionEnding';
  }
}

const NO_TRUNCATION = { truncated: false };
export const HISTORY_LIMIT_CAUSE = `The execution reached the maximum number of history events (${HISTORY_LIMIT}).`;

/** Rejects as soon as `signal` aborts, else settles like `promise`. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ExecutionEnding());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new ExecutionEnding());
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

interface Failure {
  error: string;
  cause: string;
  timeout: boolean;
}

/**
 * The wait before the next attempt, in milliseconds of AWS time, or undefined when no retrier
 * applies: the first retrier naming the error (or `States.ALL`, or `States.TaskFailed` unless it is
 * a timeout) decides; once its MaxAttempts are used up the error goes on to Catch.
 */
export function retryDelayMs(
  retriers: JsonObject[],
  attempts: number[],
  failure: Failure,
): number | undefined {
  for (let i = 0; i < retriers.length; i++) {
    const retrier = retriers[i]!;
    const names = Array.isArray(retrier.ErrorEquals) ? retrier.ErrorEquals : [];
    const matches = names.some(
      (name) =>
        name === failure.error || name === 'States.ALL' || (name === 'States.TaskFailed' && !failure.timeout),
    );
    if (!matches) continue;
    const maxAttempts = typeof retrier.MaxAttempts === 'number' ? retrier.MaxAttempts : 3;
    if (attempts[i]! >= maxAttempts) return undefined;
    const interval = typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
    const backoff = typeof retrier.BackoffRate === 'number' ? retrier.BackoffRate : 2;
    let seconds = interval * backoff ** attempts[i]!;
    if (typeof retrier.MaxDelaySeconds === 'number') seconds = Math.min(seconds, retrier.MaxDelaySeconds);
    if (retrier.JitterStrategy === 'FULL') seconds *= Math.random();
    attempts[i]! += 1;
    return seconds * 1000;
  }
  return undefined;
}

export class ExecutionRun {
  readonly history: HistoryRecorder;
  /** Settles once the run has ended and its last event is recorded (after `start` or `endUnstarted`). */
  readonly done: Promise<ExecutionOutcome>;
  private settle!: (outcome: ExecutionOutcome) => void;
  private started = false;
  private readonly controller = new AbortController();
  private readonly mapper: EngineEventMapper;
  private readonly context: JsonObject;
  private readonly inFlight = new Set<Promise<unknown>>();
  private requested: Requested | undefined;
  private finished = false;
  private abortEngine: (() => void) | undefined;

  constructor(
    private readonly machine: CompiledMachine,
    private readonly identity: ExecutionIdentity,
    private readonly input: JsonValue,
    inputText: string,
    private readonly options: RunnerOptions,
  ) {
    this.done = new Promise((resolve) => (this.settle = resolve));
    this.history = new HistoryRecorder(
      options.clock,
      () => options.onHistory?.(),
      () => this.request({ status: 'FAILED', error: 'States.Runtime', cause: HISTORY_LIMIT_CAUSE }),
      [],
      options.historyLimit ?? HISTORY_LIMIT,
    );
    this.context = {
      Execution: {
        Id: identity.executionArn,
        Name: identity.name,
        RoleArn: identity.roleArn,
        StartTime: identity.startDate.toISOString(),
        RedriveCount: 0,
      },
      StateMachine: { Id: identity.stateMachineArn, Name: identity.stateMachineName },
    };
    this.mapper = new EngineEventMapper(machine, this.history, this.context);
    this.history.add(
      'ExecutionStarted',
      {
        executionStartedEventDetails: {
          input: inputText,
          inputDetails: NO_TRUNCATION,
          roleArn: identity.roleArn,
        },
      },
      0,
    );
  }

  /** Runs the execution (once); resolves with how it ended. */
  start(): Promise<ExecutionOutcome> {
    if (!this.started) {
      this.started = true;
      void this.execute(this.input).then(this.settle);
    }
    return this.done;
  }

  /**
   * Ends a run that never started (stopped, or the stack shut down, while it waited to start):
   * with what was requested of it, else with `otherwise`. A run that started ends on its own.
   */
  endUnstarted(otherwise: Requested): Promise<ExecutionOutcome> {
    if (this.started) return this.done;
    this.started = true;
    this.finished = true;
    const outcome = { ...(this.requested ?? otherwise), stopDate: this.options.clock.now() };
    this.recordEnd(outcome);
    this.settle(outcome);
    return this.done;
  }

  /** Stops the execution (ABORTED, with the caller's error and cause if any). */
  stop(error?: string, cause?: string): Promise<ExecutionOutcome> {
    this.request({
      status: 'ABORTED',
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    });
    return this.done;
  }

  /** Ends the execution FAILED with `error` and `cause` (the stack is shutting down). */
  fail(error: string, cause: string): Promise<ExecutionOutcome> {
    this.request({ status: 'FAILED', error, cause });
    return this.done;
  }

  private request(outcome: Requested): void {
    if (this.finished || this.requested !== undefined) return;
    this.requested = outcome;
    this.controller.abort(new ExecutionEnding());
    this.abortEngine?.();
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.inFlight.add(promise);
    const forget = (): void => void this.inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private handlers(): Record<string, (input: JsonValue) => Promise<JsonValue>> {
    const handlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
    const entries = new Map<string, number>();
    for (const info of this.machine.states.values()) {
      if (info.internal !== undefined) {
        handlers[info.name] = (input) => this.track(this.runInternal(info, input));
      } else if (info.task !== undefined) {
        handlers[info.name] = (input) => {
          const entry = (entries.get(info.name) ?? 0) + 1;
          entries.set(info.name, entry);
          return this.track(this.runTask(info, input, entry));
        };
      }
    }
    // A Task the interpreter reaches without a handler would be sent to AWS Lambda: never run one.
    for (const { name, state } of walkStates(this.machine.engineDefinition as unknown as JsonObject)) {
      if (state.Type === 'Task' && handlers[name] === undefined)
        throw new Error(`Task state ${name} has no local handler; refusing to run it.`);
    }
    return handlers;
  }

  private async execute(input: JsonValue): Promise<ExecutionOutcome> {
    const { clock } = this.options;
    let result: JsonValue | undefined;
    let failure: unknown;
    let succeeded = false;
    let interpreter: Interpreter | undefined;
    try {
      interpreter = await loadInterpreter();
      const engine = new interpreter.StateMachine(this.machine.engineDefinition, {
        validationOptions: { noValidate: true },
      });
      const run = engine.run(input, {
        overrides: { taskResourceLocalHandlers: this.handlers() },
        context: this.context,
      });
      this.abortEngine = run.abort;
      if (this.requested !== undefined) run.abort();
      const pump = (async () => {
        for await (const event of run.eventLogs) this.mapper.handle(event);
      })();
      const timeout = this.machine.timeoutSeconds;
      if (timeout !== undefined) {
        // Counted from the execution's start; a limit on work, so never scaled.
        const left = this.identity.startDate.getTime() + timeout * 1000 - clock.now().getTime();
        clock.sleepUnscaled(left, this.controller.signal).then(
          () => this.request({ status: 'TIMED_OUT', error: 'States.Timeout' }),
          () => undefined, // the run ended first
        );
      }
      try {
        result = await run.result;
        succeeded = true;
      } catch (error) {
        failure = error;
      }
      this.finished = true;
      await pump;
    } catch (error) {
      // The interpreter refused to start (a definition the checks let through): fail, with why.
      this.finished = true;
      failure = error;
    }
    // Handlers observe the abort; wait for them so nothing is recorded after the end.
    this.controller.abort(new ExecutionEnding());
    await Promise.allSettled([...this.inFlight]);
    const requested = this.requested;
    let outcome: ExecutionOutcome;
    if (requested !== undefined) {
      const stopDate =
        requested.status === 'TIMED_OUT'
          ? new Date(this.identity.startDate.getTime() + (this.machine.timeoutSeconds ?? 0) * 1000)
          : clock.now();
      outcome = { ...requested, stopDate };
    } else if (succeeded) {
      outcome = { status: 'SUCCEEDED', output: json(result), stopDate: clock.now() };
    } else {
      outcome = { status: 'FAILED', ...this.failureFields(failure, interpreter), stopDate: clock.now() };
    }
    this.recordEnd(outcome);
    return outcome;
  }

  /** The error and cause an interpreter failure ends the execution with. */
  private failureFields(
    failure: unknown,
    interpreter: Interpreter | undefined,
  ): { error?: string; cause?: string } {
    const engineError = interpreter !== undefined && failure instanceof interpreter.ExecutionError;
    const error = (engineError ? failure.cause : failure) as Error | undefined;
    const name = error?.name ?? 'States.Runtime';
    const cause = (error as { cause?: unknown } | undefined)?.cause;
    const message = typeof cause === 'string' ? cause : (error?.message ?? String(failure));
    const failed = this.mapper.lastFailed;
    if (failed?.type === 'Fail') {
      // A Fail state reports exactly the fields it sets.
      const state = failed.state;
      return {
        ...(state.Error !== undefined || state.ErrorPath !== undefined ? { error: name } : {}),
        ...(state.Cause !== undefined || state.CausePath !== undefined ? { cause: message } : {}),
      };
    }
    return { error: name, cause: message };
  }

  private recordEnd(outcome: ExecutionOutcome): void {
    const fields = {
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
    };
    const type: Record<EndStatus, HistoryEventType> = {
      SUCCEEDED: 'ExecutionSucceeded',
      FAILED: 'ExecutionFailed',
      ABORTED: 'ExecutionAborted',
      TIMED_OUT: 'ExecutionTimedOut',
    };
    switch (outcome.status) {
      case 'SUCCEEDED':
        this.history.end(type.SUCCEEDED, {
          executionSucceededEventDetails: { output: outcome.output, outputDetails: NO_TRUNCATION },
        });
        break;
      case 'FAILED':
        this.history.end(type.FAILED, { executionFailedEventDetails: fields });
        break;
      // A stop or a timeout is not caused by the event before it: AWS records previousEventId 0.
      case 'ABORTED':
        this.history.end(type.ABORTED, { executionAbortedEventDetails: fields }, 0);
        break;
      case 'TIMED_OUT':
        this.history.end(type.TIMED_OUT, { executionTimedOutEventDetails: fields }, 0);
        break;
    }
  }

  private async runInternal(info: StateInfo, input: JsonValue): Promise<JsonValue> {
    const internal = info.internal!;
    if (internal.kind === 'result') return internal.value;
    const { clock } = this.options;
    const state = internal.state;
    let ms: number;
    if (typeof state.Seconds === 'number') ms = state.Seconds * 1000;
    else if (typeof state.Timestamp === 'string') ms = Date.parse(state.Timestamp) - clock.now().getTime();
    else if (typeof state.SecondsPath === 'string') {
      const value = evaluatePath(state.SecondsPath, input, this.context);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
        throw new StatesRuntimeError(
          `Path expression '${state.SecondsPath}' evaluated to ${JSON.stringify(value)}, but expected an integer >= 0`,
        );
      ms = value * 1000;
    } else {
      const path = String(state.TimestampPath);
      const value = evaluatePath(path, input, this.context);
      const at = typeof value === 'string' ? Date.parse(value) : NaN;
      if (!Number.isFinite(at))
        throw new StatesRuntimeError(
          `Path expression '${path}' evaluated to ${JSON.stringify(value)}, but expected a timestamp conforming to the RFC3339 profile`,
        );
      ms = at - clock.now().getTime();
    }
    // A wait AWS imposes: the clock's time scale shortens it. A stop rejects it (ExecutionEnding).
    await clock.sleep(Math.max(0, ms), this.controller.signal);
    return input;
  }

  private async runTask(info: StateInfo, parameters: JsonValue, entry: number): Promise<JsonValue> {
    const { clock, region } = this.options;
    const execution = this.controller.signal;
    await this.mapper.whenEntered(info.name, entry, execution);
    const binding = info.task!;
    const state = info.state;
    const retriers = Array.isArray(state.Retry) ? state.Retry.filter(isObject) : [];
    const attempts = retriers.map(() => 0);
    const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    const base = { resourceType: binding.resourceType, resource: binding.resource };
    for (;;) {
      if (execution.aborted) throw new ExecutionEnding();
      this.history.add('TaskScheduled', {
        taskScheduledEventDetails: {
          ...base,
          region,
          parameters: json(parameters),
          ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
        },
      });
      this.history.add('TaskStarted', { taskStartedEventDetails: base });
      const attempt = new AbortController();
      const signal = AbortSignal.any([execution, attempt.signal]);
      let timedOut = false;
      if (timeoutSeconds !== undefined) {
        // Timeouts bound work, which is not scaled: TimeoutSeconds are clock seconds.
        clock.sleepUnscaled(timeoutSeconds * 1000, signal).then(
          () => {
            timedOut = true;
            attempt.abort(new ExecutionEnding());
          },
          () => undefined, // the attempt ended first
        );
      }
      const context: TaskContext = {
        signal,
        clock,
        submitted: (output) =>
          void this.history.add('TaskSubmitted', {
            taskSubmittedEventDetails: { ...base, output: json(output), outputDetails: NO_TRUNCATION },
          }),
      };
      let failure: Failure;
      try {
        const output = await untilAborted(this.track(binding.run(parameters, context)), signal);
        this.history.add('TaskSucceeded', {
          taskSucceededEventDetails: { ...base, output: json(output), outputDetails: NO_TRUNCATION },
        });
        return output;
      } catch (error) {
        if (execution.aborted) throw new ExecutionEnding();
        if (timedOut) {
          failure = {
            error: 'States.Timeout',
            cause: `The task did not finish within its TimeoutSeconds (${timeoutSeconds} s).`,
            timeout: true,
          };
        } else if (error instanceof TaskFailure) {
          failure = { error: error.error, cause: error.cause, timeout: false };
        } else {
          this.options.log?.(
            `stepfunctions: task ${info.name} failed: ${(error as Error)?.stack ?? String(error)}`,
          );
          failure = {
            error: 'States.TaskFailed',
            cause: `Internal error: ${(error as Error)?.message ?? String(error)}`,
            timeout: false,
          };
        }
      } finally {
        attempt.abort(new ExecutionEnding());
      }
      this.history.add(failure.timeout ? 'TaskTimedOut' : 'TaskFailed', {
        [failure.timeout ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails']: {
          ...base,
          error: failure.error,
          cause: failure.cause,
        },
      });
      const delay = retryDelayMs(retriers, attempts, failure);
      if (delay === undefined)
        throw failure.timeout
          ? await statesTimeoutError(failure.cause)
          : new TaskFailure(failure.error, failure.cause);
      // A wait AWS imposes (scaled); a stop rejects it with ExecutionEnding.
      await clock.sleep(delay, execution);
    }
  }
}
