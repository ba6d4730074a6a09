/**
 * Step Functions' AWS JSON 1.0 wire table (`AWSStepFunctions.<Operation>`): reads each operation's
 * JSON body into the `@aws-sdk/client-sfn` input type (a member of the wrong JSON type is a
 * SerializationException, as AWS answers it) and calls the service. Outputs go back as the service
 * returns them; the JSON codec turns their Dates into epoch seconds.
 */
import type {
  CloudWatchLogsLogGroup,
  LogDestination,
  LoggingConfiguration,
  LogLevel,
  StateMachineType,
  Tag,
  TracingConfiguration,
} from '@aws-sdk/client-sfn';
import { AwsError } from '../../core/errors.js';
import type { OperationTable } from '../../core/service.js';
import type { StepFunctionsService } from './stepfunctions-service.js';

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

function obj(input: Input, member: string): Input | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(member, 'an object');
  return value as Input;
}

function list(input: Input, member: string): Input[] | undefined {
  const value = input[member];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => v === null || typeof v !== 'object' || Array.isArray(v)))
    throw wrongType(member, 'a list of objects');
  return value as Input[];
}

function oneOf<T extends string>(input: Input, member: string, values: readonly T[]): T | undefined {
  const value = str(input, member);
  if (value !== undefined && !values.includes(value as T))
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy enum value set: [${values.join(', ')}]`,
    );
  return value as T | undefined;
}

function logging(input: Input): LoggingConfiguration | undefined {
  const value = obj(input, 'loggingConfiguration');
  if (value === undefined) return undefined;
  const destinations = list(value, 'destinations')?.map((d): LogDestination => {
    const group = obj(d, 'cloudWatchLogsLogGroup');
    const logGroup: CloudWatchLogsLogGroup | undefined =
      group === undefined ? undefined : { logGroupArn: str(group, 'logGroupArn') };
    return { cloudWatchLogsLogGroup: logGroup };
  });
  return {
    level: oneOf<LogLevel>(value, 'level', ['ALL', 'ERROR', 'FATAL', 'OFF']),
    includeExecutionData: bool(value, 'includeExecutionData'),
    destinations,
  };
}

function tracing(input: Input): TracingConfiguration | undefined {
  const value = obj(input, 'tracingConfiguration');
  return value === undefined ? undefined : { enabled: bool(value, 'enabled') };
}

function tags(input: Input): Tag[] | undefined {
  return list(input, 'tags')?.map((t) => ({ key: str(t, 'key'), value: str(t, 'value') }));
}

const STATE_MACHINE_TYPES: readonly StateMachineType[] = ['STANDARD', 'EXPRESS'];

/** Step Functions' AWS operations, as the services list serves them. */
export function stepFunctionsOperations(sfn: StepFunctionsService): OperationTable {
  return {
    CreateStateMachine: (i: Input) =>
      sfn.createStateMachine({
        name: str(i, 'name'),
        definition: str(i, 'definition'),
        roleArn: str(i, 'roleArn'),
        type: oneOf(i, 'type', STATE_MACHINE_TYPES),
        loggingConfiguration: logging(i),
        tracingConfiguration: tracing(i),
        tags: tags(i),
        publish: bool(i, 'publish'),
        versionDescription: str(i, 'versionDescription'),
      }),
    UpdateStateMachine: (i: Input) =>
      sfn.updateStateMachine({
        stateMachineArn: str(i, 'stateMachineArn'),
        definition: str(i, 'definition'),
        roleArn: str(i, 'roleArn'),
        loggingConfiguration: logging(i),
        tracingConfiguration: tracing(i),
        publish: bool(i, 'publish'),
        versionDescription: str(i, 'versionDescription'),
      }),
    DescribeStateMachine: (i: Input) =>
      sfn.describeStateMachine({ stateMachineArn: str(i, 'stateMachineArn') }),
    ListStateMachines: (i: Input) =>
      sfn.listStateMachines({ maxResults: int(i, 'maxResults'), nextToken: str(i, 'nextToken') }),
    DeleteStateMachine: (i: Input) => sfn.deleteStateMachine({ stateMachineArn: str(i, 'stateMachineArn') }),
    StartExecution: (i: Input) =>
      sfn.startExecution({
        stateMachineArn: str(i, 'stateMachineArn'),
        name: str(i, 'name'),
        input: str(i, 'input'),
        traceHeader: str(i, 'traceHeader'),
      }),
    DescribeExecution: (i: Input) => sfn.describeExecution({ executionArn: str(i, 'executionArn') }),
    DescribeStateMachineForExecution: (i: Input) =>
      sfn.describeStateMachineForExecution({ executionArn: str(i, 'executionArn') }),
    ListExecutions: (i: Input) =>
      sfn.listExecutions({
        stateMachineArn: str(i, 'stateMachineArn'),
        statusFilter: oneOf(i, 'statusFilter', [
          'RUNNING',
          'SUCCEEDED',
          'FAILED',
          'TIMED_OUT',
          'ABORTED',
          'PENDING_REDRIVE',
        ] as const),
        maxResults: int(i, 'maxResults'),
        nextToken: str(i, 'nextToken'),
        mapRunArn: str(i, 'mapRunArn'),
      }),
    GetExecutionHistory: (i: Input) =>
      sfn.getExecutionHistory({
        executionArn: str(i, 'executionArn'),
        maxResults: int(i, 'maxResults'),
        reverseOrder: bool(i, 'reverseOrder'),
        nextToken: str(i, 'nextToken'),
        includeExecutionData: bool(i, 'includeExecutionData'),
      }),
    StopExecution: (i: Input) =>
      sfn.stopExecution({
        executionArn: str(i, 'executionArn'),
        error: str(i, 'error'),
        cause: str(i, 'cause'),
      }),
  };
}
