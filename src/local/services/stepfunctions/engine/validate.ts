/**
 * Checks a state machine definition before it is stored: valid JSON, valid Amazon States Language
 * (asl-validator, with JSONPath and ARN checks), no feature the interpreter cannot run, and every
 * Task bound to an integration the local stack runs (integrations.ts). A definition the local
 * stack would run differently from AWS is refused with the state and the feature named, never run
 * wrongly.
 *
 * Refused, and why:
 * - JSONata (`QueryLanguage: "JSONata"`, `Arguments`, `Output`, `Condition`): the interpreter
 *   evaluates JSONPath only and would ignore JSONata expressions.
 * - Variables (`Assign`, `$name` references): the interpreter has no variable scope.
 * - Distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`, `ItemReader`, `ItemBatcher`,
 *   `ResultWriter`, tolerated failures, `Label`): child executions and map runs do not exist here.
 * - `HeartbeatSeconds[Path]`: nothing sends heartbeats to a local task.
 * - `TimeoutSecondsPath`: a timeout read at run time could exceed what the interpreter's timers
 *   hold; use `TimeoutSeconds`.
 * - `Credentials` (cross-account tasks), `.waitForTaskToken` callbacks, activities, Lambda.
 * - `$$.State.*` and `$$.Task.*` context fields, which the interpreter does not provide.
 * - Intrinsic functions in a Fail state's `ErrorPath`/`CausePath` (the interpreter reads paths only).
 */
import { isObject, walkStates, type JsonObject, type JsonValue } from './asl.js';
import { bindResource, BindingProblem, type BindOptions, type TaskBinding } from './integrations.js';

export interface DefinitionProblem {
  /** AWS's diagnostic codes where they apply (`SCHEMA_VALIDATION_FAILED`), else `UNSUPPORTED_FEATURE`. */
  code: string;
  message: string;
  /** JSON pointer into the definition. */
  path?: string;
}

export class InvalidDefinitionError extends Error {
  constructor(readonly problems: DefinitionProblem[]) {
    super(
      `Invalid State Machine Definition: '${problems
        .map((p) => `${p.code}: ${p.message}${p.path === undefined ? '' : ` at ${p.path}`}`)
        .join(', ')}'`,
    );
    this.name = 'InvalidDefinitionError';
  }
}

/** A definition that passed every check, with each Task state's binding by state name. */
export interface CheckedDefinition {
  definition: JsonObject;
  tasks: Map<string, TaskBinding>;
}

const DISTRIBUTED_MAP_FIELDS = [
  'ItemReader',
  'ItemBatcher',
  'ResultWriter',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'Label',
];
/** Keys of a state that hold other state machines (walked on their own). */
const NESTED_KEYS = new Set(['ItemProcessor', 'Iterator', 'Branches']);
const VARIABLE_REFERENCE = /(?<![\w$])\$[A-Za-z_]/;
const MISSING_CONTEXT = /\$\$\.(State|Task)\b/;

/** Strings of a state the interpreter evaluates as paths or intrinsic functions. */
function expressions(value: JsonValue, key: string, out: { key: string; text: string }[]): void {
  if (typeof value === 'string') {
    if (key.endsWith('.$') || key.endsWith('Path') || key === 'Variable') out.push({ key, text: value });
  } else if (Array.isArray(value)) {
    for (const item of value) expressions(item, key, out);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) if (!NESTED_KEYS.has(k)) expressions(v, k, out);
  }
}

