/**
 * CloudWatch Logs in the local stack: log groups, their streams and events — what Glue runs write
 * (`/aws-glue/jobs/output`, `/aws-glue/jobs/error`, one stream per run id) and what `mlpipe run-etl
 * --logs` and `aws logs get-log-events` read back. Operations take and return the AWS-shaped members
 * (camelCase, times as epoch milliseconds) and raise AWS's errors.
 *
 * Reading follows AWS's token rules: GetLogEvents returns `nextForwardToken` (`f/…`) and
 * `nextBackwardToken` (`b/…`) positions; reading forward at the end returns the same forward token
 * again (how clients know to stop), and reading backward at the start the same backward token.
 * Without a token it returns the newest events (up to `limit`), or the oldest with
 * `startFromHead`. FilterLogEvents merges streams by time and pages with `nextToken`.
 *
 * State: `<dataDir>/logs/state.json` (groups and streams) and one events file per stream under
 * `<dataDir>/logs/streams/`, each replaced atomically on change.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AwsError } from '../../core/errors.js';
import { readJson } from '../../../shared/atomic-file.js';
import { StateFile } from '../../store/state-file.js';
import type { LocalContext } from '../../types.js';

export interface LogEventRecord {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

interface StreamRecord {
  logStreamName: string;
  creationTime: number;
  /** Name of the stream's events file under streams/. */
  file: string;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  storedBytes: number;
}

interface GroupRecord {
  logGroupName: string;
  creationTime: number;
  retentionInDays?: number;
  streams: StreamRecord[];
}

interface LogsState {
  groups: GroupRecord[];
  nextFile: number;
}

/** Largest number of events GetLogEvents and FilterLogEvents return (and their default limit). */
const MAX_EVENTS = 10_000;
/** Largest page of DescribeLogGroups / DescribeLogStreams (and their default). */
const MAX_DESCRIBE = 50;
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;

export function invalidParameter(message: string): AwsError {
  return new AwsError('InvalidParameterException', message);
}

function groupNotFound(): AwsError {
  return new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
}

function streamNotFound(): AwsError {
  return new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
}

function limitOf(value: number | undefined, max: number): number {
  if (value === undefined) return max;
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw invalidParameter(
      `1 validation error detected: Value '${value}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${max}`,
    );
  return value;
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeToken<T>(token: string, check: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    // fall through
  }
  throw invalidParameter('The specified nextToken is invalid.');
}

const isName = (value: unknown): value is { after: string } =>
  typeof value === 'object' && value !== null && typeof (value as { after?: unknown }).after === 'string';
const isOffset = (value: unknown): value is { offset: number } =>
  typeof value === 'object' && value !== null && Number.isInteger((value as { offset?: unknown }).offset);

/** `f/00000000000000000042` and `b/…`: a position in a stream's (time-filtered) events. */
function positionToken(direction: 'f' | 'b', position: number): string {
  return `${direction}/${String(position).padStart(56, '0')}`;
}

function parsePosition(token: string): { direction: 'f' | 'b'; position: number } {
  const m = /^([fb])\/(\d{1,56})$/.exec(token);
  if (!m) throw invalidParameter('The specified nextToken is invalid.');
  return { direction: m[1] as 'f' | 'b', position: Number(m[2]) };
}

/** Whether `message` matches a filter pattern: every term (plain words or "quoted phrases") occurs. */
export function matchesFilterPattern(pattern: string | undefined, message: string): boolean {
  if (pattern === undefined || pattern.trim() === '') return true;
  const terms = [...pattern.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) =>
    m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!,
  );
  return terms.every((term) => message.includes(term));
}

export class LogsService {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly events = new Map<StreamRecord, LogEventRecord[]>();
  private readonly eventFiles = new Map<StreamRecord, StateFile>();
  /** The last PutLogEvents of each stream still being written. */
  private readonly puts = new Map<StreamRecord, Promise<void>>();
  private nextFile = 0;
  private readonly state: StateFile;

  private constructor(private readonly ctx: LocalContext) {
    this.state = new StateFile(
      path.join(this.dir, 'state.json'),
      (line) => ctx.log(`logs: ${line}`),
      (): LogsState => ({ groups: [...this.groups.values()], nextFile: this.nextFile }),
    );
  }

  static async open(ctx: LocalContext): Promise<LogsService> {
    const service = new LogsService(ctx);
    await service.load();
    return service;
  }

  private get dir(): string {
    return path.join(this.ctx.dataDir, 'logs');
  }

  private streamFile(stream: StreamRecord): string {
    return path.join(this.dir, 'streams', stream.file);
  }

