// Step Functions in the local stack driven by the AWS CLI (`aws stepfunctions …`), as an operator
// would: create a state machine calling Personalize, start executions, describe them, read and
// page their history, list them, stop one, and the CLI's error exits. Skips where `aws` is absent.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath } from '../helpers/sdk.js';
import { SFN_ROLE } from '../helpers/stepfunctions.js';

const skip = awsCliAvailable() ? false : 'skipped: the aws CLI is not installed (Debian package awscli)';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI exits 254 (v2) or 255 (v1) when the service answers with an error. */
const SERVICE_ERROR_EXITS = [254, 255];

describe('local stack Step Functions with the AWS CLI', { skip }, () => {
  let stack: TestStack;
  let work: string;
  let env: NodeJS.ProcessEnv;

  const aws = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        awsCliPath(),
        ['--endpoint-url', stack.endpoint, '--output', 'json', ...args],
        { env, cwd: work },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  async function ok<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const run = await aws(...args);
    assert.equal(run.code, 0, `aws ${args.join(' ')}: ${run.stderr}`);
    return (run.stdout.trim() === '' ? {} : JSON.parse(run.stdout)) as T;
  }

  async function fails(name: string, ...args: string[]): Promise<string> {
    const run = await aws(...args);
    assert.ok(
      SERVICE_ERROR_EXITS.includes(run.code),
      `aws ${args.join(' ')} exited ${run.code}: ${run.stderr}`,
    );
    assert.match(run.stderr, new RegExp(`An error occurred \\(${name}\\) when calling the `));
    return run.stderr;
  }

  async function ended(executionArn: string): Promise<Record<string, string>> {
    for (;;) {
      const described = await ok<Record<string, string>>(
        'stepfunctions',
        'describe-execution',
        '--execution-arn',
        executionArn,
      );
      if (described.status !== 'RUNNING') return described;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  before(async () => {
    stack = await startTestStack();
    work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-sfn-cli-'));
    env = awsCliEnv(stack, work);
  });
  after(async () => {
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('create-state-machine, start-execution, describe-execution, get-execution-history, list-executions', async () => {
    const definition = path.join(work, 'definition.json');
    await writeFile(
      definition,
      JSON.stringify({
        StartAt: 'Create',
        States: {
          Create: {
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:personalize:createDatasetGroup',
            Parameters: { 'Name.$': '$.group' },
            ResultSelector: { 'Arn.$': '$.DatasetGroupArn' },
            Catch: [{ ErrorEquals: ['Personalize.ResourceAlreadyExistsException'], Next: 'Exists' }],
            Next: 'Pause',
          },
          Exists: { Type: 'Fail', Error: 'Group.Exists', Cause: 'the dataset group already exists' },
          Pause: { Type: 'Wait', Seconds: 1200, End: true },
        },
      }),
    );
    const { stateMachineArn } = await ok<{ stateMachineArn: string }>(
      'stepfunctions',
      'create-state-machine',
      '--name',
      'cli',
      '--role-arn',
      SFN_ROLE,
      '--definition',
      `file://${definition}`,
    );
    assert.equal(stateMachineArn, 'arn:aws:states:us-east-1:000000000000:stateMachine:cli');
    const started = await ok<{ executionArn: string; startDate: number }>(
      'stepfunctions',
      'start-execution',
      '--state-machine-arn',
      stateMachineArn,
      '--name',
      'first',
      '--input',
      '{"group":"cli-group"}',
    );
    assert.equal(started.executionArn, 'arn:aws:states:us-east-1:000000000000:execution:cli:first');
    const first = await ended(started.executionArn);
    assert.equal(first.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(first.output!), {
      Arn: 'arn:aws:personalize:us-east-1:000000000000:dataset-group/cli-group',
    });
    const second = await ok<{ executionArn: string }>(
      'stepfunctions',
      'start-execution',
      '--state-machine-arn',
      stateMachineArn,
      '--input',
      '{"group":"cli-group"}',
    );
    const failed = await ended(second.executionArn);
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.error, 'Group.Exists');
    assert.equal(failed.cause, 'the dataset group already exists');

    // The CLI pages through the history itself (--page-size sets maxResults per request).
    const { events } = await ok<{
      events: { id: number; type: string; taskFailedEventDetails?: { error: string } }[];
    }>('stepfunctions', 'get-execution-history', '--execution-arn', second.executionArn, '--page-size', '2');
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'ExecutionStarted',
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskFailed',
        'TaskStateExited',
        'FailStateEntered',
        'ExecutionFailed',
      ],
    );
    assert.deepEqual(
      events.map((e) => e.id),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(events[4]!.taskFailedEventDetails!.error, 'Personalize.ResourceAlreadyExistsException');
    const reversed = await ok<{ events: { id: number }[] }>(
      'stepfunctions',
      'get-execution-history',
      '--execution-arn',
      second.executionArn,
      '--reverse-order',
      '--max-items',
      '3',
    );
    assert.deepEqual(
      reversed.events.map((e) => e.id),
      [8, 7, 6],
    );
    const listed = await ok<{ executions: { name: string; status: string }[] }>(
      'stepfunctions',
      'list-executions',
      '--state-machine-arn',
      stateMachineArn,
      '--page-size',
      '1',
    );
    assert.deepEqual(
      listed.executions.map((e) => e.status),
      ['FAILED', 'SUCCEEDED'],
    );
    const onlyFailed = await ok<{ executions: { name: string }[] }>(
      'stepfunctions',
      'list-executions',
      '--state-machine-arn',
      stateMachineArn,
      '--status-filter',
      'FAILED',
    );
    assert.equal(onlyFailed.executions.length, 1);
    const machines = await ok<{ stateMachines: { name: string }[] }>('stepfunctions', 'list-state-machines');
    assert.deepEqual(
      machines.stateMachines.map((m) => m.name),
      ['cli'],
    );
  });

  it('stop-execution aborts a running execution; errors exit as the CLI reports service errors', async () => {
    const { stateMachineArn } = await ok<{ stateMachineArn: string }>(
      'stepfunctions',
      'create-state-machine',
      '--name',
      'cli-wait',
      '--role-arn',
      SFN_ROLE,
      '--definition',
      JSON.stringify({ StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 100_000_000, End: true } } }),
    );
    const { executionArn } = await ok<{ executionArn: string }>(
      'stepfunctions',
      'start-execution',
      '--state-machine-arn',
      stateMachineArn,
    );
    await ok('stepfunctions', 'stop-execution', '--execution-arn', executionArn, '--cause', 'operator');
    const stopped = await ended(executionArn);
    assert.equal(stopped.status, 'ABORTED');
    assert.equal(stopped.cause, 'operator');
    await fails(
      'ExecutionDoesNotExist',
      'stepfunctions',
      'describe-execution',
      '--execution-arn',
      'arn:aws:states:us-east-1:000000000000:execution:cli-wait:missing',
    );
    const refused = await fails(
      'InvalidDefinition',
      'stepfunctions',
      'create-state-machine',
      '--name',
      'cli-lambda',
      '--role-arn',
      SFN_ROLE,
      '--definition',
      JSON.stringify({
        StartAt: 'L',
        States: { L: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } },
      }),
    );
    assert.match(refused, /State "L"/);
  });
});
