/**
 * EventBridge in the local stack: scheduled rules on the default event bus and their targets.
 * While the stack runs, every ENABLED rule with a ScheduleExpression fires on the stack's clock
 * (schedule.ts says when): each firing starts an execution of every Step Functions state machine
 * among its targets, in-process through the registry's `invoke`, with the target's `Input`, or
 * else the scheduled event EventBridge sends (`detail-type: Scheduled Event`). Waits between
 * firings are clock sleeps, so the time scale shortens them and a ManualClock fires a schedule
 * exactly when a test advances it; each rule keeps its own schedule time (the next firing counts
 * from the last one, not from the wall clock), so a scaled schedule keeps its spacing.
 *
 * Differences from AWS, each for a reason: targets must be Step Functions state machines (the only
 * service here that runs anything on a schedule); rules with an EventPattern are kept but never
 * match (no events are put on the bus locally); only the default bus exists. A firing that fails
 * (the state machine was deleted) is logged, as EventBridge counts a failed invocation.
 *
 * State: `<dataDir>/eventbridge/state.json`, replaced atomically on each change (visible once
 * written); schedules resume
 * from the time the stack starts again (firings missed while it was stopped are not made up).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type {
  DescribeRuleResponse,
  ListRulesResponse,
  ListTargetsByRuleResponse,
  PutTargetsResponse,
  RemoveTargetsResponse,
  Rule,
  RuleState,
  Target,
} from '@aws-sdk/client-eventbridge';
import { AwsError, isDiskFull } from '../../core/errors.js';
import type { ServiceContext } from '../../core/service.js';
import { readJson } from '../../../shared/atomic-file.js';
import { StateFile } from '../../store/state-file.js';
import { nextDue, parseSchedule, ScheduleError, type Schedule } from './schedule.js';

export const DEFAULT_BUS = 'default';
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
const STATE_MACHINE_ARN = /^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[\w.-]+$/;
const MAX_TARGETS = 5;
const MAX_PAGE = 100;
/** Real milliseconds a rule waits at least between firings, whatever the time scale. */
export const MIN_FIRING_GAP_MS = 10;

export interface TargetRecord {
  Id: string;
  Arn: string;
  RoleArn?: string;
  Input?: string;
}

export interface RuleRecord {
  Name: string;
  Arn: string;
  State: 'ENABLED' | 'DISABLED';
  ScheduleExpression?: string;
  EventPattern?: string;
  Description?: string;
  RoleArn?: string;
  /** When the rule was last enabled or its schedule changed (epoch ms): rates count from here. */
  anchor: number;
  targets: TargetRecord[];
}

interface EventBridgeState {
  rules: RuleRecord[];
}

export function validationError(message: string): AwsError {
  return new AwsError('ValidationException', message);
}

function ruleNotFound(name: string): AwsError {
  return new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${DEFAULT_BUS}.`);
}

function checkRuleName(name: string, member = 'name'): void {
  if (!RULE_NAME.test(name))
    throw validationError(
      `1 validation error detected: Value '${name}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ and have length from 1 to 64`,
    );
}

function checkBus(bus: string | undefined): void {
  if (bus !== undefined && bus !== DEFAULT_BUS && !bus.endsWith(`:event-bus/${DEFAULT_BUS}`))
    throw new AwsError(
      'ResourceNotFoundException',
      `Event bus ${bus} does not exist. The local stack has only the default event bus.`,
    );
}

/** A scheduled rule's timer: its own schedule time, and a controller to end it. */
interface Ticker {
  controller: AbortController;
  done: Promise<void>;
}

export class EventBridgeService {
  private readonly rules = new Map<string, RuleRecord>();
  private readonly tickers = new Map<string, Ticker>();
  private readonly file: StateFile;
  private readonly firing = new Set<Promise<unknown>>();
  private closed = false;
  private fired = 0;
  /** Rules whose last firing met a full disk (logged once until a firing succeeds again). */
  private readonly diskFull = new Set<string>();

  private constructor(private readonly ctx: ServiceContext) {
    this.file = new StateFile(
      path.join(ctx.dataDir, 'eventbridge', 'state.json'),
      (line) => ctx.log(`eventbridge: ${line}`),
      (): EventBridgeState => ({ rules: [...this.rules.values()] }),
    );
  }

  static async open(ctx: ServiceContext): Promise<EventBridgeService> {
    const service = new EventBridgeService(ctx);
    const state = await readJson<EventBridgeState>(service.file.path);
    const now = ctx.clock.now().getTime();
    for (const rule of state?.rules ?? []) {
      // Schedules resume from now: a rate counts its intervals from the restart.
      rule.anchor = now;
      service.rules.set(rule.Name, rule);
    }
    for (const rule of service.rules.values()) service.schedule(rule);
    return service;
  }