  private async load(): Promise<void> {
    const state = await readJson<LogsState>(path.join(this.dir, 'state.json'));
    if (!state) return;
    this.nextFile = state.nextFile;
    for (const group of state.groups) {
      this.groups.set(group.logGroupName, group);
      for (const stream of group.streams)
        this.events.set(stream, (await readJson<LogEventRecord[]>(this.streamFile(stream))) ?? []);
    }
  }

  stats(): { logGroups: number; logStreams: number } {
    let streams = 0;
    for (const group of this.groups.values()) streams += group.streams.length;
    return { logGroups: this.groups.size, logStreams: streams };
  }

  async close(): Promise<void> {
    await Promise.all([...this.eventFiles.values()].map((file) => file.flush()));
    await this.state.flush();
  }

  private arn(group: string, stream?: string): string {
    const base = `arn:aws:logs:${this.ctx.region}:${this.ctx.accountId}:log-group:${group}`;
    return stream === undefined ? `${base}:*` : `${base}:log-stream:${stream}`;
  }

  private group(name: string | undefined): GroupRecord {
    if (name === undefined || name === '') throw invalidParameter('logGroupName is required.');
    const group = this.groups.get(name);
    if (group === undefined) throw groupNotFound();
    return group;
  }

  private stream(group: GroupRecord, name: string | undefined): StreamRecord {
    if (name === undefined || name === '') throw invalidParameter('logStreamName is required.');
    const stream = group.streams.find((s) => s.logStreamName === name);
    if (stream === undefined) throw streamNotFound();
    return stream;
  }

  // ---- writing

  async createLogGroup(input: { logGroupName?: string; retentionInDays?: number }): Promise<void> {
    const name = input.logGroupName;
    if (name === undefined || !GROUP_NAME.test(name))
      throw invalidParameter(`Invalid log group name: ${JSON.stringify(name ?? '')}.`);
    const record: GroupRecord = { logGroupName: name, creationTime: this.ctx.now().getTime(), streams: [] };
    // Visible once on disk: a full disk leaves no group behind.
    await this.state.commit(() => {
      if (this.groups.has(name))
        throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
      this.groups.set(name, record);
      return () => this.groups.delete(name);
    });
  }

  async createLogStream(input: { logGroupName?: string; logStreamName?: string }): Promise<void> {
    const group = this.group(input.logGroupName);
    const name = input.logStreamName;
    if (name === undefined || !STREAM_NAME.test(name))
      throw invalidParameter(`Invalid log stream name: ${JSON.stringify(name ?? '')}.`);
    await this.state.commit(() => {
      if (this.groups.get(group.logGroupName) !== group) throw groupNotFound();
      if (group.streams.some((s) => s.logStreamName === name))
        throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
      const stream: StreamRecord = {
        logStreamName: name,
        creationTime: this.ctx.now().getTime(),
        file: `${this.nextFile++}.json`,
        storedBytes: 0,
      };
      group.streams.push(stream);
      this.events.set(stream, []);
      return () => {
        group.streams.splice(group.streams.indexOf(stream), 1);
        this.events.delete(stream);
        this.nextFile--;
      };
    });
  }

  async putLogEvents(input: {
    logGroupName?: string;
    logStreamName?: string;
    logEvents?: { timestamp?: number; message?: string }[];
  }): Promise<{ nextSequenceToken?: string }> {
    const group = this.group(input.logGroupName);
    const stream = this.stream(group, input.logStreamName);
    const given = input.logEvents;
    if (!Array.isArray(given) || given.length === 0 || given.length > MAX_EVENTS)
      throw invalidParameter('logEvents must hold 1 to 10000 events.');
    const ingestionTime = this.ctx.now().getTime();
    const added: LogEventRecord[] = [];
    let previous = Number.NEGATIVE_INFINITY;
    for (const event of given) {
      if (typeof event?.timestamp !== 'number' || typeof event.message !== 'string' || event.message === '')
        throw invalidParameter('Each log event needs a timestamp and a non-empty message.');
      if (event.timestamp < previous)
        throw invalidParameter('Log events in a single PutLogEvents request must be in chronological order.');
      previous = event.timestamp;
      added.push({ timestamp: event.timestamp, message: event.message, ingestionTime });
    }
    // One put per stream at a time: each builds on the last one's list.
    const previousPut = this.puts.get(stream) ?? Promise.resolve();
    const put = previousPut.then(() => this.appendEvents(stream, added, ingestionTime));
    const tail = put.catch(() => undefined);
    this.puts.set(stream, tail);
    void tail.then(() => {
      if (this.puts.get(stream) === tail) this.puts.delete(stream);
    });
    await put;
    return {};
  }

