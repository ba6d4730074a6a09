// The Step Functions engine in-process: the SDK integration conventions (checked against botocore's
// models), the definition checks and what they refuse, and executions driven by a manual clock
// against the real Glue and Personalize services (no HTTP): history mapping, Wait scaling, Retry,
// timeouts, stops, the history limit, Map and Parallel, and the interpreter's slips the compiler
// covers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import * as personalizeSdk from '@aws-sdk/client-personalize';
import * as glueSdk from '@aws-sdk/client-glue';
import { NormalizedSchema } from '@smithy/core/schema';
import { ManualClock } from '../../src/local/core/clock.js';
import type { GlueService } from '../../src/local/services/glue/glue-jobs.js';
import type { PersonalizeService } from '../../src/local/services/personalize/dataset-resources.js';
import type { Personalize } from '../../src/local/services/personalize/service.js';
import type { JsonValue } from '../../src/local/services/stepfunctions/engine/asl.js';
import { compileDefinition } from '../../src/local/services/stepfunctions/engine/compile.js';
import {
  ConventionError,
  ServiceModel,
  pascalMember,
} from '../../src/local/services/stepfunctions/engine/conventions.js';
import { HISTORY_LIMIT } from '../../src/local/services/stepfunctions/engine/history.js';
import type { TaskServices } from '../../src/local/services/stepfunctions/engine/integrations.js';
import { ExecutionRun, HISTORY_LIMIT_CAUSE } from '../../src/local/services/stepfunctions/engine/runner.js';
import {
  checkDefinition,
  InvalidDefinitionError,
} from '../../src/local/services/stepfunctions/engine/validate.js';
import { loadBotocoreModel, type ServiceModel as BotocoreModel } from '../helpers/botocore.js';
import { startTestStack } from '../helpers/local-stack.js';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/sfn`;
const groupArn = (name: string): string => `arn:aws:personalize:${REGION}:${ACCOUNT}:dataset-group/${name}`;
const sdk = (action: string): string => `arn:aws:states:::aws-sdk:personalize:${action}`;

describe('Step Functions SDK integration conventions', () => {
  const personalize = new ServiceModel(personalizeSdk as unknown as Record<string, unknown>);
  const glue = new ServiceModel(glueSdk as unknown as Record<string, unknown>);

  it('parameters: PascalCase members in nested structures and lists become the API names; map keys stay', () => {
    const wire = personalize.operation('CreateSolution')!.toWire(
      {
        Name: 'movies',
        DatasetGroupArn: groupArn('g'),
        RecipeArn: 'arn:aws:personalize:::recipe/aws-user-personalization',
        PerformHPO: false,
        SolutionConfig: {
          AlgorithmHyperParameters: { hidden_dimension: '100', recency_mask: 'true' },
          FeatureTransformationParameters: { max_user_history_length_percentile: '0.99' },
          HpoConfig: { HpoResourceConfig: { MaxNumberOfTrainingJobs: '4' } },
        },
        Tags: [{ TagKey: 'Owner', TagValue: 'data-team' }],
      },
      'pascal',
    );
    assert.deepEqual(wire, {
      name: 'movies',
      datasetGroupArn: groupArn('g'),
      recipeArn: 'arn:aws:personalize:::recipe/aws-user-personalization',
      performHPO: false,
      solutionConfig: {
        algorithmHyperParameters: { hidden_dimension: '100', recency_mask: 'true' },
        featureTransformationParameters: { max_user_history_length_percentile: '0.99' },
        hpoConfig: { hpoResourceConfig: { maxNumberOfTrainingJobs: '4' } },
      },
      tags: [{ tagKey: 'Owner', tagValue: 'data-team' }],
    });
  });

  it('binds the tutorial calls the local stack does not serve yet the same way (CreateSolutionVersion, CreateBatchInferenceJob)', () => {
    assert.deepEqual(
      personalize
        .operation('CreateSolutionVersion')!
        .toWire(
          { SolutionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/s', TrainingMode: 'FULL' },
          'pascal',
        ),
      { solutionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/s', trainingMode: 'FULL' },
    );
    assert.deepEqual(
      personalize.operation('CreateBatchInferenceJob')!.toWire(
        {
          JobName: 'recs-1',
          SolutionVersionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/s/1',
          NumResults: 25,
          JobInput: { S3DataSource: { Path: 's3://lake/batch_users_input/users.json' } },
          JobOutput: { S3DataDestination: { Path: 's3://lake/recommendations/' } },
          RoleArn: ROLE,
          BatchInferenceJobConfig: {
            ItemExplorationConfig: { explorationWeight: '0.3', explorationItemAgeCutOff: '30' },
          },
        },
        'pascal',
      ),
      {
        jobName: 'recs-1',
        solutionVersionArn: 'arn:aws:personalize:us-east-1:000000000000:solution/s/1',
        numResults: 25,
        jobInput: { s3DataSource: { path: 's3://lake/batch_users_input/users.json' } },
        jobOutput: { s3DataDestination: { path: 's3://lake/recommendations/' } },
        roleArn: ROLE,
        batchInferenceJobConfig: {
          itemExplorationConfig: { explorationWeight: '0.3', explorationItemAgeCutOff: '30' },
        },
      },
    );
  });

  it('results: PascalCase members, ISO timestamps for aws-sdk, epoch milliseconds for the optimized Glue integration', () => {
    const created = new Date(Date.UTC(2026, 2, 1, 12, 0, 0, 250));
    assert.deepEqual(
      personalize.operation('DescribeDatasetImportJob')!.fromWire(
        {
          datasetImportJob: {
            jobName: 'import-1',
            status: 'ACTIVE',
            dataSource: { dataLocation: 's3://lake/transformed/' },
            creationDateTime: created,
            lastUpdatedDateTime: created.getTime() / 1000,
          },
        },
        'pascal',
        'iso',
      ),
      {
        DatasetImportJob: {
          JobName: 'import-1',
          DataSource: { DataLocation: 's3://lake/transformed/' },
          Status: 'ACTIVE',
          CreationDateTime: '2026-03-01T12:00:00.250Z',
          LastUpdatedDateTime: '2026-03-01T12:00:00.250Z',
        },
      },
    );
    const run = glue.operation('GetJobRun')!.fromWire(
      {
        JobRun: {
          Id: 'jr_1',
          Arguments: { '--input_path': 's3://x' },
          StartedOn: created,
          JobRunState: 'SUCCEEDED',
        },
      },
      'api',
      'epoch-millis',
    );
    assert.deepEqual(run, {
      JobRun: {
        Id: 'jr_1',
        Arguments: { '--input_path': 's3://x' },
        StartedOn: created.getTime(),
        JobRunState: 'SUCCEEDED',
      },
    });
    assert.deepEqual(
      glue
        .operation('StartJobRun')!
        .toWire({ JobName: 'etl', Arguments: { '--event_value': 'true' } }, 'api'),
      { JobName: 'etl', Arguments: { '--event_value': 'true' } },
    );
  });

  it('refuses a field the API does not have, or a value of the wrong kind, naming where', () => {
    const op = personalize.operation('CreateDatasetImportJob')!;
    assert.throws(
      () => op.toWire({ JobName: 'j', DataSource: { DataLocation: 's3://x', Bucket: 'b' } }, 'pascal'),
      (e: Error) =>
        e instanceof ConventionError &&
        e.message === "The field 'DataSource.Bucket' is not supported by Step Functions.",
    );
    assert.throws(
      () => op.toWire({ JobName: 5 }, 'pascal'),
      (e: Error) =>
        e instanceof ConventionError && e.message === 'Expected a string at JobName, got a number.',
    );
    assert.throws(() => op.toWire({ jobName: 'lower' }, 'pascal'), /The field 'jobName' is not supported/);
    assert.deepEqual(
      op.unknownFields({ JobName: 'j', 'Bogus.$': '$.x', DataSource: { Nope: 1 } }, 'pascal'),
      ['Bogus', 'DataSource.Nope'],
    );
  });

  it('knows which error codes each API models', () => {
    assert.equal(personalize.isModeledError('ResourceAlreadyExistsException'), true);
    assert.equal(personalize.isModeledError('ValidationException'), false);
    assert.equal(glue.isModeledError('ConcurrentRunsExceededException'), true);
    assert.equal(personalize.operation('NoSuchAction'), undefined);
  });

  for (const [service, model] of [
    ['personalize', personalize],
    ['glue', glue],
  ] as const) {
    it(`agrees with botocore's ${service} model on member names and which members are maps`, (t) => {
      const loaded = loadBotocoreModel(service);
      if ('skip' in loaded) return t.skip(loaded.skip);
      const botocore: BotocoreModel = loaded.model;
      const problems: string[] = [];
      let maps = 0;
      let compared = 0;
      const seen = new Set<string>();
      const compare = (schema: NormalizedSchema, shapeName: string, where: string): void => {
        const shape = botocore.shapes[shapeName] as BotocoreModel['shapes'][string] & {
          document?: boolean;
          union?: boolean;
        };
        if (shape === undefined || seen.has(shapeName)) return;
        seen.add(shapeName);
        compared++;
        const kind = shape.document
          ? schema.isDocumentSchema()
          : shape.type === 'structure'
            ? schema.isStructSchema() || schema.isUnionSchema()
            : shape.type === 'list'
              ? schema.isListSchema()
              : shape.type === 'map'
                ? schema.isMapSchema()
                : shape.type === 'timestamp'
                  ? schema.isTimestampSchema()
                  : shape.type === 'blob'
                    ? schema.isBlobSchema()
                    : shape.type === 'boolean'
                      ? schema.isBooleanSchema()
                      : shape.type === 'string'
                        ? schema.isStringSchema()
                        : schema.isNumericSchema();
        if (!kind) problems.push(`${where}: botocore says ${shape.type}`);
        if (shape.document) return;
        if (shape.type === 'structure' && kind) {
          const sdkMembers = new Map([...schema.structIterator()]);
          for (const [member, ref] of Object.entries(shape.members ?? {})) {
            // Members one side has and the other does not are API versions apart: compare the rest.
            const memberSchema = sdkMembers.get(member);
            if (memberSchema !== undefined)
              compare(memberSchema, ref.shape, `${where}.${pascalMember(member)}`);
          }
        } else if (shape.type === 'list' && kind)
          compare(schema.getValueSchema(), shape.member!.shape, `${where}[]`);
        else if (shape.type === 'map' && kind) {
          maps++;
          compare(schema.getValueSchema(), shape.value!.shape, `${where}{}`);
        }
      };
      for (const [name, operation] of Object.entries(botocore.operations)) {
        const op = model.operation(name);
        if (op === undefined) continue;
        if (operation.input) compare(op.input, operation.input.shape, `${name} input`);
        if (operation.output) compare(op.output, operation.output.shape, `${name} output`);
      }
      assert.deepEqual(problems, []);
      assert.ok(compared > 100 && maps > 0, `compared ${compared} shapes, ${maps} maps`);
    });
  }
});