  stats(): Record<string, number> {
    return {
      rules: this.rules.size,
      scheduled: this.tickers.size,
      fired: this.fired,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const tickers = [...this.tickers.values()];
    for (const ticker of tickers) ticker.controller.abort();
    await Promise.all(tickers.map((t) => t.done));
    await Promise.allSettled([...this.firing]);
    await this.file.flush();
  }

  /**
   * Replaces (or, with `next` undefined, removes) the rule named `name` once that is on disk.
   * `make` builds the new record from the stored one when the write is due (so changes made
   * meanwhile, as targets put by another request, are kept) and may throw to refuse.
   */
  private commitRule(
    name: string,
    make: (stored: RuleRecord | undefined) => RuleRecord | undefined,
  ): Promise<void> {
    return this.file.commit(() => {
      const stored = this.rules.get(name);
      const next = make(stored);
      if (next === undefined) this.rules.delete(name);
      else this.rules.set(name, next);
      return () => {
        if (stored === undefined) this.rules.delete(name);
        else this.rules.set(name, stored);
      };
    });
  }

  private ruleArn(name: string): string {
    return `arn:aws:events:${this.ctx.region}:${this.ctx.accountId}:rule/${name}`;
  }

  private rule(name: unknown, member = 'name'): RuleRecord {
    if (typeof name !== 'string' || name === '')
      throw validationError(
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    const rule = this.rules.get(name);
    if (rule === undefined) throw ruleNotFound(name);
    return rule;
  }

  // --- Scheduling

  /** (Re)starts the rule's timer if it is enabled and scheduled; stops it otherwise. */
  private schedule(rule: RuleRecord): void {
    const existing = this.tickers.get(rule.Name);
    if (existing !== undefined) {
      existing.controller.abort();
      this.tickers.delete(rule.Name);
    }
    if (this.closed || rule.State !== 'ENABLED' || rule.ScheduleExpression === undefined) return;
    const schedule = parseSchedule(rule.ScheduleExpression);
    const controller = new AbortController();
    const ticker: Ticker = { controller, done: Promise.resolve() };
    ticker.done = this.tick(rule, schedule, controller.signal).finally(() => {
      if (this.tickers.get(rule.Name) === ticker) this.tickers.delete(rule.Name);
    });
    this.tickers.set(rule.Name, ticker);
  }

  private async tick(rule: RuleRecord, schedule: Schedule, signal: AbortSignal): Promise<void> {
    let cursor = this.ctx.clock.now().getTime();
    for (;;) {
      const due = nextDue(schedule, cursor, rule.anchor);
      if (due === undefined) return;
      try {
        // At a time scale that makes a minute shorter than the floor (0 makes every wait nothing),
        // a rule fires at most once per floor of real time, not as fast as the event loop turns.
        if (this.ctx.clock.timeScale * 60_000 < MIN_FIRING_GAP_MS)
          await this.ctx.clock.sleepUnscaled(MIN_FIRING_GAP_MS, signal);
        else await this.ctx.clock.sleep(due - cursor, signal);
      } catch {
        return; // disabled, deleted, changed or the stack is closing
      }
      cursor = due;
      const firing = this.fire(rule, new Date(due));
      this.firing.add(firing);
      void firing.finally(() => this.firing.delete(firing));
    }
  }

  /** Delivers one scheduled event to the rule's targets. */
  private async fire(scheduled: RuleRecord, time: Date): Promise<void> {
    // The stored record now: targets put since the rule was scheduled replace the record.
    const rule = this.rules.get(scheduled.Name);
    if (rule === undefined) return;
    this.fired += 1;
    const event = JSON.stringify({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.ctx.accountId,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.ctx.region,
      resources: [rule.Arn],
      detail: {},
    });
    await Promise.all(
      rule.targets.map(async (target) => {
        try {
          await this.ctx.invoke('stepfunctions', 'StartExecution', {
            stateMachineArn: target.Arn,
            input: target.Input ?? event,
          });
          this.diskFull.delete(rule.Name);
        } catch (error) {
          // A full disk refuses every firing until there is space: said once per rule, not per firing.
          if (isDiskFull(error) || (error instanceof AwsError && error.code === 'ServiceUnavailable')) {
            if (this.diskFull.has(rule.Name)) return;
            this.diskFull.add(rule.Name);
          }
          this.ctx.log(
            `eventbridge: rule ${rule.Name} could not start ${target.Arn} (target ${target.Id}): ${(error as Error).message}`,
          );
        }
      }),
    );
  }

  // --- Operations

  async putRule(input: {
    Name?: string;
    ScheduleExpression?: string;
    EventPattern?: string;
    State?: string;
    Description?: string;
    RoleArn?: string;
    EventBusName?: string;
  }): Promise<{ RuleArn: string }> {
    if (input.Name === undefined)
      throw validationError(
        `1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null`,
      );
    checkRuleName(input.Name);
    checkBus(input.EventBusName);
    if (input.ScheduleExpression === undefined && input.EventPattern === undefined)
      throw validationError('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    if (input.ScheduleExpression !== undefined) {
      try {
        parseSchedule(input.ScheduleExpression);
      } catch (error) {
        if (error instanceof ScheduleError)
          throw validationError(`Parameter ScheduleExpression is not valid. ${error.message}`);
        throw error;
      }
    }
    if (input.EventPattern !== undefined) {
      let pattern: unknown;
      try {
        pattern = JSON.parse(input.EventPattern);
      } catch {
        pattern = undefined;
      }
      if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern))
        throw new AwsError(
          'InvalidEventPatternException',
          'Event pattern is not valid. It must be a JSON object.',
        );
    }
    const state = input.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED')
      throw validationError(
        `1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`,
      );
    const name = input.Name;
    const now = this.ctx.clock.now().getTime();
    await this.commitRule(name, (existing) => ({
      Name: name,
      Arn: this.ruleArn(name),
      State: state,
      anchor:
        existing !== undefined &&
        existing.State === state &&
        existing.ScheduleExpression === input.ScheduleExpression
          ? existing.anchor
          : now,
      targets: existing?.targets ?? [],
      ...(input.ScheduleExpression !== undefined ? { ScheduleExpression: input.ScheduleExpression } : {}),
      ...(input.EventPattern !== undefined ? { EventPattern: input.EventPattern } : {}),
      ...(input.Description !== undefined ? { Description: input.Description } : {}),
      ...(input.RoleArn !== undefined ? { RoleArn: input.RoleArn } : {}),
    }));
    const rule = this.rules.get(name)!;
    this.schedule(rule);
    return { RuleArn: rule.Arn };
  }

