/**
 * The task binder: what a Task state's `Resource` does locally. Each supported integration turns
 * the state's effective parameters into an in-process call of another local service (through the
 * injected `invoke`) and the result or error into what Step Functions would hand the state:
 *
 * - `arn:aws:states:::aws-sdk:<service>:<apiAction>` for the services in SDK_SERVICES and any API
 *   action their SDK models (so a definition written for AWS deploys unchanged; an operation added
 *   to a service's wire table is callable at once, and one no service serves yet fails the task
 *   with `<Service>.UnknownOperationException` when called), with the SDK integration's conventions (conventions.ts): PascalCase members, map keys kept, ISO timestamps,
 *   errors named `<Service>.<Exception>` (`Personalize.ResourceAlreadyExistsException`; anything the
 *   API does not model, such as a validation error, is `<Service>.<Service>Exception`) with AWS's
 *   cause text `message (Service: …, Status Code: …, Request ID: …)`.
 * - `arn:aws:states:::glue:startJobRun` (the run's id and job name) and `…:glue:startJobRun.sync`
 *   (starts the run, then polls GetJobRun on the clock — a wait, so scaled — until it ends; SUCCEEDED returns the run as
 *   the optimized integration does, with epoch-millisecond timestamps; FAILED, ERROR, TIMEOUT and
 *   STOPPED fail the task with `States.TaskFailed` and the run as the cause; stopping the execution
 *   stops the run).
 *
 * Every other resource (Lambda, activities, callbacks, services the local stack does not host) is
 * refused when the definition is created, so a Task can never reach the interpreter's own default
 * of calling AWS Lambda. Adding an integration: a matcher in `bindResource` returning a
 * TaskBinding, and a line in SUPPORTED; another service for aws-sdk tasks: a row in SDK_SERVICES.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../../core/clock.js';
import type { Invoke } from '../../../core/service.js';
import { isObject, type JsonObject, type JsonValue } from './asl.js';
import { ConventionError, ServiceModel, type OperationModel } from './conventions.js';

/** What a running task is handed besides its parameters. */
export interface TaskContext {
  /** Aborts when the execution is stopped or the stack shuts down. */
  signal: AbortSignal;
  clock: Clock;
  /** For `.sync` tasks: the job was started (TaskSubmitted), with what the start returned. */
  submitted(output: JsonValue): void;
}

/** A Task state's resource, bound to what runs it. */
export interface TaskBinding {
  /** `aws-sdk:personalize`, `glue` — as Step Functions' history events name it. */
  readonly resourceType: string;
  /** `createDatasetImportJob`, `startJobRun.sync`. */
  readonly resource: string;
  /** Runs the task; rejects with a TaskFailure (or an abort once the signal fired). */
  run(parameters: JsonValue, context: TaskContext): Promise<JsonValue>;
}

/** A task's failure as Step Functions reports it: `error` is the name Retry and Catch match. */
export class TaskFailure extends Error {
  constructor(
    readonly error: string,
    /** Also what the interpreter reports as the state's Cause. */
    override readonly cause: string,
  ) {
    super(cause);
    this.name = error;
  }
}

/** Why a resource cannot be bound, for the InvalidDefinition message. */
export class BindingProblem extends Error {}

/** The other local services, as Task states reach them: the registry's `invoke` and `serves`. */
export interface TaskServices {
  invoke: Invoke;
  /** Whether the services list serves `operation` of `service` (names as in the services list). */
  serves(service: string, operation: string): boolean;
}

/** A service the aws-sdk integration can call locally. */
interface SdkService {
  /** Its name in the services list: how `invoke` and `serves` name it. */
  service: string;
  /** Step Functions' PascalCase service name in error names and causes. */
  errorPrefix: string;
  load(): Promise<Record<string, unknown>>;
}

/** Keyed by the lower-case service name in the resource ARN. */
const SDK_SERVICES: Record<string, SdkService> = {
  personalize: {
    service: 'personalize',
    errorPrefix: 'Personalize',
    load: () => import('@aws-sdk/client-personalize') as Promise<Record<string, unknown>>,
  },
  glue: {
    service: 'glue',
    errorPrefix: 'Glue',
    load: () => import('@aws-sdk/client-glue') as Promise<Record<string, unknown>>,
  },
};

/** What a refusal lists as supported. */
export const SUPPORTED = [
  `arn:aws:states:::aws-sdk:<service>:<apiAction> for ${Object.keys(SDK_SERVICES).join(', ')} (the operations the local stack serves)`,
  'arn:aws:states:::glue:startJobRun',
  'arn:aws:states:::glue:startJobRun.sync',
];