  /** Adds events to a stream: a new list, visible only once the stream's file and the state hold it. */
  private async appendEvents(
    stream: StreamRecord,
    added: LogEventRecord[],
    ingestionTime: number,
  ): Promise<void> {
    const events = [...this.events.get(stream)!];
    let storedBytes = stream.storedBytes;
    // Kept in time order (a later put may carry earlier timestamps), stable for equal times.
    for (const event of added) {
      let at = events.length;
      while (at > 0 && events[at - 1]!.timestamp > event.timestamp) at--;
      events.splice(at, 0, event);
      storedBytes += Buffer.byteLength(event.message) + 26;
    }
    let file = this.eventFiles.get(stream);
    if (file === undefined) {
      file = new StateFile(this.streamFile(stream), (line) => this.ctx.log(`logs: ${line}`));
      this.eventFiles.set(stream, file);
    }
    await file.save(events);
    const before = { ...stream };
    const previousEvents = this.events.get(stream)!;
    await this.state.commit(() => {
      stream.storedBytes = storedBytes;
      stream.firstEventTimestamp = events[0]!.timestamp;
      stream.lastEventTimestamp = events[events.length - 1]!.timestamp;
      stream.lastIngestionTime = ingestionTime;
      this.events.set(stream, events);
      return () => {
        Object.assign(stream, before);
        this.events.set(stream, previousEvents);
      };
    });
  }

  async deleteLogGroup(input: { logGroupName?: string }): Promise<void> {
    const group = this.group(input.logGroupName);
    await this.state.commit(() => {
      this.groups.delete(group.logGroupName);
      return () => this.groups.set(group.logGroupName, group);
    });
    for (const stream of group.streams) {
      await this.eventFiles.get(stream)?.flush();
      this.eventFiles.delete(stream);
      this.events.delete(stream);
      await fs.rm(this.streamFile(stream), { force: true });
    }
  }

  // ---- reading

  async describeLogGroups(input: {
    logGroupNamePrefix?: string;
    limit?: number;
    nextToken?: string;
  }): Promise<{
    logGroups: Record<string, unknown>[];
    nextToken?: string;
  }> {
    const limit = limitOf(input.limit, MAX_DESCRIBE);
    const after = input.nextToken === undefined ? undefined : decodeToken(input.nextToken, isName).after;
    const names = [...this.groups.keys()]
      .filter((n) => input.logGroupNamePrefix === undefined || n.startsWith(input.logGroupNamePrefix))
      .filter((n) => after === undefined || n > after)
      .sort();
    const page = names.slice(0, limit);
    return {
      logGroups: page.map((name) => {
        const group = this.groups.get(name)!;
        return {
          logGroupName: name,
          creationTime: group.creationTime,
          metricFilterCount: 0,
          arn: this.arn(name),
          logGroupArn: this.arn(name).slice(0, -2),
          storedBytes: group.streams.reduce((n, s) => n + s.storedBytes, 0),
          logGroupClass: 'STANDARD',
          ...(group.retentionInDays === undefined ? {} : { retentionInDays: group.retentionInDays }),
        };
      }),
      ...(names.length > limit ? { nextToken: encodeToken({ after: page[page.length - 1]! }) } : {}),
    };
  }

  async describeLogStreams(input: {
    logGroupName?: string;
    logStreamNamePrefix?: string;
    orderBy?: string;
    descending?: boolean;
    limit?: number;
    nextToken?: string;
  }): Promise<{ logStreams: Record<string, unknown>[]; nextToken?: string }> {
    const group = this.group(input.logGroupName);
    const limit = limitOf(input.limit, MAX_DESCRIBE);
    const orderBy = input.orderBy ?? 'LogStreamName';
    if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime')
      throw invalidParameter(`Invalid orderBy ${orderBy}: use LogStreamName or LastEventTime.`);
    if (orderBy === 'LastEventTime' && input.logStreamNamePrefix !== undefined)
      throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
    const streams = group.streams
      .filter(
        (s) =>
          input.logStreamNamePrefix === undefined || s.logStreamName.startsWith(input.logStreamNamePrefix),
      )
      .sort((a, b) =>
        orderBy === 'LogStreamName'
          ? a.logStreamName < b.logStreamName
            ? -1
            : a.logStreamName > b.logStreamName
              ? 1
              : 0
          : (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) ||
            (a.logStreamName < b.logStreamName ? -1 : 1),
      );
    if (input.descending === true) streams.reverse();
    const start = input.nextToken === undefined ? 0 : decodeToken(input.nextToken, isOffset).offset;
    const page = streams.slice(start, start + limit);
    return {
      logStreams: page.map((s) => ({
        logStreamName: s.logStreamName,
        creationTime: s.creationTime,
        ...(s.firstEventTimestamp === undefined
          ? {}
          : {
              firstEventTimestamp: s.firstEventTimestamp,
              lastEventTimestamp: s.lastEventTimestamp,
              lastIngestionTime: s.lastIngestionTime,
            }),
        arn: this.arn(group.logGroupName, s.logStreamName),
        storedBytes: s.storedBytes,
      })),
      ...(start + limit < streams.length ? { nextToken: encodeToken({ offset: start + limit }) } : {}),
    };
  }

