// Step Functions in the local stack, driven by the real SFNClient (and the Glue, Personalize and S3
// clients to set up what the state machines call): state machine CRUD and its errors, executions
// calling Personalize through aws-sdk integrations and Glue through glue:startJobRun.sync to
// SUCCEEDED and FAILED, Catch on Personalize.ResourceAlreadyExistsException, idempotent starts,
// StopExecution, pagination, restarts, and the usual tutorial's shape as far as today's services go.
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateJobCommand, GetJobRunCommand, GlueClient } from '@aws-sdk/client-glue';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateSchemaCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  type GetExecutionHistoryCommandOutput,
  type ListStateMachinesCommandOutput,
} from '@aws-sdk/client-sfn';
import {
  RESTART_CAUSE,
  SHUTDOWN_CAUSE,
  STOPPED_ERROR,
} from '../../src/local/services/stepfunctions/stepfunctions-service.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { interactionsSchema } from '../helpers/personalize.js';
import { sdkError } from '../helpers/sdk.js';
import { history, SFN_ROLE, waitExecution, waitHistory } from '../helpers/stepfunctions.js';

const BUCKET = 'lake';
const SPEC_KEY = 'glue_scripts/mappings/hetrec2011-user-ratedmovies-timestamps.json';
const RAW_KEY = 'raw/user_ratedmovies-timestamps.dat';
const INTERACTIONS_KEY = 'transformed/interactions.csv';
const PERSONALIZE_ROLE = 'arn:aws:iam::000000000000:role/personalize';
const T0 = 1_100_000_000;

/** A hetrec2011-style file: TAB, header, millisecond timestamps. */
function hetrec(rows: number): string {
  const lines = ['userID\tmovieID\trating\ttimestamp'];
  for (let i = 0; i < rows; i++)
    lines.push(`${i % 50}\t${1000 + i}\t${(i % 10) / 2 + 0.5}\t${(T0 + i) * 1000}`);
  return lines.join('\n') + '\n';
}

function interactionsCsv(rows: number): string {
  const lines = ['USER_ID,ITEM_ID,TIMESTAMP'];
  for (let i = 0; i < rows; i++) lines.push(`u${i % 50},i${i},${T0 + i}`);
  return lines.join('\n') + '\n';
}

const wait = (seconds: number, next: string) => ({ Type: 'Wait', Seconds: seconds, Next: next });

