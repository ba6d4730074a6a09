/**
 * CloudWatch Logs' AWS operations (`Logs_20140328.*`): AWS-shaped input, checked member by member,
 * to `LogsService` calls. Inputs and outputs are typed with @aws-sdk/client-cloudwatch-logs' own
 * request and response types.
 */
import type {
  CreateLogGroupRequest,
  CreateLogStreamRequest,
  DeleteLogGroupRequest,
  DescribeLogGroupsRequest,
  DescribeLogGroupsResponse,
  DescribeLogStreamsRequest,
  DescribeLogStreamsResponse,
  FilterLogEventsRequest,
  FilterLogEventsResponse,
  GetLogEventsRequest,
  GetLogEventsResponse,
  PutLogEventsRequest,
  PutLogEventsResponse,
} from '@aws-sdk/client-cloudwatch-logs';
import type { OperationTable } from '../../core/service.js';
import { invalidParameter, type LogsService } from './log-groups.js';

type Members = Record<string, unknown>;

function optionalString(input: Members, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`${name} must be a string.`);
  return value;
}

function optionalNumber(input: Members, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidParameter(`${name} must be a number.`);
  return value;
}

function optionalBoolean(input: Members, name: string): boolean | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidParameter(`${name} must be a boolean.`);
  return value;
}

function optionalStrings(input: Members, name: string): string[] | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string'))
    throw invalidParameter(`${name} must be a list of strings.`);
  return value as string[];
}

/** Drops members that are undefined (the service sees only what the caller sent). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function logsOperations(logs: LogsService): OperationTable {
  return {
    CreateLogGroup: async (input: CreateLogGroupRequest & Members): Promise<Record<string, never>> => {
      await logs.createLogGroup(defined({ logGroupName: optionalString(input, 'logGroupName') }));
      return {};
    },
    CreateLogStream: async (input: CreateLogStreamRequest & Members): Promise<Record<string, never>> => {
      await logs.createLogStream(
        defined({
          logGroupName: optionalString(input, 'logGroupName'),
          logStreamName: optionalString(input, 'logStreamName'),
        }),
      );
      return {};
    },
    DeleteLogGroup: async (input: DeleteLogGroupRequest & Members): Promise<Record<string, never>> => {
      await logs.deleteLogGroup(defined({ logGroupName: optionalString(input, 'logGroupName') }));
      return {};
    },
    PutLogEvents: async (input: PutLogEventsRequest & Members): Promise<PutLogEventsResponse> => {
      const events = input.logEvents as unknown;
      if (!Array.isArray(events)) throw invalidParameter('logEvents must be a list.');
      return logs.putLogEvents(
        defined({
          logGroupName: optionalString(input, 'logGroupName'),
          logStreamName: optionalString(input, 'logStreamName'),
          logEvents: events.map((event: Members) => ({
            timestamp: optionalNumber(event ?? {}, 'timestamp'),
            message: optionalString(event ?? {}, 'message'),
          })),
        }),
      );
    },
    DescribeLogGroups: (input: DescribeLogGroupsRequest & Members): Promise<DescribeLogGroupsResponse> =>
      logs.describeLogGroups(
        defined({
          logGroupNamePrefix: optionalString(input, 'logGroupNamePrefix'),
          limit: optionalNumber(input, 'limit'),
          nextToken: optionalString(input, 'nextToken'),
        }),
      ),
    DescribeLogStreams: (input: DescribeLogStreamsRequest & Members): Promise<DescribeLogStreamsResponse> =>
      logs.describeLogStreams(
        defined({
          logGroupName:
            optionalString(input, 'logGroupName') ??
            optionalString(input, 'logGroupIdentifier')?.replace(
              /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:/,
              '',
            ),
          logStreamNamePrefix: optionalString(input, 'logStreamNamePrefix'),
          orderBy: optionalString(input, 'orderBy'),
          descending: optionalBoolean(input, 'descending'),
          limit: optionalNumber(input, 'limit'),
          nextToken: optionalString(input, 'nextToken'),
        }),
      ),
    GetLogEvents: (input: GetLogEventsRequest & Members): Promise<GetLogEventsResponse> =>
      logs.getLogEvents(
        defined({
          logGroupName:
            optionalString(input, 'logGroupName') ??
            optionalString(input, 'logGroupIdentifier')?.replace(
              /^arn:[^:]+:logs:[^:]*:[^:]*:log-group:/,
              '',
            ),
          logStreamName: optionalString(input, 'logStreamName'),
          startTime: optionalNumber(input, 'startTime'),
          endTime: optionalNumber(input, 'endTime'),
          nextToken: optionalString(input, 'nextToken'),
          limit: optionalNumber(input, 'limit'),
          startFromHead: optionalBoolean(input, 'startFromHead'),
        }),
      ),
    FilterLogEvents: (input: FilterLogEventsRequest & Members): Promise<FilterLogEventsResponse> =>
      logs.filterLogEvents(
        defined({
          logGroupName: optionalString(input, 'logGroupName'),
          logGroupIdentifier: optionalString(input, 'logGroupIdentifier'),
          logStreamNames: optionalStrings(input, 'logStreamNames'),
          logStreamNamePrefix: optionalString(input, 'logStreamNamePrefix'),
          startTime: optionalNumber(input, 'startTime'),
          endTime: optionalNumber(input, 'endTime'),
          filterPattern: optionalString(input, 'filterPattern'),
          nextToken: optionalString(input, 'nextToken'),
          limit: optionalNumber(input, 'limit'),
        }),
      ),
  };
}
