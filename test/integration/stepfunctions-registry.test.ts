// Step Functions on the local stack's seams: executions are jobs of the jobs layer (held jobs are
// RUNNING with only their first event; a stop while held is ABORTED; the stack's shutdown ends
// them FAILED with the reason; released ones run), and Task states reach any operation the
// services list serves, found through the registry when the definition is created.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { defineService, type OperationTable } from '../../src/local/core/service.js';
import { SERVICES } from '../../src/local/services/index.js';
import {
  EXECUTION_JOB_KIND,
  SHUTDOWN_CAUSE,
  STOPPED_ERROR,
} from '../../src/local/services/stepfunctions/stepfunctions-service.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { history, SFN_ROLE, waitExecution } from '../helpers/stepfunctions.js';

/** Resolves once `count` jobs of `kind` wait at their hold (a turn of the event loop at a time). */
async function held(stack: TestStack, kind: string, count: number): Promise<void> {
  while (stack.server.jobs.heldCount(kind) < count) await new Promise((resolve) => setImmediate(resolve));
}

async function createMachine(sfn: SFNClient, name: string, definition: object): Promise<string> {
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: SFN_ROLE }),
  );
  return stateMachineArn!;
}

describe('Step Functions on the jobs layer and the registry', () => {
  it('runs executions as jobs: held ones are RUNNING, stopped ABORTED, failed at shutdown, run once released', async () => {
    let stack = await startTestStack();
    try {
      let sfn = new SFNClient(sdkConfig(stack));
      const arn = await createMachine(sfn, 'jobs', {
        StartAt: 'P',
        States: { P: { Type: 'Pass', Result: 'done', End: true } },
      });
      const hold = stack.server.jobs.hold(EXECUTION_JOB_KIND);
      const start = async (name: string) =>
        (await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name }))).executionArn!;
      const [toStop, toRelease] = [await start('stop'), await start('run')];
      await held(stack, EXECUTION_JOB_KIND, 2);
      for (const executionArn of [toStop, toRelease]) {
        assert.equal((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status, 'RUNNING');
        assert.deepEqual(
          (await history(sfn, executionArn)).map((e) => e.type),
          ['ExecutionStarted'],
        );
      }
      assert.equal(stack.server.stats().stepfunctions!.running, 2);

      await sfn.send(
        new StopExecutionCommand({ executionArn: toStop, error: 'Held', cause: 'stopped while held' }),
      );
      const stopped = await sfn.send(new DescribeExecutionCommand({ executionArn: toStop }));
      assert.deepEqual(
        [stopped.status, stopped.error, stopped.cause],
        ['ABORTED', 'Held', 'stopped while held'],
      );
      const stopEvents = await history(sfn, toStop);
      assert.deepEqual(
        stopEvents.map((e) => e.type),
        ['ExecutionStarted', 'ExecutionAborted'],
      );
      assert.deepEqual(stopEvents[1]!.executionAbortedEventDetails, {
        error: 'Held',
        cause: 'stopped while held',
      });

      // Released, the other runs to its end.
      hold.release();
      assert.equal((await waitExecution(sfn, toRelease)).status, 'SUCCEEDED');
      stack.server.jobs.hold(EXECUTION_JOB_KIND);
      const stillHeld = await start('held-at-shutdown');
      await held(stack, EXECUTION_JOB_KIND, 1);

      await stack.stop({ keepData: true });
      stack = await startTestStack({ dataDir: stack.dataDir });
      sfn = new SFNClient(sdkConfig(stack));
      const shutDown = await sfn.send(new DescribeExecutionCommand({ executionArn: stillHeld }));
      assert.deepEqual(
        [shutDown.status, shutDown.error, shutDown.cause],
        ['FAILED', STOPPED_ERROR, SHUTDOWN_CAUSE],
      );
      assert.deepEqual(
        (await history(sfn, stillHeld)).map((e) => e.type),
        ['ExecutionStarted', 'ExecutionFailed'],
      );
      assert.equal(
        (await sfn.send(new DescribeExecutionCommand({ executionArn: toRelease }))).status,
        'SUCCEEDED',
      );
      assert.equal(stack.server.stats().stepfunctions!.running, 0);
    } finally {
      await stack.stop();
    }
  });

  it('binds aws-sdk Tasks the local stack does not serve yet (they fail when called) and runs them as soon as a wire table has the operation', async () => {
    const received: unknown[] = [];
    /** The services list with Personalize's operations changed by `change`. */
    const withPersonalize = (change: (operations: OperationTable) => OperationTable) =>
      SERVICES.map((definition) =>
        definition.name !== 'personalize'
          ? definition
          : defineService({ ...definition, operations: (p) => change(definition.operations(p)) }),
      );
    const definition = {
      StartAt: 'Train',
      States: {
        Train: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:personalize:createSolutionVersion',
          Parameters: {
            SolutionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/movies',
            TrainingMode: 'FULL',
          },
          End: true,
        },
      },
    };

    const without = await startTestStack({
      services: withPersonalize(({ CreateSolutionVersion: _absent, ...rest }) => rest),
    });
    try {
      // Not served yet: the definition deploys unchanged, and the call fails the task with the
      // registry's own error, which a Catch can name.
      const sfn = new SFNClient(sdkConfig(without));
      const arn = await createMachine(sfn, 'train', definition);
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
      const ended = await waitExecution(sfn, executionArn!);
      assert.equal(ended.status, 'FAILED');
      assert.equal(ended.error, 'Personalize.UnknownOperationException');
      assert.match(
        ended.cause!,
        /^The mlpipe local stack does not implement Personalize operation CreateSolutionVersion\. \(Service: Personalize, Status Code: 400, Request ID: /,
      );
    } finally {
      await without.stop();
    }

    // The same binder, a Personalize whose wire table has the operation: the definition runs.
    const withOperation = await startTestStack({
      services: withPersonalize((operations) => ({
        ...operations,
        CreateSolutionVersion: async (input: unknown) => {
          received.push(input);
          return { solutionVersionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/movies/1' };
        },
      })),
    });
    try {
      const sfn = new SFNClient(sdkConfig(withOperation));
      const arn = await createMachine(sfn, 'train', definition);
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }));
      const ended = await waitExecution(sfn, executionArn!);
      assert.equal(ended.status, 'SUCCEEDED');
      assert.deepEqual(JSON.parse(ended.output!), {
        SolutionVersionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/movies/1',
      });
      // In the service's own wire form, through the registry's invoke.
      assert.deepEqual(received, [
        { solutionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/movies', trainingMode: 'FULL' },
      ]);
    } finally {
      await withOperation.stop();
    }
  });
});
