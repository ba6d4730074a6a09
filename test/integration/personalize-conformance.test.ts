// Personalize responses of the local stack checked against botocore's service model: every
// implemented operation is sent as a raw SigV4-signed AWS JSON 1.1 request, and each raw body is
// validated recursively against the operation's output shape (or its declared errors).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  awsJsonRequest,
  checkError,
  checkOutput,
  checkShape,
  loadBotocoreModel,
  type CheckOptions,
  type ServiceModel,
} from '../helpers/botocore.js';
import { ManualClock } from '../../src/local/core/clock.js';
import { IMPORT_JOB_KIND } from '../../src/local/services/personalize/dataset-resources.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { interactionsSchema } from '../helpers/personalize.js';

const loaded = loadBotocoreModel('personalize');
const model: ServiceModel | undefined = 'model' in loaded ? loaded.model : undefined;
const skip = 'skip' in loaded ? `skipped: ${loaded.skip}` : false;

const OPERATIONS = [
  'CreateDatasetGroup',
  'DescribeDatasetGroup',
  'ListDatasetGroups',
  'DeleteDatasetGroup',
  'CreateSchema',
  'DescribeSchema',
  'ListSchemas',
  'DeleteSchema',
  'CreateDataset',
  'DescribeDataset',
  'ListDatasets',
  'DeleteDataset',
  'CreateDatasetImportJob',
  'DescribeDatasetImportJob',
  'ListDatasetImportJobs',
];

const OPTIONS: CheckOptions = {
  patternExempt: {
    // The model types it `Arn` (a Personalize ARN pattern), but it echoes the IAM role ARN the
    // caller passed to CreateDatasetImportJob, as AWS does.
    'DatasetImportJob.roleArn': 'IAM role ARN under a Personalize Arn shape',
  },
};

const BUCKET = 'conformance';
const ROLE = 'arn:aws:iam::000000000000:role/personalize';
const T0 = 1_100_000_000;

const INTERACTIONS_SCHEMA = interactionsSchema([{ name: 'EVENT_TYPE', type: ['null', 'string'] }]);

const ITEMS_SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Items',
  fields: [
    { name: 'ITEM_ID', type: 'string' },
    { name: 'GENRES', type: ['null', 'string'], categorical: true },
  ],
});

function interactionsCsv(rows: number, from = 0, header = 'USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE'): string {
  const lines = [header];
  for (let i = from; i < from + rows; i++) lines.push(`u${i % 50},i${i},${T0 + i},click`);
  return lines.join('\n') + '\n';
}