  async describeRule(input: { Name?: string; EventBusName?: string }): Promise<DescribeRuleResponse> {
    checkBus(input.EventBusName);
    return { ...this.view(this.rule(input.Name)), CreatedBy: this.ctx.accountId };
  }

  private view(rule: RuleRecord): Rule {
    const out: Rule = {
      Name: rule.Name,
      Arn: rule.Arn,
      State: rule.State as RuleState,
      EventBusName: DEFAULT_BUS,
    };
    if (rule.ScheduleExpression !== undefined) out.ScheduleExpression = rule.ScheduleExpression;
    if (rule.EventPattern !== undefined) out.EventPattern = rule.EventPattern;
    if (rule.Description !== undefined) out.Description = rule.Description;
    if (rule.RoleArn !== undefined) out.RoleArn = rule.RoleArn;
    return out;
  }

  private async setState(name: string | undefined, state: 'ENABLED' | 'DISABLED'): Promise<void> {
    const rule = this.rule(name);
    if (rule.State === state) return;
    const now = this.ctx.clock.now().getTime();
    await this.commitRule(rule.Name, (stored) => {
      if (stored === undefined) throw ruleNotFound(rule.Name);
      return { ...stored, State: state, anchor: stored.State === state ? stored.anchor : now };
    });
    this.schedule(this.rules.get(rule.Name)!);
  }

  async enableRule(input: { Name?: string; EventBusName?: string }): Promise<Record<string, never>> {
    checkBus(input.EventBusName);
    await this.setState(input.Name, 'ENABLED');
    return {};
  }

  async disableRule(input: { Name?: string; EventBusName?: string }): Promise<Record<string, never>> {
    checkBus(input.EventBusName);
    await this.setState(input.Name, 'DISABLED');
    return {};
  }

  async listRules(input: {
    NamePrefix?: string;
    EventBusName?: string;
    NextToken?: string;
    Limit?: number;
  }): Promise<ListRulesResponse> {
    checkBus(input.EventBusName);
    const names = [...this.rules.keys()]
      .filter((name) => input.NamePrefix === undefined || name.startsWith(input.NamePrefix))
      .sort();
    const { page, next } = paginate(names, input.NextToken, input.Limit);
    return {
      Rules: page.map((name) => this.view(this.rules.get(name)!)),
      ...(next !== undefined ? { NextToken: next } : {}),
    };
  }

  async deleteRule(input: {
    Name?: string;
    EventBusName?: string;
    Force?: boolean;
  }): Promise<Record<string, never>> {
    checkBus(input.EventBusName);
    if (input.Name === undefined)
      throw validationError(
        `1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null`,
      );
    const rule = this.rules.get(input.Name);
    // Deleting a rule that does not exist succeeds, as in EventBridge.
    if (rule === undefined) return {};
    await this.commitRule(rule.Name, (stored) => {
      if (stored !== undefined && stored.targets.length > 0)
        throw validationError(
          "Rule can't be deleted since it has targets. Remove them first (RemoveTargets).",
        );
      return undefined;
    });
    this.schedule({ ...rule, State: 'DISABLED' });
    return {};
  }