/** What the registry's invoke raises for an operation no service serves. */
const UNKNOWN_OPERATION = 'UnknownOperationException';

const GLUE_TERMINAL_OK = new Set(['SUCCEEDED']);
const GLUE_TERMINAL_FAILED = new Set(['FAILED', 'ERROR', 'TIMEOUT', 'STOPPED']);
/** How often (AWS time: the clock's time scale shortens it) a `.sync` Glue task polls its run. */
export const GLUE_POLL_MS = 10_000;

const models = new Map<string, Promise<ServiceModel>>();

function modelOf(service: SdkService): Promise<ServiceModel> {
  let model = models.get(service.service);
  if (model === undefined) {
    model = service.load().then((sdk) => new ServiceModel(sdk));
    models.set(service.service, model);
  }
  return model;
}

/** The AWS error a failed `invoke` carries. */
function awsErrorOf(error: unknown): { code: string; message: string; status: number } {
  const e = error as { code?: unknown; name?: unknown; message?: unknown; status?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'InternalFailure';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const status = typeof e?.status === 'number' ? e.status : code === 'InternalFailure' ? 500 : 400;
  return { code, message, status };
}

function refusal(resource: string, why: string): BindingProblem {
  return new BindingProblem(
    `The resource ${resource} is not supported by the mlpipe local stack: ${why}. It runs ${SUPPORTED.join('; ')}.`,
  );
}

export interface BindOptions {
  services: TaskServices;
  region: string;
}

/**
 * Binds a Task state's `Resource`; `parameters` is its Parameters template, checked against the
 * operation's input (static field names must exist, as AWS checks them when a definition is
 * created). Throws BindingProblem.
 */
export async function bindResource(
  resource: string,
  parameters: JsonValue | undefined,
  options: BindOptions,
): Promise<TaskBinding> {
  const match = /^arn:aws[a-z-]*:states:::(.+)$/.exec(resource);
  if (match === null) {
    if (/^arn:aws[a-z-]*:lambda:/.test(resource))
      throw refusal(resource, 'Lambda functions are not part of the local stack');
    if (/^arn:aws[a-z-]*:states:[^:]*:\d*:activity:/.test(resource))
      throw refusal(resource, 'activities need workers, which the local stack does not have');
    throw refusal(resource, 'it is not a Step Functions service integration');
  }
  const integration = match[1]!;
  if (integration.endsWith('.waitForTaskToken'))
    throw refusal(resource, 'the callback pattern (.waitForTaskToken) is not supported');
  const sdk = /^aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)(\..+)?$/.exec(integration);
  if (sdk !== null) return bindSdk(resource, sdk[1]!, sdk[2]!, sdk[3], parameters, options);
  if (integration === 'glue:startJobRun' || integration === 'glue:startJobRun.sync')
    return bindGlueStartJobRun(resource, integration.endsWith('.sync'), parameters, options);
  const service = integration.split(':')[0]!;
  throw refusal(
    resource,
    service === 'lambda'
      ? 'Lambda functions are not part of the local stack'
      : `the optimized ${service} integration ${integration} is not available locally`,
  );
}

function staticProblems(
  operation: OperationModel,
  parameters: JsonValue | undefined,
  naming: 'pascal' | 'api',
  resource: string,
): void {
  if (parameters === undefined) return;
  const unknown = operation.unknownFields(parameters, naming);
  if (unknown.length > 0)
    throw new BindingProblem(
      `The field${unknown.length > 1 ? 's' : ''} ${unknown.map((f) => `'${f}'`).join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not supported by Step Functions for ${resource}`,
    );
}