function unsupportedFeatures(definition: JsonObject): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const refuse = (state: string | undefined, path: string, feature: string, hint: string): void => {
    problems.push({
      code: 'UNSUPPORTED_FEATURE',
      message: `${state === undefined ? 'The state machine' : `State "${state}"`} uses ${feature}, which the mlpipe local stack cannot run; ${hint}`,
      path,
    });
  };
  const jsonataHint = 'write it with JSONPath (Parameters, ResultSelector, ResultPath, OutputPath)';
  if (definition.QueryLanguage === 'JSONata')
    refuse(undefined, '/QueryLanguage', 'JSONata (QueryLanguage "JSONata")', jsonataHint);
  for (const { name, state, path } of walkStates(definition)) {
    if (state.QueryLanguage === 'JSONata')
      refuse(name, `${path}/QueryLanguage`, 'JSONata (QueryLanguage "JSONata")', jsonataHint);
    for (const field of ['Arguments', 'Output'])
      if (state[field] !== undefined)
        refuse(name, `${path}/${field}`, `the JSONata field ${field}`, jsonataHint);
    if (state.Assign !== undefined)
      refuse(name, `${path}/Assign`, 'variables (Assign)', 'pass values along in the state input instead');
    const rules = [
      ...(Array.isArray(state.Choices) ? state.Choices.map((r, i) => ({ r, at: `Choices/${i}` })) : []),
      ...(Array.isArray(state.Catch) ? state.Catch.map((r, i) => ({ r, at: `Catch/${i}` })) : []),
    ];
    for (const { r, at } of rules) {
      if (!isObject(r)) continue;
      if (r.Assign !== undefined)
        refuse(
          name,
          `${path}/${at}/Assign`,
          'variables (Assign)',
          'pass values along in the state input instead',
        );
      for (const field of ['Condition', 'Output'])
        if (r[field] !== undefined)
          refuse(name, `${path}/${at}/${field}`, `the JSONata field ${field}`, jsonataHint);
    }
    if (state.Type === 'Task') {
      for (const field of ['HeartbeatSeconds', 'HeartbeatSecondsPath'])
        if (state[field] !== undefined)
          refuse(name, `${path}/${field}`, field, 'nothing sends heartbeats to a local task; remove it');
      if (state.TimeoutSecondsPath !== undefined)
        refuse(
          name,
          `${path}/TimeoutSecondsPath`,
          'TimeoutSecondsPath',
          'give the timeout as TimeoutSeconds',
        );
      if (state.Credentials !== undefined)
        refuse(name, `${path}/Credentials`, 'cross-account Credentials', 'the local stack has one account');
    }
    if (state.Type === 'Map') {
      const processor = isObject(state.ItemProcessor) ? state.ItemProcessor : undefined;
      const config = isObject(processor?.ProcessorConfig) ? processor.ProcessorConfig : undefined;
      if (config?.Mode === 'DISTRIBUTED')
        refuse(
          name,
          `${path}/ItemProcessor/ProcessorConfig/Mode`,
          'Distributed Map (ProcessorConfig.Mode "DISTRIBUTED")',
          'use an inline Map (Mode "INLINE")',
        );
      for (const field of DISTRIBUTED_MAP_FIELDS)
        if (state[field] !== undefined)
          refuse(name, `${path}/${field}`, `the Distributed Map field ${field}`, 'use an inline Map');
    }
    if (state.Type === 'Fail') {
      for (const field of ['ErrorPath', 'CausePath']) {
        const value = state[field];
        if (typeof value === 'string' && !value.startsWith('$'))
          refuse(
            name,
            `${path}/${field}`,
            `an intrinsic function in ${field}`,
            'give a path, or compute it in a Pass state first',
          );
      }
    }
    const found: { key: string; text: string }[] = [];
    expressions(state, '', found);
    for (const { key, text } of found) {
      const context = MISSING_CONTEXT.exec(text);
      if (context !== null)
        refuse(
          name,
          path,
          `the context object field $$.${context[1]} (in ${key})`,
          'only $$.Execution, $$.StateMachine and $$.Map are provided',
        );
      else if (VARIABLE_REFERENCE.test(text))
        refuse(
          name,
          path,
          `a variable reference (${key}: ${text})`,
          'pass values along in the state input instead',
        );
    }
  }
  return problems;
}

/** Parses and checks `text`; throws InvalidDefinitionError listing every problem found. */
export async function checkDefinition(text: string, options: BindOptions): Promise<CheckedDefinition> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InvalidDefinitionError([
      { code: 'INVALID_JSON_DESCRIPTION', message: (error as Error).message },
    ]);
  }
  if (!isObject(parsed))
    throw new InvalidDefinitionError([
      { code: 'SCHEMA_VALIDATION_FAILED', message: 'The definition must be a JSON object' },
    ]);
  const definition = parsed;
  // asl-validator writes default QueryLanguage fields into what it checks: give it a copy. Loaded
  // on first use: with its JSON-schema library it is a fifth of the local stack's start-up.
  const { default: aslValidator } = await import('asl-validator');
  const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
  if (!result.isValid)
    throw new InvalidDefinitionError(
      result.errors.map((e) => ({ code: e['Error code'], message: e.Message })),
    );
  const problems = unsupportedFeatures(definition);
  const tasks = new Map<string, TaskBinding>();
  for (const { name, state, path } of walkStates(definition)) {
    if (state.Type !== 'Task') continue;
    try {
      tasks.set(name, await bindResource(String(state.Resource), state.Parameters, options));
    } catch (error) {
      if (!(error instanceof BindingProblem)) throw error;
      problems.push({
        code: 'SCHEMA_VALIDATION_FAILED',
        message: `State "${name}": ${error.message}`,
        path: `${path}/Resource`,
      });
    }
  }
  if (problems.length > 0) throw new InvalidDefinitionError(problems);
  return { definition, tasks };
}
