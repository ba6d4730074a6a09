// templates/personalize.yaml and the AWS::Personalize::DatasetGroup / Schema / Dataset / Solution
// provisioners on the local stack, driven by the real CloudFormationClient and checked against the
// real Personalize state with PersonalizeClient (and the stored data the imports wrote). The
// data-lake stack (templates/datalake.yaml) is deployed first: the Personalize stack imports its
// PersonalizeRoleArn export.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  ListExportsCommand,
  ListImportsCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
  type Parameter,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';
import {
  CreateSchemaCommand,
  CreateSolutionCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  DescribeSchemaCommand,
  DescribeSolutionCommand,
  ListDatasetGroupsCommand,
  ListDatasetImportJobsCommand,
  ListDatasetsCommand,
  ListSchemasCommand,
  ListSolutionsCommand,
  PersonalizeClient,
  type Dataset,
  type DatasetImportJob,
} from '@aws-sdk/client-personalize';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { IMPORT_JOB_KIND, loadInteractions } from '../../src/local/services/personalize/dataset-resources.js';
import { describeStack as describeStackOf, settledStack, stackEvents } from '../helpers/cfn.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';

const TEMPLATES = path.join(import.meta.dirname, '../../templates');
const DATALAKE = readFileSync(path.join(TEMPLATES, 'datalake.yaml'), 'utf8');
const PERSONALIZE = readFileSync(path.join(TEMPLATES, 'personalize.yaml'), 'utf8');
const LAKE_STACK = 'mlpipe-datalake';
const BUCKET = 'mlpipe-datalake';
const T0 = 1_300_000_000;

function params(values: Record<string, string>): Parameter[] {
  return Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));
}

function outputsOf(stack: Stack): Record<string, string> {
  return Object.fromEntries((stack.Outputs ?? []).map((output) => [output.OutputKey!, output.OutputValue!]));
}

/** `rows` distinct interactions of users u0…u49 (epoch seconds), ids offset by `from`. */
function interactionsCsv(rows: number, from = 0): string {
  const lines = ['USER_ID,ITEM_ID,TIMESTAMP'];
  for (let i = from; i < from + rows; i++) lines.push(`u${i % 50},i${i},${T0 + i}`);
  return lines.join('\n') + '\n';
}