async function bindSdk(
  resource: string,
  serviceName: string,
  action: string,
  suffix: string | undefined,
  parameters: JsonValue | undefined,
  options: BindOptions,
): Promise<TaskBinding> {
  const service = SDK_SERVICES[serviceName];
  if (service === undefined)
    throw refusal(resource, `the local stack does not host the ${serviceName} service`);
  if (suffix !== undefined)
    throw refusal(
      resource,
      `aws-sdk integrations have no ${suffix} pattern (poll with Describe* and a Wait)`,
    );
  if (!/^[a-z]/.test(action))
    throw refusal(
      resource,
      `the API action is written in camelCase (${action.charAt(0).toLowerCase()}${action.slice(1)})`,
    );
  const operationName = action.charAt(0).toUpperCase() + action.slice(1);
  const model = await modelOf(service);
  const operation = model.operation(operationName);
  if (operation === undefined) throw refusal(resource, `${service.errorPrefix} has no API action ${action}`);
  // An operation the local stack does not serve yet still binds (a definition written for AWS
  // deploys unchanged); calling it fails the task with `<Service>.UnknownOperationException`.
  staticProblems(operation, parameters, 'pascal', resource);
  const prefix = service.errorPrefix;
  return {
    resourceType: `aws-sdk:${serviceName}`,
    resource: action,
    async run(params) {
      let input: Record<string, unknown>;
      try {
        input = operation.toWire(params, 'pascal');
      } catch (error) {
        if (error instanceof ConventionError)
          throw new TaskFailure(
            `${prefix}.${prefix}Exception`,
            `${error.message} (Service: ${prefix}, Status Code: 400, Request ID: ${randomUUID()})`,
          );
        throw error;
      }
      let output: unknown;
      try {
        output = await options.services.invoke(service.service, operationName, input);
      } catch (error) {
        const { code, message, status } = awsErrorOf(error);
        // The local stack's own refusal of an operation it does not serve keeps its name, so a
        // Catch (or a test) can tell it from the service's errors.
        let name =
          model.isModeledError(code) || code === UNKNOWN_OPERATION
            ? `${prefix}.${code}`
            : `${prefix}.${prefix}Exception`;
        // Step Functions names every SDK error with the Exception suffix (S3's NoSuchKey too).
        if (!name.endsWith('Exception')) name += 'Exception';
        throw new TaskFailure(
          name,
          `${message} (Service: ${prefix}, Status Code: ${status}, Request ID: ${randomUUID()})`,
        );
      }
      return operation.fromWire(output, 'pascal', 'iso');
    },
  };
}

async function bindGlueStartJobRun(
  resource: string,
  sync: boolean,
  parameters: JsonValue | undefined,
  options: BindOptions,
): Promise<TaskBinding> {
  const model = await modelOf(SDK_SERVICES.glue!);
  const start = model.operation('StartJobRun')!;
  const get = model.operation('GetJobRun')!;
  for (const op of ['StartJobRun', 'GetJobRun', ...(sync ? ['BatchStopJobRun'] : [])]) {
    if (!options.services.serves('glue', op))
      throw refusal(resource, `the local stack does not serve Glue ${op}`);
  }
  staticProblems(start, parameters, 'api', resource);
  const { invoke } = options.services;
  const glueError = (error: unknown): TaskFailure => {
    const { code, message } = awsErrorOf(error);
    return new TaskFailure(`Glue.${code}`, message);
  };
  return {
    resourceType: 'glue',
    resource: sync ? 'startJobRun.sync' : 'startJobRun',
    async run(params, context) {
      let input: Record<string, unknown>;
      try {
        input = start.toWire(params, 'api');
      } catch (error) {
        if (error instanceof ConventionError) throw new TaskFailure('Glue.AWSGlueException', error.message);
        throw error;
      }
      let started: JsonObject;
      try {
        started = start.fromWire(await invoke('glue', 'StartJobRun', input), 'api', 'epoch-millis');
      } catch (error) {
        throw glueError(error);
      }
      const jobName = input.JobName as string;
      const runId = started.JobRunId as string;
      // Step Functions adds the job's name to what StartJobRun returns.
      const submitted: JsonObject = { JobName: jobName, JobRunId: runId };
      if (!sync) return submitted;
      context.submitted(submitted);
      for (;;) {
        if (context.signal.aborted) {
          // Stopping the execution stops the run it is waiting for, as Step Functions does.
          await invoke('glue', 'BatchStopJobRun', { JobName: jobName, JobRunIds: [runId] }).catch(
            () => undefined,
          );
          throw context.signal.reason;
        }
        let run: JsonValue;
        try {
          const output = get.fromWire(
            await invoke('glue', 'GetJobRun', { JobName: jobName, RunId: runId }),
            'api',
            'epoch-millis',
          );
          run = output.JobRun ?? null;
        } catch (error) {
          throw glueError(error);
        }
        const state = isObject(run) ? run.JobRunState : undefined;
        if (typeof state === 'string' && isObject(run)) {
          const result: JsonObject = { ...run, JobName: jobName };
          if (GLUE_TERMINAL_OK.has(state)) return result;
          if (GLUE_TERMINAL_FAILED.has(state))
            throw new TaskFailure('States.TaskFailed', JSON.stringify(result));
        }
        // A stop ends the sleep early; the loop's first check then stops the run.
        await context.clock.sleep(GLUE_POLL_MS, context.signal).catch(() => undefined);
      }
    },
  };
}