  async putTargets(input: {
    Rule?: string;
    EventBusName?: string;
    Targets?: Target[];
  }): Promise<PutTargetsResponse> {
    checkBus(input.EventBusName);
    const rule = this.rule(input.Rule, 'rule');
    const targets = input.Targets ?? [];
    if (targets.length < 1 || targets.length > 10)
      throw validationError(
        `1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10`,
      );
    const given = new Map<string, TargetRecord>();
    for (const [i, target] of targets.entries()) {
      const where = `Targets[${i}]`;
      if (target.Id === undefined || !TARGET_ID.test(target.Id))
        throw validationError(`${where}.Id must be 1-64 characters of letters, digits, '.', '-' and '_'.`);
      if (target.Arn === undefined || !STATE_MACHINE_ARN.test(target.Arn))
        throw validationError(
          `${where}.Arn '${target.Arn ?? ''}': the local stack's EventBridge delivers to Step Functions state machines only (arn:aws:states:<region>:<account>:stateMachine:<name>).`,
        );
      for (const unsupported of [
        'InputPath',
        'InputTransformer',
        'SqsParameters',
        'EcsParameters',
        'BatchParameters',
      ] as const)
        if (target[unsupported] !== undefined)
          throw validationError(
            `${where}.${unsupported} is not supported locally; give the event in Input instead.`,
          );
      if (target.Input !== undefined) {
        try {
          JSON.parse(target.Input);
        } catch {
          throw validationError(`${where}.Input must be valid JSON text.`);
        }
      }
      given.set(target.Id, {
        Id: target.Id,
        Arn: target.Arn,
        ...(target.RoleArn !== undefined ? { RoleArn: target.RoleArn } : {}),
        ...(target.Input !== undefined ? { Input: target.Input } : {}),
      });
    }
    await this.commitRule(rule.Name, (stored) => {
      if (stored === undefined) throw ruleNotFound(rule.Name);
      const next = new Map(stored.targets.map((t) => [t.Id, t]));
      for (const [id, target] of given) next.set(id, target);
      if (next.size > MAX_TARGETS)
        throw new AwsError(
          'LimitExceededException',
          `The requested resource exceeds the maximum number allowed: a rule has at most ${MAX_TARGETS} targets.`,
        );
      return { ...stored, targets: [...next.values()] };
    });
    return { FailedEntryCount: 0, FailedEntries: [] };
  }

  async listTargetsByRule(input: {
    Rule?: string;
    EventBusName?: string;
    NextToken?: string;
    Limit?: number;
  }): Promise<ListTargetsByRuleResponse> {
    checkBus(input.EventBusName);
    const rule = this.rule(input.Rule, 'rule');
    const { page, next } = paginate(rule.targets, input.NextToken, input.Limit);
    // The model's TargetList has at least one item: a rule without targets answers without the member.
    return {
      ...(page.length > 0 ? { Targets: page.map((t) => ({ ...t })) } : {}),
      ...(next !== undefined ? { NextToken: next } : {}),
    };
  }

  async removeTargets(input: {
    Rule?: string;
    EventBusName?: string;
    Ids?: string[];
    Force?: boolean;
  }): Promise<RemoveTargetsResponse> {
    checkBus(input.EventBusName);
    const rule = this.rule(input.Rule, 'rule');
    const ids = input.Ids ?? [];
    if (ids.length < 1 || ids.length > 100)
      throw validationError(
        `1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100`,
      );
    // Ids that are not targets of the rule are ignored, as EventBridge does.
    await this.commitRule(rule.Name, (stored) => {
      if (stored === undefined) throw ruleNotFound(rule.Name);
      return { ...stored, targets: stored.targets.filter((t) => !ids.includes(t.Id)) };
    });
    return { FailedEntryCount: 0, FailedEntries: [] };
  }
}

function paginate<T>(
  items: readonly T[],
  token: string | undefined,
  limit: number | undefined,
): { page: T[]; next?: string } {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE))
    throw validationError(
      `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${MAX_PAGE}`,
    );
  let start = 0;
  if (token !== undefined) {
    start = Number(Buffer.from(token, 'base64url').toString('utf8'));
    if (!Number.isInteger(start) || start < 0 || start > items.length)
      throw validationError('The NextToken is not valid: pass back the NextToken of the previous page.');
  }
  const size = limit ?? MAX_PAGE;
  const page = items.slice(start, start + size);
  const end = start + page.length;
  return end < items.length
    ? { page, next: Buffer.from(String(end), 'utf8').toString('base64url') }
    : { page };
}
