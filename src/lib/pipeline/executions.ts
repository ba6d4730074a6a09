/**
 * The pipeline's executions, on both targets: starting a run of the deployed state machine (the
 * pipeline stack's output), reading an execution as a view of every state of its definition
 * (status, visits, time, the resource a state acted on and its status) from DescribeExecution and
 * the execution's history, and following one until it ends.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { ExitCode, MlpipeError, translateAwsError, usageError } from '../cli/errors.js';
import { pollIntervals, waitFor } from '../cli/wait.js';
import { requireStackOutputs } from '../infra/stacks.js';

export type ExecutionStatus =
  'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';
export type StateStatus = 'pending' | 'running' | 'succeeded' | 'failed';

export interface StateView {
  name: string;
  type: string;
  status: StateStatus;
  /** Times the state was entered (polling loops visit their states many times). */
  visits: number;
  /** Time spent in the state over every visit (the current one up to now). */
  durationMs: number;
  /** What the state acted on and its status, e.g. "mlpipe-run-1 CREATE IN PROGRESS". */
  detail: string;
}

export interface ExecutionView {
  arn: string;
  name: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate: string | null;
  durationMs: number;
  /** The failed state, error and cause of a FAILED execution. */
  failedState: string | null;
  error: string | null;
  cause: string | null;
  /** The execution's output (SUCCEEDED), parsed. */
  output: unknown;
  states: StateView[];
}

export interface ExecutionSummary {
  arn: string;
  name: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate: string | null;
  durationMs: number | null;
}

/** The deployed pipeline's state machine ARN (the pipeline stack's output). */
export async function pipelineStateMachine(clients: Clients, settings: Settings): Promise<string> {
  const outputs = await requireStackOutputs(clients, settings, 'pipeline');
  const arn = outputs.StateMachineArn;
  if (arn === undefined)
    throw new MlpipeError(`Stack ${settings.stacks.pipeline.value} has no StateMachineArn output.`, {
      code: 'STACK_OUTPUT_MISSING',
      suggestions: ['Run `mlpipe deploy --stack pipeline`.'],
    });
  return arn;
}

/** A run's default name, from the time it starts: run-20261130-143005. */
export function defaultRunName(now: Date = new Date()): string {
  const iso = now.toISOString();
  return `run-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The key a run's Personalize jobs are named by ("<project>-<key>"), as templates/pipeline.yaml
 * computes it: the run's name, or for a name of five "-"-separated parts (the UUID of a run started
 * without a name, e.g. by the schedule) its first and last parts.
 */
export function runKey(name: string): string {
  const parts = name.split('-');
  return parts.length === 5 ? `${parts[0]}-${parts[4]}` : name;
}

/** Personalize's name pattern and length: the run names the import and batch jobs "<project>-<run key>". */
export function checkRunName(name: string, project: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name))
    throw usageError(
      `Run name "${name}" is not usable: it names the run's Personalize jobs, so it must start with a letter or digit and hold only letters, digits, "-" and "_".`,
      [],
      'BAD_RUN_NAME',
    );
  // The state machine splits the name at "-" with States.StringSplit, which on AWS drops empty
  // parts: "a--b" would count as two parts there and three here. Such names are refused.
  if (/--|-$/.test(name))
    throw usageError(
      `Run name "${name}" has "--" or ends with "-": the pipeline splits run names at "-" to name the run's jobs, and an empty part is not counted the same everywhere.`,
      ['Use single "-" between parts, or "_".'],
      'BAD_RUN_NAME',
    );
  if (name.split('-').length === 5 && !UUID.test(name))
    throw usageError(
      `Run name "${name}" has five "-"-separated parts: the pipeline takes such a name for a UUID and names the run's jobs by its first and last parts only ("${runKey(name)}"), which other runs could share.`,
      ['Use a name with fewer or more "-", e.g. with "_" between some parts.'],
      'BAD_RUN_NAME',
    );
  const room = 63 - project.length - 1;
  const key = runKey(name);
  if (key.length > room)
    throw usageError(
      `Run name "${name}" is ${name.length} characters; with the project name "${project}" the jobs it names may have at most ${room}.`,
      [],
      'BAD_RUN_NAME',
    );
}

