/**
 * The one door to the ASL interpreter (`aws-local-stepfunctions`): loaded on first use (it is
 * about half of the local stack's start-up, and most runs of the stack never start an execution),
 * with its polyfill imported first, so it is in place before the interpreter's module is
 * evaluated. Nothing else imports the package.
 */
export type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';

export type Interpreter = typeof import('aws-local-stepfunctions');

let interpreter: Promise<Interpreter> | undefined;

/** The interpreter's module, imported once. */
export function loadInterpreter(): Promise<Interpreter> {
  interpreter ??= import('./promise-with-resolvers.js').then(() => import('aws-local-stepfunctions'));
  return interpreter;
}
