// A full disk under Personalize's training resources, campaigns and batch jobs, Step Functions,
// EventBridge and CloudFormation (issue 10, item 4): every refused request answers 503 with the
// message, leaves nothing in Describe/List, succeeds when retried after space is freed, and a
// restart shows exactly what was written; a job that cannot write its end keeps showing its last
// written status until it can. A real tmpfs filled to the last byte; skipped where the test may
// not mount one.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import {
  CreateBatchInferenceJobCommand,
  CreateCampaignCommand,
  CreateSolutionCommand,
  CreateSolutionVersionCommand,
  DescribeBatchInferenceJobCommand,
  DescribeCampaignCommand,
  DescribeSolutionCommand,
  DescribeSolutionVersionCommand,
  ListCampaignsCommand,
  ListSolutionsCommand,
  ListSolutionVersionsCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  DescribeRuleCommand,
  DisableRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStacksCommand,
  ListStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EXECUTION_JOB_KIND } from '../../src/local/services/stepfunctions/stepfunctions-service.js';
import { SOLUTION_VERSION_JOB_KIND } from '../../src/local/services/personalize/solutions.js';
import { settledStack } from '../helpers/cfn.js';
import { fillDisk, smallDisk } from '../helpers/disk.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath, sdkError, type SdkError } from '../helpers/sdk.js';
import { trainSolutionVersions, until } from '../helpers/trained.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function assertDiskFull(error: SdkError, what: string): void {
  assert.equal(error.$metadata.httpStatusCode, 503, `${what}: ${error.name} ${error.message}`);
  assert.equal(error.name, 'ServiceUnavailable', what);
  assert.match(error.message, /no space left on the device/, what);
}

const PASS = JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } });
const ROLE = 'arn:aws:iam::000000000000:role/mlpipe';
const TEMPLATE = JSON.stringify({
  Resources: { Daily: { Type: 'AWS::Events::Rule', Properties: { ScheduleExpression: 'rate(1 day)' } } },
});

interface Clients {
  personalize: PersonalizeClient;
  sfn: SFNClient;
  events: EventBridgeClient;
  cfn: CloudFormationClient;
  s3: S3Client;
}

/** The stack's clients, without retries: a 503 is seen once, not retried with backoff. */
function clientsOf(stack: TestStack): Clients {
  const config = { ...sdkConfig(stack), maxAttempts: 1 };
  const clients: Clients = {
    personalize: new PersonalizeClient(config),
    sfn: new SFNClient(config),
    events: new EventBridgeClient(config),
    cfn: new CloudFormationClient(config),
    s3: new S3Client(config),
  };
  cleanups.push(() => Object.values(clients).forEach((client) => client.destroy()));
  return clients;
}

/** Names of what each service lists (the state a restart must show exactly). */
interface Listed {
  solutions: string[];
  campaigns: string[];
  stateMachines: string[];
  executions: string[];
  rules: string[];
  stacks: string[];
}

async function listed(c: Clients, groupArn: string, machineArn: string): Promise<Listed> {
  const solutions = await c.personalize.send(new ListSolutionsCommand({ datasetGroupArn: groupArn }));
  const campaigns = await c.personalize.send(new ListCampaignsCommand({}));
  const machines = await c.sfn.send(new ListStateMachinesCommand({}));
  const executions = await c.sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn }));
  const rules = await c.events.send(new ListRulesCommand({}));
  const stacks = await c.cfn.send(new ListStacksCommand({}));
  return {
    solutions: (solutions.solutions ?? []).map((s) => s.name!).sort(),
    campaigns: (campaigns.campaigns ?? []).map((s) => s.name!).sort(),
    stateMachines: (machines.stateMachines ?? []).map((m) => m.name!).sort(),
    executions: (executions.executions ?? []).map((e) => `${e.name!} ${e.status!}`).sort(),
    rules: (rules.Rules ?? []).map((r) => r.Name!).sort(),
    stacks: (stacks.StackSummaries ?? []).map((s) => `${s.StackName!} ${s.StackStatus!}`).sort(),
  };
}