/** Parses `--input` (a JSON object merged over the pipeline's defaults). */
export function parseRunInput(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw usageError(`--input is not valid JSON: ${(error as Error).message}`, [
      'For example --input \'{"trainingMode": "UPDATE", "numResults": 50}\'.',
    ]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw usageError('--input must be a JSON object, e.g. {"numResults": 50}.');
  return value as Record<string, unknown>;
}

export async function startPipeline(
  clients: Clients,
  stateMachineArn: string,
  name: string,
  input: Record<string, unknown>,
): Promise<{ executionArn: string; startDate: string; alreadyRunning: boolean }> {
  const sfn = await clients.sfn();
  const { DescribeExecutionCommand, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
  const arn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  // StartExecution with the name and input of a running execution returns that execution (Step
  // Functions' idempotency): asked first, so the run is not reported as started when it was not.
  const before = await sfn
    .send(new DescribeExecutionCommand({ executionArn: arn }))
    .then((execution) => execution.status)
    .catch((error: unknown) => {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    });
  try {
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }),
    );
    return {
      executionArn: started.executionArn!,
      startDate: (started.startDate ?? new Date()).toISOString(),
      alreadyRunning: before === 'RUNNING' && started.executionArn === arn,
    };
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionAlreadyExists') {
      throw new MlpipeError(`A run named "${name}" already exists.`, {
        exit: ExitCode.usage,
        code: 'EXECUTION_EXISTS',
        suggestions: [
          `Follow it with \`mlpipe executions --follow ${arn}\`, or start another with a new --name.`,
        ],
      });
    }
    throw translateAwsError(error, 'Starting the pipeline');
  }
}

export async function listExecutions(
  clients: Clients,
  stateMachineArn: string,
  max: number,
): Promise<ExecutionSummary[]> {
  const sfn = await clients.sfn();
  const { ListExecutionsCommand } = await import('@aws-sdk/client-sfn');
  const found: ExecutionSummary[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn, maxResults: Math.min(100, max), nextToken }),
      );
      for (const e of page.executions ?? []) {
        const start = e.startDate ?? new Date(0);
        found.push({
          arn: e.executionArn!,
          name: e.name!,
          status: e.status as ExecutionStatus,
          startDate: start.toISOString(),
          stopDate: e.stopDate?.toISOString() ?? null,
          durationMs: e.stopDate ? e.stopDate.getTime() - start.getTime() : null,
        });
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined && found.length < max);
  } catch (error) {
    throw translateAwsError(error, 'Listing pipeline executions');
  }
  return found.slice(0, max);
}

interface Definition {
  StartAt?: string;
  States?: Record<string, { Type?: string; ResultPath?: string | null; Resource?: string }>;
}

/**
 * Reads one execution again and again (for a live view): the definition once, and of the history
 * only the events that are new since the last read (newest first, stopping at the last one seen).
 */
export class ExecutionReader {
  private definition: Definition | undefined;
  private readonly events = new Map<number, HistoryEvent>();
  private lastId = 0;

  constructor(
    private readonly clients: Clients,
    readonly executionArn: string,
  ) {}

