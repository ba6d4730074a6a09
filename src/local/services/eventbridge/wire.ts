/**
 * EventBridge's AWS JSON 1.1 wire table (`AWSEvents.<Operation>`): reads each operation's JSON body
 * member by member into the `@aws-sdk/client-eventbridge` input shape (a member of the wrong JSON
 * type is a SerializationException, as AWS answers it) and calls the service.
 */
import type { Target } from '@aws-sdk/client-eventbridge';
import { AwsError } from '../../core/errors.js';
import type { OperationTable } from '../../core/service.js';
import type { EventBridgeService } from './eventbridge-service.js';

type Input = Record<string, unknown>;

function wrongType(member: string, expected: string): AwsError {
  return new AwsError('SerializationException', `Expected ${expected} for member ${member}.`);
}

function str(input: Input, member: string): string | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(member, 'a string');
  return value;
}

function int(input: Input, member: string): number | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(member, 'an integer');
  return value;
}

function bool(input: Input, member: string): boolean | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw wrongType(member, 'a boolean');
  return value;
}

function strings(input: Input, member: string): string[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw wrongType(member, 'a list of strings');
  return value as string[];
}

function targets(input: Input): Target[] | undefined {
  const value = input.Targets;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw wrongType('Targets', 'a list of targets');
  return value.map((target: unknown, i) => {
    if (target === null || typeof target !== 'object' || Array.isArray(target))
      throw wrongType(`Targets[${i}]`, 'a structure');
    const t = target as Input;
    const out: Record<string, unknown> = {};
    for (const member of ['Id', 'Arn', 'RoleArn', 'Input', 'InputPath'])
      if (str(t, member) !== undefined) out[member] = t[member];
    for (const member of ['InputTransformer', 'SqsParameters', 'EcsParameters', 'BatchParameters'])
      if (t[member] !== undefined && t[member] !== null) out[member] = t[member];
    return out as unknown as Target;
  });
}

/** Undefined members dropped: the service sees only what the caller sent. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function eventBridgeOperations(events: EventBridgeService): OperationTable {
  return {
    PutRule: (input: Input) =>
      events.putRule(
        defined({
          Name: str(input, 'Name'),
          ScheduleExpression: str(input, 'ScheduleExpression'),
          EventPattern: str(input, 'EventPattern'),
          State: str(input, 'State'),
          Description: str(input, 'Description'),
          RoleArn: str(input, 'RoleArn'),
          EventBusName: str(input, 'EventBusName'),
        }),
      ),
    DescribeRule: (input: Input) =>
      events.describeRule(defined({ Name: str(input, 'Name'), EventBusName: str(input, 'EventBusName') })),
    EnableRule: (input: Input) =>
      events.enableRule(defined({ Name: str(input, 'Name'), EventBusName: str(input, 'EventBusName') })),
    DisableRule: (input: Input) =>
      events.disableRule(defined({ Name: str(input, 'Name'), EventBusName: str(input, 'EventBusName') })),
    ListRules: (input: Input) =>
      events.listRules(
        defined({
          NamePrefix: str(input, 'NamePrefix'),
          EventBusName: str(input, 'EventBusName'),
          NextToken: str(input, 'NextToken'),
          Limit: int(input, 'Limit'),
        }),
      ),
    DeleteRule: (input: Input) =>
      events.deleteRule(
        defined({
          Name: str(input, 'Name'),
          EventBusName: str(input, 'EventBusName'),
          Force: bool(input, 'Force'),
        }),
      ),
    PutTargets: (input: Input) =>
      events.putTargets(
        defined({
          Rule: str(input, 'Rule'),
          EventBusName: str(input, 'EventBusName'),
          Targets: targets(input),
        }),
      ),
    ListTargetsByRule: (input: Input) =>
      events.listTargetsByRule(
        defined({
          Rule: str(input, 'Rule'),
          EventBusName: str(input, 'EventBusName'),
          NextToken: str(input, 'NextToken'),
          Limit: int(input, 'Limit'),
        }),
      ),
    RemoveTargets: (input: Input) =>
      events.removeTargets(
        defined({
          Rule: str(input, 'Rule'),
          EventBusName: str(input, 'EventBusName'),
          Ids: strings(input, 'Ids'),
          Force: bool(input, 'Force'),
        }),
      ),
  };
}