describe('faults: a full disk under the training, serving and orchestration services', () => {
  it('refuses each change with 503, shows none of it, takes it on a retry once there is space, and a restart shows what was written (item 4)', async (t) => {
    const disk = smallDisk(24, cleanups);
    if (disk === undefined) return t.skip('needs a small tmpfs (mount as root on Linux)');
    const dataDir = path.join(disk, 'data');
    const stack = await startTestStack({ dataDir });
    let stopped = false;
    cleanups.push(() => (stopped ? undefined : stack.stop({ keepData: true })));
    const c = clientsOf(stack);

    // Before the disk fills: a trained version, a state machine, a rule, a stack.
    const trained = await trainSolutionVersions(stack, ['aws-popularity-count'], {
      name: 'fd',
      data: { users: 40, items: 30, ratings: 1100 },
    });
    const versionArn = trained.versions['aws-popularity-count']!;
    const { stateMachineArn: machineArn } = await c.sfn.send(
      new CreateStateMachineCommand({ name: 'before', definition: PASS, roleArn: ROLE }),
    );
    await c.events.send(new PutRuleCommand({ Name: 'before', ScheduleExpression: 'rate(1 day)' }));
    await c.cfn.send(new CreateStackCommand({ StackName: 'before', TemplateBody: TEMPLATE }));
    assert.equal((await settledStack(c.cfn, 'before')).StackStatus, 'CREATE_COMPLETE');
    // A training and an execution that wait, started, while the disk fills.
    const trainingHold = stack.server.jobs.hold(SOLUTION_VERSION_JOB_KIND);
    const executionHold = stack.server.jobs.hold(EXECUTION_JOB_KIND);
    const { solutionVersionArn: heldVersion } = await c.personalize.send(
      new CreateSolutionVersionCommand({ solutionArn: trained.solutions['aws-popularity-count']! }),
    );
    const { executionArn: heldExecution } = await c.sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, name: 'held' }),
    );
    const { executionArn: toStop } = await c.sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, name: 'to-stop' }),
    );
    await until(
      async () =>
        stack.server.jobs.heldCount(SOLUTION_VERSION_JOB_KIND) +
        stack.server.jobs.heldCount(EXECUTION_JOB_KIND),
      (held) => held === 3,
      'the training and the executions held',
    );
    // A schedule that fires every minute of AWS time (60 ms here) into a state machine of its own.
    const { stateMachineArn: tickerArn } = await c.sfn.send(
      new CreateStateMachineCommand({ name: 'ticker', definition: PASS, roleArn: ROLE }),
    );
    await c.events.send(new PutRuleCommand({ Name: 'ticking', ScheduleExpression: 'rate(1 minute)' }));
    await c.events.send(
      new PutTargetsCommand({ Rule: 'ticking', Targets: [{ Id: 'tick', Arn: tickerArn }] }),
    );
    const before = await listed(c, trained.groupArn, machineArn!);

    const full = fillDisk(disk);
    // The schedule keeps firing, each firing refused: said once, and the server goes on.
    await until(
      async () => stack.logs.filter((line) => line.includes('rule ticking could not start')).length,
      (n) => n > 0,
      'a firing refused by the full disk',
    );
    // Writes in flight when the disk filled (the schedule's executions) may have freed some.
    full.topUp();
    const refusals = (): number =>
      stack.logs.filter((line) => line.includes('rule ticking could not start')).length;
    const fired = (): number => stack.server.stats().eventbridge!.fired!;
    const refusalsLogged = refusals();
    const firedBefore = fired();
    const refused: Array<[string, () => Promise<unknown>]> = [
      [
        'CreateSolution',
        () =>
          c.personalize.send(
            new CreateSolutionCommand({
              name: 'full',
              datasetGroupArn: trained.groupArn,
              recipeArn: 'arn:aws:personalize:::recipe/aws-popularity-count',
            }),
          ),
      ],
      [
        'CreateSolutionVersion',
        () =>
          c.personalize.send(
            new CreateSolutionVersionCommand({ solutionArn: trained.solutions['aws-popularity-count']! }),
          ),
      ],
      [
        'CreateCampaign',
        () => c.personalize.send(new CreateCampaignCommand({ name: 'full', solutionVersionArn: versionArn })),
      ],
      [
        'CreateBatchInferenceJob',
        () =>
          c.personalize.send(
            new CreateBatchInferenceJobCommand({
              jobName: 'full',
              solutionVersionArn: versionArn,
              roleArn: ROLE,
              jobInput: { s3DataSource: { path: `s3://${trained.bucket}/in.json` } },
              jobOutput: { s3DataDestination: { path: `s3://${trained.bucket}/out/` } },
            }),
          ),
      ],
      [
        'CreateStateMachine',
        () => c.sfn.send(new CreateStateMachineCommand({ name: 'full', definition: PASS, roleArn: ROLE })),
      ],
      [
        'StartExecution',
        () => c.sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: 'full' })),
      ],
      [
        'PutRule',
        () => c.events.send(new PutRuleCommand({ Name: 'full', ScheduleExpression: 'rate(1 day)' })),
      ],
      [
        'PutTargets',
        () =>
          c.events.send(new PutTargetsCommand({ Rule: 'before', Targets: [{ Id: 'run', Arn: machineArn }] })),
      ],
      [
        'CreateStack',
        () => c.cfn.send(new CreateStackCommand({ StackName: 'full', TemplateBody: TEMPLATE })),
      ],
    ];
    for (const [what, request] of refused) assertDiskFull(await sdkError(request()), what);

    // Nothing of it is visible.
    const solutionArn = `arn:aws:personalize:${stack.region}:000000000000:solution/full`;
    assert.equal(
      (await sdkError(c.personalize.send(new DescribeSolutionCommand({ solutionArn })))).name,
      'ResourceNotFoundException',
    );
    const campaignArn = `arn:aws:personalize:${stack.region}:000000000000:campaign/full`;
    assert.equal(
      (await sdkError(c.personalize.send(new DescribeCampaignCommand({ campaignArn })))).name,
      'ResourceNotFoundException',
    );
    const batchArn = `arn:aws:personalize:${stack.region}:000000000000:batch-inference-job/full`;
    assert.equal(
      (
        await sdkError(
          c.personalize.send(new DescribeBatchInferenceJobCommand({ batchInferenceJobArn: batchArn })),
        )
      ).name,
      'ResourceNotFoundException',
    );
    const fullMachine = machineArn!.replace(/:before$/, ':full');
    assert.equal(
      (await sdkError(c.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: fullMachine })))).name,
      'StateMachineDoesNotExist',
    );
    const fullExecution = heldExecution!.replace(/:held$/, ':full');
    assert.equal(
      (await sdkError(c.sfn.send(new DescribeExecutionCommand({ executionArn: fullExecution })))).name,
      'ExecutionDoesNotExist',
    );
    assert.equal(
      (await sdkError(c.events.send(new DescribeRuleCommand({ Name: 'full' })))).name,
      'ResourceNotFoundException',
    );
    assert.equal((await c.events.send(new ListTargetsByRuleCommand({ Rule: 'before' }))).Targets, undefined);
    assert.match(
      (await sdkError(c.cfn.send(new DescribeStacksCommand({ StackName: 'full' })))).message,
      /does not exist/,
    );
    const versions = await c.personalize.send(
      new ListSolutionVersionsCommand({ solutionArn: trained.solutions['aws-popularity-count']! }),
    );
    assert.equal(versions.solutionVersions?.length, 2, 'the trained and the held version, no third');
    assert.deepEqual(await listed(c, trained.groupArn, machineArn!), before);

    // The AWS CLI, a peer client, hears the same.
    if (awsCliAvailable()) {
      const cli = await promisify(execFile)(
        awsCliPath(),
        [
          'stepfunctions',
          'create-state-machine',
          '--endpoint-url',
          stack.endpoint,
          '--name',
          'full-cli',
          '--definition',
          PASS,
          '--role-arn',
          ROLE,
        ],
        { env: { ...awsCliEnv(stack, disk), AWS_MAX_ATTEMPTS: '1' } },
      ).then(
        () => assert.fail('create-state-machine succeeded on a full disk'),
        (error: { code: number; stderr: string }) => error,
      );
      assert.notEqual(cli.code, 0);
      assert.match(cli.stderr, /ServiceUnavailable/);
      assert.match(cli.stderr, /no space left on the device/);
    } else t.diagnostic('aws CLI not installed: its full-disk check skipped');

    // A stop whose end cannot be written: 503, still RUNNING as written (ABORTED once there is space).
    assertDiskFull(
      await sdkError(c.sfn.send(new StopExecutionCommand({ executionArn: toStop }))),
      'StopExecution',
    );
    assert.equal(
      (await c.sfn.send(new DescribeExecutionCommand({ executionArn: toStop }))).status,
      'RUNNING',
    );

    // Held work ends now, and cannot write its end: it keeps showing what was written.
    full.topUp();
    trainingHold.release();
    executionHold.release();
    const retrying = (id: string): boolean =>
      stack.logs.some((line) => line.includes(id) && line.includes('retrying until there is space'));
    await until(
      async () => [heldVersion!, heldExecution!, toStop!].every(retrying),
      (all) => all,
      'the training and the executions trying to record their ends',
    );
    const training = await c.personalize.send(
      new DescribeSolutionVersionCommand({ solutionVersionArn: heldVersion }),
    );
    assert.equal(training.solutionVersion?.status, 'CREATE IN_PROGRESS');
    const running = await c.sfn.send(new DescribeExecutionCommand({ executionArn: heldExecution }));
    assert.equal(running.status, 'RUNNING');
    assert.equal(running.stopDate, undefined);
    // More firings, each refused, and not one more line about it.
    await until(
      async () => fired(),
      (n) => n >= firedBefore + 3,
      'more firings on the full disk',
    );
    assert.equal(refusals(), refusalsLogged);
    assert.equal(stack.logs.filter((line) => line.includes('disk: no space left')).length, 1);

    // Space again: the ends are written, and every refused request succeeds when retried.
    full.free();
    const ended = await until(
      () => c.sfn.send(new DescribeExecutionCommand({ executionArn: heldExecution })),
      (e) => e.status !== 'RUNNING',
      'the held execution recording its end',
    );
    assert.equal(ended.status, 'SUCCEEDED');
    const stoppedEnd = await until(
      () => c.sfn.send(new DescribeExecutionCommand({ executionArn: toStop })),
      (e) => e.status !== 'RUNNING',
      'the stopped execution recording its end',
    );
    assert.equal(stoppedEnd.status, 'ABORTED');
    // The schedule's state machine runs again; stopped, so the listings below hold still.
    await until(
      () => c.sfn.send(new ListExecutionsCommand({ stateMachineArn: tickerArn })),
      (r) => (r.executions ?? []).length > 0,
      'a firing after space is back',
    );
    await c.events.send(new DisableRuleCommand({ Name: 'ticking' }));
    const trainingEnded = await until(
      () => c.personalize.send(new DescribeSolutionVersionCommand({ solutionVersionArn: heldVersion })),
      (v) => v.solutionVersion?.status !== 'CREATE IN_PROGRESS',
      'the held training recording its end',
    );
    // The model could not be written while the disk was full: the training failed, and says why.
    assert.equal(trainingEnded.solutionVersion?.status, 'CREATE FAILED');
    assert.match(trainingEnded.solutionVersion?.failureReason ?? '', /ENOSPC|no space/);
    await c.s3.send(
      new PutObjectCommand({ Bucket: trained.bucket, Key: 'in.json', Body: '{"userId": "1"}\n' }),
    );
    for (const [what, request] of refused)
      await request().catch((error: unknown) => assert.fail(`${what} retried: ${String(error)}`));
    assert.equal(
      (
        await until(
          () => c.cfn.send(new DescribeStacksCommand({ StackName: 'full' })),
          (r) => !(r.Stacks?.[0]?.StackStatus ?? '').endsWith('_IN_PROGRESS'),
          'stack full settled',
        )
      ).Stacks?.[0]?.StackStatus,
      'CREATE_COMPLETE',
    );
    await until(
      () => c.personalize.send(new DescribeBatchInferenceJobCommand({ batchInferenceJobArn: batchArn })),
      (r) => ['ACTIVE', 'CREATE FAILED'].includes(r.batchInferenceJob?.status ?? ''),
      'batch job ended',
    );
    await until(
      () => c.personalize.send(new DescribeCampaignCommand({ campaignArn })),
      (r) => ['ACTIVE', 'CREATE FAILED'].includes(r.campaign?.status ?? ''),
      'campaign ended',
    );
    await until(
      () => c.personalize.send(new DescribeSolutionCommand({ solutionArn })),
      (r) => r.solution?.status === 'ACTIVE',
      'solution ACTIVE',
    );
    await until(
      () => c.sfn.send(new DescribeExecutionCommand({ executionArn: fullExecution })),
      (e) => e.status !== 'RUNNING',
      'execution full ended',
    );
    const after = await listed(c, trained.groupArn, machineArn!);
    assert.deepEqual(after.solutions, [...before.solutions, 'full'].sort());
    assert.deepEqual(after.campaigns, ['full']);
    assert.deepEqual(after.stateMachines, ['before', 'full', 'ticker']);
    assert.deepEqual(after.executions, ['full SUCCEEDED', 'held SUCCEEDED', 'to-stop ABORTED']);
    // The stacks' own rules aside (each stack made one).
    assert.deepEqual(
      after.rules.filter((name) => !name.includes('Daily')),
      ['before', 'full', 'ticking'],
    );
    assert.equal(after.rules.length, before.rules.length + 2);
    assert.deepEqual(after.stacks, ['before CREATE_COMPLETE', 'full CREATE_COMPLETE']);
    const targets = await c.events.send(new ListTargetsByRuleCommand({ Rule: 'before' }));
    assert.deepEqual(
      targets.Targets?.map((target) => target.Id),
      ['run'],
    );

    // A restart shows exactly what was written.
    stopped = true;
    await stack.stop({ keepData: true });
    const again = await startTestStack({ dataDir });
    cleanups.push(() => again.stop({ keepData: true }));
    const c2 = clientsOf(again);
    assert.deepEqual(await listed(c2, trained.groupArn, machineArn!), after);
    const restartedTraining = await c2.personalize.send(
      new DescribeSolutionVersionCommand({ solutionVersionArn: heldVersion }),
    );
    assert.equal(restartedTraining.solutionVersion?.status, 'CREATE FAILED');
    assert.equal(
      (await c2.sfn.send(new DescribeExecutionCommand({ executionArn: heldExecution }))).status,
      'SUCCEEDED',
    );
  });

  it('stops on a full disk without waiting for an end it cannot write; the next start fails that execution (item 4)', async (t) => {
    const disk = smallDisk(8, cleanups);
    if (disk === undefined) return t.skip('needs a small tmpfs (mount as root on Linux)');
    const dataDir = path.join(disk, 'data');
    const stack = await startTestStack({ dataDir });
    const c = clientsOf(stack);
    const { stateMachineArn } = await c.sfn.send(
      new CreateStateMachineCommand({ name: 'm', definition: PASS, roleArn: ROLE }),
    );
    const hold = stack.server.jobs.hold(EXECUTION_JOB_KIND);
    const { executionArn } = await c.sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'held' }));
    await until(
      async () => stack.server.jobs.heldCount(EXECUTION_JOB_KIND),
      (n) => n === 1,
      'the execution held',
    );
    const full = fillDisk(disk);
    hold.release();
    await until(
      async () =>
        stack.logs.some(
          (line) => line.includes(executionArn!) && line.includes('retrying until there is space'),
        ),
      (seen) => seen,
      'the execution trying to record its end',
    );
    assert.equal((await c.sfn.send(new DescribeExecutionCommand({ executionArn }))).status, 'RUNNING');
    await stack.stop({ keepData: true });
    full.free();

    const again = await startTestStack({ dataDir });
    cleanups.push(() => again.stop({ keepData: true }));
    const c2 = clientsOf(again);
    const restarted = await c2.sfn.send(new DescribeExecutionCommand({ executionArn }));
    assert.equal(restarted.status, 'FAILED');
    assert.equal(restarted.error, 'mlpipe.LocalStackStopped');
  });
});