describe('local stack Step Functions', () => {
  let stack: TestStack;
  let sfn: SFNClient;
  let glue: GlueClient;
  let personalize: PersonalizeClient;
  let s3: S3Client;
  let datasetArn: string;

  function connect(): void {
    sfn = new SFNClient(sdkConfig(stack));
    glue = new GlueClient(sdkConfig(stack));
    personalize = new PersonalizeClient(sdkConfig(stack));
    s3 = new S3Client(sdkConfig(stack));
  }

  async function machine(name: string, definition: object): Promise<string> {
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: SFN_ROLE }),
    );
    return stateMachineArn!;
  }

  async function run(stateMachineArn: string, input: object = {}, name?: string) {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), ...(name ? { name } : {}) }),
    );
    return { ...(await waitExecution(sfn, executionArn!)), executionArn: executionArn! };
  }

  before(async () => {
    stack = await startTestStack();
    connect();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const put = (Key: string, Body: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body }));
    await put(SPEC_KEY, await readFile('glue/mappings/hetrec2011-user-ratedmovies-timestamps.json', 'utf8'));
    await put(RAW_KEY, hetrec(2000));
    await put(INTERACTIONS_KEY, interactionsCsv(1500));
    for (const [name, input] of [
      ['etl', `s3://${BUCKET}/${RAW_KEY}`],
      ['etl-missing-input', `s3://${BUCKET}/raw/nothing-here.dat`],
    ]) {
      await glue.send(
        new CreateJobCommand({
          Name: name,
          Role: 'arn:aws:iam::000000000000:role/glue',
          Command: { Name: 'glueetl', ScriptLocation: `s3://${BUCKET}/glue_scripts/interactions_etl.py` },
          GlueVersion: '4.0',
          DefaultArguments: {
            '--input_path': input!,
            '--output_path': `s3://${BUCKET}/curated/`,
            '--spec_path': `s3://${BUCKET}/${SPEC_KEY}`,
          },
        }),
      );
    }
    const until = async (active: () => Promise<string | undefined>): Promise<void> => {
      while ((await active()) !== 'ACTIVE') await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name: 'movies' }));
    await until(
      async () =>
        (await personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn }))).datasetGroup!.status,
    );
    const { schemaArn } = await personalize.send(
      new CreateSchemaCommand({ name: 'interactions', schema: interactionsSchema() }),
    );
    ({ datasetArn } = (await personalize.send(
      new CreateDatasetCommand({
        name: 'interactions',
        datasetGroupArn,
        datasetType: 'Interactions',
        schemaArn,
      }),
    )) as { datasetArn: string });
    await until(
      async () => (await personalize.send(new DescribeDatasetCommand({ datasetArn }))).dataset!.status,
    );
  });
  after(async () => {
    await stack.stop();
  });

  it('creates, describes, updates, lists and deletes state machines; CreateStateMachine is idempotent', async () => {
    const definition = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };
    const arn = await machine('crud', definition);
    assert.equal(arn, 'arn:aws:states:us-east-1:000000000000:stateMachine:crud');
    const again = await sfn.send(
      new CreateStateMachineCommand({
        name: 'crud',
        definition: JSON.stringify(definition),
        roleArn: SFN_ROLE,
      }),
    );
    assert.equal(again.stateMachineArn, arn);
    const clash = await sdkError(
      sfn.send(
        new CreateStateMachineCommand({
          name: 'crud',
          definition: JSON.stringify({ StartAt: 'B', States: { B: { Type: 'Succeed' } } }),
          roleArn: SFN_ROLE,
        }),
      ),
    );
    assert.equal(clash.name, 'StateMachineAlreadyExists');
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    assert.equal(described.name, 'crud');
    assert.equal(described.status, 'ACTIVE');
    assert.equal(described.type, 'STANDARD');
    assert.equal(described.roleArn, SFN_ROLE);
    assert.deepEqual(JSON.parse(described.definition!), definition);
    assert.deepEqual(described.loggingConfiguration, { level: 'OFF', includeExecutionData: false });
    assert.ok(described.creationDate instanceof Date);
    const updated = { StartAt: 'A', States: { A: { Type: 'Pass', Result: 'v2', End: true } } };
    const update = await sfn.send(
      new UpdateStateMachineCommand({ stateMachineArn: arn, definition: JSON.stringify(updated) }),
    );
    assert.notEqual(update.revisionId, described.revisionId);
    const after = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    assert.deepEqual(JSON.parse(after.definition!), updated);
    assert.equal(after.revisionId, update.revisionId);
    const badUpdate = await sdkError(
      sfn.send(
        new UpdateStateMachineCommand({ stateMachineArn: arn, definition: '{"StartAt":"X","States":{}}' }),
      ),
    );
    assert.equal(badUpdate.name, 'InvalidDefinition');
    assert.equal(
      (await sdkError(sfn.send(new UpdateStateMachineCommand({ stateMachineArn: arn })))).name,
      'MissingRequiredParameter',
    );
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    const gone = await sdkError(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn })));
    assert.equal(gone.name, 'StateMachineDoesNotExist');
    assert.equal(gone.message, `State Machine Does Not Exist: '${arn}'`);
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
  });

  it('refuses bad input with the errors AWS names', async () => {
    const pass = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } });
    const create = (input: Partial<{ name: string; definition: string; roleArn: string; type: 'EXPRESS' }>) =>
      sdkError(
        sfn.send(new CreateStateMachineCommand({ name: 'x', definition: pass, roleArn: SFN_ROLE, ...input })),
      );
    assert.equal((await create({ name: 'has space' })).name, 'InvalidName');
    assert.equal((await create({ roleArn: 'not-an-arn' })).name, 'InvalidArn');
    assert.equal((await create({ type: 'EXPRESS' })).name, 'StateMachineTypeNotSupported');
    const lambda = await create({
      definition: JSON.stringify({
        StartAt: 'Invoke',
        States: {
          Invoke: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:f', End: true },
        },
      }),
    });
    assert.equal(lambda.name, 'InvalidDefinition');
    assert.match(
      lambda.message,
      /State "Invoke": The resource arn:aws:lambda:.* is not supported by the mlpipe local stack/,
    );
    const jsonata = await create({
      definition: JSON.stringify({
        QueryLanguage: 'JSONata',
        StartAt: 'A',
        States: { A: { Type: 'Pass', End: true } },
      }),
    });
    assert.equal(jsonata.name, 'InvalidDefinition');
    assert.match(jsonata.message, /UNSUPPORTED_FEATURE: The state machine uses JSONata/);
    const missing = await sdkError(
      sfn.send(
        new StartExecutionCommand({
          stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:nope',
        }),
      ),
    );
    assert.equal(missing.name, 'StateMachineDoesNotExist');
    const arn = await machine('inputs', JSON.parse(pass));
    const badInput = await sdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{oops' })),
    );
    assert.equal(badInput.name, 'InvalidExecutionInput');
    const noExecution = await sdkError(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: 'arn:aws:states:us-east-1:000000000000:execution:inputs:nope',
        }),
      ),
    );
    assert.equal(noExecution.name, 'ExecutionDoesNotExist');
    assert.equal(
      (await sdkError(sfn.send(new DescribeExecutionCommand({ executionArn: 'bad' })))).name,
      'InvalidArn',
    );
  });

  it('calls Personalize through aws-sdk integrations and catches Personalize.ResourceAlreadyExistsException', async () => {
    const arn = await machine('groups', {
      StartAt: 'Create',
      States: {
        Create: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:personalize:createDatasetGroup',
          Parameters: { 'Name.$': '$.name', Tags: [{ TagKey: 'stage', TagValue: 'test' }] },
          ResultPath: '$.created',
          Catch: [
            {
              ErrorEquals: ['Personalize.ResourceAlreadyExistsException'],
              ResultPath: '$.error',
              Next: 'Exists',
            },
          ],
          Next: 'Describe',
        },
        Exists: { Type: 'Pass', Result: true, ResultPath: '$.existed', Next: 'Describe' },
        Describe: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:personalize:describeDatasetGroup',
          Parameters: {
            'DatasetGroupArn.$':
              "States.Format('arn:aws:personalize:us-east-1:000000000000:dataset-group/{}', $.name)",
          },
          ResultSelector: { 'Name.$': '$.DatasetGroup.Name', 'Created.$': '$.DatasetGroup.CreationDateTime' },
          ResultPath: '$.group',
          End: true,
        },
      },
    });
    const first = await run(arn, { name: 'from-sfn' });
    assert.equal(first.status, 'SUCCEEDED');
    const out = JSON.parse(first.output!) as {
      created: { DatasetGroupArn: string };
      group: { Name: string; Created: string };
    };
    assert.equal(
      out.created.DatasetGroupArn,
      'arn:aws:personalize:us-east-1:000000000000:dataset-group/from-sfn',
    );
    assert.equal(out.group.Name, 'from-sfn');
    assert.ok(!Number.isNaN(Date.parse(out.group.Created)));
    const second = await run(arn, { name: 'from-sfn' });
    assert.equal(second.status, 'SUCCEEDED');
    const caught = JSON.parse(second.output!) as {
      existed: boolean;
      error: { Error: string; Cause: string };
    };
    assert.equal(caught.existed, true);
    assert.equal(caught.error.Error, 'Personalize.ResourceAlreadyExistsException');
    assert.match(
      caught.error.Cause,
      /already exists\. \(Service: Personalize, Status Code: 400, Request ID: /,
    );
  });

  it('runs a Glue job with glue:startJobRun.sync: SUCCEEDED returns the run, a failed run is States.TaskFailed', async () => {
    const arn = await machine('etl', {
      StartAt: 'Etl',
      States: {
        Etl: {
          Type: 'Task',
          Resource: 'arn:aws:states:::glue:startJobRun.sync',
          Parameters: { 'JobName.$': '$.job', Arguments: { '--reject_threshold': '0.5' } },
          Retry: [
            { ErrorEquals: ['Glue.ConcurrentRunsExceededException'], IntervalSeconds: 5, MaxAttempts: 10 },
          ],
          End: true,
        },
      },
    });
    const ok = await run(arn, { job: 'etl' });
    assert.equal(ok.status, 'SUCCEEDED', ok.cause);
    const jobRun = JSON.parse(ok.output!) as Record<string, unknown>;
    assert.equal(jobRun.JobRunState, 'SUCCEEDED');
    assert.equal(jobRun.JobName, 'etl');
    assert.equal(typeof jobRun.StartedOn, 'number');
    assert.ok((jobRun.StartedOn as number) > 1e12, 'epoch milliseconds');
    assert.deepEqual(jobRun.Arguments, { '--reject_threshold': '0.5' });
    const { JobRun } = await glue.send(new GetJobRunCommand({ JobName: 'etl', RunId: jobRun.Id as string }));
    assert.equal(JobRun!.JobRunState, 'SUCCEEDED');
    const events = await history(sfn, ok.executionArn);
    assert.deepEqual(
      events.map((e) => e.type),
      [
        'ExecutionStarted',
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskSubmitted',
        'TaskSucceeded',
        'TaskStateExited',
        'ExecutionSucceeded',
      ],
    );
    assert.deepEqual(JSON.parse(events[4]!.taskSubmittedEventDetails!.output!), {
      JobName: 'etl',
      JobRunId: jobRun.Id,
    });
    assert.equal(events[2]!.taskScheduledEventDetails!.resourceType, 'glue');
    assert.equal(events[2]!.taskScheduledEventDetails!.resource, 'startJobRun.sync');

    const failed = await run(arn, { job: 'etl-missing-input' });
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.error, 'States.TaskFailed');
    const cause = JSON.parse(failed.cause!) as Record<string, unknown>;
    assert.equal(cause.JobRunState, 'FAILED');
    assert.equal(cause.JobName, 'etl-missing-input');
    assert.equal(typeof cause.ErrorMessage, 'string');
  });

  it('StartExecution: the same name and input while running is the same execution; otherwise ExecutionAlreadyExists', async () => {
    const arn = await machine('idempotent', {
      StartAt: 'W',
      States: { W: wait(600_000, 'Done'), Done: { Type: 'Succeed' } },
    });
    const input = JSON.stringify({ a: 1, b: [1, 2] });
    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input }));
    const same = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input: '{ "a": 1, "b": [1, 2] }' }),
    );
    assert.equal(same.executionArn, first.executionArn);
    assert.equal(same.startDate!.getTime(), first.startDate!.getTime());
    const different = await sdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input: '{"a":2}' })),
    );
    assert.equal(different.name, 'ExecutionAlreadyExists');
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
    const closed = await sdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'once', input })),
    );
    assert.equal(closed.name, 'ExecutionAlreadyExists');
    assert.equal(closed.message, `Execution Already Exists: '${first.executionArn}'`);
    // Starts of one name and input sent together are one execution, whichever gets in first; it
    // is listed once, and a different input is refused.
    const together = await Promise.all(
      [1, 2, 3].map(() =>
        sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'together', input })),
      ),
    );
    const started = together.map((r) => r.executionArn);
    assert.equal(new Set(started).size, 1, String(started));
    assert.match(String(started[0]), /:execution:idempotent:together$/);
    const refused = await sdkError(
      sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'together', input: '{"a":3}' })),
    );
    assert.equal(refused.name, 'ExecutionAlreadyExists');
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    assert.equal(listed.executions!.filter((e) => e.name === 'together').length, 1);
    await sfn.send(new StopExecutionCommand({ executionArn: String(started[0]) }));
  });

  it('StopExecution ends a running execution ABORTED with the error and cause given', async () => {
    const arn = await machine('stoppable', {
      StartAt: 'W',
      States: { W: wait(100_000, 'Done'), Done: { Type: 'Succeed' } },
    });
    const executionArn = (
      await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'to-stop' }))
    ).executionArn!;
    await waitHistory(sfn, executionArn, (events) => events.some((e) => e.type === 'WaitStateEntered'));
    assert.equal(stack.server.stats().stepfunctions!.running, 1);
    const { stopDate } = await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Operator.Stop', cause: 'stopped by the test' }),
    );
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    assert.equal(described.status, 'ABORTED');
    assert.equal(described.error, 'Operator.Stop');
    assert.equal(described.cause, 'stopped by the test');
    assert.equal(described.stopDate!.getTime(), stopDate!.getTime());
    const events = await history(sfn, executionArn);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ExecutionStarted', 'WaitStateEntered', 'ExecutionAborted'],
    );
    assert.equal(events[2]!.previousEventId, 0);
    assert.equal(stack.server.stats().stepfunctions!.running, 0);
    // Stopping it again changes nothing.
    await sfn.send(new StopExecutionCommand({ executionArn }));
    assert.equal((await sfn.send(new DescribeExecutionCommand({ executionArn }))).error, 'Operator.Stop');
  });

  it('pages ListStateMachines, ListExecutions (with statusFilter) and GetExecutionHistory (reverseOrder, includeExecutionData)', async () => {
    const arn = await machine('paged', {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Pass', Next: 'C' },
        C: { Type: 'Pass', End: true },
      },
    });
    const names = ['p1', 'p2', 'p3', 'p4', 'p5'];
    for (const name of names) await run(arn, { name }, name);
    const failing = await machine('paged-fail', {
      StartAt: 'F',
      States: { F: { Type: 'Fail', Error: 'E' } },
    });
    await run(failing);

    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: arn, maxResults: 2, nextToken }),
      );
      assert.ok(page.executions!.length <= 2);
      seen.push(...page.executions!.map((e) => e.name!));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    assert.deepEqual(seen, [...names].reverse());
    const succeeded = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'SUCCEEDED' }),
    );
    assert.equal(succeeded.executions!.length, 5);
    const none = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'FAILED' }));
    assert.deepEqual(none.executions, []);
    const failed = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: failing, statusFilter: 'FAILED' }),
    );
    assert.equal(failed.executions!.length, 1);
    assert.ok(failed.executions![0]!.stopDate instanceof Date);

    const machines: string[] = [];
    nextToken = undefined;
    do {
      const page: ListStateMachinesCommandOutput = await sfn.send(
        new ListStateMachinesCommand({ maxResults: 1, nextToken }),
      );
      machines.push(...page.stateMachines!.map((m) => m.name!));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    assert.deepEqual(machines, [...machines].sort());
    assert.ok(machines.includes('paged') && machines.includes('paged-fail'));
    const badToken = await sdkError(sfn.send(new ListStateMachinesCommand({ nextToken: 'garbage' })));
    assert.equal(badToken.name, 'InvalidToken');

    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:paged:p1`;
    const all = await history(sfn, executionArn);
    assert.equal(all.length, 8);
    const pages: number[][] = [];
    nextToken = undefined;
    do {
      const page: GetExecutionHistoryCommandOutput = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 3, reverseOrder: true, nextToken }),
      );
      pages.push(page.events!.map((e) => e.id!));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    assert.deepEqual(pages, [
      [8, 7, 6],
      [5, 4, 3],
      [2, 1],
    ]);
    const forward: number[][] = [];
    nextToken = undefined;
    do {
      const page: GetExecutionHistoryCommandOutput = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 3, nextToken }),
      );
      forward.push(page.events!.map((e) => e.id!));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    assert.deepEqual(forward, [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8],
    ]);
    const lean = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, includeExecutionData: false }),
    );
    assert.equal(lean.events![0]!.executionStartedEventDetails!.input, undefined);
    assert.equal(lean.events![0]!.executionStartedEventDetails!.roleArn, SFN_ROLE);
    assert.equal(lean.events![1]!.stateEnteredEventDetails!.name, 'A');
    assert.equal(lean.events![1]!.stateEnteredEventDetails!.input, undefined);
    const reused = await sdkError(
      sfn.send(
        new GetExecutionHistoryCommand({ executionArn, nextToken: pages.length > 1 ? 'eyJ4IjoxfQ' : '' }),
      ),
    );
    assert.equal(reused.name, 'InvalidToken');
    const forExecution = await sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn }));
    assert.equal(forExecution.name, 'paged');
    const machineNow = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
    assert.equal(forExecution.updateDate!.getTime(), machineNow.creationDate!.getTime());
    assert.equal(JSON.parse(forExecution.definition!).StartAt, 'A');
  });

  it("runs the usual tutorial's shape as far as today's services allow, twice (the second import is caught)", async () => {
    const jobName = 'tutorial-import';
    const arn = await machine('tutorial', {
      Comment: 'Import, wait, and check the import (training and batch inference come next)',
      StartAt: 'Start',
      States: {
        Start: {
          Type: 'Pass',
          Result: {
            datasetArn,
            dataLocation: `s3://${BUCKET}/${INTERACTIONS_KEY}`,
            jobName,
            jobArn: `arn:aws:personalize:us-east-1:000000000000:dataset-import-job/${jobName}`,
          },
          Next: 'Import Data',
        },
        'Import Data': {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:personalize:createDatasetImportJob',
          Parameters: {
            'DatasetArn.$': '$.datasetArn',
            DataSource: { 'DataLocation.$': '$.dataLocation' },
            'JobName.$': '$.jobName',
            RoleArn: PERSONALIZE_ROLE,
          },
          ResultPath: '$.import',
          Catch: [
            {
              ErrorEquals: ['Personalize.ResourceAlreadyExistsException'],
              ResultPath: '$.importError',
              Next: 'Wait for Import',
            },
          ],
          Next: 'Wait for Import',
        },
        'Wait for Import': wait(1200, 'Check Import'),
        'Check Import': {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:personalize:describeDatasetImportJob',
          Parameters: { 'DatasetImportJobArn.$': '$.jobArn' },
          ResultSelector: { 'Status.$': '$.DatasetImportJob.Status' },
          ResultPath: '$.status',
          Next: 'Imported?',
        },
        'Imported?': {
          Type: 'Choice',
          Choices: [
            { Variable: '$.status.Status', StringEquals: 'ACTIVE', Next: 'Imported' },
            { Variable: '$.status.Status', StringEquals: 'CREATE FAILED', Next: 'Import Failed' },
          ],
          Default: 'Wait Again',
        },
        'Wait Again': wait(60, 'Check Import'),
        'Import Failed': { Type: 'Fail', Error: 'ImportFailed' },
        Imported: { Type: 'Succeed' },
      },
    });
    const first = await run(arn);
    assert.equal(first.status, 'SUCCEEDED', first.cause);
    const firstEvents = await history(sfn, first.executionArn);
    assert.ok(
      firstEvents.some(
        (e) =>
          e.type === 'TaskSucceeded' && e.taskSucceededEventDetails!.resource === 'createDatasetImportJob',
      ),
    );
    const waits = firstEvents
      .filter((e) => e.type === 'WaitStateEntered')
      .map((e) => e.stateEnteredEventDetails!.name);
    assert.equal(waits[0], 'Wait for Import');
    const second = await run(arn);
    assert.equal(second.status, 'SUCCEEDED', second.cause);
    const output = JSON.parse(second.output!) as {
      importError: { Error: string };
      status: { Status: string };
    };
    assert.equal(output.importError.Error, 'Personalize.ResourceAlreadyExistsException');
    assert.equal(output.status.Status, 'ACTIVE');
  });

  it('ends executions running when the stack stops FAILED with the reason, cleanly or not', async () => {
    const arn = await machine('restart', {
      StartAt: 'W',
      States: { W: wait(1_000_000, 'Done'), Done: { Type: 'Succeed' } },
    });
    const { executionArn: crashed } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'crashed' }),
    );
    const { executionArn: shutDown } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: arn, name: 'shut-down' }),
    );
    await waitHistory(sfn, crashed!, (events) => events.some((e) => e.type === 'WaitStateEntered'));
    await waitHistory(sfn, shutDown!, (events) => events.some((e) => e.type === 'WaitStateEntered'));
    // What a crash leaves on disk: a copy of the data dir taken while both run.
    const crashDir = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-crash-'));
    // Temp files of writes in flight may vanish while copying (renamed into place): not copied.
    await cp(stack.dataDir, crashDir, {
      recursive: true,
      filter: (source) => !path.basename(source).startsWith('.tmp-'),
    });

    await stack.stop({ keepData: true });
    stack = await startTestStack({ dataDir: stack.dataDir });
    connect();
    const clean = await sfn.send(new DescribeExecutionCommand({ executionArn: shutDown }));
    assert.equal(clean.status, 'FAILED');
    assert.equal(clean.error, STOPPED_ERROR);
    assert.equal(clean.cause, SHUTDOWN_CAUSE);
    const cleanEvents = await history(sfn, shutDown!);
    assert.deepEqual(
      cleanEvents.map((e) => e.type),
      ['ExecutionStarted', 'WaitStateEntered', 'ExecutionFailed'],
    );
    assert.deepEqual(cleanEvents[2]!.executionFailedEventDetails, {
      error: STOPPED_ERROR,
      cause: SHUTDOWN_CAUSE,
    });

    const afterCrash = await startTestStack({ dataDir: crashDir });
    try {
      const crashedSfn = new SFNClient(sdkConfig(afterCrash));
      const described = await crashedSfn.send(new DescribeExecutionCommand({ executionArn: crashed }));
      assert.equal(described.status, 'FAILED');
      assert.equal(described.cause, RESTART_CAUSE);
      const events = await history(crashedSfn, crashed!);
      assert.equal(events.at(-1)!.type, 'ExecutionFailed');
      assert.equal(events.at(-1)!.previousEventId, events.length - 1);
      assert.deepEqual(
        (await crashedSfn.send(new ListExecutionsCommand({ stateMachineArn: arn, statusFilter: 'RUNNING' })))
          .executions,
        [],
      );
    } finally {
      await afterCrash.stop();
      await rm(crashDir, { recursive: true, force: true });
    }
    // The state machine survived the restart and runs again.
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'after-restart' }));
    await sfn.send(new StopExecutionCommand({ executionArn: again.executionArn }));
    assert.equal((await waitExecution(sfn, again.executionArn!)).status, 'ABORTED');
  });

  it('deleting a state machine stops its running executions', async () => {
    const arn = await machine('doomed', {
      StartAt: 'W',
      States: { W: wait(1_000_000, 'Done'), Done: { Type: 'Succeed' } },
    });
    const executionArn = (await sfn.send(new StartExecutionCommand({ stateMachineArn: arn }))).executionArn!;
    await waitHistory(sfn, executionArn, (events) => events.length >= 2);
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: arn }));
    assert.equal(
      (await sdkError(sfn.send(new DescribeExecutionCommand({ executionArn })))).name,
      'ExecutionDoesNotExist',
    );
    assert.equal(
      (await sdkError(sfn.send(new ListExecutionsCommand({ stateMachineArn: arn })))).name,
      'StateMachineDoesNotExist',
    );
  });
});
