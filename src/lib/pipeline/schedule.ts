/**
 * The pipeline's schedule: an EventBridge rule in the pipeline stack, changed by redeploying that
 * stack with new ScheduleExpression / ScheduleState parameters (so the template stays the truth,
 * and a plain `mlpipe deploy` keeps the schedule as it is), and read back with DescribeRule.
 */
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { translateAwsError, usageError } from '../cli/errors.js';
import { requireStackOutputs } from '../infra/stacks.js';

const RATE_UNITS = ['minute', 'hour', 'day'] as const;

/** "1 day" / "6 hours" → rate(…), with EventBridge's rules: a positive whole number, singular for 1. */
export function rateExpression(text: string): string {
  const m = /^\s*(\d+)\s*(minutes?|hours?|days?)\s*$/i.exec(text);
  if (!m)
    throw usageError(
      `--rate "${text}" is not a rate: give a number and a unit, e.g. "1 day", "6 hours", "30 minutes".`,
    );
  const value = Number(m[1]);
  if (!Number.isSafeInteger(value) || value < 1)
    throw usageError(`--rate "${text}": the number must be 1 or more.`);
  const unit = RATE_UNITS.find((u) => m[2]!.toLowerCase().startsWith(u))!;
  return `rate(${value} ${value === 1 ? unit : `${unit}s`})`;
}

/** "0 3 * * ? *" → cron(…): six fields, and one of day-of-month / day-of-week must be "?". */
export function cronExpression(text: string): string {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 6)
    throw usageError(
      `--cron "${text}" has ${fields.length} field${fields.length === 1 ? '' : 's'}; EventBridge cron has six: minutes hours day-of-month month day-of-week year.`,
      ['For example --cron "0 3 * * ? *" (03:00 UTC every day).'],
    );
  if ((fields[2] === '?') === (fields[4] === '?'))
    throw usageError(
      `--cron "${text}": exactly one of day-of-month (3rd field) and day-of-week (5th field) must be "?".`,
      ['For example --cron "0 3 * * ? *" or --cron "0 3 ? * MON *".'],
    );
  return `cron(${fields.join(' ')})`;
}

export interface ScheduleView {
  rule: string;
  state: string;
  expression: string;
  stateMachineArn: string | null;
}

export async function readSchedule(clients: Clients, settings: Settings): Promise<ScheduleView> {
  const outputs = await requireStackOutputs(clients, settings, 'pipeline');
  const rule = outputs.ScheduleRuleName!;
  const events = await clients.events();
  const { DescribeRuleCommand, ListTargetsByRuleCommand } = await import('@aws-sdk/client-eventbridge');
  try {
    const described = await events.send(new DescribeRuleCommand({ Name: rule }));
    const targets = await events.send(new ListTargetsByRuleCommand({ Rule: rule }));
    return {
      rule,
      state: described.State ?? 'DISABLED',
      expression: described.ScheduleExpression ?? '',
      stateMachineArn: targets.Targets?.[0]?.Arn ?? null,
    };
  } catch (error) {
    throw translateAwsError(error, `Reading the schedule rule ${rule}`);
  }
}