  async read(now: Date = new Date()): Promise<ExecutionView> {
    const sfn = await this.clients.sfn();
    const sdk = await import('@aws-sdk/client-sfn');
    try {
      const described = await sfn.send(new sdk.DescribeExecutionCommand({ executionArn: this.executionArn }));
      if (this.definition === undefined) {
        const machine = await sfn.send(
          new sdk.DescribeStateMachineForExecutionCommand({ executionArn: this.executionArn }),
        );
        this.definition = JSON.parse(machine.definition ?? '{}') as Definition;
      }
      // Newest first until an event already held: a long execution is not read whole every time.
      let nextToken: string | undefined;
      const fresh: HistoryEvent[] = [];
      outer: do {
        const page = await sfn.send(
          new sdk.GetExecutionHistoryCommand({
            executionArn: this.executionArn,
            reverseOrder: true,
            maxResults: 500,
            nextToken,
          }),
        );
        for (const event of page.events ?? []) {
          if ((event.id ?? 0) <= this.lastId) break outer;
          fresh.push(event);
        }
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      for (const event of fresh) this.events.set(event.id ?? 0, event);
      for (const event of fresh) this.lastId = Math.max(this.lastId, event.id ?? 0);
      const history = [...this.events.values()].sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
      return executionView(this.definition, described, history, now);
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionDoesNotExist')
        throw new MlpipeError(`No execution ${this.executionArn}.`, {
          code: 'EXECUTION_NOT_FOUND',
          suggestions: ['List the runs with `mlpipe executions`.'],
        });
      throw translateAwsError(error, 'Reading the pipeline execution');
    }
  }
}

interface Described {
  executionArn?: string;
  name?: string;
  stateMachineArn?: string;
  status?: string;
  startDate?: Date;
  stopDate?: Date;
  error?: string;
  cause?: string;
  output?: string;
}

/** The view of an execution: its definition's states in order, each with what the history says of it. */
export function executionView(
  definition: Definition,
  described: Described,
  history: readonly HistoryEvent[],
  now: Date,
): ExecutionView {
  const names = Object.keys(definition.States ?? {});
  const views = new Map<string, StateView & { enteredAt: number | null; lastOutput: string | null }>();
  for (const name of names) {
    const type = definition.States?.[name]?.Type ?? 'Task';
    views.set(name, {
      name,
      type,
      status: 'pending',
      visits: 0,
      durationMs: 0,
      detail: '',
      enteredAt: null,
      lastOutput: null,
    });
  }
  let current: string | undefined;
  let failedState: string | null = null;
  const stopped = described.stopDate?.getTime() ?? null;
  for (const event of history) {
    const type = event.type ?? '';
    const at = event.timestamp?.getTime() ?? now.getTime();
    if (type.endsWith('StateEntered')) {
      const name = event.stateEnteredEventDetails?.name ?? '';
      const view = views.get(name);
      current = name;
      if (view === undefined) continue;
      view.visits++;
      view.enteredAt = at;
      view.status = 'running';
    } else if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails?.name ?? '';
      const view = views.get(name);
      if (view === undefined) continue;
      if (view.enteredAt !== null) view.durationMs += at - view.enteredAt;
      view.enteredAt = null;
      if (view.status !== 'failed') view.status = 'succeeded';
      view.lastOutput = event.stateExitedEventDetails?.output ?? null;
      // Only a task acted on something; Pass, Choice and Wait states pass their input on.
      const said =
        view.type === 'Task'
          ? describeResult(resultAt(view.lastOutput, definition.States?.[name]?.ResultPath))
          : '';
      if (said !== '') view.detail = said;
      if (current === name) current = undefined;
    } else if (/(TaskFailed|TaskTimedOut|TaskStartFailed|TaskSubmitFailed)$/.test(type)) {
      const view = current === undefined ? undefined : views.get(current);
      if (view === undefined) continue;
      const details =
        event.taskFailedEventDetails ??
        event.taskTimedOutEventDetails ??
        event.taskStartFailedEventDetails ??
        event.taskSubmitFailedEventDetails;
      // A retried failure is followed by another attempt; the state fails only if nothing follows.
      view.detail = `${details?.error ?? 'failed'}${details?.cause ? `: ${oneLine(details.cause)}` : ''}`;
    } else if (type === 'TaskSubmitted') {
      const view = current === undefined ? undefined : views.get(current);
      const said = describeResult(parseJson(event.taskSubmittedEventDetails?.output ?? null));
      if (view !== undefined && said !== '') view.detail = said;
    } else if (type === 'TaskScheduled') {
      const view = current === undefined ? undefined : views.get(current);
      const details = event.taskScheduledEventDetails;
      if (view !== undefined && view.visits === 1 && view.detail === '' && details)
        view.detail = `${details.resourceType ?? ''}:${details.resource ?? ''}`;
    } else if (type === 'ExecutionFailed' || type === 'ExecutionTimedOut' || type === 'ExecutionAborted') {
      const view = current === undefined ? undefined : views.get(current);
      if (view !== undefined) {
        view.status = 'failed';
        if (view.enteredAt !== null) view.durationMs += at - view.enteredAt;
        view.enteredAt = null;
        failedState = view.name;
      }
    }
  }
  // Time in the current visit; a state caught and moved on from shows as succeeded (its detail
  // keeps the error it caught).
  const end = stopped ?? now.getTime();
  for (const view of views.values()) {
    if (view.enteredAt !== null) {
      view.durationMs += Math.max(0, end - view.enteredAt);
      if (stopped !== null && view.status === 'running') view.status = 'failed';
    }
  }
  const status = (described.status ?? 'RUNNING') as ExecutionStatus;
  const start = described.startDate?.getTime() ?? now.getTime();
  const states: StateView[] = [...views.values()]
    // Fail states that were never reached are the paths not taken: not shown.
    .filter((v) => !(v.type === 'Fail' && v.visits === 0))
    .map(({ name, type, status: s, visits, durationMs, detail }) => ({
      name,
      type,
      status: s,
      visits,
      durationMs,
      detail,
    }));
  return {
    arn: described.executionArn ?? '',
    name: described.name ?? '',
    stateMachineArn: described.stateMachineArn ?? '',
    status,
    startDate: new Date(start).toISOString(),
    stopDate: stopped === null ? null : new Date(stopped).toISOString(),
    durationMs: end - start,
    failedState: status === 'FAILED' ? failedState : null,
    error: described.error ?? null,
    cause: described.cause ?? null,
    output: parseJson(described.output ?? null),
    states,
  };
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The part of a state's output its ResultPath wrote (plain dotted paths; `$` is the whole). */
function resultAt(output: string | null, resultPath: string | null | undefined): unknown {
  const value = parseJson(output);
  if (resultPath === undefined || resultPath === '$') return value;
  if (resultPath === null) return undefined;
  let at: unknown = value;
  for (const key of resultPath.replace(/^\$\.?/, '').split('.')) {
    if (key === '') continue;
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

const STATUS_KEY = /^(Status|State|JobRunState|.*Status)$/;
const ID_KEY = /(Arn|Id|JobName)$/;

/** "what it acted on" and "its status" from a task's result: an ARN's last part or an id, and a Status. */
function describeResult(result: unknown): string {
  if (result === null || typeof result !== 'object') return '';
  const record = result as Record<string, unknown>;
  // GetSolutionMetrics: the headline metric.
  const metrics = record.Metrics as Record<string, unknown> | undefined;
  const ndcg = metrics?.normalized_discounted_cumulative_gain_at_10;
  if (typeof ndcg === 'number') return `NDCG@10 ${ndcg.toFixed(4)}`;
  const nested = Object.values(record).filter(
    (v): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v),
  );
  const find = (pattern: RegExp): string | undefined => {
    for (const scope of [record, ...nested])
      for (const [key, value] of Object.entries(scope))
        if (pattern.test(key) && typeof value === 'string' && value !== '') return value;
    return undefined;
  };
  const id = find(ID_KEY);
  const status = find(STATUS_KEY);
  const name = id === undefined ? undefined : shortId(id);
  return [name, status].filter((part) => part !== undefined).join(' ');
}

function shortId(id: string): string {
  const last = id.includes('/') ? id.slice(id.lastIndexOf('/') + 1) : id;
  // A Glue run id as `run-etl` shows it, git-style (`jr_` and 7 hex digits): a prefix that
  // `mlpipe run-etl --run-id` takes as it is, so a log line can be followed up.
  if (/^jr_[0-9a-f]{64}$/.test(last)) return last.slice(0, 10);
  return last.length > 40 ? `${last.slice(0, 12)}…` : last;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export function isFinished(view: Pick<ExecutionView, 'status'>): boolean {
  return view.status !== 'RUNNING';
}

/** Follows an execution until it ends (or the timeout, exit 4, or Ctrl-C, exit 130). */
export async function followExecution(
  clients: Clients,
  executionArn: string,
  options: { timeoutSeconds?: number; onView?: (view: ExecutionView) => void },
): Promise<ExecutionView> {
  const reader = new ExecutionReader(clients, executionArn);
  return waitFor({
    what: 'the pipeline execution',
    poll: () => reader.read(),
    done: isFinished,
    onPoll: (view) => options.onView?.(view),
    ...pollIntervals(clients.connection.target),
    timeoutMs: (options.timeoutSeconds ?? 24 * 3600) * 1000,
    reattach: `The execution goes on; re-attach with \`mlpipe executions --follow ${executionArn}\`.`,
  });
}

/** An execution that did not succeed, as the error the command ends with. */
export function executionFailure(view: ExecutionView): MlpipeError | undefined {
  if (view.status === 'SUCCEEDED' || view.status === 'RUNNING') return undefined;
  const where = view.failedState === null ? '' : ` in state ${view.failedState}`;
  const what = [view.error, view.cause].filter((x) => x !== null && x !== '').join(': ');
  return new MlpipeError(
    `Pipeline run ${view.name} ${view.status}${where}${what === '' ? '.' : `: ${oneLine(what)}`}`,
    {
      exit: ExitCode.jobFailed,
      code: `EXECUTION_${view.status}`,
      suggestions: [`Its history: \`mlpipe executions --follow ${view.arn}\`.`],
    },
  );
}
