/**
 * AWS Step Functions (Standard workflows) in the local stack: state machines and their executions,
 * as a plain TypeScript API over the `@aws-sdk/client-sfn` input and output types. The AWS JSON 1.0
 * wire table is in wire.ts, the state on disk in store.ts, the interpreter binding in engine/.
 *
 * Served: CreateStateMachine (idempotent as on AWS), UpdateStateMachine, DescribeStateMachine,
 * ListStateMachines, DeleteStateMachine, StartExecution (a name already used is
 * ExecutionAlreadyExists, except a repeat of a RUNNING execution's name and input, which returns
 * that execution, as AWS does for Standard workflows), DescribeExecution, ListExecutions,
 * GetExecutionHistory, StopExecution, DescribeStateMachineForExecution.
 *
 * Differences from AWS, each for a reason: EXPRESS state machines, versions (`publish`) and
 * redrives are refused (nothing here records express executions or versions); logging and tracing
 * configurations are recorded, not acted on; DeleteStateMachine takes effect at once, stopping its
 * running executions and forgetting its executions.
 *
 * Executions are jobs of the jobs layer (kind `stepfunctions:execution`, lifecycle RUNNING →
 * SUCCEEDED | FAILED | ABORTED | TIMED_OUT): StopExecution stops the job (ABORTED), the stack's
 * shutdown ends it FAILED (`mlpipe.LocalStackStopped`, the reason in its cause), and one a crash
 * left RUNNING ends FAILED on the next start. The queue owns the lifecycle; the execution's own
 * record (error, cause, output, history) comes from its run. Time comes from the stack's clock:
 * Wait states, retry intervals and `.sync` polling are scaled by its time scale, the timeouts that
 * bound work are not.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type {
  CreateStateMachineInput,
  CreateStateMachineOutput,
  DeleteStateMachineInput,
  DeleteStateMachineOutput,
  DescribeExecutionInput,
  DescribeExecutionOutput,
  DescribeStateMachineForExecutionInput,
  DescribeStateMachineForExecutionOutput,
  DescribeStateMachineInput,
  DescribeStateMachineOutput,
  ExecutionListItem,
  GetExecutionHistoryInput,
  GetExecutionHistoryOutput,
  HistoryEvent,
  ListExecutionsInput,
  ListExecutionsOutput,
  ListStateMachinesInput,
  ListStateMachinesOutput,
  LoggingConfiguration,
  StartExecutionInput,
  StartExecutionOutput,
  StopExecutionInput,
  StopExecutionOutput,
  UpdateStateMachineInput,
  UpdateStateMachineOutput,
} from '@aws-sdk/client-sfn';
import { AwsError } from '../../core/errors.js';
import { assign } from '../../store/state-file.js';
import type { ServiceContext } from '../../core/service.js';
import {
  interruptedOutcome,
  JobFailure,
  JobTimedOut,
  type JobQueue,
  type JobState,
  type Lifecycle,
} from '../../jobs/index.js';
import { compileDefinition, type CompiledMachine } from './engine/compile.js';
import { InvalidDefinitionError, checkDefinition } from './engine/validate.js';
import { ExecutionRun } from './engine/runner.js';
import type { JsonValue } from './engine/asl.js';
import {
  StepFunctionsStore,
  type ExecutionRecord,
  type ExecutionStatus,
  type StateMachineRecord,
} from './store.js';

/** An execution's status as the jobs layer drives it (Standard executions start running at once). */
export const EXECUTION_LIFECYCLE: Lifecycle<ExecutionStatus> = {
  pending: 'RUNNING',
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  stopped: 'ABORTED',
  timedOut: 'TIMED_OUT',
};
export const EXECUTION_JOB_KIND = 'stepfunctions:execution';

/** What an execution running when the stack stops ends with. */
export const STOPPED_ERROR = 'mlpipe.LocalStackStopped';
export const SHUTDOWN_CAUSE =
  'The local stack shut down while this execution was running; executions do not resume after a restart.';
export const RESTART_CAUSE =
  'The local stack stopped without shutting down while this execution was running; executions do not resume after a restart.';

const MAX_INPUT_LENGTH = 262_144;
const EXECUTION_STATUSES: readonly string[] = [
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'ABORTED',
  'PENDING_REDRIVE',
];
/** Characters AWS refuses in state machine and execution names (control characters among them). */
// eslint-disable-next-line no-control-regex
const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff]/u;