/**
 * A real local stack (its services in-process on the default scaled clock) that the runs call
 * through the registry; each run below waits on a manual clock of its own.
 */
async function localWorld(): Promise<{
  services: TaskServices;
  glue: GlueService;
  personalize: PersonalizeService;
  close(): Promise<void>;
}> {
  const stack = await startTestStack();
  const { registry } = stack.server;
  return {
    services: {
      invoke: (service, operation, input) => registry.invoke(service, operation, input),
      serves: (service, operation) => registry.serves(service, operation),
    },
    glue: registry.instance<GlueService>('glue'),
    personalize: registry.instance<Personalize>('personalize').datasets,
    close: () => stack.stop(),
  };
}

describe('Step Functions definition checks', () => {
  let world: Awaited<ReturnType<typeof localWorld>>;
  before(async () => {
    world = await localWorld();
  });
  after(async () => {
    await world.close();
  });

  const check = (definition: unknown, services?: TaskServices) =>
    checkDefinition(JSON.stringify(definition), { services: services ?? world.services, region: REGION });

  async function refused(definition: unknown, ...expected: string[]): Promise<string> {
    try {
      await check(definition);
    } catch (error) {
      assert.ok(error instanceof InvalidDefinitionError, String(error));
      for (const text of expected)
        assert.ok(error.message.includes(text), `"${error.message}" lacks "${text}"`);
      return error.message;
    }
    assert.fail('the definition was accepted');
  }

  const pass = { Type: 'Pass', End: true };

  it('refuses what the interpreter cannot run, naming the state and the feature', async () => {
    await refused(
      { QueryLanguage: 'JSONata', StartAt: 'A', States: { A: pass } },
      'UNSUPPORTED_FEATURE',
      'JSONata',
      '/QueryLanguage',
    );
    await refused(
      {
        StartAt: 'A',
        States: { A: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input %}', End: true } },
      },
      'State "A" uses JSONata',
      'State "A" uses the JSONata field Output',
    );
    await refused(
      { StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } },
      'State "A" uses variables (Assign)',
      '/States/A/Assign',
    );
    await refused(
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'A',
              States: { A: pass },
            },
            End: true,
          },
        },
      },
      'State "M" uses Distributed Map',
      '/States/M/ItemProcessor/ProcessorConfig/Mode',
    );
    const task = {
      Type: 'Task',
      Resource: sdk('describeDatasetGroup'),
      Parameters: { DatasetGroupArn: 'x' },
      End: true,
    };
    await refused(
      { StartAt: 'T', States: { T: { ...task, HeartbeatSeconds: 60 } } },
      'State "T" uses HeartbeatSeconds',
    );
    await refused(
      { StartAt: 'T', States: { T: { ...task, TimeoutSecondsPath: '$.t' } } },
      'State "T" uses TimeoutSecondsPath',
    );
    await refused(
      { StartAt: 'T', States: { T: { ...task, Parameters: { 'DatasetGroupArn.$': '$$.State.Name' } } } },
      'State "T" uses the context object field $$.State',
    );
    await refused(
      { StartAt: 'T', States: { T: { ...task, Parameters: { 'DatasetGroupArn.$': '$groupArn' } } } },
      'State "T" uses a variable reference',
    );
  });

  it('refuses resources the local stack does not run, listing what it runs', async () => {
    const taskWith = (Resource: string, Parameters: unknown = {}) => ({
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource, Parameters, End: true } },
    });
    const lambda = await refused(
      taskWith('arn:aws:lambda:us-east-1:000000000000:function:f'),
      'State "T"',
      'Lambda functions are not part of the local stack',
      '/States/T/Resource',
    );
    assert.ok(
      lambda.includes('arn:aws:states:::aws-sdk:<service>:<apiAction> for personalize, glue'),
      lambda,
    );
    assert.ok(lambda.includes('arn:aws:states:::glue:startJobRun.sync'), lambda);
    await refused(
      taskWith('arn:aws:states:::lambda:invoke'),
      'Lambda functions are not part of the local stack',
    );
    await refused(
      taskWith('arn:aws:states:::aws-sdk:dynamodb:getItem'),
      'does not host the dynamodb service',
    );
    await refused(
      taskWith('arn:aws:states:::aws-sdk:personalize:fooBar'),
      'Personalize has no API action fooBar',
    );
    await refused(
      taskWith('arn:aws:states:::aws-sdk:personalize:CreateDatasetGroup'),
      'camelCase (createDatasetGroup)',
    );
    await refused(
      taskWith('arn:aws:states:::aws-sdk:personalize:createDatasetGroup.sync'),
      'aws-sdk integrations have no .sync',
    );
    await refused(
      taskWith('arn:aws:states:::glue:startJobRun.waitForTaskToken'),
      'the callback pattern (.waitForTaskToken)',
    );
    await refused(
      taskWith('arn:aws:states:::sns:publish'),
      'the optimized sns integration sns:publish is not available',
    );
    await refused(
      taskWith(sdk('createDatasetImportJob'), {
        JobName: 'j',
        DataSource: { DataLocation: 's3://x', Bucket: 'b' },
      }),
      "The field 'DataSource.Bucket' is not supported by Step Functions",
    );
    // An API action the local stack does not serve yet binds (the definition deploys unchanged);
    // calling it fails the task (stepfunctions-registry.test.ts runs one).
    const onlyDescribe: TaskServices = {
      invoke: world.services.invoke,
      serves: (service, operation) => service === 'personalize' && operation === 'DescribeDatasetGroup',
    };
    await check(taskWith(sdk('createSolutionVersion'), { SolutionArn: 'x' }), onlyDescribe);
  });

  it('reports schema problems from asl-validator and JSON errors', async () => {
    await refused(
      { StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } },
      'MISSING_TRANSITION_TARGET',
    );
    await assert.rejects(
      checkDefinition('{"StartAt": ', { services: world.services, region: REGION }),
      /INVALID_JSON_DESCRIPTION/,
    );
  });

  it('binds every Task, in Map item processors and Parallel branches too', async () => {
    const checked = await check({
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Task', Resource: sdk('listDatasetGroups'), End: true } } },
            {
              StartAt: 'M',
              States: {
                M: {
                  Type: 'Map',
                  ItemProcessor: {
                    StartAt: 'B',
                    States: {
                      B: {
                        Type: 'Task',
                        Resource: 'arn:aws:states:::glue:startJobRun.sync',
                        Parameters: { JobName: 'etl' },
                        End: true,
                      },
                    },
                  },
                  End: true,
                },
              },
            },
          ],
          End: true,
        },
      },
    });
    assert.deepEqual([...checked.tasks.keys()].sort(), ['A', 'B']);
    assert.equal(checked.tasks.get('B')!.resourceType, 'glue');
    assert.equal(checked.tasks.get('B')!.resource, 'startJobRun.sync');
    assert.equal(checked.tasks.get('A')!.resourceType, 'aws-sdk:personalize');
  });
});

