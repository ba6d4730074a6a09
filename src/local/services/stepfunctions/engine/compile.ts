/**
 * Turns a checked definition into the one the interpreter runs, so that everything touching time
 * or other services goes through the local stack's own code, and the interpreter's known slips
 * never show:
 *
 * - Task states keep their I/O processing and Catch, but their Retry and TimeoutSeconds are
 *   applied by the runner (retry intervals and timeouts on the injected clock, with AWS's retry
 *   rules), so the interpreter's own are disabled (its default 60 s task timeout included).
 * - Wait states become handler Tasks that sleep on the clock, scaled by the time scale.
 * - A Pass state whose Result is false, 0, "" or null becomes a handler Task returning it (the
 *   interpreter treats a falsy Result as absent).
 * - Retry intervals of Map and Parallel states (retried by the interpreter) are scaled.
 * - `ResultPath: "$"` is dropped (the same as no ResultPath; the interpreter would nest the result
 *   under a "$" key) and bracketed result paths are put in the form the interpreter parses.
 * - The execution's TimeoutSeconds is left to the runner (the clock again).
 *
 * The original states stay available by name, so history events carry the types AWS would show.
 */
import type { StateMachineDefinition } from './interpreter.js';
import { isObject, nestedMachines, type JsonObject, type JsonValue } from './asl.js';
import type { CheckedDefinition } from './validate.js';
import type { TaskBinding } from './integrations.js';

/** Resource of the Tasks the compiler makes; they always have a local handler. */
export const INTERNAL_RESOURCE = 'arn:aws:states:::mlpipe:internal';
/** The longest timer Node keeps (2^31-1 ms), in whole seconds: beyond it, timers fire at once. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export type InternalHandler = { kind: 'wait'; state: JsonObject } | { kind: 'result'; value: JsonValue };

export interface StateInfo {
  name: string;
  /** The state's type in the definition (before compilation). */
  type: string;
  /** The state as written. */
  state: JsonObject;
  /** The Map or Parallel state this state belongs to, if any. */
  parent?: string;
  task?: TaskBinding;
  internal?: InternalHandler;
}

export interface CompiledMachine {
  /** The definition as the interpreter runs it. */
  engineDefinition: StateMachineDefinition;
  states: Map<string, StateInfo>;
  /** The execution's TimeoutSeconds, enforced by the runner. */
  timeoutSeconds: number | undefined;
}

function fixResultPath(target: JsonObject): void {
  const path = target.ResultPath;
  if (path === '$') delete target.ResultPath;
  else if (typeof path === 'string' && path.startsWith('$[')) target.ResultPath = `$.${path.slice(1)}`;
}

function transition(state: JsonObject): JsonObject {
  return state.End === true ? { End: true } : { Next: state.Next as string };
}

function pick(state: JsonObject, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) if (state[key] !== undefined) out[key] = state[key];
  return out;
}

function compileState(state: JsonObject, info: StateInfo, timeScale: number): JsonObject {
  if (info.internal?.kind === 'wait') {
    return {
      Type: 'Task',
      Resource: INTERNAL_RESOURCE,
      ...pick(state, ['Comment', 'InputPath', 'OutputPath']),
      TimeoutSeconds: MAX_TIMER_SECONDS,
      ...transition(state),
    };
  }
  if (info.internal?.kind === 'result') {
    const out: JsonObject = {
      Type: 'Task',
      Resource: INTERNAL_RESOURCE,
      ...pick(state, ['Comment', 'InputPath', 'Parameters', 'ResultPath', 'OutputPath']),
      TimeoutSeconds: MAX_TIMER_SECONDS,
      ...transition(state),
    };
    fixResultPath(out);
    return out;
  }
  const out = structuredClone(state);
  fixResultPath(out);
  if (Array.isArray(out.Catch))
    for (const catcher of out.Catch) if (isObject(catcher)) fixResultPath(catcher);
  if (state.Type === 'Task') {
    delete out.Retry;
    delete out.TimeoutSecondsPath;
    out.TimeoutSeconds = MAX_TIMER_SECONDS;
  }
  if ((state.Type === 'Map' || state.Type === 'Parallel') && Array.isArray(out.Retry)) {
    out.Retry = out.Retry.map((retrier) => {
      if (!isObject(retrier)) return retrier;
      const scaled: JsonObject = {
        ...retrier,
        IntervalSeconds:
          (typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1) * timeScale,
      };
      if (typeof retrier.MaxDelaySeconds === 'number')
        scaled.MaxDelaySeconds = retrier.MaxDelaySeconds * timeScale;
      return scaled;
    });
  }
  return out;
}

function compileMachine(
  machine: JsonObject,
  path: string,
  states: Map<string, StateInfo>,
  timeScale: number,
): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(machine)) {
    if (key !== 'States' && key !== 'TimeoutSeconds') out[key] = value;
  }
  const compiled: JsonObject = {};
  for (const [name, state] of Object.entries(machine.States as JsonObject)) {
    const info = states.get(name)!;
    const statePath = `${path}/States/${name}`;
    const next = compileState(state as JsonObject, info, timeScale);
    for (const nested of nestedMachines(state as JsonObject, statePath)) {
      const key = nested.path.slice(statePath.length + 1).split('/');
      const compiledNested = compileMachine(nested.machine, nested.path, states, timeScale);
      if (key[0] === 'Branches') (next.Branches as JsonValue[])[Number(key[1])] = compiledNested;
      else next[key[0]!] = compiledNested;
    }
    compiled[name] = next;
  }
  out.States = compiled;
  return out;
}

/** Every state's StateInfo, by name (names are unique across nested machines). */
function collectStates(
  machine: JsonObject,
  parent: string | undefined,
  tasks: Map<string, TaskBinding>,
  states: Map<string, StateInfo>,
): void {
  if (!isObject(machine.States)) return;
  for (const [name, value] of Object.entries(machine.States)) {
    if (!isObject(value)) continue;
    const state = value;
    const info: StateInfo = { name, type: String(state.Type), state };
    if (parent !== undefined) info.parent = parent;
    if (state.Type === 'Task') info.task = tasks.get(name)!;
    if (state.Type === 'Wait') info.internal = { kind: 'wait', state };
    if (state.Type === 'Pass' && 'Result' in state && !state.Result)
      info.internal = { kind: 'result', value: state.Result ?? null };
    states.set(name, info);
    for (const nested of nestedMachines(state, '')) collectStates(nested.machine, name, tasks, states);
  }
}

/** The runnable form of a checked definition. */
export function compileDefinition(
  checked: CheckedDefinition,
  options: { timeScale: number },
): CompiledMachine {
  const { definition, tasks } = checked;
  const states = new Map<string, StateInfo>();
  collectStates(definition, undefined, tasks, states);
  const timeout = definition.TimeoutSeconds;
  return {
    engineDefinition: compileMachine(
      definition,
      '',
      states,
      options.timeScale,
    ) as unknown as StateMachineDefinition,
    states,
    timeoutSeconds: typeof timeout === 'number' ? timeout : undefined,
  };
}
