/**
 * An execution's history as Step Functions records it: numbered `HistoryEvent`s with AWS's event
 * types and `…EventDetails` members, at most 25,000 of them (the last one reserved for the event
 * that ends the execution, which is how AWS ends a runaway execution: event 25,000 is its
 * ExecutionFailed), and the mapping of the interpreter's event log onto them.
 *
 * The interpreter reports states entering, exiting, failing and Map iterations; the Task events
 * (TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded, TaskFailed, TaskTimedOut) come from
 * the runner, which waits until a state's entry is recorded before recording its task events, so
 * the order is AWS's. Types come from the definition as written (a Wait runs as a handler Task but
 * is recorded as WaitStateEntered/Exited).
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { Clock } from '../../../core/clock.js';
import type { JsonValue } from './asl.js';
import type { CompiledMachine, StateInfo } from './compile.js';
import { evaluatePath } from './paths.js';
import type { StateMachine } from './interpreter.js';

/** AWS's quota on the events of one execution. */
export const HISTORY_LIMIT = 25_000;

/** One event of the interpreter's log. */
export type EngineEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

export type EventDetails = Omit<HistoryEvent, 'timestamp' | 'type' | 'id' | 'previousEventId'>;

/** Appends numbered, timestamped events; calls `onLimit` once when only the last slot is left. */
export class HistoryRecorder {
  readonly events: HistoryEvent[];
  private sealed = false;
  private limitReached = false;

  constructor(
    private readonly clock: Clock,
    private readonly onChange: () => void,
    private readonly onLimit: () => void,
    events: HistoryEvent[] = [],
    private readonly limit = HISTORY_LIMIT,
  ) {
    this.events = events;
  }

  get lastId(): number {
    return this.events.length;
  }

  /** Records an event; ignored once the execution has ended or the history is full. */
  add(
    type: HistoryEventType,
    details: EventDetails = {},
    previousEventId = this.lastId,
  ): HistoryEvent | undefined {
    if (this.sealed) return undefined;
    if (this.events.length >= this.limit - 1) {
      if (!this.limitReached) {
        this.limitReached = true;
        this.onLimit();
      }
      return undefined;
    }
    return this.push(type, details, previousEventId);
  }

  /** Records the event that ends the execution (it may take the reserved last slot) and seals. */
  end(
    type: HistoryEventType,
    details: EventDetails,
    previousEventId = this.lastId,
  ): HistoryEvent | undefined {
    if (this.sealed) return undefined;
    const event = this.push(type, details, previousEventId);
    this.sealed = true;
    return event;
  }

  private push(type: HistoryEventType, details: EventDetails, previousEventId: number): HistoryEvent {
    const event: HistoryEvent = {
      timestamp: this.clock.now(),
      type,
      id: this.events.length + 1,
      previousEventId,
      ...details,
    };
    this.events.push(event);
    this.onChange();
    return event;
  }
}

/** JSON text of a state's input or output, as history events carry it. */
export function json(value: JsonValue | undefined): string {
  return JSON.stringify(value ?? null);
}

const NO_TRUNCATION = { truncated: false };

/**
 * Maps the interpreter's events onto the recorder, and lets task handlers wait until their
 * state's entry is recorded (`whenEntered`).
 */
export class EngineEventMapper {
  private readonly entered = new Map<string, number>();
  private readonly waiters = new Map<string, { count: number; resolve: () => void }[]>();
  /** Map and Parallel states that have ended: later events from inside them are stragglers. */
  private readonly closed = new Set<string>();
  private readonly openIterations = new Map<string, Set<number>>();
  /**
   * The last state (not a Map or Parallel, which only pass failures on) reported failing: when it
   * is a Fail state, the execution's error and cause are exactly the fields that state sets.
   */
  lastFailed: StateInfo | undefined;

  constructor(
    private readonly machine: CompiledMachine,
    private readonly recorder: HistoryRecorder,
    private readonly context: JsonValue,
  ) {}

