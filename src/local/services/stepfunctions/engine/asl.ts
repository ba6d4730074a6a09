/**
 * Amazon States Language as plain JSON: the value types, and a walk over every state of a
 * definition including those nested in Map item processors and Parallel branches (handlers and
 * overrides of the interpreter are keyed by state name, so whatever is bound per state must see
 * all of them).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** One state and where it sits. */
export interface StateEntry {
  name: string;
  state: JsonObject;
  /** JSON pointer of the state in the definition, e.g. `/States/Run/ItemProcessor/States/Step`. */
  path: string;
}

/** The nested state machines of a Map (`ItemProcessor`, or the older `Iterator`) or Parallel state. */
export function nestedMachines(state: JsonObject, path: string): { machine: JsonObject; path: string }[] {
  const nested: { machine: JsonObject; path: string }[] = [];
  if (state.Type === 'Map') {
    for (const key of ['ItemProcessor', 'Iterator']) {
      const machine = state[key];
      if (isObject(machine)) nested.push({ machine, path: `${path}/${key}` });
    }
  } else if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
    state.Branches.forEach((branch, i) => {
      if (isObject(branch)) nested.push({ machine: branch, path: `${path}/Branches/${i}` });
    });
  }
  return nested;
}

/** Every state of `machine`, depth first, nested machines right after the state that holds them. */
export function* walkStates(machine: JsonObject, path = ''): Generator<StateEntry> {
  const states = machine.States;
  if (!isObject(states)) return;
  for (const [name, state] of Object.entries(states)) {
    if (!isObject(state)) continue;
    const statePath = `${path}/States/${escapePointer(name)}`;
    yield { name, state, path: statePath };
    for (const nested of nestedMachines(state, statePath)) yield* walkStates(nested.machine, nested.path);
  }
}

/** JSON pointer escaping of one reference token (RFC 6901). */
export function escapePointer(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