function validationError(message: string): AwsError {
  return new AwsError('ValidationException', `1 validation error detected: ${message}`);
}

function required<T>(value: T | undefined, member: string): T {
  if (value === undefined || value === null)
    throw validationError(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  return value;
}

function checkName(name: string): void {
  if (name.length < 1 || name.length > 80 || INVALID_NAME.test(name))
    throw new AwsError('InvalidName', `Invalid Name: '${name}'`);
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return 100;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000)
    throw validationError(
      `Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
    );
  return maxResults;
}

/** Page tokens are opaque to clients: a JSON position, base64url-encoded. */
function encodeToken(position: Record<string, string | number | boolean>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeToken<T>(token: string, check: (value: Record<string, unknown>) => T | undefined): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  const position =
    value !== null && typeof value === 'object' ? check(value as Record<string, unknown>) : undefined;
  if (position === undefined) throw new AwsError('InvalidToken', `Invalid Token: '${token}'`);
  return position;
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function withoutExecutionData(event: HistoryEvent): HistoryEvent {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value !== null && typeof value === 'object') {
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      out[key] = rest;
    } else out[key] = value;
  }
  return out as unknown as HistoryEvent;
}

/** An execution in flight: its run, and when its end is recorded and saved. */
interface Running {
  run: ExecutionRun;
  finished: Promise<void>;
  /** Rejects when its end cannot be written (a full disk): a StopExecution waiting answers then, and close does not wait. */
  blocked: Promise<never>;
}

export class StepFunctionsService {
  private readonly running = new Map<string, Running>();
  private readonly executions: JobQueue<ExecutionStatus>;
  private readonly compiled = new Map<string, Promise<CompiledMachine>>();
  private seq = 0;

  private constructor(
    private readonly ctx: ServiceContext,
    private readonly store: StepFunctionsStore,
  ) {
    for (const record of [...store.stateMachines.values(), ...store.executions.values()])
      this.seq = Math.max(this.seq, record.seq + 1);
    this.executions = ctx.jobs.queue({
      kind: EXECUTION_JOB_KIND,
      lifecycle: EXECUTION_LIFECYCLE,
      shutdownReason: SHUTDOWN_CAUSE,
    });
  }

  static async open(ctx: ServiceContext): Promise<StepFunctionsService> {
    const { store, interrupted } = await StepFunctionsStore.open(
      path.join(ctx.dataDir, 'stepfunctions'),
      ctx.log,
    );
    const service = new StepFunctionsService(ctx, store);
    const now = ctx.clock.now();
    for (const { execution, events } of interrupted) {
      // Executions do not resume: one that a crash left running ends here, and says why.
      const ended = interruptedOutcome(EXECUTION_LIFECYCLE, execution.status, RESTART_CAUSE);
      if (ended === undefined) continue;
      events.push({
        timestamp: now,
        type: 'ExecutionFailed',
        id: events.length + 1,
        previousEventId: events.length,
        executionFailedEventDetails: { error: STOPPED_ERROR, cause: ended.failureReason },
      });
      Object.assign(execution, {
        status: ended.status,
        stopDate: now.toISOString(),
        error: STOPPED_ERROR,
        cause: ended.failureReason,
      });
      await store.saveExecution(execution, () => events);
      ctx.log(
        `stepfunctions: execution ${execution.executionArn} was running when the stack stopped; it is FAILED`,
      );
    }
    return service;
  }

  stats(): { stateMachines: number; executions: number; running: number } {
    return {
      stateMachines: this.store.stateMachines.size,
      executions: this.store.executions.size,
      running: this.running.size,
    };
  }

  /** After the jobs layer has ended running executions (FAILED: the stack is stopping): every write. */
  async close(): Promise<void> {
    // An end that could not be written (a full disk) is not waited for: the next start fails it.
    await Promise.all(
      [...this.running.values()].map((r) => Promise.race([r.finished, r.blocked]).catch(() => undefined)),
    );
    await this.store.flush();
  }

  private get arnPrefix(): string {
    return `arn:aws:states:${this.ctx.region}:${this.ctx.accountId}`;
  }

  private stateMachineArn(name: string): string {
    return `${this.arnPrefix}:stateMachine:${name}`;
  }

  private machine(arn: string | undefined): StateMachineRecord {
    const stateMachineArn = required(arn, 'stateMachineArn');
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+(:[^:]+)?$/.test(stateMachineArn))
      throw new AwsError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    const machine = this.store.stateMachines.get(stateMachineArn);
    if (machine === undefined)
      throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  }

  private execution(arn: string | undefined): ExecutionRecord {
    const executionArn = required(arn, 'executionArn');
    if (!/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn))
      throw new AwsError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    const execution = this.store.executions.get(executionArn);
    if (execution === undefined)
      throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  private checkRole(roleArn: string): void {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn))
      throw new AwsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${roleArn}'`);
  }

  private loggingConfiguration(input: LoggingConfiguration | undefined): LoggingConfiguration {
    const level = input?.level ?? 'OFF';
    const destinations = input?.destinations ?? [];
    if (level !== 'OFF' && destinations.length !== 1)
      throw new AwsError(
        'InvalidLoggingConfiguration',
        'Invalid Logging Configuration: Must specify exactly one Log Destination.',
      );
    return {
      level,
      includeExecutionData: input?.includeExecutionData ?? false,
      ...(destinations.length > 0 ? { destinations } : {}),
    };
  }

  /** Checks a definition (InvalidDefinition naming every problem) and compiles it. */
  private async compile(definition: string): Promise<CompiledMachine> {
    try {
      const checked = await checkDefinition(definition, {
        services: { invoke: this.ctx.invoke, serves: this.ctx.serves },
        region: this.ctx.region,
      });
      // Map and Parallel retries wait on the interpreter's own timers: scaled here, at compile time.
      return compileDefinition(checked, { timeScale: this.ctx.clock.timeScale });
    } catch (error) {
      if (error instanceof InvalidDefinitionError) throw new AwsError('InvalidDefinition', error.message);
      throw error;
    }
  }

  private compiledFor(machine: StateMachineRecord): Promise<CompiledMachine> {
    const key = `${machine.stateMachineArn}#${machine.revisionId}`;
    let compiled = this.compiled.get(key);
    if (compiled === undefined) {
      compiled = this.compile(machine.definition);
      compiled.catch(() => this.compiled.delete(key));
      this.compiled.set(key, compiled);
    }
    return compiled;
  }

  async createStateMachine(input: CreateStateMachineInput): Promise<CreateStateMachineOutput> {
    const name = required(input.name, 'name');
    const definition = required(input.definition, 'definition');
    const roleArn = required(input.roleArn, 'roleArn');
    checkName(name);
    const type = input.type ?? 'STANDARD';
    if (type !== 'STANDARD')
      throw new AwsError(
        'StateMachineTypeNotSupported',
        `The mlpipe local stack runs STANDARD state machines only, not ${type}.`,
      );
    if (input.publish === true || input.versionDescription !== undefined)
      throw new AwsError(
        'ValidationException',
        input.publish === true
          ? 'The mlpipe local stack does not publish state machine versions.'
          : 'Version description can only be set when publish is true',
      );
    this.checkRole(roleArn);
    const loggingConfiguration = this.loggingConfiguration(input.loggingConfiguration);
    const tracingConfiguration = { enabled: input.tracingConfiguration?.enabled ?? false };
    const tags = (input.tags ?? []).map((t) => ({ key: t.key ?? '', value: t.value ?? '' }));
    if (tags.length > 50) throw new AwsError('TooManyTags', 'Too many tags: at most 50 tags are allowed.');
    const arn = this.stateMachineArn(name);
    const existing = this.store.stateMachines.get(arn);
    if (existing !== undefined) {
      // Idempotent as on AWS: the same name, definition, type and configuration is the same machine.
      const same =
        existing.definition === definition &&
        JSON.stringify(existing.loggingConfiguration) === JSON.stringify(loggingConfiguration) &&
        existing.tracingConfiguration.enabled === tracingConfiguration.enabled;
      if (same) return { stateMachineArn: arn, creationDate: new Date(existing.creationDate) };
      throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const compiled = this.compile(definition);
    await compiled;
    const now = this.ctx.clock.now();
    const record: StateMachineRecord = {
      stateMachineArn: arn,
      name,
      definition,
      roleArn,
      type: 'STANDARD',
      creationDate: now.toISOString(),
      revisionId: randomUUID(),
      loggingConfiguration,
      tracingConfiguration,
      tags,
      seq: this.seq++,
    };
    await this.store.commitStateMachines(() => {
      // Taken while the definition was being checked.
      if (this.store.stateMachines.has(arn))
        throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
      this.store.stateMachines.set(arn, record);
      return () => this.store.stateMachines.delete(arn);
    });
    this.compiled.set(`${arn}#${record.revisionId}`, compiled);
    return { stateMachineArn: arn, creationDate: now };
  }

  async updateStateMachine(input: UpdateStateMachineInput): Promise<UpdateStateMachineOutput> {
    const machine = this.machine(input.stateMachineArn);
    if (
      input.definition === undefined &&
      input.roleArn === undefined &&
      input.loggingConfiguration === undefined &&
      input.tracingConfiguration === undefined
    )
      throw new AwsError(
        'MissingRequiredParameter',
        'Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified',
      );
    if (input.publish === true || input.versionDescription !== undefined)
      throw new AwsError(
        'ValidationException',
        input.publish === true
          ? 'The mlpipe local stack does not publish state machine versions.'
          : 'Version description can only be set when publish is true',
      );
    if (input.roleArn !== undefined) this.checkRole(input.roleArn);
    const loggingConfiguration =
      input.loggingConfiguration === undefined
        ? undefined
        : this.loggingConfiguration(input.loggingConfiguration);
    let compiled: Promise<CompiledMachine> | undefined;
    if (input.definition !== undefined) {
      compiled = this.compile(input.definition);
      await compiled;
    }
    const next: StateMachineRecord = {
      ...machine,
      ...(input.definition === undefined ? {} : { definition: input.definition }),
      ...(input.roleArn === undefined ? {} : { roleArn: input.roleArn }),
      ...(loggingConfiguration === undefined ? {} : { loggingConfiguration }),
      ...(input.tracingConfiguration === undefined
        ? {}
        : { tracingConfiguration: { enabled: input.tracingConfiguration.enabled ?? false } }),
    };
    const changed =
      JSON.stringify({ ...next, revisionId: '', updateDate: '' }) !==
      JSON.stringify({ ...machine, revisionId: '', updateDate: '' });
    const now = this.ctx.clock.now();
    if (changed) {
      next.revisionId = randomUUID();
      next.updateDate = now.toISOString();
      await this.store.commitStateMachines(() => {
        if (this.store.stateMachines.get(machine.stateMachineArn) !== machine)
          throw new AwsError(
            'ConflictException',
            `State machine ${machine.stateMachineArn} was changed or deleted meanwhile; try again.`,
          );
        this.store.stateMachines.set(machine.stateMachineArn, next);
        return () => this.store.stateMachines.set(machine.stateMachineArn, machine);
      });
      if (compiled !== undefined) this.compiled.set(`${next.stateMachineArn}#${next.revisionId}`, compiled);
    }
    return { updateDate: now, revisionId: (changed ? next : machine).revisionId };
  }

  async describeStateMachine(input: DescribeStateMachineInput): Promise<DescribeStateMachineOutput> {
    const machine = this.machine(input.stateMachineArn);
    return {
      stateMachineArn: machine.stateMachineArn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.definition,
      roleArn: machine.roleArn,
      type: machine.type,
      creationDate: new Date(machine.creationDate),
      loggingConfiguration: machine.loggingConfiguration,
      tracingConfiguration: machine.tracingConfiguration,
      revisionId: machine.revisionId,
      encryptionConfiguration: { type: 'AWS_OWNED_KEY' },
    };
  }

  async listStateMachines(input: ListStateMachinesInput): Promise<ListStateMachinesOutput> {
    const size = pageSize(input.maxResults);
    const machines = [...this.store.stateMachines.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    let start = 0;
    if (input.nextToken !== undefined) {
      const after = decodeToken(input.nextToken, (v) => (typeof v.after === 'string' ? v.after : undefined));
      start = machines.findIndex((m) => m.name > after);
      if (start < 0) start = machines.length;
    }
    const page = machines.slice(start, start + size);
    const more = start + size < machines.length;
    return {
      stateMachines: page.map((m) => ({
        stateMachineArn: m.stateMachineArn,
        name: m.name,
        type: m.type,
        creationDate: new Date(m.creationDate),
      })),
      ...(more ? { nextToken: encodeToken({ after: page[page.length - 1]!.name }) } : {}),
    };
  }

  async deleteStateMachine(input: DeleteStateMachineInput): Promise<DeleteStateMachineOutput> {
    const arn = required(input.stateMachineArn, 'stateMachineArn');
    let machine: StateMachineRecord;
    try {
      machine = this.machine(arn);
    } catch (error) {
      // Deleting a state machine that does not exist succeeds, as on AWS.
      if (error instanceof AwsError && error.code === 'StateMachineDoesNotExist') return {};
      throw error;
    }
    await this.store.commitStateMachines(() => {
      const stored = this.store.stateMachines.get(machine.stateMachineArn);
      this.store.stateMachines.delete(machine.stateMachineArn);
      return () => {
        if (stored !== undefined) this.store.stateMachines.set(machine.stateMachineArn, stored);
      };
    });
    const executions = [...this.store.executions.values()].filter(
      (e) => e.stateMachineArn === machine.stateMachineArn,
    );
    await Promise.all(
      executions.map((e) => this.stopRunning(e.executionArn, undefined, 'The state machine was deleted.')),
    );
    for (const execution of executions) await this.store.deleteExecution(execution.executionArn);
    for (const key of this.compiled.keys())
      if (key.startsWith(`${machine.stateMachineArn}#`)) this.compiled.delete(key);
    return {};
  }

  async startExecution(input: StartExecutionInput): Promise<StartExecutionOutput> {
    const machine = this.machine(input.stateMachineArn);
    if (this.ctx.jobs.closing)
      throw new AwsError('ServiceUnavailable', 'The local stack is shutting down.', 503);
    const name = input.name ?? randomUUID();
    checkName(name);
    const inputText = input.input ?? '{}';
    if (inputText.length > MAX_INPUT_LENGTH)
      throw validationError(
        `Value at 'input' failed to satisfy constraint: Member must have length less than or equal to ${MAX_INPUT_LENGTH}`,
      );
    let value: JsonValue;
    try {
      value = JSON.parse(inputText) as JsonValue;
    } catch (error) {
      throw new AwsError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const executionArn = `${this.arnPrefix}:execution:${machine.name}:${name}`;
    const existing = this.store.executions.get(executionArn);
    if (existing !== undefined) {
      // Standard workflows: starting a running execution again with the same input is idempotent.
      if (existing.status === 'RUNNING' && sameJson(existing.input, inputText))
        return { executionArn, startDate: new Date(existing.startDate) };
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const compiled = await this.compiledFor(machine).catch((error: unknown) => {
      if (error instanceof AwsError)
        throw new AwsError(
          'ValidationException',
          `The state machine's definition cannot run: ${error.message}`,
        );
      throw error;
    });
    if (this.store.executions.has(executionArn))
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    const startDate = this.ctx.clock.now();
    const record: ExecutionRecord = {
      executionArn,
      name,
      stateMachineArn: machine.stateMachineArn,
      stateMachineName: machine.name,
      definition: machine.definition,
      roleArn: machine.roleArn,
      revisionId: machine.revisionId,
      revisionDate: machine.updateDate ?? machine.creationDate,
      status: 'RUNNING',
      startDate: startDate.toISOString(),
      input: inputText,
      seq: this.seq++,
    };
    // The run records its first event while it is being constructed: saves start once it exists.
    const created: { run?: ExecutionRun } = {};
    const events = (): readonly HistoryEvent[] => created.run?.history.events ?? [];
    const run = new ExecutionRun(
      compiled,
      {
        executionArn,
        name,
        stateMachineArn: machine.stateMachineArn,
        stateMachineName: machine.name,
        roleArn: machine.roleArn,
        startDate,
      },
      value,
      inputText,
      {
        clock: this.ctx.clock,
        region: this.ctx.region,
        log: this.ctx.log,
        onHistory: () => {
          if (created.run !== undefined && this.store.executions.get(executionArn) === record)
            void this.store.saveExecution(record, events, true).catch(() => undefined);
        },
      },
    );
    created.run = run;
    // The execution exists once its file is written (a full disk: ServiceUnavailable, no execution).
    try {
      await this.store.commitExecution(record, events, () => {
        if (this.store.executions.has(executionArn))
          throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
        this.store.executions.set(executionArn, record);
        return () => this.store.executions.delete(executionArn);
      });
    } catch (error) {
      const winner = this.store.executions.get(executionArn);
      // Its first write failed and no one else recorded the name: drop its write slot. A start
      // of the same name that got in first keeps its slot (its writes stay serialized).
      if (winner === undefined) this.store.forget(executionArn);
      // The same name and input started at the same moment: idempotent, as a retried start is.
      else if (winner.status === 'RUNNING' && sameJson(winner.input, inputText))
        return { executionArn, startDate: new Date(winner.startDate) };
      throw error;
    }
    let finished!: () => void;
    let block!: (error: unknown) => void;
    const blocked = new Promise<never>((_, reject) => (block = reject));
    blocked.catch(() => undefined);
    this.running.set(executionArn, {
      run,
      finished: new Promise((resolve) => (finished = resolve)),
      blocked,
    });
    this.executions.submit(executionArn, (job) => this.execute(run, job.signal), {
      onChange: async (state) => {
        if (state.endedAt === undefined) return;
        try {
          await this.finish(record, state, run, events);
        } catch (error) {
          block(error);
          throw error;
        }
        this.running.delete(executionArn);
        finished();
      },
    });
    return { executionArn, startDate };
  }

  /** An execution as a job: runs it and tells the jobs layer how it ended. */
  private async execute(run: ExecutionRun, signal: AbortSignal): Promise<void> {
    // The job's signal aborts on a stop (stopRunning asks the run for ABORTED first, so this is
    // ignored) or when the stack shuts down.
    const onAbort = (): void => void run.fail(STOPPED_ERROR, SHUTDOWN_CAUSE);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const outcome = await run.start();
      if (outcome.status === 'TIMED_OUT')
        throw new JobTimedOut(outcome.cause ?? 'The execution ran past its TimeoutSeconds.');
      if (outcome.status === 'FAILED')
        throw new JobFailure(outcome.cause ?? outcome.error ?? 'The execution failed.');
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Records an execution's end (its job has ended) and saves it. */
  private async finish(
    record: ExecutionRecord,
    job: Readonly<JobState<ExecutionStatus>>,
    run: ExecutionRun,
    events: () => readonly HistoryEvent[],
  ): Promise<void> {
    // A run that never started (stopped, or the stack shut down, while it waited) ends here.
    const outcome = await run.endUnstarted({ status: 'FAILED', error: STOPPED_ERROR, cause: SHUTDOWN_CAUSE });
    // The run's own end is what its history says; the job's status agrees with it.
    if (outcome.status !== job.status && record.status === 'RUNNING')
      this.ctx.log(`stepfunctions: ${record.executionArn} ended ${outcome.status}, its job ${job.status}`);
    const ended: Partial<ExecutionRecord> = {
      status: outcome.status,
      stopDate: outcome.stopDate.toISOString(),
      ...(outcome.output === undefined ? {} : { output: outcome.output }),
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
      ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
    };
    if (this.store.executions.get(record.executionArn) !== record) return;
    // Shown once written: on a full disk this rejects, the execution still RUNNING, and the jobs
    // layer tries again until there is space.
    await this.store.commitExecution(record, events, () => assign(record, ended));
  }

  /** Stops an execution in flight (ABORTED with `error` and `cause`); resolves once that is saved. */
  private async stopRunning(executionArn: string, error?: string, cause?: string): Promise<void> {
    const active = this.running.get(executionArn);
    if (active === undefined) return;
    // First what the run ends with, then the job's stop (its signal would otherwise fail the run).
    void active.run.stop(error, cause);
    await this.executions.stop(executionArn);
    // A full disk: the caller hears it (503) rather than waiting; the end is written once there is space.
    await Promise.race([active.finished, active.blocked]);
  }

  async describeExecution(input: DescribeExecutionInput): Promise<DescribeExecutionOutput> {
    const e = this.execution(input.executionArn);
    return {
      executionArn: e.executionArn,
      stateMachineArn: e.stateMachineArn,
      name: e.name,
      status: e.status,
      startDate: new Date(e.startDate),
      ...(e.stopDate === undefined ? {} : { stopDate: new Date(e.stopDate) }),
      input: e.input,
      inputDetails: { included: true },
      ...(e.output === undefined ? {} : { output: e.output, outputDetails: { included: true } }),
      ...(e.error === undefined ? {} : { error: e.error }),
      ...(e.cause === undefined ? {} : { cause: e.cause }),
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason:
        e.status === 'RUNNING'
          ? 'Execution is RUNNING and cannot be redriven'
          : 'The mlpipe local stack does not redrive executions',
    };
  }

  async describeStateMachineForExecution(
    input: DescribeStateMachineForExecutionInput,
  ): Promise<DescribeStateMachineForExecutionOutput> {
    const e = this.execution(input.executionArn);
    const machine = this.store.stateMachines.get(e.stateMachineArn);
    return {
      stateMachineArn: e.stateMachineArn,
      name: e.stateMachineName,
      definition: e.definition,
      roleArn: e.roleArn,
      updateDate: new Date(e.revisionDate),
      revisionId: e.revisionId,
      ...(machine === undefined
        ? {}
        : {
            loggingConfiguration: machine.loggingConfiguration,
            tracingConfiguration: machine.tracingConfiguration,
          }),
    };
  }

  async listExecutions(input: ListExecutionsInput): Promise<ListExecutionsOutput> {
    if (input.mapRunArn !== undefined)
      throw new AwsError(
        'ResourceNotFound',
        'The mlpipe local stack has no Map Runs (Distributed Map is not supported).',
      );
    const machine = this.machine(required(input.stateMachineArn, 'stateMachineArn'));
    const filter = input.statusFilter;
    if (filter !== undefined && !EXECUTION_STATUSES.includes(filter))
      throw validationError(
        `Value '${filter}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [${EXECUTION_STATUSES.join(', ')}]`,
      );
    const size = pageSize(input.maxResults);
    const executions = [...this.store.executions.values()]
      .filter(
        (e) => e.stateMachineArn === machine.stateMachineArn && (filter === undefined || e.status === filter),
      )
      .sort((a, b) => b.seq - a.seq);
    let start = 0;
    if (input.nextToken !== undefined) {
      const before = decodeToken(input.nextToken, (v) =>
        typeof v.before === 'number' ? v.before : undefined,
      );
      start = executions.findIndex((e) => e.seq < before);
      if (start < 0) start = executions.length;
    }
    const page = executions.slice(start, start + size);
    const more = start + size < executions.length;
    return {
      executions: page.map((e): ExecutionListItem => ({
        executionArn: e.executionArn,
        stateMachineArn: e.stateMachineArn,
        name: e.name,
        status: e.status,
        startDate: new Date(e.startDate),
        ...(e.stopDate === undefined ? {} : { stopDate: new Date(e.stopDate) }),
      })),
      ...(more ? { nextToken: encodeToken({ before: page[page.length - 1]!.seq }) } : {}),
    };
  }

  async getExecutionHistory(input: GetExecutionHistoryInput): Promise<GetExecutionHistoryOutput> {
    const e = this.execution(input.executionArn);
    const size = pageSize(input.maxResults);
    const reverse = input.reverseOrder === true;
    const run = this.running.get(e.executionArn)?.run;
    const all = run !== undefined ? [...run.history.events] : await this.store.readHistory(e.executionArn);
    // Tokens name the last event given, so pages stay right while a running execution adds events.
    let page: HistoryEvent[];
    let start = reverse ? all.length : 0;
    if (input.nextToken !== undefined) {
      start = decodeToken(input.nextToken, (v) =>
        v.execution === e.seq && v.reverse === reverse && Number.isInteger(v.last) && (v.last as number) >= 0
          ? (v.last as number)
          : undefined,
      );
      if (reverse) start -= 1;
    }
    // Event ids are 1…n in order: event id k is all[k - 1].
    if (reverse) page = all.slice(Math.max(0, start - size), start).reverse();
    else page = all.slice(start, start + size);
    const more = reverse ? start - size > 0 : start + size < all.length;
    const events = input.includeExecutionData === false ? page.map(withoutExecutionData) : page;
    return {
      events,
      ...(more && page.length > 0
        ? { nextToken: encodeToken({ execution: e.seq, reverse, last: page[page.length - 1]!.id! }) }
        : {}),
    };
  }

  async stopExecution(input: StopExecutionInput): Promise<StopExecutionOutput> {
    const e = this.execution(input.executionArn);
    if (input.error !== undefined && input.error.length > 256)
      throw validationError(
        `Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256`,
      );
    if (input.cause !== undefined && input.cause.length > 32768)
      throw validationError(
        `Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768`,
      );
    // Stopping an execution that has already ended changes nothing.
    if (!this.running.has(e.executionArn)) return { stopDate: this.ctx.clock.now() };
    await this.stopRunning(e.executionArn, input.error, input.cause);
    return { stopDate: new Date(e.stopDate ?? this.ctx.clock.now()) };
  }
}