  /** Resolves once the `count`-th entry of state `name` is recorded (or `signal` aborts). */
  whenEntered(name: string, count: number, signal: AbortSignal): Promise<void> {
    if ((this.entered.get(name) ?? 0) >= count || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      const list = this.waiters.get(name) ?? [];
      list.push({ count, resolve: done });
      this.waiters.set(name, list);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private markEntered(name: string): void {
    const count = (this.entered.get(name) ?? 0) + 1;
    this.entered.set(name, count);
    const list = this.waiters.get(name);
    if (list === undefined) return;
    const ready = list.filter((w) => w.count <= count);
    const waiting = list.filter((w) => w.count > count);
    if (waiting.length > 0) this.waiters.set(name, waiting);
    else this.waiters.delete(name);
    for (const w of ready) w.resolve();
  }

  /** Whether `info` sits inside a Map or Parallel state that has already ended. */
  private inClosed(info: StateInfo | undefined): boolean {
    for (let parent = info?.parent; parent !== undefined; parent = this.machine.states.get(parent)?.parent) {
      if (this.closed.has(parent)) return true;
    }
    return false;
  }

  handle(event: EngineEvent): void {
    switch (event.type) {
      case 'StateEntered': {
        const info = this.machine.states.get(event.state.name);
        if (info === undefined || this.inClosed(info)) return;
        this.closed.delete(info.name);
        this.recorder.add(`${info.type}StateEntered` as HistoryEventType, {
          stateEnteredEventDetails: {
            name: info.name,
            input: json(event.state.input),
            inputDetails: NO_TRUNCATION,
          },
        });
        if (info.type === 'Map') {
          this.openIterations.set(info.name, new Set());
          const length = this.mapLength(info, event.state.input);
          this.recorder.add('MapStateStarted', {
            mapStateStartedEventDetails: length === undefined ? {} : { length },
          });
        }
        if (info.type === 'Parallel') this.recorder.add('ParallelStateStarted');
        this.markEntered(info.name);
        return;
      }
      case 'StateExited': {
        const info = this.machine.states.get(event.state.name);
        if (info === undefined || this.inClosed(info)) return;
        if ((info.type === 'Map' || info.type === 'Parallel') && !this.closed.has(info.name)) {
          this.recorder.add(`${info.type}StateSucceeded` as HistoryEventType);
        }
        if (info.type === 'Map' || info.type === 'Parallel') this.closed.add(info.name);
        this.recorder.add(`${info.type}StateExited` as HistoryEventType, {
          stateExitedEventDetails: {
            name: info.name,
            output: json(event.state.output),
            outputDetails: NO_TRUNCATION,
          },
        });
        return;
      }
      case 'StateFailed': {
        const info = this.machine.states.get(event.state.name);
        if (info === undefined || this.inClosed(info)) return;
        if (info.type !== 'Map' && info.type !== 'Parallel') this.lastFailed = info;
        if (info.type === 'Map') {
          for (const index of this.openIterations.get(info.name) ?? [])
            this.recorder.add('MapIterationAborted', {
              mapIterationAbortedEventDetails: { name: info.name, index },
            });
          this.openIterations.delete(info.name);
        }
        if (info.type === 'Map' || info.type === 'Parallel') {
          this.recorder.add(`${info.type}StateFailed` as HistoryEventType);
          // Set until the state is entered again: a caught failure still exits, without "Succeeded".
          this.closed.add(info.name);
        }
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const name = event.parentState.name;
        const info = this.machine.states.get(name);
        if (info === undefined || this.closed.has(name) || this.inClosed(info)) return;
        const open = this.openIterations.get(name);
        if (event.type === 'MapIterationStarted') open?.add(event.index);
        else open?.delete(event.index);
        const details = { name, index: event.index };
        if (event.type === 'MapIterationStarted')
          this.recorder.add('MapIterationStarted', { mapIterationStartedEventDetails: details });
        else if (event.type === 'MapIterationSucceeded')
          this.recorder.add('MapIterationSucceeded', { mapIterationSucceededEventDetails: details });
        else this.recorder.add('MapIterationFailed', { mapIterationFailedEventDetails: details });
        return;
      }
      default:
        // Execution start/end events are the runner's; Parallel branches, retries and catches have
        // no events of their own in AWS's history.
        return;
    }
  }

  /** How many items a Map state starts with (its input, through InputPath and ItemsPath). */
  private mapLength(info: StateInfo, input: JsonValue): number | undefined {
    try {
      let value: unknown = input;
      const inputPath = info.state.InputPath;
      if (inputPath === null) value = {};
      else if (typeof inputPath === 'string') value = evaluatePath(inputPath, input, this.context);
      const itemsPath = info.state.ItemsPath;
      if (typeof itemsPath === 'string') value = evaluatePath(itemsPath, value as JsonValue, this.context);
      return Array.isArray(value) ? value.length : undefined;
    } catch {
      return undefined;
    }
  }
}