describe("local stack Personalize responses conform to botocore's model", { skip }, () => {
  let stack: TestStack;
  const clock = new ManualClock();
  let s3: S3Client;
  const exercised = new Set<string>();
  let problems: string[] = [];

  /** Sends `operation`; checks the raw body against the model; returns it parsed. */
  async function call<T = Record<string, unknown>>(operation: string, body: object): Promise<T> {
    const response = await awsJsonRequest(stack, {
      service: 'personalize',
      target: `AmazonPersonalize.${operation}`,
      jsonVersion: '1.1',
      body,
    });
    assert.equal(response.status, 200, `${operation} ${JSON.stringify(body)}: ${response.body}`);
    assert.match(response.headers.get('content-type') ?? '', /^application\/x-amz-json-1\.1/);
    problems.push(...checkOutput(model!, operation, response.body, OPTIONS));
    exercised.add(operation);
    return (response.body === '' ? {} : JSON.parse(response.body)) as T;
  }

  /** Sends `operation`, which must fail with `expected`; checks the error against the model. */
  async function fail(operation: string, body: object, expected: string): Promise<string> {
    const response = await awsJsonRequest(stack, {
      service: 'personalize',
      target: `AmazonPersonalize.${operation}`,
      jsonVersion: '1.1',
      body,
    });
    const { name, problems: errorProblems } = checkError(model!, operation, response.status, response.body);
    problems.push(...errorProblems);
    assert.equal(name, expected, `${operation} ${JSON.stringify(body)}: ${response.body}`);
    assert.equal(response.status, 400);
    return (JSON.parse(response.body) as { message: string }).message;
  }

  /**
   * Reads until the resource is ACTIVE or CREATE FAILED. Provisioning delays run on the stack's
   * manual clock, so they pass when the clock is moved (a minute of AWS time at a time), never
   * because the machine happened to be slow — a Describe right after a Create sees it pending.
   */
  async function settle<T>(read: () => Promise<T>, status: (value: T) => string | undefined): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const value = await read();
      if (status(value) === 'ACTIVE' || status(value) === 'CREATE FAILED') return value;
      if (clock.pending > 0) await clock.advance(60_000);
      else await new Promise((r) => setTimeout(r, 10)); // work (an import) in progress, not a wait
    }
    assert.fail('resource did not settle');
  }

  type Described = Record<string, Record<string, unknown>>;
  const describeGroup = (datasetGroupArn: string) =>
    settle(
      () => call<Described>('DescribeDatasetGroup', { datasetGroupArn }),
      (v) => v.datasetGroup!.status as string,
    );
  const describeDataset = (datasetArn: string) =>
    settle(
      () => call<Described>('DescribeDataset', { datasetArn }),
      (v) => v.dataset!.status as string,
    );
  const describeJob = (datasetImportJobArn: string) =>
    settle(
      () => call<Described>('DescribeDatasetImportJob', { datasetImportJobArn }),
      (v) => v.datasetImportJob!.status as string,
    );

  before(async () => {
    stack = await startTestStack({ clock });
    s3 = new S3Client(sdkConfig(stack));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3?.destroy();
    await stack?.stop();
  });

  it('has a checker that flags undeclared members, missing required ones, wrong types and enums', () => {
    const found = checkShape(
      model!,
      'DatasetImportJob',
      {
        jobName: 'j',
        seq: 3,
        creationDateTime: '2024-01-01T00:00:00Z',
        lastUpdatedDateTime: 1_700_000_000_000,
        importMode: 'full',
        publishAttributionMetricsToS3: 'yes',
        dataSource: { dataLocation: 'ftp://x' },
      },
      'job',
    );
    const text = found.join('\n');
    assert.match(text, /member seq is not in the model/);
    assert.match(text, /job\.creationDateTime: expected epoch seconds/);
    assert.match(text, /job\.lastUpdatedDateTime: .* looks like epoch milliseconds/);
    assert.match(text, /"full" is not one of FULL, INCREMENTAL/);
    assert.match(text, /publishAttributionMetricsToS3: expected a boolean/);
    assert.match(text, /dataLocation: "ftp:\/\/x" does not match pattern/);
    assert.match(
      checkShape(model!, 'CreateDatasetGroupRequest', {}, 'request').join('\n'),
      /required member name is missing/,
    );
    assert.deepEqual(checkOutput(model!, 'DeleteSchema', '{}'), []);
    assert.match(checkOutput(model!, 'DeleteSchema', '{"ok":true}').join(), /no output shape/);
    const undeclared = checkError(model!, 'ListSchemas', 400, '{"__type":"ResourceNotFoundException"}');
    assert.match(undeclared.problems.join('\n'), /neither declared .* nor common/);
    assert.match(undeclared.problems.join('\n'), /has no message/);
  });

  it('answers the dataset group operations in the model shapes', async () => {
    problems = [];
    const { datasetGroupArn } = await call<{ datasetGroupArn: string }>('CreateDatasetGroup', {
      name: 'conf-group',
      roleArn: ROLE,
    });
    const pending = await call<Described>('DescribeDatasetGroup', { datasetGroupArn });
    assert.ok(['CREATE PENDING', 'CREATE IN_PROGRESS'].includes(pending.datasetGroup!.status as string));
    const active = await describeGroup(datasetGroupArn);
    assert.equal(active.datasetGroup!.status, 'ACTIVE');
    assert.equal(typeof active.datasetGroup!.creationDateTime, 'number');

    const domain = await call<{ datasetGroupArn: string; domain: string }>('CreateDatasetGroup', {
      name: 'conf-domain',
      domain: 'VIDEO_ON_DEMAND',
    });
    assert.equal(domain.domain, 'VIDEO_ON_DEMAND');
    await describeGroup(domain.datasetGroupArn);

    const first = await call<{ datasetGroups: unknown[]; nextToken: string }>('ListDatasetGroups', {
      maxResults: 1,
    });
    assert.equal(first.datasetGroups.length, 1);
    assert.ok(first.nextToken);
    const rest = await call<{ datasetGroups: unknown[]; nextToken?: string }>('ListDatasetGroups', {
      nextToken: first.nextToken,
    });
    assert.equal(rest.datasetGroups.length, 1);
    assert.equal(rest.nextToken, undefined);

    await fail('CreateDatasetGroup', { name: 'conf-group' }, 'ResourceAlreadyExistsException');
    await fail('CreateDatasetGroup', { name: '-bad' }, 'InvalidInputException');
    await fail('CreateDatasetGroup', { name: 'x', domain: 'RETAIL' }, 'InvalidInputException');
    await fail(
      'DescribeDatasetGroup',
      { datasetGroupArn: `${datasetGroupArn}-nope` },
      'ResourceNotFoundException',
    );
    await fail('ListDatasetGroups', { nextToken: 'not a token!' }, 'InvalidNextTokenException');
    await fail('ListDatasetGroups', { maxResults: 0 }, 'ValidationException');
    await fail('ListDatasetGroups', { maxResults: 101 }, 'ValidationException');

    await call('DeleteDatasetGroup', { datasetGroupArn: domain.datasetGroupArn });
    await fail(
      'DeleteDatasetGroup',
      { datasetGroupArn: domain.datasetGroupArn },
      'ResourceNotFoundException',
    );
    assert.deepEqual(problems, []);
  });

  it('answers the schema operations in the model shapes', async () => {
    problems = [];
    await call('CreateSchema', { name: 'conf-interactions', schema: INTERACTIONS_SCHEMA });
    const { schemaArn } = await call<{ schemaArn: string }>('CreateSchema', {
      name: 'conf-items',
      schema: ITEMS_SCHEMA,
    });
    const described = await call<Described>('DescribeSchema', { schemaArn });
    assert.equal(described.schema!.schema, ITEMS_SCHEMA);
    const { schemaArn: domainSchema } = await call<{ schemaArn: string }>('CreateSchema', {
      name: 'conf-domain-schema',
      schema: INTERACTIONS_SCHEMA,
      domain: 'ECOMMERCE',
    });
    const page = await call<{ schemas: unknown[]; nextToken: string }>('ListSchemas', { maxResults: 2 });
    assert.equal(page.schemas.length, 2);
    await call('ListSchemas', { nextToken: page.nextToken });

    await fail(
      'CreateSchema',
      { name: 'conf-items', schema: ITEMS_SCHEMA },
      'ResourceAlreadyExistsException',
    );
    await fail('CreateSchema', { name: 'conf-bad', schema: '{"type":"enum"}' }, 'InvalidInputException');
    await fail('CreateSchema', { name: 'conf-bad' }, 'InvalidInputException');
    await fail('DescribeSchema', { schemaArn: `${schemaArn}-nope` }, 'ResourceNotFoundException');
    await fail('ListSchemas', { nextToken: '%%%' }, 'InvalidNextTokenException');
    await call('DeleteSchema', { schemaArn: domainSchema });
    await fail('DeleteSchema', { schemaArn: domainSchema }, 'ResourceNotFoundException');
    assert.deepEqual(problems, []);
  });

  it('answers the dataset operations in the model shapes', async () => {
    problems = [];
    const { datasetGroupArn } = (
      await call<{ datasetGroups: { name: string; datasetGroupArn: string }[] }>('ListDatasetGroups', {})
    ).datasetGroups.find((g) => g.name === 'conf-group')!;
    const schemas = (await call<{ schemas: { name: string; schemaArn: string }[] }>('ListSchemas', {}))
      .schemas;
    const schemaArn = (name: string): string => schemas.find((s) => s.name === name)!.schemaArn;

    const { datasetArn } = await call<{ datasetArn: string }>('CreateDataset', {
      name: 'conf-interactions',
      datasetGroupArn,
      datasetType: 'Interactions',
      schemaArn: schemaArn('conf-interactions'),
    });
    const dataset = (await describeDataset(datasetArn)).dataset!;
    assert.equal(dataset.datasetType, 'INTERACTIONS');
    assert.equal(dataset.status, 'ACTIVE');
    const { datasetArn: itemsArn } = await call<{ datasetArn: string }>('CreateDataset', {
      name: 'conf-items',
      datasetGroupArn,
      datasetType: 'ITEMS',
      schemaArn: schemaArn('conf-items'),
    });
    await describeDataset(itemsArn);

    const all = await call<{ datasets: { datasetType: string }[] }>('ListDatasets', {});
    assert.equal(all.datasets.length, 2);
    const paged = await call<{ datasets: unknown[]; nextToken: string }>('ListDatasets', {
      datasetGroupArn,
      maxResults: 1,
    });
    await call('ListDatasets', { datasetGroupArn, nextToken: paged.nextToken });

    const base = { name: 'conf-x', datasetGroupArn, schemaArn: schemaArn('conf-interactions') };
    await fail('CreateDataset', { ...base, datasetType: 'Ratings' }, 'InvalidInputException');
    await fail('CreateDataset', { ...base, datasetType: 'Interactions' }, 'ResourceAlreadyExistsException');
    await fail(
      'CreateDataset',
      { ...base, datasetType: 'Users', datasetGroupArn: `${datasetGroupArn}-nope` },
      'ResourceNotFoundException',
    );
    await fail(
      'CreateDataset',
      { ...base, datasetType: 'Items', schemaArn: `${base.schemaArn}-nope` },
      'ResourceNotFoundException',
    );
    await fail('DescribeDataset', { datasetArn: `${datasetArn}-nope` }, 'ResourceNotFoundException');
    await fail('ListDatasets', { datasetGroupArn: `${datasetGroupArn}-nope` }, 'InvalidInputException');
    await fail('ListDatasets', { nextToken: 'bm9wZQ' }, 'InvalidNextTokenException');
    await fail('DeleteDatasetGroup', { datasetGroupArn }, 'ResourceInUseException');
    await fail('DeleteSchema', { schemaArn: schemaArn('conf-items') }, 'ResourceInUseException');
    assert.deepEqual(problems, []);
  });

  it('answers the dataset import job operations in the model shapes', async () => {
    problems = [];
    const datasets = (
      await call<{ datasets: { datasetType: string; datasetArn: string }[] }>('ListDatasets', {})
    ).datasets;
    const datasetArn = datasets.find((d) => d.datasetType === 'INTERACTIONS')!.datasetArn;
    const itemsArn = datasets.find((d) => d.datasetType === 'ITEMS')!.datasetArn;
    const put = (key: string, body: string) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    await put('interactions.csv', interactionsCsv(1200));
    await put('more/part-1.csv', interactionsCsv(1000, 5000));
    await put('missing.csv', interactionsCsv(1200, 0, 'USER_ID,TIMESTAMP,ITEM,EVENT_TYPE'));
    await put('items.csv', 'ITEM_ID,GENRES\ni1,Comedy|Drama\ni2,\n');

    const { datasetImportJobArn } = await call<{ datasetImportJobArn: string }>('CreateDatasetImportJob', {
      jobName: 'conf-full',
      datasetArn,
      dataSource: { dataLocation: `s3://${BUCKET}/interactions.csv` },
      roleArn: ROLE,
      importMode: 'FULL',
      publishAttributionMetricsToS3: false,
    });
    const pending = (await call<Described>('DescribeDatasetImportJob', { datasetImportJobArn }))
      .datasetImportJob!;
    assert.ok(['CREATE PENDING', 'CREATE IN_PROGRESS', 'ACTIVE'].includes(pending.status as string));
    const job = (await describeJob(datasetImportJobArn)).datasetImportJob!;
    assert.equal(job.status, 'ACTIVE', job.failureReason as string);
    assert.equal(job.roleArn, ROLE);
    assert.equal(job.publishAttributionMetricsToS3, false);

    const { datasetImportJobArn: failedArn } = await call<{ datasetImportJobArn: string }>(
      'CreateDatasetImportJob',
      { jobName: 'conf-missing', datasetArn, dataSource: { dataLocation: `s3://${BUCKET}/missing.csv` } },
    );
    const failed = (await describeJob(failedArn)).datasetImportJob!;
    assert.equal(failed.status, 'CREATE FAILED');
    assert.equal(failed.failureReason, 'Input CSV is missing the following columns: [ITEM_ID]');

    const { datasetImportJobArn: incArn } = await call<{ datasetImportJobArn: string }>(
      'CreateDatasetImportJob',
      {
        jobName: 'conf-incremental',
        datasetArn,
        dataSource: { dataLocation: `s3://${BUCKET}/more/` },
        importMode: 'INCREMENTAL',
      },
    );
    assert.equal((await describeJob(incArn)).datasetImportJob!.status, 'ACTIVE');
    const { datasetImportJobArn: itemsJob } = await call<{ datasetImportJobArn: string }>(
      'CreateDatasetImportJob',
      {
        jobName: 'conf-items',
        datasetArn: itemsArn,
        dataSource: { dataLocation: `s3://${BUCKET}/items.csv` },
      },
    );
    const items = (await describeJob(itemsJob)).datasetImportJob!;
    assert.equal(items.status, 'ACTIVE', items.failureReason as string);

    const listed = await call<{ datasetImportJobs: { jobName: string }[] }>('ListDatasetImportJobs', {
      datasetArn,
    });
    assert.deepEqual(
      listed.datasetImportJobs.map((j) => j.jobName),
      ['conf-incremental', 'conf-missing', 'conf-full'],
    );
    const page = await call<{ nextToken: string }>('ListDatasetImportJobs', { maxResults: 2 });
    await call('ListDatasetImportJobs', { nextToken: page.nextToken });

    const source = { dataLocation: `s3://${BUCKET}/interactions.csv` };
    await fail(
      'CreateDatasetImportJob',
      { jobName: 'conf-full', datasetArn, dataSource: source },
      'ResourceAlreadyExistsException',
    );
    await fail(
      'CreateDatasetImportJob',
      { jobName: 'conf-nods', datasetArn: `${datasetArn}-nope`, dataSource: source },
      'ResourceNotFoundException',
    );
    await fail(
      'CreateDatasetImportJob',
      { jobName: 'conf-loc', datasetArn, dataSource: { dataLocation: 'ftp://x/y.csv' } },
      'InvalidInputException',
    );
    await fail(
      'CreateDatasetImportJob',
      { jobName: 'conf-mode', datasetArn, dataSource: source, importMode: 'PARTIAL' },
      'InvalidInputException',
    );
    await fail(
      'DescribeDatasetImportJob',
      { datasetImportJobArn: `${datasetImportJobArn}-nope` },
      'ResourceNotFoundException',
    );
    await fail('ListDatasetImportJobs', { datasetArn: `${datasetArn}-nope` }, 'InvalidInputException');
    await fail('ListDatasetImportJobs', { nextToken: 'zzz' }, 'InvalidNextTokenException');

    // Five held in progress: a sixth is over the quota, and the dataset is in use.
    const hold = stack.server.jobs.hold(IMPORT_JOB_KIND);
    const held: string[] = [];
    try {
      for (let i = 0; i < 5; i++)
        held.push(
          (
            await call<{ datasetImportJobArn: string }>('CreateDatasetImportJob', {
              jobName: `conf-held-${i}`,
              datasetArn,
              dataSource: source,
            })
          ).datasetImportJobArn,
        );
      await fail(
        'CreateDatasetImportJob',
        { jobName: 'conf-held-5', datasetArn, dataSource: source },
        'LimitExceededException',
      );
      await fail('DeleteDataset', { datasetArn }, 'ResourceInUseException');
    } finally {
      hold.release();
    }
    for (const arn of held) assert.equal((await describeJob(arn)).datasetImportJob!.status, 'ACTIVE');
    assert.deepEqual(problems, []);
  });

  it('answers the delete operations in the model shapes, and exercised every operation', async () => {
    problems = [];
    const datasets = (await call<{ datasets: { datasetArn: string }[] }>('ListDatasets', {})).datasets;
    for (const { datasetArn } of datasets) {
      await call('DeleteDataset', { datasetArn });
      await fail('DeleteDataset', { datasetArn }, 'ResourceNotFoundException');
    }
    for (const { schemaArn } of (await call<{ schemas: { schemaArn: string }[] }>('ListSchemas', {})).schemas)
      await call('DeleteSchema', { schemaArn });
    for (const { datasetGroupArn } of (
      await call<{ datasetGroups: { datasetGroupArn: string }[] }>('ListDatasetGroups', {})
    ).datasetGroups)
      await call('DeleteDatasetGroup', { datasetGroupArn });
    assert.deepEqual(
      await call('ListDatasetGroups', {}),
      { datasetGroups: [] },
      'an empty listing still carries its list member',
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      OPERATIONS.filter((op) => !exercised.has(op)),
      [],
    );
  });
});
