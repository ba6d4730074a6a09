// Step Functions responses of the local stack checked against botocore's `stepfunctions` model:
// every served operation is sent as a raw SigV4-signed AWS JSON 1.0 request, and each raw body is
// validated recursively against the operation's output shape (history events included) or its
// declared errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  awsJsonRequest,
  checkError,
  checkOutput,
  loadBotocoreModel,
  type ServiceModel,
} from '../helpers/botocore.js';
import { startTestStack, type TestStack } from '../helpers/local-stack.js';
import { SFN_ROLE } from '../helpers/stepfunctions.js';

const loaded = loadBotocoreModel('stepfunctions');
const model: ServiceModel | undefined = 'model' in loaded ? loaded.model : undefined;
const skip = 'skip' in loaded ? `skipped: ${loaded.skip}` : false;

const OPERATIONS = [
  'CreateStateMachine',
  'UpdateStateMachine',
  'DescribeStateMachine',
  'ListStateMachines',
  'DeleteStateMachine',
  'StartExecution',
  'DescribeExecution',
  'DescribeStateMachineForExecution',
  'ListExecutions',
  'GetExecutionHistory',
  'StopExecution',
];

describe("local stack Step Functions responses conform to botocore's model", { skip }, () => {
  let stack: TestStack;
  const exercised = new Set<string>();
  const failedWith = new Map<string, Set<string>>();
  let problems: string[] = [];

  async function raw(operation: string, body: object) {
    return awsJsonRequest(stack, {
      service: 'states',
      target: `AWSStepFunctions.${operation}`,
      jsonVersion: '1.0',
      body,
    });
  }

  /** Sends `operation`; checks the raw body against the model; returns it parsed. */
  async function call<T = Record<string, unknown>>(operation: string, body: object): Promise<T> {
    const response = await raw(operation, body);
    assert.equal(response.status, 200, `${operation}: ${response.body}`);
    assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.0');
    problems.push(...checkOutput(model!, operation, response.body));
    exercised.add(operation);
    return (response.body === '' ? {} : JSON.parse(response.body)) as T;
  }

  /** Sends `operation` expecting the error `name`; checks it is declared (or common) and well formed. */
  async function fails(operation: string, body: object, name: string): Promise<void> {
    const response = await raw(operation, body);
    const checked = checkError(model!, operation, response.status, response.body);
    problems.push(...checked.problems);
    assert.equal(checked.name, name, `${operation}: ${response.body}`);
    failedWith.set(operation, (failedWith.get(operation) ?? new Set()).add(name));
  }

  async function ended(executionArn: string): Promise<Record<string, unknown>> {
    for (;;) {
      const described = await call('DescribeExecution', { executionArn });
      if (described.status !== 'RUNNING') return described;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  before(async () => {
    stack = await startTestStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('every operation, with executions of each ending, and their histories', async () => {
    problems = [];
    const definition = (extra: object) => JSON.stringify({ StartAt: 'First', States: extra });
    const { stateMachineArn } = await call<{ stateMachineArn: string }>('CreateStateMachine', {
      name: 'conformance',
      roleArn: SFN_ROLE,
      definition: definition({
        First: { Type: 'Pass', Result: [1, 2], ResultPath: '$.items', Next: 'Each' },
        Each: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
          ResultPath: '$.mapped',
          Next: 'Both',
        },
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Left', States: { Left: { Type: 'Wait', SecondsPath: '$.wait', End: true } } },
            {
              StartAt: 'Right',
              States: {
                Right: {
                  Type: 'Task',
                  Resource: 'arn:aws:states:::aws-sdk:personalize:createDatasetGroup',
                  Parameters: { Name: 'x' },
                  Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
                  End: true,
                },
                Caught: { Type: 'Pass', End: true },
              },
            },
          ],
          ResultPath: '$.both',
          Next: 'Decide',
        },
        Decide: {
          Type: 'Choice',
          Choices: [{ Variable: '$.fail', IsPresent: true, Next: 'Broken' }],
          Default: 'Fine',
        },
        Broken: { Type: 'Fail', Error: 'Conformance.Failed', Cause: 'asked to fail' },
        Fine: { Type: 'Succeed' },
      }),
      loggingConfiguration: { level: 'OFF' },
      tags: [{ key: 'k', value: 'v' }],
    });
    await call('UpdateStateMachine', { stateMachineArn, roleArn: SFN_ROLE });
    await call('DescribeStateMachine', { stateMachineArn });
    await call('ListStateMachines', { maxResults: 1 });

    const succeeded = await call<{ executionArn: string }>('StartExecution', {
      stateMachineArn,
      name: 'ok',
      input: '{"wait":1}',
    });
    const failed = await call<{ executionArn: string }>('StartExecution', {
      stateMachineArn,
      input: '{"wait":1,"fail":true}',
    });
    assert.equal((await ended(succeeded.executionArn)).status, 'SUCCEEDED');
    assert.equal((await ended(failed.executionArn)).status, 'FAILED');
    const waiting = await call<{ executionArn: string }>('StartExecution', {
      stateMachineArn,
      name: 'stopped',
      input: '{"wait":100000000}',
    });
    await call('StopExecution', { executionArn: waiting.executionArn, error: 'E', cause: 'C' });
    assert.equal((await ended(waiting.executionArn)).status, 'ABORTED');
    const { stateMachineArn: timing } = await call<{ stateMachineArn: string }>('CreateStateMachine', {
      name: 'conformance-timeout',
      roleArn: SFN_ROLE,
      definition: JSON.stringify({
        StartAt: 'W',
        TimeoutSeconds: 1,
        States: { W: { Type: 'Wait', Seconds: 100_000_000, End: true } },
      }),
    });
    const timedOut = await call<{ executionArn: string }>('StartExecution', { stateMachineArn: timing });
    assert.equal((await ended(timedOut.executionArn)).status, 'TIMED_OUT');

    const types = new Set<string>();
    for (const { executionArn } of [succeeded, failed, waiting, timedOut]) {
      await call('DescribeStateMachineForExecution', { executionArn });
      for (const reverseOrder of [false, true]) {
        const page = await call<{ events: { type: string }[] }>('GetExecutionHistory', {
          executionArn,
          reverseOrder,
          maxResults: 1000,
        });
        for (const event of page.events) types.add(event.type);
      }
      await call('GetExecutionHistory', { executionArn, maxResults: 2, includeExecutionData: false });
    }
    for (const type of [
      'ExecutionStarted',
      'ExecutionSucceeded',
      'ExecutionFailed',
      'ExecutionAborted',
      'ExecutionTimedOut',
      'PassStateEntered',
      'PassStateExited',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'MapIterationSucceeded',
      'MapStateSucceeded',
      'MapStateExited',
      'ParallelStateEntered',
      'ParallelStateStarted',
      'ParallelStateSucceeded',
      'ParallelStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'FailStateEntered',
      'SucceedStateEntered',
      'SucceedStateExited',
    ])
      assert.ok(types.has(type), `no ${type} event was checked`);
    await call('ListExecutions', { stateMachineArn, maxResults: 2 });
    await call('ListExecutions', { stateMachineArn, statusFilter: 'FAILED' });
    await call('DeleteStateMachine', { stateMachineArn: timing });
    assert.deepEqual(problems, []);
    assert.deepEqual(
      OPERATIONS.filter((op) => !exercised.has(op)),
      [],
    );
  });

  it('errors are declared by the model (or common), with a message', async () => {
    problems = [];
    const missingMachine = 'arn:aws:states:us-east-1:000000000000:stateMachine:missing';
    const missingExecution = 'arn:aws:states:us-east-1:000000000000:execution:missing:x';
    const pass = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } });
    await fails(
      'CreateStateMachine',
      { name: 'bad name', definition: pass, roleArn: SFN_ROLE },
      'InvalidName',
    );
    await fails(
      'CreateStateMachine',
      { name: 'bad-def', definition: '{', roleArn: SFN_ROLE },
      'InvalidDefinition',
    );
    await fails('CreateStateMachine', { name: 'bad-role', definition: pass, roleArn: 'role' }, 'InvalidArn');
    await fails(
      'CreateStateMachine',
      { name: 'express', definition: pass, roleArn: SFN_ROLE, type: 'EXPRESS' },
      'StateMachineTypeNotSupported',
    );
    await fails(
      'CreateStateMachine',
      { name: 'logs', definition: pass, roleArn: SFN_ROLE, loggingConfiguration: { level: 'ALL' } },
      'InvalidLoggingConfiguration',
    );
    await fails('CreateStateMachine', { definition: pass, roleArn: SFN_ROLE }, 'ValidationException');
    await fails(
      'CreateStateMachine',
      { name: 5, definition: pass, roleArn: SFN_ROLE },
      'SerializationException',
    );
    const { stateMachineArn } = await call<{ stateMachineArn: string }>('CreateStateMachine', {
      name: 'errors',
      definition: pass,
      roleArn: SFN_ROLE,
    });
    await fails(
      'CreateStateMachine',
      {
        name: 'errors',
        definition: JSON.stringify({ StartAt: 'B', States: { B: { Type: 'Succeed' } } }),
        roleArn: SFN_ROLE,
      },
      'StateMachineAlreadyExists',
    );
    await fails('UpdateStateMachine', { stateMachineArn }, 'MissingRequiredParameter');
    await fails(
      'UpdateStateMachine',
      { stateMachineArn: missingMachine, roleArn: SFN_ROLE },
      'StateMachineDoesNotExist',
    );
    await fails('DescribeStateMachine', { stateMachineArn: missingMachine }, 'StateMachineDoesNotExist');
    await fails('DescribeStateMachine', { stateMachineArn: 'nope' }, 'InvalidArn');
    await fails('ListStateMachines', { nextToken: 'nope' }, 'InvalidToken');
    await fails('StartExecution', { stateMachineArn: missingMachine }, 'StateMachineDoesNotExist');
    await fails('StartExecution', { stateMachineArn, input: 'not json' }, 'InvalidExecutionInput');
    await fails('StartExecution', { stateMachineArn, name: 'a/b' }, 'InvalidName');
    await call('StartExecution', { stateMachineArn, name: 'once' });
    await fails(
      'StartExecution',
      { stateMachineArn, name: 'once', input: '{"other":1}' },
      'ExecutionAlreadyExists',
    );
    await fails('DescribeExecution', { executionArn: missingExecution }, 'ExecutionDoesNotExist');
    await fails('DescribeExecution', { executionArn: 'nope' }, 'InvalidArn');
    await fails(
      'DescribeStateMachineForExecution',
      { executionArn: missingExecution },
      'ExecutionDoesNotExist',
    );
    await fails('ListExecutions', { stateMachineArn: missingMachine }, 'StateMachineDoesNotExist');
    await fails('ListExecutions', { stateMachineArn, nextToken: 'nope' }, 'InvalidToken');
    await fails('ListExecutions', { stateMachineArn, statusFilter: 'LOST' }, 'ValidationException');
    await fails('GetExecutionHistory', { executionArn: missingExecution }, 'ExecutionDoesNotExist');
    await fails(
      'GetExecutionHistory',
      { executionArn: `${stateMachineArn.replace('stateMachine', 'execution')}:once`, nextToken: 'nope' },
      'InvalidToken',
    );
    await fails('StopExecution', { executionArn: missingExecution }, 'ExecutionDoesNotExist');
    await fails('DeleteStateMachine', { stateMachineArn: 'nope' }, 'InvalidArn');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      OPERATIONS.filter((op) => !failedWith.has(op)),
      [],
    );
  });
});