describe('CloudFormation AWS::Personalize::* and templates/personalize.yaml on the local stack', () => {
  let stack: TestStack;
  let cfn: CloudFormationClient;
  let personalize: PersonalizeClient;
  let s3: S3Client;
  let lakeOutputs: Record<string, string>;

  const describeStack = (name: string): Promise<Stack> => describeStackOf(cfn, name);
  const settled = (name: string): Promise<Stack> => settledStack(cfn, name);

  const eventsOf = (name: string): Promise<StackEvent[]> => stackEvents(cfn, name);

  /** The first failure reason of a stack, to make an unexpected status readable. */
  const failureOf = async (name: string): Promise<string> =>
    (await eventsOf(name)).find((event) => event.ResourceStatus?.endsWith('_FAILED'))?.ResourceStatusReason ??
    '';

  const deploy = async (name: string, values: Record<string, string>): Promise<Stack> => {
    await cfn.send(
      new CreateStackCommand({ StackName: name, TemplateBody: PERSONALIZE, Parameters: params(values) }),
    );
    const done = await settled(name);
    assert.equal(done.StackStatus, 'CREATE_COMPLETE', await failureOf(name));
    return done;
  };

  /** Deletes a stack and waits (by its ID: a deleted stack's name no longer resolves). */
  const remove = async (name: string): Promise<void> => {
    const { StackId } = await describeStack(name);
    await cfn.send(new DeleteStackCommand({ StackName: name }));
    const done = await settled(StackId!);
    assert.equal(done.StackStatus, 'DELETE_COMPLETE', await failureOf(StackId!));
  };

  const groupNames = async (): Promise<string[]> =>
    ((await personalize.send(new ListDatasetGroupsCommand({}))).datasetGroups ?? [])
      .map((group) => group.name!)
      .sort();

  const importJobs = async (datasetArn: string): Promise<DatasetImportJob[]> => {
    const summaries =
      (await personalize.send(new ListDatasetImportJobsCommand({ datasetArn }))).datasetImportJobs ?? [];
    const jobs: DatasetImportJob[] = [];
    for (const summary of summaries.reverse()) {
      jobs.push(
        (
          await personalize.send(
            new DescribeDatasetImportJobCommand({ datasetImportJobArn: summary.datasetImportJobArn }),
          )
        ).datasetImportJob!,
      );
    }
    return jobs; // oldest first
  };

  const finished = async (datasetImportJobArn: string): Promise<DatasetImportJob> => {
    for (let i = 0; i < 500; i++) {
      const job = (await personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn })))
        .datasetImportJob!;
      if (job.status === 'ACTIVE' || job.status === 'CREATE FAILED') return job;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail(`import ${datasetImportJobArn} did not finish`);
  };

  before(async () => {
    stack = await startTestStack();
    cfn = new CloudFormationClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: stack.credentials,
      maxAttempts: 1,
    });
    personalize = new PersonalizeClient({
      endpoint: stack.endpoint,
      region: stack.region,
      credentials: stack.credentials,
      maxAttempts: 1,
    });
    s3 = new S3Client(sdkConfig(stack));
    await cfn.send(
      new CreateStackCommand({
        StackName: LAKE_STACK,
        TemplateBody: DATALAKE,
        Parameters: params({ BucketName: BUCKET }),
        Capabilities: ['CAPABILITY_IAM'],
      }),
    );
    const lake = await settled(LAKE_STACK);
    assert.equal(lake.StackStatus, 'CREATE_COMPLETE', await failureOf(LAKE_STACK));
    lakeOutputs = outputsOf(lake);
    assert.match(lakeOutputs.PersonalizeRoleArn ?? '', /^arn:aws:iam::\d{12}:role\//);
  });
  after(async () => {
    cfn.destroy();
    personalize.destroy();
    s3.destroy();
    await stack.stop();
  });

  it('deploys the dataset group, both schemas and both datasets ACTIVE, exports their ARNs, and deletes them all', async () => {
    const deployed = await deploy('mlpipe-personalize', {});
    const outputs = outputsOf(deployed);
    const account = outputs.DatasetGroupArn!.split(':')[4]!;
    const arn = (kind: string): string => `arn:aws:personalize:us-east-1:${account}:${kind}`;
    assert.match(account, /^\d{12}$/);
    assert.deepEqual(outputs, {
      DatasetGroupArn: arn('dataset-group/mlpipe-dataset-group'),
      InteractionsSchemaArn: arn('schema/mlpipe-interactions'),
      InteractionsDatasetArn: arn('dataset/mlpipe-dataset-group/INTERACTIONS'),
      ItemsSchemaArn: arn('schema/mlpipe-items'),
      ItemsDatasetArn: arn('dataset/mlpipe-dataset-group/ITEMS'),
      PersonalizeRoleArn: lakeOutputs.PersonalizeRoleArn,
      SolutionArn: arn('solution/mlpipe-solution'),
    });

    const exports = Object.fromEntries(
      ((await cfn.send(new ListExportsCommand({}))).Exports ?? [])
        .filter((e) => e.Name!.startsWith('mlpipe-personalize-'))
        .map((e) => [e.Name!.slice('mlpipe-personalize-'.length), e.Value!]),
    );
    assert.deepEqual(exports, outputs);

    const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'mlpipe-personalize' })))
      .StackResourceSummaries!;
    assert.deepEqual(
      resources
        .map((r) => [r.LogicalResourceId, r.ResourceType, r.PhysicalResourceId, r.ResourceStatus])
        .sort(),
      [
        ['DatasetGroup', 'AWS::Personalize::DatasetGroup', outputs.DatasetGroupArn, 'CREATE_COMPLETE'],
        [
          'InteractionsDataset',
          'AWS::Personalize::Dataset',
          outputs.InteractionsDatasetArn,
          'CREATE_COMPLETE',
        ],
        ['InteractionsSchema', 'AWS::Personalize::Schema', outputs.InteractionsSchemaArn, 'CREATE_COMPLETE'],
        ['ItemsDataset', 'AWS::Personalize::Dataset', outputs.ItemsDatasetArn, 'CREATE_COMPLETE'],
        ['ItemsSchema', 'AWS::Personalize::Schema', outputs.ItemsSchemaArn, 'CREATE_COMPLETE'],
        ['Solution', 'AWS::Personalize::Solution', outputs.SolutionArn, 'CREATE_COMPLETE'],
      ],
    );
    // The solution: the default recipe, no HPO, the recipe's default hyperparameters, ACTIVE.
    const solution = (
      await personalize.send(new DescribeSolutionCommand({ solutionArn: outputs.SolutionArn }))
    ).solution!;
    assert.deepEqual(
      [solution.name, solution.recipeArn, solution.performHPO, solution.status, solution.datasetGroupArn],
      [
        'mlpipe-solution',
        'arn:aws:personalize:::recipe/aws-user-personalization',
        false,
        'ACTIVE',
        outputs.DatasetGroupArn,
      ],
    );
    assert.deepEqual(solution.solutionConfig, { algorithmHyperParameters: {} });

    // The stack completed only once the group and the datasets were ACTIVE.
    const group = (
      await personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn: outputs.DatasetGroupArn }))
    ).datasetGroup!;
    assert.equal(group.name, 'mlpipe-dataset-group');
    assert.equal(group.status, 'ACTIVE');
    for (const [key, type, schemaKey, name] of [
      ['InteractionsDatasetArn', 'INTERACTIONS', 'InteractionsSchemaArn', 'mlpipe-interactions'],
      ['ItemsDatasetArn', 'ITEMS', 'ItemsSchemaArn', 'mlpipe-items'],
    ] as const) {
      const described = await personalize.send(new DescribeDatasetCommand({ datasetArn: outputs[key] }));
      const dataset: Dataset = described.dataset!;
      assert.equal(dataset.status, 'ACTIVE', key);
      assert.equal(dataset.name, name);
      assert.equal(dataset.datasetType, type);
      assert.equal(dataset.datasetGroupArn, outputs.DatasetGroupArn);
      assert.equal(dataset.schemaArn, outputs[schemaKey]);
      assert.deepEqual(await importJobs(outputs[key]!), [], 'no import without InitialImportLocation');
    }

    // The schemas are the template's Avro records, stored as given.
    const schemaOf = async (schemaArn: string): Promise<{ name: string; fields: unknown[] }> =>
      JSON.parse((await personalize.send(new DescribeSchemaCommand({ schemaArn }))).schema!.schema!) as {
        name: string;
        fields: unknown[];
      };
    const interactions = await schemaOf(outputs.InteractionsSchemaArn!);
    assert.equal(interactions.name, 'Interactions');
    assert.deepEqual(interactions.fields, [
      { name: 'USER_ID', type: 'string' },
      { name: 'ITEM_ID', type: 'string' },
      { name: 'TIMESTAMP', type: 'long' },
    ]);
    const items = await schemaOf(outputs.ItemsSchemaArn!);
    assert.equal(items.name, 'Items');
    assert.deepEqual(items.fields, [
      { name: 'ITEM_ID', type: 'string' },
      { name: 'TITLE', type: ['null', 'string'] },
      { name: 'GENRES', type: ['null', 'string'], categorical: true },
      { name: 'YEAR', type: ['null', 'int'] },
      { name: 'CREATION_TIMESTAMP', type: ['null', 'long'] },
    ]);

    // The data-lake stack's role export is imported by this stack (so the lake cannot go first).
    assert.deepEqual(
      (await cfn.send(new ListImportsCommand({ ExportName: `${LAKE_STACK}-PersonalizeRoleArn` }))).Imports,
      ['mlpipe-personalize'],
    );

    await remove('mlpipe-personalize');
    assert.deepEqual(await groupNames(), []);
    assert.deepEqual((await personalize.send(new ListSolutionsCommand({}))).solutions, []);
    assert.deepEqual((await personalize.send(new ListSchemasCommand({}))).schemas, []);
    const left = ((await cfn.send(new ListExportsCommand({}))).Exports ?? []).filter((e) =>
      e.Name!.startsWith('mlpipe-personalize-'),
    );
    assert.deepEqual(left, []);
  });

  it('CreateItemsDataset=false creates no items schema or dataset, and no items outputs', async () => {
    const deployed = await deploy('noitems-personalize', {
      ProjectName: 'noitems',
      CreateItemsDataset: 'false',
    });
    const outputs = outputsOf(deployed);
    assert.deepEqual(Object.keys(outputs).sort(), [
      'DatasetGroupArn',
      'InteractionsDatasetArn',
      'InteractionsSchemaArn',
      'PersonalizeRoleArn',
      'SolutionArn',
    ]);
    const datasets = (
      await personalize.send(new ListDatasetsCommand({ datasetGroupArn: outputs.DatasetGroupArn }))
    ).datasets!;
    assert.deepEqual(
      datasets.map((d) => [d.name, d.datasetType, d.status]),
      [['noitems-interactions', 'INTERACTIONS', 'ACTIVE']],
    );
    const schemas = ((await personalize.send(new ListSchemasCommand({}))).schemas ?? []).map((s) => s.name);
    assert.deepEqual(schemas, ['noitems-interactions']);
    const resources = (await cfn.send(new ListStackResourcesCommand({ StackName: 'noitems-personalize' })))
      .StackResourceSummaries!;
    assert.deepEqual(resources.map((r) => r.LogicalResourceId).sort(), [
      'DatasetGroup',
      'InteractionsDataset',
      'InteractionsSchema',
      'Solution',
    ]);
    await remove('noitems-personalize');
    assert.deepEqual(await groupNames(), []);
  });

  it('InitialImportLocation imports on deploy; a new location on update starts a second import; delete waits for a running one', async () => {
    const first = `s3://${BUCKET}/transformed/first/interactions.csv`;
    const second = `s3://${BUCKET}/transformed/second/interactions.csv`;
    const third = `s3://${BUCKET}/transformed/third/`;
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'transformed/first/interactions.csv',
        Body: interactionsCsv(1000),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'transformed/second/interactions.csv',
        Body: interactionsCsv(1200, 5000),
      }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'transformed/third/part-0.csv',
        Body: interactionsCsv(1100),
      }),
    );

    const deployed = await deploy('imports-personalize', {
      ProjectName: 'imports',
      InitialImportLocation: first,
    });
    const datasetArn = outputsOf(deployed).InteractionsDatasetArn!;
    let jobs = await importJobs(datasetArn);
    assert.equal(jobs.length, 1);
    const firstJob = await finished(jobs[0]!.datasetImportJobArn!);
    assert.equal(firstJob.status, 'ACTIVE', firstJob.failureReason);
    assert.equal(firstJob.datasetArn, datasetArn);
    assert.equal(firstJob.dataSource?.dataLocation, first);
    assert.equal(firstJob.roleArn, lakeOutputs.PersonalizeRoleArn);
    assert.equal(firstJob.importMode, 'FULL');
    // No JobName in the template: CloudFormation's generated-name form.
    assert.equal(firstJob.jobName, 'imports-initial-import', 'the template names the first import');
    let data = await loadInteractions(stack.dataDir, datasetArn);
    assert.equal(data?.count, 1000);
    // The items dataset has no import property.
    assert.deepEqual(await importJobs(outputsOf(deployed).ItemsDatasetArn!), []);

    // Same template, another location: an in-place update of the dataset that starts a new FULL import.
    await cfn.send(
      new UpdateStackCommand({
        StackName: 'imports-personalize',
        UsePreviousTemplate: true,
        Parameters: params({ ProjectName: 'imports', InitialImportLocation: second }),
      }),
    );
    const updated = await settled('imports-personalize');
    assert.equal(updated.StackStatus, 'UPDATE_COMPLETE', await failureOf('imports-personalize'));
    assert.equal(outputsOf(updated).InteractionsDatasetArn, datasetArn, 'not replaced');
    jobs = await importJobs(datasetArn);
    assert.equal(jobs.length, 2);
    assert.equal(jobs[0]!.datasetImportJobArn, firstJob.datasetImportJobArn);
    const secondJob = await finished(jobs[1]!.datasetImportJobArn!);
    assert.equal(secondJob.status, 'ACTIVE', secondJob.failureReason);
    assert.equal(secondJob.dataSource?.dataLocation, second);
    assert.notEqual(secondJob.jobName, firstJob.jobName);
    assert.match(secondJob.jobName!, /^imports-personalize-InteractionsDataset-[A-Z0-9]{12}$/);
    data = await loadInteractions(stack.dataDir, datasetArn);
    assert.equal(data?.count, 1200, 'a FULL import replaces the data');
    assert.equal(data?.items.includes('i5000'), true);
    const datasetEvents = (await eventsOf('imports-personalize'))
      .filter((e) => e.LogicalResourceId === 'InteractionsDataset')
      .map((e) => e.ResourceStatus);
    assert.deepEqual(datasetEvents.slice(-2), ['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE']);

    // A third import held in progress: deleting the stack waits for it, then removes everything.
    const hold = stack.server.jobs.hold(IMPORT_JOB_KIND);
    let again: Stack;
    try {
      await cfn.send(
        new UpdateStackCommand({
          StackName: 'imports-personalize',
          UsePreviousTemplate: true,
          Parameters: params({ ProjectName: 'imports', InitialImportLocation: third }),
        }),
      );
      again = await settled('imports-personalize');
      assert.equal(again.StackStatus, 'UPDATE_COMPLETE', await failureOf('imports-personalize'));
      jobs = await importJobs(datasetArn);
      assert.equal(jobs.length, 3);
      assert.equal(jobs[2]!.dataSource?.dataLocation, third);
      assert.match(jobs[2]!.status!, /^CREATE (PENDING|IN_PROGRESS)$/, 'the stack does not wait for imports');
      await cfn.send(new DeleteStackCommand({ StackName: 'imports-personalize' }));
      await new Promise((resolve) => setTimeout(resolve, 150));
      const deleting = await describeStack(again.StackId!);
      assert.equal(deleting.StackStatus, 'DELETE_IN_PROGRESS', 'held by the running import');
    } finally {
      hold.release();
    }
    const deleted = await settled(again.StackId!);
    assert.equal(deleted.StackStatus, 'DELETE_COMPLETE', await failureOf(again.StackId!));
    assert.deepEqual(await groupNames(), []);
    assert.equal(await loadInteractions(stack.dataDir, datasetArn), undefined);
  });

  it('a schema that is not Avro fails the resource with the service message, and the stack rolls back', async () => {
    const notAvro = '{"type": "enum", "name": "Interactions", "symbols": ["A"]}';
    const template = [
      'Resources:',
      '  Group:',
      '    Type: AWS::Personalize::DatasetGroup',
      '    Properties:',
      '      Name: badschema-dataset-group',
      '  Schema:',
      '    Type: AWS::Personalize::Schema',
      '    DependsOn: Group',
      '    Properties:',
      '      Name: badschema-interactions',
      `      Schema: '${notAvro}'`,
    ].join('\n');
    // What Personalize itself says about this schema.
    const direct = await sdkError(
      personalize.send(new CreateSchemaCommand({ name: 'direct-bad', schema: notAvro })),
    );
    assert.equal(direct.name, 'InvalidInputException');

    await cfn.send(new CreateStackCommand({ StackName: 'badschema', TemplateBody: template }));
    const done = await settled('badschema');
    assert.equal(done.StackStatus, 'ROLLBACK_COMPLETE');
    assert.equal(
      done.StackStatusReason,
      'The following resource(s) failed to create: [Schema]. Rollback requested by user.',
    );
    const events = await eventsOf('badschema');
    const failed = events.find((e) => e.ResourceStatus === 'CREATE_FAILED');
    assert.equal(failed?.LogicalResourceId, 'Schema');
    const escaped = direct.message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(
      failed?.ResourceStatusReason ?? '',
      new RegExp(
        `^Resource handler returned message: "${escaped} \\(Service: Personalize, Status Code: 400, Request ID: [0-9a-f]{32}\\)" \\(RequestToken: [0-9a-f-]{36}, HandlerErrorCode: InvalidRequest\\)$`,
      ),
    );
    assert.deepEqual(events.map((e) => `${e.LogicalResourceId} ${e.ResourceStatus}`).slice(-6), [
      'Schema CREATE_FAILED',
      'badschema ROLLBACK_IN_PROGRESS',
      'Schema DELETE_COMPLETE',
      'Group DELETE_IN_PROGRESS',
      'Group DELETE_COMPLETE',
      'badschema ROLLBACK_COMPLETE',
    ]);
    assert.deepEqual(await groupNames(), [], 'the group the stack made is rolled back');
    assert.deepEqual((await personalize.send(new ListSchemasCommand({}))).schemas, []);
    await remove('badschema');
  });

  it('fails a dataset whose import cannot start (and deletes it), and a property the type does not have', async () => {
    const template = (importLocation: string, extra = ''): string =>
      [
        'Resources:',
        '  Group:',
        '    Type: AWS::Personalize::DatasetGroup',
        '    Properties:',
        '      Name: broken-dataset-group',
        extra,
        '  Schema:',
        '    Type: AWS::Personalize::Schema',
        '    Properties:',
        '      Name: broken-interactions',
        `      Schema: '${JSON.stringify({
          type: 'record',
          name: 'Interactions',
          fields: [
            { name: 'USER_ID', type: 'string' },
            { name: 'ITEM_ID', type: 'string' },
            { name: 'TIMESTAMP', type: 'long' },
          ],
        })}'`,
        '  Dataset:',
        '    Type: AWS::Personalize::Dataset',
        '    Properties:',
        '      Name: broken-interactions',
        '      DatasetType: Interactions',
        '      DatasetGroupArn: !GetAtt Group.DatasetGroupArn',
        '      SchemaArn: !Ref Schema',
        '      DatasetImportJob:',
        '        JobName: broken-import',
        '        DataSource:',
        `          DataLocation: ${importLocation}`,
      ]
        .filter((line) => line !== '')
        .join('\n');

    await cfn.send(
      new CreateStackCommand({ StackName: 'badimport', TemplateBody: template('https://x/y.csv') }),
    );
    let done = await settled('badimport');
    assert.equal(done.StackStatus, 'ROLLBACK_COMPLETE');
    let failed = (await eventsOf('badimport')).find((e) => e.ResourceStatus === 'CREATE_FAILED');
    assert.equal(failed?.LogicalResourceId, 'Dataset');
    assert.match(
      failed?.ResourceStatusReason ?? '',
      /^Resource handler returned message: "Invalid Data location https:\/\/x\/y\.csv.*\(Service: Personalize, Status Code: 400, /,
    );
    assert.deepEqual(await groupNames(), [], 'dataset, schema and group are all gone');
    assert.deepEqual((await personalize.send(new ListSchemasCommand({}))).schemas, []);
    await remove('badimport');

    await cfn.send(
      new CreateStackCommand({
        StackName: 'badproperty',
        TemplateBody: template('s3://mlpipe-datalake/x.csv', '      Domian: ECOMMERCE'),
      }),
    );
    done = await settled('badproperty');
    assert.equal(done.StackStatus, 'ROLLBACK_COMPLETE');
    failed = (await eventsOf('badproperty')).find((e) => e.ResourceStatus === 'CREATE_FAILED');
    assert.equal(failed?.LogicalResourceId, 'Group');
    assert.equal(
      failed?.ResourceStatusReason,
      'Properties validation failed for resource Group with message: [#: extraneous key [Domian] is not permitted]',
    );
    assert.deepEqual(await groupNames(), []);
    await remove('badproperty');
  });

  it('creates the solution from the recipe, HPO and hyperparameter parameters; a new configuration with a new name replaces it', async () => {
    const deployed = await deploy('films-personalize', {
      ProjectName: 'films',
      SolutionName: 'films-personalization-aaaaa',
      PerformHPO: 'true',
      HiddenDimension: '64',
      RecencyMask: 'false',
      PopularityDiscountFactor: '0.2', // a similar-items hyperparameter: not passed to this recipe
    });
    const first = outputsOf(deployed).SolutionArn!;
    assert.match(first, /:solution\/films-personalization-aaaaa$/);
    const solution = (await personalize.send(new DescribeSolutionCommand({ solutionArn: first }))).solution!;
    assert.equal(solution.performHPO, true);
    assert.deepEqual(solution.solutionConfig, {
      algorithmHyperParameters: { hidden_dimension: '64', recency_mask: 'false' },
    });

    await cfn.send(
      new UpdateStackCommand({
        StackName: 'films-personalize',
        TemplateBody: PERSONALIZE,
        Parameters: params({
          ProjectName: 'films',
          SolutionName: 'films-similar-items-bbbbb',
          SolutionRecipe: 'aws-similar-items',
          PopularityDiscountFactor: '0.2',
        }),
      }),
    );
    const updated = await settled('films-personalize');
    assert.equal(updated.StackStatus, 'UPDATE_COMPLETE', await failureOf('films-personalize'));
    const second = outputsOf(updated).SolutionArn!;
    assert.match(second, /:solution\/films-similar-items-bbbbb$/);
    const replaced = (await personalize.send(new DescribeSolutionCommand({ solutionArn: second }))).solution!;
    assert.equal(replaced.recipeArn, 'arn:aws:personalize:::recipe/aws-similar-items');
    assert.deepEqual(replaced.solutionConfig, {
      algorithmHyperParameters: { popularity_discount_factor: '0.2' },
    });
    assert.deepEqual(
      ((await personalize.send(new ListSolutionsCommand({}))).solutions ?? []).map((x) => x.name),
      ['films-similar-items-bbbbb'],
      'the old solution is deleted once the new one is in place',
    );
    await remove('films-personalize');
    assert.deepEqual((await personalize.send(new ListSolutionsCommand({}))).solutions, []);
  });

  it('fails a solution the service refuses, with its message, and rolls the stack back', async () => {
    const direct = await sdkError(
      personalize.send(
        new CreateSolutionCommand({
          name: 'direct',
          datasetGroupArn: 'arn:aws:personalize:us-east-1:000000000000:dataset-group/none',
          recipeArn: 'arn:aws:personalize:::recipe/aws-popularity-count',
          performHPO: true,
        }),
      ),
    );
    await cfn.send(
      new CreateStackCommand({
        StackName: 'badsolution-personalize',
        TemplateBody: PERSONALIZE,
        Parameters: params({
          ProjectName: 'badsolution',
          SolutionRecipe: 'aws-popularity-count',
          PerformHPO: 'true',
        }),
      }),
    );
    const done = await settled('badsolution-personalize');
    assert.equal(done.StackStatus, 'ROLLBACK_COMPLETE');
    const failed = (await eventsOf('badsolution-personalize')).find(
      (e) => e.ResourceStatus === 'CREATE_FAILED',
    );
    assert.equal(failed?.LogicalResourceId, 'Solution');
    assert.ok(
      failed?.ResourceStatusReason?.startsWith(
        `Resource handler returned message: "${direct.message} (Service: Personalize, Status Code: 400,`,
      ),
      failed?.ResourceStatusReason,
    );
    assert.deepEqual(await groupNames(), []);
    await remove('badsolution-personalize');
  });
});
