/**
 * Errors as the interpreter must see them for Retry and Catch to behave as on AWS.
 *
 * `States.TaskFailed` in a Catch matches every task error except `States.Timeout`; the interpreter
 * decides that with `instanceof` its own (unexported) timeout class. Task timeouts are measured on
 * the injected clock here, so to report one the local stack needs an instance of that very class:
 * `statesTimeoutError` obtains the class once, from a one-state machine whose task the interpreter
 * itself times out after a microsecond.
 */
import { loadInterpreter } from './interpreter.js';

type ErrorClass = new () => Error;

let timeoutClass: Promise<ErrorClass> | undefined;

async function loadTimeoutClass(): Promise<ErrorClass> {
  const { ExecutionError, StateMachine } = await loadInterpreter();
  const machine = new StateMachine(
    {
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'local:probe', TimeoutSeconds: 1e-6, End: true } },
    },
    { validationOptions: { noValidate: true } },
  );
  const run = machine.run(null, {
    overrides: { taskResourceLocalHandlers: { T: () => new Promise<null>(() => undefined) } },
  });
  return run.result.then(
    () => {
      throw new Error('the interpreter did not time out its probe task');
    },
    (error: unknown) => {
      const cause = error instanceof ExecutionError ? (error.cause as Error | undefined) : undefined;
      if (cause?.name !== 'States.Timeout')
        throw new Error(`the interpreter's probe task failed with ${String(error)}`);
      return cause.constructor as ErrorClass;
    },
  );
}

/** A `States.Timeout` error the interpreter recognises as its own; `cause` is what Catch outputs. */
export async function statesTimeoutError(cause: string): Promise<Error> {
  timeoutClass ??= loadTimeoutClass();
  const error = new (await timeoutClass)();
  error.message = cause;
  return error;
}

/**
 * An error the interpreter neither retries nor catches (`States.Runtime`): a state the local stack
 * runs itself could not be evaluated (a Wait state's path selecting no number, for example).
 */
export class StatesRuntimeError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'States.Runtime';
  }
}
