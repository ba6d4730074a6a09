// EventBridge in the local stack: rules and targets through the SDK, every raw response checked
// against botocore's `events` model; schedules firing Step Functions executions on a manual clock
// (exactly when it is advanced, with the target's Input or the scheduled event), disabled rules
// staying quiet, rules and targets kept across a restart; and `aws events …` from the AWS CLI.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  type ExecutionListItem,
} from '@aws-sdk/client-sfn';
import { ManualClock, ScaledClock } from '../../src/local/core/clock.js';
import {
  awsJsonRequest,
  checkError,
  checkOutput,
  loadBotocoreModel,
  type ServiceModel,
} from '../helpers/botocore.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath } from '../helpers/sdk.js';
import { SFN_ROLE, waitExecution } from '../helpers/stepfunctions.js';

const loaded = loadBotocoreModel('events');
const model: ServiceModel | undefined = 'model' in loaded ? loaded.model : undefined;
const EVENTS_ROLE = 'arn:aws:iam::000000000000:role/mlpipe-events';
const PASS = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } };

/** Raw AWS JSON 1.1 calls, each response checked against the botocore model when it is there. */
function eventsApi(stack: TestStack, problems: string[]) {
  const raw = (operation: string, body: object) =>
    awsJsonRequest(stack, { service: 'events', target: `AWSEvents.${operation}`, jsonVersion: '1.1', body });
  return {
    async call<T = Record<string, unknown>>(operation: string, body: object): Promise<T> {
      const response = await raw(operation, body);
      assert.equal(response.status, 200, `${operation}: ${response.body}`);
      assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
      if (model !== undefined) problems.push(...checkOutput(model, operation, response.body));
      return (response.body === '' ? {} : JSON.parse(response.body)) as T;
    },
    /** Expects the error `name`; returns its message. */
    async fails(operation: string, body: object, name: string): Promise<string> {
      const response = await raw(operation, body);
      const parsed = JSON.parse(response.body) as { __type: string; message: string };
      if (model !== undefined) {
        const checked = checkError(model, operation, response.status, response.body);
        problems.push(...checked.problems);
        assert.equal(checked.name, name, `${operation}: ${response.body}`);
      } else assert.equal(parsed.__type.split('#').at(-1), name);
      return parsed.message;
    },
  };
}

async function createMachine(sfn: SFNClient, name: string): Promise<string> {
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({ name, definition: JSON.stringify(PASS), roleArn: SFN_ROLE }),
  );
  return stateMachineArn!;
}

