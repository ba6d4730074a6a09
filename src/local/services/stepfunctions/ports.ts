import { AwsError } from '../../core/errors.js';

/**
 * What the Step Functions service needs from the rest of the local stack, as narrow interfaces so
 * the service can be built (and tested) against anything that provides them: a clock, and a way
 * to call another local service's operation in-process by its AWS name with AWS-shaped input.
 */

/** Time as the service sees it. Tests drive a manual clock; the server uses `systemClock()`. */
export interface Clock {
  now(): Date;
  /**
   * Resolves after `ms` milliseconds of this clock's time, or as soon as `signal` aborts (it never
   * rejects: callers look at the signal afterwards).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * The factor applied to durations AWS makes a workflow wait for (Wait states, Retry intervals,
 * polling of a `.sync` task): 0.001 turns a 1200 s Wait into 1.2 s. Work itself, and the
 * timeouts that bound it (`TimeoutSeconds`), are not scaled: a Glue job takes the time it takes.
 */
export const DEFAULT_TIME_SCALE = 0.001;

/** The longest delay one Node timer holds (2^31-1 ms); longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The process's own clock: real time, real timers (chained for waits beyond one timer's reach). */
export function systemClock(): Clock {
  return {
    now: () => new Date(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        // Nothing to wait for: no timer (Node makes even a 0 ms timer last a millisecond).
        if (signal?.aborted || ms <= 0) return resolve();
        const until = Date.now() + ms;
        let timer: ReturnType<typeof setTimeout>;
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const arm = (): void => {
          const left = until - Date.now();
          if (left <= 0) return done();
          timer = setTimeout(left > MAX_TIMER_MS ? arm : done, Math.min(left, MAX_TIMER_MS));
        };
        arm();
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

/**
 * Calls `operation` (the AWS operation name, e.g. `CreateDatasetImportJob`) of the local service
 * whose SigV4 signing name is `service` (`personalize`, `glue`) with `input` in that service's own
 * AWS JSON wire form (its API's member names, timestamps as epoch seconds). Resolves with the
 * operation's output (timestamps may be `Date`s or epoch seconds); rejects with an error carrying
 * the AWS error `code` (and `status`), like `AwsError`.
 */
export type Invoke = (service: string, operation: string, input: Record<string, unknown>) => Promise<unknown>;

/** The other local services, as the task binder reaches them. */
export interface LocalServices {
  invoke: Invoke;
  /** Whether the local stack serves `operation` of `service` (checked when a definition is created). */
  serves(service: string, operation: string): boolean;
}

/** A service's AWS JSON operations by AWS operation name (what `glueHandlers` and the like return). */
export type OperationTable = Record<string, (input: Record<string, unknown>) => Promise<unknown>>;

/** LocalServices over the operation tables of in-process services, keyed by signing name. */
export function servicesFromTables(tables: Record<string, OperationTable>): LocalServices {
  const handler = (service: string, operation: string): OperationTable[string] | undefined =>
    Object.hasOwn(tables, service) && Object.hasOwn(tables[service]!, operation)
      ? tables[service]![operation]
      : undefined;
  return {
    serves: (service, operation) => handler(service, operation) !== undefined,
    invoke: async (service, operation, input) => {
      const call = handler(service, operation);
      if (call === undefined)
        throw new AwsError(
          'UnknownOperationException',
          `The mlpipe local stack does not implement ${service} operation ${operation}.`,
        );
      // A copy, as the service would get from the wire: it must not share objects with the caller.
      return call(structuredClone(input));
    },
  };
}
