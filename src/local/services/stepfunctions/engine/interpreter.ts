/**
 * The one door to the ASL interpreter (`aws-local-stepfunctions`): its polyfill is imported first,
 * so it is in place before the interpreter's module is evaluated. Nothing else imports the package.
 */
import './promise-with-resolvers.js';

export {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
export type { StateMachineDefinition } from 'aws-local-stepfunctions';