describe('Step Functions executions (in-process services, manual clock)', () => {
  let world: Awaited<ReturnType<typeof localWorld>>;
  let counter = 0;
  before(async () => {
    world = await localWorld();
  });
  after(async () => {
    await world.close();
  });

  async function start(
    definition: unknown,
    input: JsonValue,
    options: { clock: ManualClock; historyLimit?: number },
  ): Promise<ExecutionRun> {
    const checked = await checkDefinition(JSON.stringify(definition), {
      services: world.services,
      region: REGION,
    });
    const machine = compileDefinition(checked, { timeScale: options.clock.timeScale });
    const name = `run-${++counter}`;
    const run = new ExecutionRun(
      machine,
      {
        executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:sm:${name}`,
        name,
        stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:sm`,
        stateMachineName: 'sm',
        roleArn: ROLE,
        startDate: options.clock.now(),
      },
      input,
      JSON.stringify(input),
      {
        clock: options.clock,
        region: REGION,
        ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }),
      },
    );
    void run.start();
    return run;
  }

  const types = (events: readonly HistoryEvent[]): string[] => events.map((e) => e.type!);

  it('records the history AWS records: ids, previous ids, details; Catch on Personalize.ResourceAlreadyExistsException', async () => {
    const clock = new ManualClock();
    await world.personalize.createDatasetGroup({ name: 'existing' });
    const run = await start(
      {
        StartAt: 'Name',
        States: {
          Name: { Type: 'Pass', Result: 'existing', ResultPath: '$.group', Next: 'Create' },
          Create: {
            Type: 'Task',
            Resource: sdk('createDatasetGroup'),
            Parameters: { 'Name.$': '$.group' },
            Catch: [
              {
                ErrorEquals: ['Personalize.ResourceAlreadyExistsException'],
                ResultPath: '$.error',
                Next: 'Known',
              },
            ],
            Next: 'Known',
          },
          Known: {
            Type: 'Choice',
            Choices: [{ Variable: '$.error', IsPresent: true, Next: 'Done' }],
            Default: 'Done',
          },
          Done: { Type: 'Succeed' },
        },
      },
      { run: 1 },
      { clock },
    );
    const outcome = await run.done;
    assert.equal(outcome.status, 'SUCCEEDED');
    const events = run.history.events;
    assert.deepEqual(types(events), [
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    events.forEach((e, i) => {
      assert.equal(e.id, i + 1);
      assert.equal(e.previousEventId, i);
      assert.ok(e.timestamp instanceof Date);
    });
    assert.deepEqual(events[0]!.executionStartedEventDetails, {
      input: '{"run":1}',
      inputDetails: { truncated: false },
      roleArn: ROLE,
    });
    assert.deepEqual(events[3]!.stateEnteredEventDetails, {
      name: 'Create',
      input: '{"run":1,"group":"existing"}',
      inputDetails: { truncated: false },
    });
    assert.deepEqual(events[4]!.taskScheduledEventDetails, {
      resourceType: 'aws-sdk:personalize',
      resource: 'createDatasetGroup',
      region: REGION,
      parameters: '{"Name":"existing"}',
    });
    const failed = events[6]!.taskFailedEventDetails!;
    assert.equal(failed.error, 'Personalize.ResourceAlreadyExistsException');
    assert.match(
      failed.cause!,
      /^Dataset group existing already exists\. \(Service: Personalize, Status Code: 400, Request ID: [0-9a-f-]{36}\)$/,
    );
    const output = JSON.parse(outcome.output!) as { error: { Error: string; Cause: string } };
    assert.deepEqual(output.error, { Error: failed.error, Cause: failed.cause });
    assert.deepEqual(events[12]!.executionSucceededEventDetails, {
      output: outcome.output,
      outputDetails: { truncated: false },
    });
  });

  it('hands results back with the SDK conventions, and names a bad parameter value Personalize.PersonalizeException', async () => {
    const clock = new ManualClock();
    await world.personalize.createDatasetGroup({ name: 'described' });
    const run = await start(
      {
        StartAt: 'Describe',
        States: {
          Describe: {
            Type: 'Task',
            Resource: sdk('describeDatasetGroup'),
            Parameters: { 'DatasetGroupArn.$': '$.arn' },
            ResultSelector: {
              'name.$': '$.DatasetGroup.Name',
              'created.$': '$.DatasetGroup.CreationDateTime',
            },
            ResultPath: '$.group',
            Next: 'Bad',
          },
          Bad: {
            Type: 'Task',
            Resource: sdk('createDatasetGroup'),
            Parameters: { 'Name.$': '$.number' },
            End: true,
          },
        },
      },
      { arn: groupArn('described'), number: 7 },
      { clock },
    );
    const outcome = await run.done;
    assert.equal(outcome.status, 'FAILED');
    assert.equal(outcome.error, 'Personalize.PersonalizeException');
    assert.match(
      outcome.cause!,
      /^Expected a string at Name, got a number\. \(Service: Personalize, Status Code: 400/,
    );
    const exited = run.history.events.find((e) => e.type === 'TaskStateExited')!;
    const group = (
      JSON.parse(exited.stateExitedEventDetails!.output!) as { group: { name: string; created: string } }
    ).group;
    assert.equal(group.name, 'described');
    assert.match(group.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(types(run.history.events).slice(-2), ['TaskFailed', 'ExecutionFailed']);
  });

  it('Wait states sleep their AWS duration on the clock (whose time scale shortens it: 1200 s at 0.001 is 1.2 s)', async () => {
    const clock = new ManualClock();
    const run = await start(
      {
        StartAt: 'Long',
        States: {
          Long: { Type: 'Wait', Seconds: 1200, Next: 'FromPath' },
          FromPath: { Type: 'Wait', SecondsPath: '$.wait', Next: 'Until' },
          Until: {
            Type: 'Wait',
            Timestamp: new Date(clock.now().getTime() + 1_260_000 + 3_600_000).toISOString(),
            End: true,
          },
        },
      },
      { wait: 60 },
      { clock },
    );
    await clock.sleeping();
    assert.deepEqual(clock.pendingDurations, [1_200_000]);
    await clock.advance(1_200_000);
    await clock.sleeping();
    assert.deepEqual(clock.pendingDurations, [60_000]);
    await clock.advance(60_000);
    // The Timestamp wait is what is left until then (3,600 s).
    await clock.sleeping();
    assert.deepEqual(clock.pendingDurations, [3_600_000]);
    await clock.advance(3_600_000);
    const outcome = await run.done;
    assert.equal(outcome.status, 'SUCCEEDED');
    assert.equal(outcome.output, '{"wait":60}');
    assert.deepEqual(types(run.history.events), [
      'ExecutionStarted',
      'WaitStateEntered',
      'WaitStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('retries with backoff on the clock, then succeeds (Retry on Personalize.ResourceNotFoundException)', async () => {
    const clock = new ManualClock();
    const run = await start(
      {
        StartAt: 'Describe',
        States: {
          Describe: {
            Type: 'Task',
            Resource: sdk('describeDatasetGroup'),
            Parameters: { DatasetGroupArn: groupArn('late') },
            Retry: [
              {
                ErrorEquals: ['Personalize.ResourceNotFoundException'],
                IntervalSeconds: 60,
                BackoffRate: 2,
                MaxAttempts: 3,
              },
            ],
            OutputPath: '$.DatasetGroup.Name',
            End: true,
          },
        },
      },
      {},
      { clock },
    );
    await clock.sleeping();
    assert.deepEqual(clock.pendingDurations, [60_000]);
    await clock.advance(60_000);
    await clock.sleeping();
    assert.deepEqual(clock.pendingDurations, [120_000]);
    await world.personalize.createDatasetGroup({ name: 'late' });
    await clock.advance(120_000);
    const outcome = await run.done;
    assert.equal(outcome.status, 'SUCCEEDED');
    assert.equal(outcome.output, '"late"');
    assert.deepEqual(types(run.history.events), [
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('retries Glue.ConcurrentRunsExceededException from glue:startJobRun through normal Retry', async () => {
    const clock = new ManualClock();
    await world.glue.createJob({
      Name: 'single',
      Role: ROLE,
      Command: { Name: 'glueetl', ScriptLocation: 's3://nowhere/etl.py' },
      ExecutionProperty: { MaxConcurrentRuns: 1 },
      DefaultArguments: { '--input_path': 's3://nowhere/raw.dat' },
    });
    const { JobRunId: first } = await world.glue.startJobRun({ JobName: 'single' });
    // The first run cannot end before the execution's first attempt: ending takes I/O turns, the
    // attempt does not.
    const run = await start(
      {
        StartAt: 'Start',
        States: {
          Start: {
            Type: 'Task',
            Resource: 'arn:aws:states:::glue:startJobRun',
            Parameters: { JobName: 'single', Arguments: { '--run': 'second' } },
            Retry: [
              { ErrorEquals: ['Glue.ConcurrentRunsExceededException'], IntervalSeconds: 10, MaxAttempts: 5 },
            ],
            End: true,
          },
        },
      },
      {},
      { clock },
    );
    await clock.sleeping();
    assert.deepEqual(clock.pendingDurations, [10_000]);
    const failed = run.history.events.find((e) => e.type === 'TaskFailed')!.taskFailedEventDetails!;
    assert.equal(failed.error, 'Glue.ConcurrentRunsExceededException');
    assert.equal(failed.cause, 'Concurrent runs exceeded for single');
    for (;;) {
      const { JobRun } = await world.glue.getJobRun({ JobName: 'single', RunId: first });
      if (!['STARTING', 'RUNNING', 'STOPPING'].includes(String(JobRun.JobRunState))) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await clock.advance(10_000);
    const outcome = await run.done;
    assert.equal(outcome.status, 'SUCCEEDED');
    const output = JSON.parse(outcome.output!) as { JobName: string; JobRunId: string };
    assert.equal(output.JobName, 'single');
    assert.match(output.JobRunId, /^jr_[0-9a-f]{64}$/);
    assert.notEqual(output.JobRunId, first);
  });

  it('times a task out on the clock: TaskTimedOut, not caught by States.TaskFailed but by States.Timeout', async () => {
    const clock = new ManualClock();
    await world.glue.createJob({
      Name: 'slow',
      Role: ROLE,
      Command: { Name: 'glueetl' },
      ExecutionProperty: { MaxConcurrentRuns: 5 },
    });
    const run = await start(
      {
        StartAt: 'Etl',
        States: {
          Etl: {
            Type: 'Task',
            Resource: 'arn:aws:states:::glue:startJobRun.sync',
            Parameters: { JobName: 'slow' },
            TimeoutSeconds: 5,
            Catch: [
              { ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failed', Next: 'Failed' },
              { ErrorEquals: ['States.Timeout'], ResultPath: '$.timedOut', Next: 'TimedOut' },
            ],
            Next: 'Failed',
          },
          Failed: { Type: 'Pass', Result: 'failed', End: true },
          TimedOut: { Type: 'Pass', OutputPath: '$.timedOut', End: true },
        },
      },
      {},
      { clock },
    );
    // The .sync poll (10 s) and the 5 s deadline are both on the clock: only the deadline passes.
    await clock.sleeping(2);
    assert.deepEqual(
      clock.pendingDurations.sort((a, b) => a - b),
      [5_000, 10_000],
    );
    await clock.advance(5_000);
    const outcome = await run.done;
    assert.equal(outcome.status, 'SUCCEEDED');
    assert.deepEqual(JSON.parse(outcome.output!), {
      Error: 'States.Timeout',
      Cause: 'The task did not finish within its TimeoutSeconds (5 s).',
    });
    assert.deepEqual(types(run.history.events).slice(2, 8), [
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskTimedOut',
      'TaskStateExited',
      'PassStateEntered',
    ]);
    const scheduled = run.history.events[2]!.taskScheduledEventDetails!;
    assert.equal(scheduled.timeoutInSeconds, 5);
    assert.deepEqual(run.history.events[4]!.taskSubmittedEventDetails!.resource, 'startJobRun.sync');
  });

  it('stops: ABORTED with the caller error and cause, the last event ExecutionAborted with previousEventId 0', async () => {
    const clock = new ManualClock();
    const run = await start(
      { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 30, End: true } } },
      {},
      { clock },
    );
    await clock.sleeping();
    const outcome = await run.stop('Manual', 'probe');
    assert.deepEqual(
      { ...outcome, stopDate: undefined },
      {
        status: 'ABORTED',
        error: 'Manual',
        cause: 'probe',
        stopDate: undefined,
      },
    );
    assert.deepEqual(types(run.history.events), ['ExecutionStarted', 'WaitStateEntered', 'ExecutionAborted']);
    const last = run.history.events[2]!;
    assert.equal(last.previousEventId, 0);
    assert.deepEqual(last.executionAbortedEventDetails, { error: 'Manual', cause: 'probe' });
    assert.equal(clock.pending, 0);
  });

  it("times out at the state machine's TimeoutSeconds: TIMED_OUT at start + timeout, error States.Timeout", async () => {
    const clock = new ManualClock();
    const started = clock.now().getTime();
    const run = await start(
      { StartAt: 'W', TimeoutSeconds: 30, States: { W: { Type: 'Wait', Seconds: 3600, End: true } } },
      {},
      { clock },
    );
    await clock.sleeping(2);
    assert.deepEqual(
      clock.pendingDurations.sort((a, b) => a - b),
      [30_000, 3_600_000],
    );
    await clock.advance(30_000);
    const outcome = await run.done;
    assert.equal(outcome.status, 'TIMED_OUT');
    assert.equal(outcome.error, 'States.Timeout');
    assert.equal(outcome.stopDate.getTime(), started + 30_000);
    const last = run.history.events.at(-1)!;
    assert.equal(last.type, 'ExecutionTimedOut');
    assert.deepEqual(last.executionTimedOutEventDetails, { error: 'States.Timeout' });
  });

  it('fails a runaway execution at the history limit: event 25,000 is its ExecutionFailed', async () => {
    const clock = new ManualClock();
    const run = await start(
      {
        StartAt: 'Again',
        States: {
          Again: { Type: 'Pass', Next: 'Loop' },
          Loop: {
            Type: 'Choice',
            Choices: [{ Variable: '$.forever', BooleanEquals: true, Next: 'Again' }],
            Default: 'End',
          },
          End: { Type: 'Succeed' },
        },
      },
      { forever: true },
      { clock },
    );
    const outcome = await run.done;
    assert.equal(outcome.status, 'FAILED');
    assert.equal(outcome.error, 'States.Runtime');
    assert.equal(outcome.cause, HISTORY_LIMIT_CAUSE);
    assert.equal(run.history.events.length, HISTORY_LIMIT);
    assert.equal(run.history.events.at(-1)!.type, 'ExecutionFailed');
    assert.equal(run.history.events.at(-1)!.id, 25_000);
  });

  it('records Map and Parallel states as AWS does', async () => {
    const clock = new ManualClock();
    await world.personalize.createDatasetGroup({ name: 'mapped' });
    const describe = (arn: string) => ({
      Type: 'Task',
      Resource: sdk('describeDatasetGroup'),
      Parameters: { 'DatasetGroupArn.$': arn },
      OutputPath: '$.DatasetGroup.Name',
      End: true,
    });
    const run = await start(
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.arns',
            ItemProcessor: { StartAt: 'One', States: { One: describe('$') } },
            ResultPath: '$.names',
            Next: 'Both',
          },
          Both: {
            Type: 'Parallel',
            Branches: [
              { StartAt: 'Left', States: { Left: describe('$.arns[0]') } },
              { StartAt: 'Right', States: { Right: { Type: 'Pass', Result: 'right', End: true } } },
            ],
            OutputPath: '$[1]',
            End: true,
          },
        },
      },
      { arns: [groupArn('mapped'), groupArn('mapped')] },
      { clock },
    );
    const outcome = await run.done;
    assert.equal(outcome.status, 'SUCCEEDED');
    assert.equal(outcome.output, '"right"');
    const list = types(run.history.events);
    assert.deepEqual(list.slice(0, 6), [
      'ExecutionStarted',
      'MapStateEntered',
      'MapStateStarted',
      'MapIterationStarted',
      'MapIterationStarted',
      'TaskStateEntered',
    ]);
    assert.deepEqual(run.history.events[2]!.mapStateStartedEventDetails, { length: 2 });
    assert.equal(list.filter((t) => t === 'MapIterationSucceeded').length, 2);
    assert.equal(list.filter((t) => t === 'TaskSucceeded').length, 3);
    const mapEnd = list.indexOf('MapStateSucceeded');
    assert.deepEqual(list.slice(mapEnd, mapEnd + 4), [
      'MapStateSucceeded',
      'MapStateExited',
      'ParallelStateEntered',
      'ParallelStateStarted',
    ]);
    assert.deepEqual(list.slice(-3), ['ParallelStateSucceeded', 'ParallelStateExited', 'ExecutionSucceeded']);
    assert.ok(list.lastIndexOf('MapIterationSucceeded') < mapEnd);
    const mapExit = run.history.events[mapEnd + 1]!.stateExitedEventDetails!;
    assert.deepEqual(JSON.parse(mapExit.output!).names, ['mapped', 'mapped']);
  });

  it('a Fail state ends the execution with exactly the fields it sets', async () => {
    const clock = new ManualClock();
    const only = await start(
      { StartAt: 'F', States: { F: { Type: 'Fail', Error: 'Pipeline.Failed' } } },
      {},
      { clock },
    );
    assert.deepEqual(
      { ...(await only.done), stopDate: 0 },
      { status: 'FAILED', error: 'Pipeline.Failed', stopDate: 0 },
    );
    assert.deepEqual(types(only.history.events), ['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
    const fromPaths = await start(
      { StartAt: 'F', States: { F: { Type: 'Fail', ErrorPath: '$.e', CausePath: '$.c' } } },
      { e: 'Import.Failed', c: 'Input CSV is missing the following columns: [TIMESTAMP]' },
      { clock },
    );
    const outcome = await fromPaths.done;
    assert.equal(outcome.error, 'Import.Failed');
    assert.equal(outcome.cause, 'Input CSV is missing the following columns: [TIMESTAMP]');
    assert.deepEqual(fromPaths.history.events.at(-1)!.executionFailedEventDetails, {
      error: 'Import.Failed',
      cause: 'Input CSV is missing the following columns: [TIMESTAMP]',
    });
  });

  it('runs what the interpreter alone gets wrong the way AWS does: ResultPath "$", a false Result, bracketed paths', async () => {
    const clock = new ManualClock();
    const run = await start(
      {
        StartAt: 'Replace',
        States: {
          Replace: { Type: 'Pass', Result: { replaced: true }, ResultPath: '$', Next: 'Falsy' },
          Falsy: { Type: 'Pass', Result: false, ResultPath: '$.flag', Next: 'Zero' },
          Zero: { Type: 'Pass', Result: 0, ResultPath: "$['with space']", End: true },
        },
      },
      { original: true },
      { clock },
    );
    const outcome = await run.done;
    assert.deepEqual(JSON.parse(outcome.output!), { replaced: true, flag: false, 'with space': 0 });
    assert.deepEqual(types(run.history.events).slice(1, 3), ['PassStateEntered', 'PassStateExited']);
  });
});
