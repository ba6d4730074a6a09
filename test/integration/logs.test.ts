// CloudWatch Logs in the local stack: the real CloudWatchLogsClient (and its paginators), raw
// signed requests whose every response is checked against botocore's `logs` model, the
// GetLogEvents token rules, FilterLogEvents pagination, and `aws logs` against it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  paginateFilterLogEvents,
  paginateGetLogEvents,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  awsJsonRequest,
  checkError,
  checkOutput,
  loadBotocoreModel,
  type ServiceModel,
} from '../helpers/botocore.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath, sdkError } from '../helpers/sdk.js';

const run = promisify(execFile);
const GROUP = '/aws-glue/jobs/output';
const STREAM = 'jr_0123456789abcdef';
const T0 = Date.UTC(2026, 0, 1);

describe('local stack CloudWatch Logs', () => {
  let stack: TestStack;
  let logs: CloudWatchLogsClient;
  const loaded = loadBotocoreModel('logs');
  const model: ServiceModel | undefined = 'model' in loaded ? loaded.model : undefined;
  const problems: string[] = [];

  /** A raw Logs_20140328 call whose answer is checked against the model. */
  async function call<T>(operation: string, body: Record<string, unknown>): Promise<T> {
    const response = await awsJsonRequest(stack, {
      service: 'logs',
      target: `Logs_20140328.${operation}`,
      jsonVersion: '1.1',
      body,
    });
    assert.equal(response.status, 200, `${operation}: ${response.body}`);
    if (model !== undefined) problems.push(...checkOutput(model, operation, response.body));
    return (response.body.trim() === '' ? {} : JSON.parse(response.body)) as T;
  }

  async function fail(operation: string, body: Record<string, unknown>, expected: string): Promise<string> {
    const response = await awsJsonRequest(stack, {
      service: 'logs',
      target: `Logs_20140328.${operation}`,
      jsonVersion: '1.1',
      body,
    });
    if (model !== undefined) {
      const { name, problems: found } = checkError(model, operation, response.status, response.body);
      problems.push(...found);
      assert.equal(name, expected, response.body);
    }
    assert.equal(response.status, 400);
    return (JSON.parse(response.body) as { message: string }).message;
  }

  before(async () => {
    stack = await startTestStack();
    logs = new CloudWatchLogsClient(sdkConfig(stack));
    await logs.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: STREAM }));
    // Two puts of five events each, one second apart.
    for (let batch = 0; batch < 2; batch++)
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: GROUP,
          logStreamName: STREAM,
          logEvents: Array.from({ length: 5 }, (_, i) => ({
            timestamp: T0 + (batch * 5 + i) * 1000,
            message: `line ${batch * 5 + i}${(batch * 5 + i) % 2 === 0 ? ' even' : ''}`,
          })),
        }),
      );
  });

  after(async () => {
    logs?.destroy();
    await stack?.stop();
  });

  it('GetLogEvents reads from the head with forward tokens, returning the same token at the end', async () => {
    type Page = {
      events: { timestamp: number; message: string; ingestionTime: number }[];
      nextForwardToken: string;
      nextBackwardToken: string;
    };
    const first = await call<Page>('GetLogEvents', {
      logGroupName: GROUP,
      logStreamName: STREAM,
      startFromHead: true,
      limit: 4,
    });
    assert.deepEqual(
      first.events.map((e) => e.message),
      ['line 0 even', 'line 1', 'line 2 even', 'line 3'],
    );
    assert.equal(first.events[0]!.timestamp, T0);
    assert.ok(first.events[0]!.ingestionTime > 0);
    assert.match(first.nextForwardToken, /^f\//);
    assert.match(first.nextBackwardToken, /^b\//);
    const seen = [...first.events];
    let token = first.nextForwardToken;
    for (;;) {
      const page = await call<Page>('GetLogEvents', {
        logGroupName: GROUP,
        logStreamName: STREAM,
        nextToken: token,
        limit: 4,
      });
      seen.push(...page.events);
      if (page.nextForwardToken === token) {
        assert.deepEqual(page.events, [], 'at the end the same token comes back with no events');
        break;
      }
      token = page.nextForwardToken;
    }
    assert.deepEqual(
      seen.map((e) => e.message),
      Array.from({ length: 10 }, (_, i) => `line ${i}${i % 2 === 0 ? ' even' : ''}`),
    );

    // Without a token and without startFromHead: the newest events; backward from there.
    const newest = await call<Page>('GetLogEvents', { logGroupName: GROUP, logStreamName: STREAM, limit: 3 });
    assert.deepEqual(
      newest.events.map((e) => e.message),
      ['line 7', 'line 8 even', 'line 9'],
    );
    const older = await call<Page>('GetLogEvents', {
      logGroupName: GROUP,
      logStreamName: STREAM,
      nextToken: newest.nextBackwardToken,
      limit: 3,
    });
    assert.deepEqual(
      older.events.map((e) => e.message),
      ['line 4 even', 'line 5', 'line 6 even'],
    );
    // A time window: [T0 + 2 s, T0 + 4 s).
    const window = await call<Page>('GetLogEvents', {
      logGroupName: GROUP,
      logStreamName: STREAM,
      startTime: T0 + 2000,
      endTime: T0 + 4000,
      startFromHead: true,
    });
    assert.deepEqual(
      window.events.map((e) => e.message),
      ['line 2 even', 'line 3'],
    );
    assert.deepEqual(problems, []);
  });

  it('the SDK paginators walk the stream and filtered events to the end', async () => {
    const messages: string[] = [];
    // GetLogEvents never runs out of forward tokens: the paginator stops when one comes back again.
    for await (const page of paginateGetLogEvents(
      { client: logs, pageSize: 3, stopOnSameToken: true },
      { logGroupName: GROUP, logStreamName: STREAM, startFromHead: true },
    ))
      messages.push(...(page.events ?? []).map((e) => e.message!));
    assert.equal(messages.length, 10);
    const filtered: string[] = [];
    let pages = 0;
    for await (const page of paginateFilterLogEvents(
      { client: logs, pageSize: 2 },
      { logGroupName: GROUP, filterPattern: 'even' },
    )) {
      pages++;
      filtered.push(...(page.events ?? []).map((e) => e.message!));
    }
    assert.deepEqual(filtered, ['line 0 even', 'line 2 even', 'line 4 even', 'line 6 even', 'line 8 even']);
    assert.equal(pages, 3);
  });

  it('FilterLogEvents pages with nextToken, DescribeLogGroups and DescribeLogStreams describe what is there', async () => {
    type Filtered = {
      events: { logStreamName: string; eventId: string; message: string }[];
      nextToken?: string;
    };
    const first = await call<Filtered>('FilterLogEvents', { logGroupName: GROUP, limit: 4 });
    assert.equal(first.events.length, 4);
    assert.equal(first.events[0]!.logStreamName, STREAM);
    assert.ok(first.nextToken);
    const rest = await call<Filtered>('FilterLogEvents', {
      logGroupName: GROUP,
      limit: 10,
      nextToken: first.nextToken,
    });
    assert.equal(rest.events.length, 6);
    assert.equal(rest.nextToken, undefined);
    const ids = new Set([...first.events, ...rest.events].map((e) => e.eventId));
    assert.equal(ids.size, 10, 'event ids are unique');

    await call('CreateLogGroup', { logGroupName: '/aws-glue/jobs/error' });
    type Groups = {
      logGroups: { logGroupName: string; arn: string; creationTime: number }[];
      nextToken?: string;
    };
    const one = await call<Groups>('DescribeLogGroups', { logGroupNamePrefix: '/aws-glue/', limit: 1 });
    assert.deepEqual(
      one.logGroups.map((g) => g.logGroupName),
      ['/aws-glue/jobs/error'],
    );
    assert.ok(one.nextToken);
    const two = await call<Groups>('DescribeLogGroups', {
      logGroupNamePrefix: '/aws-glue/',
      limit: 1,
      nextToken: one.nextToken,
    });
    assert.deepEqual(
      two.logGroups.map((g) => g.logGroupName),
      [GROUP],
    );
    assert.equal(two.nextToken, undefined);
    assert.match(
      two.logGroups[0]!.arn,
      /^arn:aws:logs:us-east-1:\d{12}:log-group:\/aws-glue\/jobs\/output:\*$/,
    );

    type Streams = {
      logStreams: { logStreamName: string; firstEventTimestamp: number; lastEventTimestamp: number }[];
    };
    const streams = await call<Streams>('DescribeLogStreams', { logGroupName: GROUP });
    assert.equal(streams.logStreams.length, 1);
    assert.equal(streams.logStreams[0]!.logStreamName, STREAM);
    assert.equal(streams.logStreams[0]!.firstEventTimestamp, T0);
    assert.equal(streams.logStreams[0]!.lastEventTimestamp, T0 + 9000);
    assert.deepEqual(problems, []);
  });

  it('answers missing groups and streams, duplicates and bad tokens with the declared errors', async () => {
    assert.equal(
      await fail(
        'GetLogEvents',
        { logGroupName: '/nope', logStreamName: STREAM },
        'ResourceNotFoundException',
      ),
      'The specified log group does not exist.',
    );
    assert.equal(
      await fail('GetLogEvents', { logGroupName: GROUP, logStreamName: 'nope' }, 'ResourceNotFoundException'),
      'The specified log stream does not exist.',
    );
    await fail('CreateLogGroup', { logGroupName: GROUP }, 'ResourceAlreadyExistsException');
    await fail(
      'CreateLogStream',
      { logGroupName: GROUP, logStreamName: STREAM },
      'ResourceAlreadyExistsException',
    );
    await fail(
      'GetLogEvents',
      { logGroupName: GROUP, logStreamName: STREAM, nextToken: 'x/1' },
      'InvalidParameterException',
    );
    await fail('FilterLogEvents', { logGroupName: GROUP, nextToken: '!!' }, 'InvalidParameterException');
    await fail('DescribeLogGroups', { limit: 51 }, 'InvalidParameterException');
    const sdk = await sdkError(
      logs.send(new GetLogEventsCommand({ logGroupName: '/nope', logStreamName: STREAM })),
    );
    assert.equal(sdk.name, 'ResourceNotFoundException');
    assert.deepEqual(problems, []);
  });

  it('keeps its groups, streams and events across a restart', async () => {
    const first = await startTestStack();
    const client = new CloudWatchLogsClient(sdkConfig(first));
    await client.send(new CreateLogGroupCommand({ logGroupName: GROUP }));
    await client.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: 'kept' }));
    await client.send(
      new PutLogEventsCommand({
        logGroupName: GROUP,
        logStreamName: 'kept',
        logEvents: [{ timestamp: T0, message: 'still here' }],
      }),
    );
    client.destroy();
    await first.stop({ keepData: true });
    const second = await startTestStack({ dataDir: first.dataDir });
    const again = new CloudWatchLogsClient(sdkConfig(second));
    try {
      const page = await again.send(
        new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'kept', startFromHead: true }),
      );
      assert.deepEqual(
        (page.events ?? []).map((e) => e.message),
        ['still here'],
      );
    } finally {
      again.destroy();
      await second.stop();
    }
  });

  it('`aws logs get-log-events` reads a stream', async (t) => {
    if (!awsCliAvailable()) {
      t.skip('the AWS CLI (aws) is not installed');
      return;
    }
    const work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-logs-cli-'));
    try {
      const { stdout } = await run(
        awsCliPath(),
        [
          '--endpoint-url',
          stack.endpoint,
          'logs',
          'get-log-events',
          '--log-group-name',
          GROUP,
          '--log-stream-name',
          STREAM,
          '--start-from-head',
          '--output',
          'json',
        ],
        { env: awsCliEnv(stack, work) },
      );
      const out = JSON.parse(stdout) as { events: { message: string }[]; nextForwardToken: string };
      assert.equal(out.events.length, 10);
      assert.equal(out.events[9]!.message, 'line 9');
      assert.match(out.nextForwardToken, /^f\//);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