/** Polls ListExecutions until the machine has `count` executions (a bound only against hangs). */
async function executions(
  sfn: SFNClient,
  stateMachineArn: string,
  count: number,
): Promise<ExecutionListItem[]> {
  const until = Date.now() + 60_000;
  for (;;) {
    const { executions: listed } = await sfn.send(new ListExecutionsCommand({ stateMachineArn }));
    if (listed!.length >= count) return listed!;
    if (Date.now() > until) assert.fail(`${stateMachineArn}: ${listed!.length} executions, not ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('local stack EventBridge', () => {
  it('serves rules and targets as the events model shapes them, with its errors', async () => {
    const stack = await startTestStack();
    const problems: string[] = [];
    try {
      const api = eventsApi(stack, problems);
      const machine = await createMachine(new SFNClient(sdkConfig(stack)), 'nightly');
      const { RuleArn } = await api.call<{ RuleArn: string }>('PutRule', {
        Name: 'nightly',
        ScheduleExpression: 'cron(0 3 * * ? *)',
        Description: 'Retrain every night',
        RoleArn: EVENTS_ROLE,
      });
      assert.equal(RuleArn, 'arn:aws:events:us-east-1:000000000000:rule/nightly');
      assert.deepEqual(await api.call('DescribeRule', { Name: 'nightly' }), {
        Name: 'nightly',
        Arn: RuleArn,
        State: 'ENABLED',
        EventBusName: 'default',
        ScheduleExpression: 'cron(0 3 * * ? *)',
        Description: 'Retrain every night',
        RoleArn: EVENTS_ROLE,
        CreatedBy: '000000000000',
      });
      assert.deepEqual(
        await api.call('PutTargets', {
          Rule: 'nightly',
          Targets: [
            { Id: 'train', Arn: machine, RoleArn: EVENTS_ROLE, Input: '{"mode":"FULL"}' },
            { Id: 'plain', Arn: machine, RoleArn: EVENTS_ROLE },
          ],
        }),
        { FailedEntryCount: 0, FailedEntries: [] },
      );
      const page1 = await api.call<{ Targets: object[]; NextToken: string }>('ListTargetsByRule', {
        Rule: 'nightly',
        Limit: 1,
      });
      assert.deepEqual(page1.Targets, [
        { Id: 'train', Arn: machine, RoleArn: EVENTS_ROLE, Input: '{"mode":"FULL"}' },
      ]);
      const page2 = await api.call<{ Targets: object[]; NextToken?: string }>('ListTargetsByRule', {
        Rule: 'nightly',
        NextToken: page1.NextToken,
      });
      assert.deepEqual(page2, { Targets: [{ Id: 'plain', Arn: machine, RoleArn: EVENTS_ROLE }] });

      await api.call('PutRule', { Name: 'hourly', ScheduleExpression: 'rate(1 hour)', State: 'DISABLED' });
      await api.call('EnableRule', { Name: 'hourly' });
      await api.call('DisableRule', { Name: 'nightly' });
      const listed = await api.call<{ Rules: { Name: string; State: string }[] }>('ListRules', {});
      assert.deepEqual(
        listed.Rules.map((r) => [r.Name, r.State]),
        [
          ['hourly', 'ENABLED'],
          ['nightly', 'DISABLED'],
        ],
      );
      assert.deepEqual(
        (await api.call<{ Rules: { Name: string }[] }>('ListRules', { NamePrefix: 'night' })).Rules.map(
          (r) => r.Name,
        ),
        ['nightly'],
      );

      // Errors: bad schedules say what is wrong, unknown rules, targets left on a rule, other targets.
      assert.match(
        await api.fails(
          'PutRule',
          { Name: 'bad', ScheduleExpression: 'cron(0 3 * * *)' },
          'ValidationException',
        ),
        /^Parameter ScheduleExpression is not valid\. cron\(0 3 \* \* \*\) has 5 fields/,
      );
      assert.match(
        await api.fails(
          'PutRule',
          { Name: 'bad', ScheduleExpression: 'cron(0 3 1 * MON *)' },
          'ValidationException',
        ),
        /give exactly one of Day-of-month and Day-of-week/,
      );
      assert.match(
        await api.fails('PutRule', { Name: 'bad' }, 'ValidationException'),
        /EventPattern or ScheduleExpression must be specified/,
      );
      assert.match(
        await api.fails('DescribeRule', { Name: 'missing' }, 'ResourceNotFoundException'),
        /^Rule missing does not exist on EventBus default\.$/,
      );
      assert.match(
        await api.fails('DeleteRule', { Name: 'nightly' }, 'ValidationException'),
        /can't be deleted since it has targets/,
      );
      assert.match(
        await api.fails(
          'PutTargets',
          {
            Rule: 'nightly',
            Targets: [{ Id: 'fn', Arn: 'arn:aws:lambda:us-east-1:000000000000:function:f' }],
          },
          'ValidationException',
        ),
        /Targets\[0\]\.Arn .* delivers to Step Functions state machines only/,
      );

      assert.deepEqual(await api.call('RemoveTargets', { Rule: 'nightly', Ids: ['train', 'plain'] }), {
        FailedEntryCount: 0,
        FailedEntries: [],
      });
      assert.deepEqual(await api.call('ListTargetsByRule', { Rule: 'nightly' }), {});
      await api.call('DeleteRule', { Name: 'nightly' });
      await api.fails('DescribeRule', { Name: 'nightly' }, 'ResourceNotFoundException');
      assert.deepEqual(problems, []);
      assert.equal(stack.server.stats().eventbridge!.rules, 1);
    } finally {
      await stack.stop();
    }
  });

  it('fires enabled schedules on the clock, starting executions; disabled ones stay quiet; rules survive a restart', async () => {
    const clock = new ManualClock(new Date('2026-03-02T11:58:00Z'));
    let stack = await startTestStack({ clock });
    try {
      let api = eventsApi(stack, []);
      let sfn = new SFNClient(sdkConfig(stack));
      const noon = await createMachine(sfn, 'at-noon');
      const every = await createMachine(sfn, 'every-5');
      await api.call('PutRule', { Name: 'noon', ScheduleExpression: 'cron(0 12 * * ? *)' });
      await api.call('PutTargets', {
        Rule: 'noon',
        Targets: [{ Id: 'sm', Arn: noon, Input: '{"run":"noon"}' }],
      });
      await api.call('PutRule', { Name: 'five', ScheduleExpression: 'rate(5 minutes)' });
      await api.call('PutTargets', { Rule: 'five', Targets: [{ Id: 'sm', Arn: every }] });
      await clock.sleeping(2);

      // 11:59: nothing is due yet.
      await clock.advance(60_000);
      assert.equal(
        (await sfn.send(new ListExecutionsCommand({ stateMachineArn: noon }))).executions!.length,
        0,
      );
      // 12:00: the cron rule fires once, with the target's Input.
      await clock.advance(60_000);
      const [atNoon] = await executions(sfn, noon, 1);
      const described = await waitExecution(sfn, atNoon!.executionArn!);
      assert.equal(described.input, '{"run":"noon"}');
      assert.equal(described.startDate!.toISOString(), '2026-03-02T12:00:00.000Z');
      // 12:03 (5 minutes after the rule was put): the rate rule fires with the scheduled event.
      await clock.advance(3 * 60_000);
      const [fiveMinutes] = await executions(sfn, every, 1);
      const event = JSON.parse((await waitExecution(sfn, fiveMinutes!.executionArn!)).input!) as Record<
        string,
        unknown
      >;
      assert.deepEqual(
        { ...event, id: typeof event.id },
        {
          version: '0',
          id: 'string',
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '000000000000',
          time: '2026-03-02T12:03:00Z',
          region: 'us-east-1',
          resources: ['arn:aws:events:us-east-1:000000000000:rule/five'],
          detail: {},
        },
      );
      // Disabled, the rate rule does not fire at 12:08; the noon rule is not due again today.
      await api.call('DisableRule', { Name: 'five' });
      await clock.advance(10 * 60_000);
      assert.equal(
        (await sfn.send(new ListExecutionsCommand({ stateMachineArn: every }))).executions!.length,
        1,
      );
      assert.equal(
        (await sfn.send(new ListExecutionsCommand({ stateMachineArn: noon }))).executions!.length,
        1,
      );
      assert.equal(stack.server.stats().eventbridge!.scheduled, 1);

      // Restarted, the rules and targets are there and the noon schedule runs on.
      await stack.stop({ keepData: true });
      stack = await startTestStack({ dataDir: stack.dataDir, clock });
      api = eventsApi(stack, []);
      sfn = new SFNClient(sdkConfig(stack));
      assert.equal((await api.call<{ State: string }>('DescribeRule', { Name: 'five' })).State, 'DISABLED');
      assert.deepEqual((await api.call('ListTargetsByRule', { Rule: 'noon' })).Targets, [
        { Id: 'sm', Arn: noon, Input: '{"run":"noon"}' },
      ]);
      await clock.sleeping(1);
      // From 12:13 to the next noon.
      await clock.advance(23 * 3_600_000 + 47 * 60_000);
      const again = await executions(sfn, noon, 2);
      const newest = await sfn.send(new DescribeExecutionCommand({ executionArn: again[0]!.executionArn }));
      assert.equal(newest.startDate!.toISOString(), '2026-03-03T12:00:00.000Z');
    } finally {
      await stack.stop();
    }
  });

  it('fires schedules at time scale 0 too, a floor of real time apart rather than in a tight loop', async () => {
    const stack = await startTestStack({ clock: new ScaledClock(0) });
    try {
      const api = eventsApi(stack, []);
      const sfn = new SFNClient(sdkConfig(stack));
      const machine = await createMachine(sfn, 'fast');
      await api.call('PutRule', { Name: 'fast', ScheduleExpression: 'rate(1 minute)' });
      await api.call('PutTargets', { Rule: 'fast', Targets: [{ Id: 'sm', Arn: machine }] });
      const started = await executions(sfn, machine, 3);
      await api.call('DisableRule', { Name: 'fast' });
      // Each firing is its own execution, a minute apart in the scheduled event's time.
      const times = await Promise.all(
        started.slice(0, 3).map(async (e) => {
          const input = (await waitExecution(sfn, e.executionArn!)).input!;
          return Date.parse((JSON.parse(input) as { time: string }).time);
        }),
      );
      const sorted = times.sort((a, b) => a - b);
      assert.deepEqual([sorted[1]! - sorted[0]!, sorted[2]! - sorted[1]!], [60_000, 60_000]);
    } finally {
      await stack.stop();
    }
  });

  it(
    'aws events put-rule, put-targets, list-targets-by-rule, describe-rule',
    { skip: awsCliAvailable() ? false : 'skipped: the aws CLI is not installed (Debian package awscli)' },
    async () => {
      const stack = await startTestStack();
      const work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-events-cli-'));
      const env = awsCliEnv(stack, work);
      const aws = (...args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
          execFile(
            awsCliPath(),
            ['--endpoint-url', stack.endpoint, '--output', 'json', 'events', ...args],
            { env, cwd: work },
            (error, stdout, stderr) =>
              resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          ),
        );
      const ok = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
        const run = await aws(...args);
        assert.equal(run.code, 0, `aws events ${args.join(' ')}: ${run.stderr}`);
        return (run.stdout.trim() === '' ? {} : JSON.parse(run.stdout)) as T;
      };
      try {
        const machine = await createMachine(new SFNClient(sdkConfig(stack)), 'cli');
        const { RuleArn } = await ok<{ RuleArn: string }>(
          'put-rule',
          '--name',
          'daily',
          '--schedule-expression',
          'rate(1 day)',
          '--state',
          'DISABLED',
        );
        assert.equal(RuleArn, 'arn:aws:events:us-east-1:000000000000:rule/daily');
        assert.deepEqual(
          await ok(
            'put-targets',
            '--rule',
            'daily',
            '--targets',
            `Id=sm,Arn=${machine},RoleArn=${EVENTS_ROLE}`,
          ),
          { FailedEntryCount: 0, FailedEntries: [] },
        );
        assert.deepEqual(await ok('list-targets-by-rule', '--rule', 'daily'), {
          Targets: [{ Id: 'sm', Arn: machine, RoleArn: EVENTS_ROLE }],
        });
        assert.equal((await ok<{ State: string }>('describe-rule', '--name', 'daily')).State, 'DISABLED');
        const bad = await aws('put-rule', '--name', 'bad', '--schedule-expression', 'cron(0 12 * * *)');
        assert.ok([254, 255].includes(bad.code), bad.stderr);
        assert.match(
          bad.stderr,
          /\(ValidationException\) when calling the PutRule operation: Parameter ScheduleExpression is not valid\./,
        );
      } finally {
        await stack.stop();
        await rm(work, { recursive: true, force: true });
      }
    },
  );
});