  async getLogEvents(input: {
    logGroupName?: string;
    logStreamName?: string;
    startTime?: number;
    endTime?: number;
    nextToken?: string;
    limit?: number;
    startFromHead?: boolean;
  }): Promise<{ events: LogEventRecord[]; nextForwardToken: string; nextBackwardToken: string }> {
    const group = this.group(input.logGroupName);
    const stream = this.stream(group, input.logStreamName);
    const limit = limitOf(input.limit, MAX_EVENTS);
    const events = this.events
      .get(stream)!
      .filter(
        (e) =>
          (input.startTime === undefined || e.timestamp >= input.startTime) &&
          (input.endTime === undefined || e.timestamp < input.endTime),
      );
    const n = events.length;
    let from: number;
    let to: number;
    if (input.nextToken !== undefined) {
      const { direction, position } = parsePosition(input.nextToken);
      const at = Math.min(position, n);
      if (direction === 'f') {
        from = at;
        to = Math.min(n, at + limit);
      } else {
        to = at;
        from = Math.max(0, at - limit);
      }
    } else if (input.startFromHead === true) {
      from = 0;
      to = Math.min(n, limit);
    } else {
      to = n;
      from = Math.max(0, n - limit);
    }
    return {
      events: events.slice(from, to).map((e) => ({ ...e })),
      nextForwardToken: positionToken('f', to),
      nextBackwardToken: positionToken('b', from),
    };
  }

  async filterLogEvents(input: {
    logGroupName?: string;
    logGroupIdentifier?: string;
    logStreamNames?: string[];
    logStreamNamePrefix?: string;
    startTime?: number;
    endTime?: number;
    filterPattern?: string;
    nextToken?: string;
    limit?: number;
  }): Promise<{ events: Record<string, unknown>[]; nextToken?: string }> {
    if (input.logGroupName !== undefined && input.logGroupIdentifier !== undefined)
      throw invalidParameter('Specify logGroupName or logGroupIdentifier, not both.');
    const identifier = input.logGroupIdentifier?.replace(/^arn:[^:]+:logs:[^:]*:[^:]*:log-group:/, '');
    const group = this.group(input.logGroupName ?? identifier);
    if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined)
      throw invalidParameter('Specify logStreamNames or logStreamNamePrefix, not both.');
    const limit = limitOf(input.limit, MAX_EVENTS);
    const streams = group.streams.filter(
      (s) =>
        (input.logStreamNames === undefined || input.logStreamNames.includes(s.logStreamName)) &&
        (input.logStreamNamePrefix === undefined || s.logStreamName.startsWith(input.logStreamNamePrefix)),
    );
    const matched: { stream: StreamRecord; index: number; event: LogEventRecord }[] = [];
    for (const stream of streams)
      this.events.get(stream)!.forEach((event, index) => {
        if (
          (input.startTime === undefined || event.timestamp >= input.startTime) &&
          (input.endTime === undefined || event.timestamp <= input.endTime) &&
          matchesFilterPattern(input.filterPattern, event.message)
        )
          matched.push({ stream, index, event });
      });
    matched.sort(
      (a, b) =>
        a.event.timestamp - b.event.timestamp ||
        (a.stream.logStreamName < b.stream.logStreamName
          ? -1
          : a.stream.logStreamName > b.stream.logStreamName
            ? 1
            : 0) ||
        a.index - b.index,
    );
    const start = input.nextToken === undefined ? 0 : decodeToken(input.nextToken, isOffset).offset;
    const page = matched.slice(start, start + limit);
    return {
      events: page.map(({ stream, index, event }) => ({
        logStreamName: stream.logStreamName,
        timestamp: event.timestamp,
        message: event.message,
        ingestionTime: event.ingestionTime,
        eventId: `${stream.file.replace(/\.json$/, '').padStart(12, '0')}${String(index).padStart(24, '0')}`,
      })),
      ...(start + limit < matched.length ? { nextToken: encodeToken({ offset: start + limit }) } : {}),
    };
  }
}
