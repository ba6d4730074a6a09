// Personalize dataset groups, schemas, datasets and import jobs in the local stack, driven by the
// real PersonalizeClient and S3Client.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateSchemaCommand,
  DeleteDatasetCommand,
  DeleteDatasetGroupCommand,
  DeleteSchemaCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  DescribeSchemaCommand,
  ListDatasetGroupsCommand,
  ListDatasetImportJobsCommand,
  ListDatasetsCommand,
  ListSchemasCommand,
  PersonalizeClient,
  type DatasetImportJob,
} from '@aws-sdk/client-personalize';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  IMPORT_JOB_KIND,
  loadInteractions,
  loadMetadata,
  RESTART_MESSAGE,
} from '../../src/local/services/personalize/dataset-resources.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { sdkError } from '../helpers/sdk.js';
import { interactionsSchema } from '../helpers/personalize.js';

const BUCKET = 'lake';
const T0 = 1_100_000_000;

const INTERACTIONS_SCHEMA = interactionsSchema();

const ITEMS_SCHEMA = JSON.stringify({
  type: 'record',
  name: 'Items',
  fields: [
    { name: 'ITEM_ID', type: 'string' },
    { name: 'TITLE', type: ['null', 'string'] },
  ],
});

/** `rows` distinct interactions (users u0…u49), ids offset by `from`. */
function interactionsCsv(rows: number, from = 0, options: { ms?: boolean; header?: string } = {}): string {
  const lines = [options.header ?? 'USER_ID,ITEM_ID,TIMESTAMP'];
  for (let i = from; i < from + rows; i++) {
    const ts = T0 + i;
    lines.push(`u${i % 50},i${i},${options.ms ? ts * 1000 : ts}`);
  }
  return lines.join('\n') + '\n';
}

describe('local stack Personalize', () => {
  let stack: TestStack;
  let personalize: PersonalizeClient;
  let s3: S3Client;
  let schemaArn: string;

  const put = (key: string, body: string): Promise<unknown> =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  async function poll<T extends { status?: string }>(read: () => Promise<T>): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const value = await read();
      if (value.status === 'ACTIVE' || value.status === 'CREATE FAILED') return value;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail('resource did not settle');
  }

  const waitGroup = (client: PersonalizeClient, arn: string) =>
    poll(
      async () =>
        (await client.send(new DescribeDatasetGroupCommand({ datasetGroupArn: arn }))).datasetGroup!,
    );
  const waitDataset = (client: PersonalizeClient, arn: string) =>
    poll(async () => (await client.send(new DescribeDatasetCommand({ datasetArn: arn }))).dataset!);
  const waitJob = (arn: string, client = personalize): Promise<DatasetImportJob> =>
    poll(
      async () =>
        (await client.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn: arn })))
          .datasetImportJob!,
    );

  /** An ACTIVE group with an ACTIVE interactions dataset. */
  async function interactionsDataset(group: string, client = personalize): Promise<string> {
    const { datasetGroupArn } = await client.send(new CreateDatasetGroupCommand({ name: group }));
    await waitGroup(client, datasetGroupArn!);
    const schema = (await client.send(new ListSchemasCommand({}))).schemas!.find(
      (s) => s.name === 'interactions',
    );
    const { datasetArn } = await client.send(
      new CreateDatasetCommand({
        name: `${group}-interactions`,
        datasetGroupArn,
        datasetType: 'Interactions',
        schemaArn: schema?.schemaArn ?? schemaArn,
      }),
    );
    await waitDataset(client, datasetArn!);
    return datasetArn!;
  }

  async function importJob(
    jobName: string,
    datasetArn: string,
    dataLocation: string,
    importMode?: 'FULL' | 'INCREMENTAL',
  ): Promise<DatasetImportJob> {
    const { datasetImportJobArn } = await personalize.send(
      new CreateDatasetImportJobCommand({
        jobName,
        datasetArn,
        dataSource: { dataLocation },
        roleArn: 'arn:aws:iam::000000000000:role/personalize',
        ...(importMode ? { importMode } : {}),
      }),
    );
    return waitJob(datasetImportJobArn!);
  }

  before(async () => {
    stack = await startTestStack();
    personalize = new PersonalizeClient(sdkConfig(stack));
    s3 = new S3Client(sdkConfig(stack));
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    schemaArn = (
      await personalize.send(new CreateSchemaCommand({ name: 'interactions', schema: INTERACTIONS_SCHEMA }))
    ).schemaArn!;
  });

  after(async () => {
    personalize.destroy();
    s3.destroy();
    await stack.stop();
  });

  it('shows a status change at the same time before and after a restart', async () => {
    // The time of a change is read once: memory and disk must not disagree about it.
    const own = await startTestStack();
    let ownStopped = false;
    let restarted: TestStack | undefined;
    try {
      const client = new PersonalizeClient(sdkConfig(own));
      const { datasetGroupArn } = await client.send(new CreateDatasetGroupCommand({ name: 'timed' }));
      const active = await waitGroup(client, datasetGroupArn!);
      assert.equal(active.status, 'ACTIVE');
      client.destroy();
      await own.stop({ keepData: true });
      ownStopped = true;
      restarted = await startTestStack({ dataDir: own.dataDir });
      const again = new PersonalizeClient(sdkConfig(restarted));
      const read = (await again.send(new DescribeDatasetGroupCommand({ datasetGroupArn }))).datasetGroup!;
      again.destroy();
      assert.equal(read.status, 'ACTIVE');
      assert.equal(read.lastUpdatedDateTime!.toISOString(), active.lastUpdatedDateTime!.toISOString());
    } finally {
      if (!ownStopped) await own.stop();
      await restarted?.stop();
    }
  });

  it('creates, describes, lists and deletes dataset groups through their lifecycle', async () => {
    const { datasetGroupArn } = await personalize.send(
      new CreateDatasetGroupCommand({ name: 'movies', roleArn: 'arn:aws:iam::000000000000:role/p' }),
    );
    assert.equal(
      datasetGroupArn,
      `arn:aws:personalize:us-east-1:${arnAccount(schemaArn)}:dataset-group/movies`,
    );
    const first = (await personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn })))
      .datasetGroup!;
    assert.ok(['CREATE PENDING', 'CREATE IN_PROGRESS'].includes(first.status!), first.status);
    assert.ok(first.creationDateTime instanceof Date);
    const active = await waitGroup(personalize, datasetGroupArn!);
    assert.equal(active.status, 'ACTIVE');
    assert.equal(active.roleArn, 'arn:aws:iam::000000000000:role/p');
    assert.ok(active.lastUpdatedDateTime! >= active.creationDateTime!);

    const dup = await sdkError(personalize.send(new CreateDatasetGroupCommand({ name: 'movies' })));
    assert.equal(dup.name, 'ResourceAlreadyExistsException');
    const bad = await sdkError(personalize.send(new CreateDatasetGroupCommand({ name: '-bad name' })));
    assert.equal(bad.name, 'InvalidInputException');
    assert.equal(
      (await sdkError(personalize.send(new CreateDatasetGroupCommand({ name: 'x'.repeat(64) })))).name,
      'InvalidInputException',
    );

    for (const name of ['page-a', 'page-b', 'page-c'])
      await personalize.send(new CreateDatasetGroupCommand({ name }));
    const names: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await personalize.send(new ListDatasetGroupsCommand({ maxResults: 2, nextToken }));
      names.push(...page.datasetGroups!.map((g) => g.name!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.ok(pages >= 2);
    for (const name of ['movies', 'page-a', 'page-b', 'page-c']) assert.ok(names.includes(name), name);
    assert.equal(new Set(names).size, names.length);

    await personalize.send(new DeleteDatasetGroupCommand({ datasetGroupArn }));
    const gone = await sdkError(personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn })));
    assert.equal(gone.name, 'ResourceNotFoundException');
    assert.equal(
      (await sdkError(personalize.send(new DeleteDatasetGroupCommand({ datasetGroupArn })))).name,
      'ResourceNotFoundException',
    );
  });

  it('validates, describes, lists and deletes schemas', async () => {
    const { schema } = await personalize.send(new DescribeSchemaCommand({ schemaArn }));
    assert.equal(schema!.name, 'interactions');
    assert.equal(schema!.schema, INTERACTIONS_SCHEMA);
    assert.ok(schemaArn.endsWith(':schema/interactions'));
    const listed = (await personalize.send(new ListSchemasCommand({}))).schemas!;
    assert.ok(listed.some((s) => s.schemaArn === schemaArn));

    const notAvro = await sdkError(
      personalize.send(new CreateSchemaCommand({ name: 'bad1', schema: 'USER_ID,ITEM_ID' })),
    );
    assert.equal(notAvro.name, 'InvalidInputException');
    assert.match(notAvro.message, /not valid JSON/);
    const notRecord = await sdkError(
      personalize.send(new CreateSchemaCommand({ name: 'bad2', schema: '{"type":"string"}' })),
    );
    assert.match(notRecord.message, /type "record"/);
    const dupField = await sdkError(
      personalize.send(
        new CreateSchemaCommand({
          name: 'bad3',
          schema: JSON.stringify({
            type: 'record',
            fields: [
              { name: 'USER_ID', type: 'string' },
              { name: 'USER_ID', type: 'string' },
            ],
          }),
        }),
      ),
    );
    assert.equal(dupField.name, 'InvalidInputException');
    assert.match(dupField.message, /Duplicate field name: USER_ID/);
    const again = await sdkError(
      personalize.send(new CreateSchemaCommand({ name: 'interactions', schema: INTERACTIONS_SCHEMA })),
    );
    assert.equal(again.name, 'ResourceAlreadyExistsException');

    const { schemaArn: spare } = await personalize.send(
      new CreateSchemaCommand({ name: 'spare', schema: ITEMS_SCHEMA }),
    );
    await personalize.send(new DeleteSchemaCommand({ schemaArn: spare }));
    assert.equal(
      (await sdkError(personalize.send(new DescribeSchemaCommand({ schemaArn: spare })))).name,
      'ResourceNotFoundException',
    );
  });

  it('creates datasets one per type per group, with AWS ARNs, type checks and in-use errors', async () => {
    const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name: 'dsgroup' }));
    await waitGroup(personalize, datasetGroupArn!);

    const badType = await sdkError(
      personalize.send(
        new CreateDatasetCommand({ name: 'x', datasetGroupArn, datasetType: 'Ratings', schemaArn }),
      ),
    );
    assert.equal(badType.name, 'InvalidInputException');
    assert.match(badType.message, /Invalid dataset type Ratings/);

    const { schemaArn: noTs } = await personalize.send(
      new CreateSchemaCommand({
        name: 'no-timestamp',
        schema: JSON.stringify({
          type: 'record',
          fields: [
            { name: 'USER_ID', type: 'string' },
            { name: 'ITEM_ID', type: 'string' },
          ],
        }),
      }),
    );
    const missingTs = await sdkError(
      personalize.send(
        new CreateDatasetCommand({
          name: 'x',
          datasetGroupArn,
          datasetType: 'Interactions',
          schemaArn: noTs,
        }),
      ),
    );
    assert.equal(missingTs.name, 'InvalidInputException');
    assert.match(missingTs.message, /TIMESTAMP/);
    const { schemaArn: manyMeta } = await personalize.send(
      new CreateSchemaCommand({
        name: 'many-metadata',
        schema: JSON.stringify({
          type: 'record',
          fields: [
            { name: 'USER_ID', type: 'string' },
            { name: 'ITEM_ID', type: 'string' },
            { name: 'TIMESTAMP', type: 'long' },
            ...['A', 'B', 'C', 'D', 'E', 'F'].map((n) => ({ name: n, type: 'string' })),
          ],
        }),
      }),
    );
    const tooMany = await sdkError(
      personalize.send(
        new CreateDatasetCommand({
          name: 'x',
          datasetGroupArn,
          datasetType: 'INTERACTIONS',
          schemaArn: manyMeta,
        }),
      ),
    );
    assert.match(tooMany.message, /at most 5 metadata fields/);

    const { datasetArn } = await personalize.send(
      new CreateDatasetCommand({ name: 'ratings', datasetGroupArn, datasetType: 'interactions', schemaArn }),
    );
    assert.equal(
      datasetArn,
      datasetGroupArn!.replace(':dataset-group/dsgroup', ':dataset/dsgroup/INTERACTIONS'),
    );
    const ds = await waitDataset(personalize, datasetArn!);
    assert.equal(ds.status, 'ACTIVE');
    assert.equal(ds.datasetType, 'INTERACTIONS');
    assert.equal(ds.schemaArn, schemaArn);
    const second = await sdkError(
      personalize.send(
        new CreateDatasetCommand({ name: 'other', datasetGroupArn, datasetType: 'Interactions', schemaArn }),
      ),
    );
    assert.equal(second.name, 'ResourceAlreadyExistsException');

    const { schemaArn: itemsSchema } = await personalize.send(
      new CreateSchemaCommand({ name: 'items', schema: ITEMS_SCHEMA }),
    );
    const { datasetArn: itemsArn } = await personalize.send(
      new CreateDatasetCommand({
        name: 'movies',
        datasetGroupArn,
        datasetType: 'Items',
        schemaArn: itemsSchema,
      }),
    );
    await waitDataset(personalize, itemsArn!);
    const list = (await personalize.send(new ListDatasetsCommand({ datasetGroupArn }))).datasets!;
    assert.deepEqual(list.map((d) => d.datasetType).sort(), ['INTERACTIONS', 'ITEMS']);

    assert.equal(
      (await sdkError(personalize.send(new DeleteDatasetGroupCommand({ datasetGroupArn })))).name,
      'ResourceInUseException',
    );
    assert.equal(
      (await sdkError(personalize.send(new DeleteSchemaCommand({ schemaArn: itemsSchema })))).name,
      'ResourceInUseException',
    );

    // Items data imports too, and is kept as rows.
    const items = ['ITEM_ID,TITLE', 'i1,"Toy Story (1995)"', 'i2,"Heat, the movie"', 'i2,"Heat, the movie"'];
    await put('items/movies.csv', items.join('\n') + '\n');
    const job = await importJob('items-1', itemsArn!, `s3://${BUCKET}/items/movies.csv`);
    assert.equal(job.status, 'ACTIVE', job.failureReason);
    const meta = await loadMetadata(stack.dataDir, itemsArn!);
    assert.deepEqual(meta, {
      columns: ['ITEM_ID', 'TITLE'],
      rows: [
        ['i1', 'Toy Story (1995)'],
        ['i2', 'Heat, the movie'],
      ],
    });

    await personalize.send(new DeleteDatasetCommand({ datasetArn: itemsArn }));
    await personalize.send(new DeleteDatasetCommand({ datasetArn }));
    assert.equal(
      (await sdkError(personalize.send(new DescribeDatasetCommand({ datasetArn })))).name,
      'ResourceNotFoundException',
    );
    await personalize.send(new DeleteDatasetGroupCommand({ datasetGroupArn }));
  });

  it('checks Avro schemas per dataset type: field types, attributes, reserved names and metadata counts', async () => {
    const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name: 'schemas' }));
    await waitGroup(personalize, datasetGroupArn!);
    const record = (fields: object[]): string => JSON.stringify({ type: 'record', name: 'S', fields });
    const interactions = [
      { name: 'USER_ID', type: 'string' },
      { name: 'ITEM_ID', type: 'string' },
      { name: 'TIMESTAMP', type: 'long' },
    ];
    let n = 0;
    /** The InvalidInputException message CreateDataset answers for `fields` as a `datasetType` schema. */
    const refusal = async (datasetType: string, fields: object[]): Promise<string> => {
      const { schemaArn: arn } = await personalize.send(
        new CreateSchemaCommand({ name: `schema-check-${n++}`, schema: record(fields) }),
      );
      const error = await sdkError(
        personalize.send(
          new CreateDatasetCommand({ name: 'x', datasetGroupArn, datasetType, schemaArn: arn }),
        ),
      );
      assert.equal(error.name, 'InvalidInputException', error.message);
      return error.message;
    };

    assert.match(
      await refusal('Interactions', [...interactions.slice(0, 2), { name: 'TIMESTAMP', type: 'string' }]),
      /Field TIMESTAMP in an Interactions schema must be of type long/,
    );
    assert.match(
      await refusal('Interactions', [interactions[0]!, { name: 'ITEM_ID', type: 'int' }, interactions[2]!]),
      /Field ITEM_ID in an Interactions schema must be of type string/,
    );
    assert.match(
      await refusal('Interactions', [...interactions, { name: 'user_id', type: 'string' }]),
      /Field name user_id is reserved/,
    );
    assert.match(
      await refusal('Items', [{ name: 'ITEM_ID', type: 'string' }]),
      /Your schema must have at minimum one metadata field/,
    );
    assert.match(
      await refusal('Users', [{ name: 'USER_ID', type: 'string' }]),
      /Your schema must have at minimum one metadata field/,
    );
    assert.match(
      await refusal('Interactions', [...interactions, { name: 'NOTES', type: 'string', textual: true }]),
      /textual fields are only allowed in an Items schema/,
    );
    assert.match(
      await refusal('Items', [
        { name: 'ITEM_ID', type: 'string' },
        ...Array.from({ length: 101 }, (_, i) => ({ name: `M${i}`, type: 'string' })),
      ]),
      /at most 100 metadata fields; this one has 101/,
    );

    // categorical/textual belong on string fields only, and are refused at CreateSchema otherwise.
    for (const [attribute, type] of [
      ['categorical', 'int'],
      ['textual', ['null', 'double']],
    ] as const) {
      const error = await sdkError(
        personalize.send(
          new CreateSchemaCommand({
            name: `attr-${attribute}`,
            schema: record([
              { name: 'ITEM_ID', type: 'string' },
              { name: 'GENRE', type, [attribute]: true },
            ]),
          }),
        ),
      );
      assert.equal(error.name, 'InvalidInputException');
      assert.match(error.message, new RegExp(`"${attribute}": true is only allowed on string fields`));
    }
    const { schemaArn: rich } = await personalize.send(
      new CreateSchemaCommand({
        name: 'items-rich',
        schema: record([
          { name: 'ITEM_ID', type: 'string' },
          { name: 'GENRES', type: ['null', 'string'], categorical: true },
          { name: 'DESCRIPTION', type: ['null', 'string'], textual: true },
          { name: 'PRICE', type: 'float' },
          { name: 'CREATION_TIMESTAMP', type: 'long' },
        ]),
      }),
    );
    const { datasetArn } = await personalize.send(
      new CreateDatasetCommand({ name: 'rich', datasetGroupArn, datasetType: 'Items', schemaArn: rich }),
    );
    await waitDataset(personalize, datasetArn!);

    // Nullable columns may be empty (or absent); a categorical value is at most 1,000 characters.
    await put(
      'rich/items.csv',
      [
        'ITEM_ID,GENRES,DESCRIPTION,PRICE,CREATION_TIMESTAMP',
        'i1,Comedy|Drama,,9.5,1100000000',
        'i2,,,1,1100000001',
      ]
        .join('\n')
        .concat('\n'),
    );
    // An incremental import adds new items and replaces the record of an item it names again.
    await put('rich/no-text.csv', 'ITEM_ID,PRICE,CREATION_TIMESTAMP\ni3,2,1100000002\ni2,3,1100000003\n');
    const good = await importJob('rich-1', datasetArn!, `s3://${BUCKET}/rich/items.csv`);
    assert.equal(good.status, 'ACTIVE', good.failureReason);
    const incremental = await importJob(
      'rich-2',
      datasetArn!,
      `s3://${BUCKET}/rich/no-text.csv`,
      'INCREMENTAL',
    );
    assert.equal(incremental.status, 'ACTIVE', incremental.failureReason);
    const before = await loadMetadata(stack.dataDir, datasetArn!);
    assert.deepEqual(before?.rows, [
      ['i1', 'Comedy|Drama', '', '9.5', '1100000000'],
      ['i2', '', '', '3', '1100000003'],
      ['i3', '', '', '2', '1100000002'],
    ]);

    const failures: [string, string, RegExp][] = [
      [
        'long-category.csv',
        `ITEM_ID,GENRES,PRICE,CREATION_TIMESTAMP\ni9,${'g'.repeat(1001)},1,1100000000\n`,
        /^Categorical value for GENRES on line 2 of s3:\/\/lake\/rich\/long-category\.csv is longer than 1000 characters\.$/,
      ],
      [
        'empty-price.csv',
        'ITEM_ID,PRICE,CREATION_TIMESTAMP\ni9,,1100000000\n',
        /^Empty value for required column PRICE on line 2/,
      ],
      [
        'ms-created.csv',
        'ITEM_ID,PRICE,CREATION_TIMESTAMP\ni9,1,1100000000000\n',
        /^CREATION_TIMESTAMP values look like milliseconds .*Unix epoch seconds/,
      ],
      [
        'hex-price.csv',
        'ITEM_ID,PRICE,CREATION_TIMESTAMP\ni9,0x10,1100000000\n',
        /^Invalid float value "0x10" for PRICE on line 2/,
      ],
    ];
    for (const [key, body, reason] of failures) {
      await put(`rich/${key}`, body);
      const job = await importJob(
        `rich-${key.replace('.csv', '')}`,
        datasetArn!,
        `s3://${BUCKET}/rich/${key}`,
      );
      assert.equal(job.status, 'CREATE FAILED', key);
      assert.match(job.failureReason!, reason);
    }
    assert.deepEqual(await loadMetadata(stack.dataDir, datasetArn!), before);
    // Two records for one item: the later one stays, as Personalize replaces by ID.
    await put(
      'rich/two-records.csv',
      'ITEM_ID,PRICE,CREATION_TIMESTAMP\ni9,1,1100000000\ni8,1,1100000000\ni9,2,1100000000\n',
    );
    const twice = await importJob('rich-twice', datasetArn!, `s3://${BUCKET}/rich/two-records.csv`);
    assert.equal(twice.status, 'ACTIVE', twice.failureReason);
    assert.deepEqual((await loadMetadata(stack.dataDir, datasetArn!))?.rows, [
      ['i9', '', '', '2', '1100000000'],
      ['i8', '', '', '1', '1100000000'],
    ]);
    const ok = `ITEM_ID,GENRES,PRICE,CREATION_TIMESTAMP\ni9,${'g'.repeat(1000)},1,1100000000\n`;
    await put('rich/max-category.csv', ok);
    assert.equal(
      (await importJob('rich-max', datasetArn!, `s3://${BUCKET}/rich/max-category.csv`)).status,
      'ACTIVE',
    );
  });

  it('answers a token it did not issue with InvalidNextTokenException', async () => {
    for (const nextToken of ['%%%', 'bm9wZQ', 'x'.repeat(100)]) {
      const error = await sdkError(personalize.send(new ListDatasetGroupsCommand({ nextToken })));
      assert.equal(error.name, 'InvalidNextTokenException', nextToken);
    }
    const tooMany = await sdkError(personalize.send(new ListSchemasCommand({ maxResults: 101 })));
    assert.equal(tooMany.name, 'ValidationException');
    assert.match(tooMany.message, /Value '101' at 'maxResults' failed to satisfy constraint/);
  });

  it('imports a good file into compact typed arrays, and FULL replaces while INCREMENTAL appends', async () => {
    const datasetArn = await interactionsDataset('imports');
    const incrementalFirst = await sdkError(
      personalize.send(
        new CreateDatasetImportJobCommand({
          jobName: 'too-early',
          datasetArn,
          dataSource: { dataLocation: `s3://${BUCKET}/good.csv` },
          importMode: 'INCREMENTAL',
        }),
      ),
    );
    assert.equal(incrementalFirst.name, 'InvalidInputException');
    assert.match(incrementalFirst.message, /FULL import first/);

    // 1,200 rows plus 30 exact duplicates that collapse.
    const good = interactionsCsv(1200) + interactionsCsv(30).split('\n').slice(1).join('\n');
    await put('good.csv', good);
    const job = await importJob('good-1', datasetArn, `s3://${BUCKET}/good.csv`);
    assert.equal(job.status, 'ACTIVE', job.failureReason);
    assert.equal(job.importMode, 'FULL');
    assert.equal(job.dataSource!.dataLocation, `s3://${BUCKET}/good.csv`);
    let data = (await loadInteractions(stack.dataDir, datasetArn))!;
    assert.equal(data.count, 1200);
    assert.equal(data.users.length, 50);
    assert.equal(data.items.length, 1200);
    assert.ok(data.userIndex instanceof Uint32Array && data.timestamps instanceof Float64Array);
    assert.equal(data.users[data.userIndex[7]!], 'u7');
    assert.equal(data.items[data.itemIndex[7]!], 'i7');
    assert.equal(data.timestamps[7], T0 + 7);

    const reused = await sdkError(
      personalize.send(
        new CreateDatasetImportJobCommand({
          jobName: 'good-1',
          datasetArn,
          dataSource: { dataLocation: `s3://${BUCKET}/good.csv` },
        }),
      ),
    );
    assert.equal(reused.name, 'ResourceAlreadyExistsException');

    // INCREMENTAL appends, from every CSV under a prefix.
    await put('more/a.csv', interactionsCsv(600, 5000));
    await put('more/b.csv', interactionsCsv(600, 6000));
    await put('more/readme.txt', 'not data');
    await put('more/archive/c.csv', interactionsCsv(600, 7000)); // a sub-folder: not imported
    const inc = await importJob('inc-1', datasetArn, `s3://${BUCKET}/more/`, 'INCREMENTAL');
    assert.equal(inc.status, 'ACTIVE', inc.failureReason);
    assert.equal(inc.importMode, 'INCREMENTAL');
    data = (await loadInteractions(stack.dataDir, datasetArn))!;
    assert.equal(data.count, 2400);
    assert.equal(data.items.length, 2400);
    assert.equal(data.users.length, 50);
    // Appended rows map onto the dataset's ID tables: row 1200 + k is line k + 2 of more/a.csv.
    for (const k of [0, 1, 599, 600, 1199]) {
      const i = k < 600 ? 5000 + k : 6000 + k - 600;
      assert.deepEqual(
        [
          data.users[data.userIndex[1200 + k]!],
          data.items[data.itemIndex[1200 + k]!],
          data.timestamps[1200 + k],
        ],
        [`u${i % 50}`, `i${i}`, T0 + i],
      );
    }

    // FULL replaces.
    await put('replace.csv', interactionsCsv(1000, 9000));
    const full = await importJob('full-2', datasetArn, `s3://${BUCKET}/replace.csv`, 'FULL');
    assert.equal(full.status, 'ACTIVE', full.failureReason);
    data = (await loadInteractions(stack.dataDir, datasetArn))!;
    assert.equal(data.count, 1000);
    assert.equal(data.items[data.itemIndex[0]!], 'i9000');

    const jobs = (await personalize.send(new ListDatasetImportJobsCommand({ datasetArn })))
      .datasetImportJobs!;
    assert.deepEqual(
      jobs.map((j) => j.jobName),
      ['full-2', 'inc-1', 'good-1'],
    );
    const paged = await personalize.send(new ListDatasetImportJobsCommand({ datasetArn, maxResults: 1 }));
    assert.equal(paged.datasetImportJobs!.length, 1);
    assert.ok(paged.nextToken);
  });

  it('imports event types and values in any column order, collapsing only exact duplicates', async () => {
    const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name: 'events' }));
    await waitGroup(personalize, datasetGroupArn!);
    const { schemaArn: eventsSchema } = await personalize.send(
      new CreateSchemaCommand({
        name: 'events-schema',
        schema: JSON.stringify({
          type: 'record',
          name: 'Interactions',
          fields: [
            { name: 'USER_ID', type: 'string' },
            { name: 'ITEM_ID', type: 'string' },
            { name: 'TIMESTAMP', type: 'long' },
            { name: 'EVENT_TYPE', type: 'string' },
            { name: 'EVENT_VALUE', type: ['null', 'float'] },
          ],
        }),
      }),
    );
    const { datasetArn } = await personalize.send(
      new CreateDatasetCommand({
        name: 'events-interactions',
        datasetGroupArn,
        datasetType: 'Interactions',
        schemaArn: eventsSchema,
      }),
    );
    await waitDataset(personalize, datasetArn!);
    // Header in another order than the schema; each row repeated, and a variant differing only in
    // EVENT_TYPE, only in EVENT_VALUE, or with an empty EVENT_VALUE.
    const lines = ['EVENT_VALUE,TIMESTAMP,EVENT_TYPE,ITEM_ID,USER_ID'];
    for (let i = 0; i < 1000; i++) {
      const row = `${(i % 5) + 0.5},${T0 + i},watch,i${i % 300},u${i % 30}`;
      lines.push(row, row);
    }
    lines.push(`0.5,${T0},click,i0,u0`, `1.5,${T0},watch,i0,u0`, `,${T0},watch,i0,u0`, `,${T0},watch,i0,u0`);
    await put('events.csv', `${lines.join('\n')}\n`);
    const job = await importJob('events-1', datasetArn!, `s3://${BUCKET}/events.csv`);
    assert.equal(job.status, 'ACTIVE', job.failureReason);
    const data = (await loadInteractions(stack.dataDir, datasetArn!))!;
    assert.equal(data.count, 1003);
    assert.deepEqual(data.eventTypes, ['watch', 'click']);
    assert.equal(data.users.length, 30);
    assert.equal(data.items.length, 300);
    const last = [1000, 1001, 1002].map((k) => [
      data.users[data.userIndex[k]!],
      data.items[data.itemIndex[k]!],
      data.timestamps[k],
      data.eventTypes![data.eventTypeIndex![k]!],
      data.eventValues![k],
    ]);
    assert.deepEqual(last, [
      ['u0', 'i0', T0, 'click', 0.5],
      ['u0', 'i0', T0, 'watch', 1.5],
      ['u0', 'i0', T0, 'watch', Number.NaN],
    ]);
  });

  it('reads CRLF, BOM, bare-CR and quoted CSV, and collapses only rows whose text repeats', async () => {
    const datasetArn = await interactionsDataset('csv-forms');
    // Bare CR line ends and more rows than the columns start with (their size comes from '\n's).
    const rows = Array.from({ length: 70_000 }, (_, i) => `u${i % 100},i${i % 5000},${T0 + i}`);
    await put('cr.csv', `USER_ID,ITEM_ID,TIMESTAMP\r${rows.join('\r')}\r${rows.slice(0, 10).join('\r')}\r`);
    const cr = await importJob('cr', datasetArn, `s3://${BUCKET}/cr.csv`);
    assert.equal(cr.status, 'ACTIVE', cr.failureReason);
    let data = (await loadInteractions(stack.dataDir, datasetArn))!;
    assert.equal(data.count, 70_000, 'the ten repeated rows collapse');
    assert.deepEqual(
      [data.users[data.userIndex[69_999]!], data.items[data.itemIndex[69_999]!], data.timestamps[69_999]],
      ['u99', 'i4999', T0 + 69_999],
    );
    // A BOM, CRLF, a quoted ID with a comma and one with a line break; numbers spelled differently
    // are different text, so not duplicates.
    const body = [
      '\ufeffUSER_ID,ITEM_ID,TIMESTAMP',
      ...interactionsCsv(1000).split('\n').slice(1, -1),
      '"u,1","i\n1",1100000000',
      '"u,1","i\n1",1100000000',
      'u1,i1,0100',
      'u1,i1,100',
      'u1,i1,100',
    ].join('\r\n');
    await put('forms.csv', `${body}\r\n`);
    const forms = await importJob('forms', datasetArn, `s3://${BUCKET}/forms.csv`);
    assert.equal(forms.status, 'ACTIVE', forms.failureReason);
    data = (await loadInteractions(stack.dataDir, datasetArn))!;
    assert.equal(data.count, 1003);
    assert.deepEqual(
      [1000, 1001, 1002].map((k) => [
        data.users[data.userIndex[k]!],
        data.items[data.itemIndex[k]!],
        data.timestamps[k],
      ]),
      [
        ['u,1', 'i\n1', 1100000000],
        ['u1', 'i1', 100],
        ['u1', 'i1', 100],
      ],
    );
    // An unterminated quote is named, not swallowed.
    await put('open-quote.csv', `${interactionsCsv(1000)}u1,"i1,1100000000\nu2,i2,1100000001\n`);
    const open = await importJob('open-quote', datasetArn, `s3://${BUCKET}/open-quote.csv`);
    assert.equal(open.status, 'CREATE FAILED');
    assert.match(
      open.failureReason!,
      /^A quoted field that starts on line 1002 of s3:\/\/lake\/open-quote\.csv has no closing quote/,
    );
    assert.equal((await loadInteractions(stack.dataDir, datasetArn))!.count, 1003, 'data untouched');
  });

  it('fails bad imports with clear reasons and leaves the previous data untouched', async () => {
    const datasetArn = await interactionsDataset('bad-imports');
    await put('base.csv', interactionsCsv(1100));
    assert.equal((await importJob('base', datasetArn, `s3://${BUCKET}/base.csv`)).status, 'ACTIVE');

    const cases: [string, string | undefined, RegExp][] = [
      [
        'missing-col.csv',
        interactionsCsv(1100, 0, { header: 'USER_ID,TIMESTAMP,ITEM' }),
        /^Input CSV is missing the following columns: \[ITEM_ID\]$/,
      ],
      [
        'few.csv',
        interactionsCsv(999) + interactionsCsv(10).split('\n').slice(1).join('\n'),
        /fewer than 1000 records \(999/,
      ],
      [
        'ms.csv',
        interactionsCsv(1100, 0, { ms: true }),
        /TIMESTAMP values look like milliseconds \(e\.g\. 1100000000000 on line 2 .*Unix epoch seconds/,
      ],
      [
        'not-long.csv',
        interactionsCsv(1100).replace(`,${T0 + 5}\n`, ',soon\n'),
        /Invalid long value "soon" for TIMESTAMP on line 7/,
      ],
      [
        'long-id.csv',
        interactionsCsv(1100).replace('u3,', `${'u'.repeat(300)},`),
        /USER_ID on line 5 .* longer than 256/,
      ],
      ['empty-prefix/', undefined, /^Invalid Data location/],
      ['no-such-file.csv', undefined, /^Invalid Data location/],
    ];
    let n = 0;
    for (const [key, body, reason] of cases) {
      if (body !== undefined) await put(key, body);
      const job = await importJob(`bad-${n++}`, datasetArn, `s3://${BUCKET}/${key}`);
      assert.equal(job.status, 'CREATE FAILED', key);
      assert.match(job.failureReason!, reason, key);
    }
    const noBucket = await importJob('bad-bucket', datasetArn, 's3://no-such-bucket/x.csv');
    assert.match(noBucket.failureReason!, /^Invalid Data location/);
    const data = (await loadInteractions(stack.dataDir, datasetArn))!;
    assert.equal(data.count, 1100);

    const badLocation = await sdkError(
      personalize.send(
        new CreateDatasetImportJobCommand({
          jobName: 'bad-loc',
          datasetArn,
          dataSource: { dataLocation: 'http://x/y.csv' },
        }),
      ),
    );
    assert.equal(badLocation.name, 'InvalidInputException');
    const noDataset = await sdkError(
      personalize.send(
        new CreateDatasetImportJobCommand({
          jobName: 'no-ds',
          datasetArn: datasetArn.replace('bad-imports', 'nope'),
          dataSource: { dataLocation: `s3://${BUCKET}/base.csv` },
        }),
      ),
    );
    assert.equal(noDataset.name, 'ResourceNotFoundException');
    assert.equal(
      (
        await sdkError(
          personalize.send(
            new DeleteDatasetGroupCommand({
              datasetGroupArn: datasetArn.replace(
                ':dataset/bad-imports/INTERACTIONS',
                ':dataset-group/bad-imports',
              ),
            }),
          ),
        )
      ).name,
      'ResourceInUseException',
    );
  });

  it('refuses more than 5 pending or in-progress imports with LimitExceededException', async () => {
    const datasetArn = await interactionsDataset('limits');
    await put('limit.csv', interactionsCsv(1000));
    // The first import is held in CREATE IN_PROGRESS; the others wait behind it, pending.
    const hold = stack.server.jobs.hold(IMPORT_JOB_KIND);
    const arns: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const { datasetImportJobArn } = await personalize.send(
          new CreateDatasetImportJobCommand({
            jobName: `limit-${i}`,
            datasetArn,
            dataSource: { dataLocation: `s3://${BUCKET}/limit.csv` },
          }),
        );
        arns.push(datasetImportJobArn!);
      }
      const sixth = await sdkError(
        personalize.send(
          new CreateDatasetImportJobCommand({
            jobName: 'limit-5',
            datasetArn,
            dataSource: { dataLocation: `s3://${BUCKET}/limit.csv` },
          }),
        ),
      );
      assert.equal(sixth.name, 'LimitExceededException');
      const pending = (
        await personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn: arns[4] }))
      ).datasetImportJob!;
      assert.equal(pending.status, 'CREATE PENDING');
    } finally {
      hold.release();
    }
    for (const arn of arns) assert.equal((await waitJob(arn)).status, 'ACTIVE');
  });

  it('keeps state and data across a restart and fails imports a restart interrupted', async () => {
    const first = await startTestStack();
    const client = new PersonalizeClient(sdkConfig(first));
    const s3a = new S3Client(sdkConfig(first));
    await s3a.send(new CreateBucketCommand({ Bucket: 'restart-bucket' }));
    await s3a.send(
      new PutObjectCommand({ Bucket: 'restart-bucket', Key: 'i.csv', Body: interactionsCsv(1000) }),
    );
    s3a.destroy();
    await client.send(new CreateSchemaCommand({ name: 'interactions', schema: INTERACTIONS_SCHEMA }));
    const datasetArn = await interactionsDataset('durable', client);
    const { datasetImportJobArn: okArn } = await client.send(
      new CreateDatasetImportJobCommand({
        jobName: 'ok',
        datasetArn,
        dataSource: { dataLocation: 's3://restart-bucket/i.csv' },
      }),
    );
    assert.equal((await waitJob(okArn!, client)).status, 'ACTIVE');
    // Held in CREATE IN_PROGRESS until the stack stops under it.
    const hold = first.server.jobs.hold(IMPORT_JOB_KIND);
    let cutArn: string;
    try {
      cutArn = (
        await client.send(
          new CreateDatasetImportJobCommand({
            jobName: 'cut',
            datasetArn,
            dataSource: { dataLocation: 's3://restart-bucket/i.csv' },
          }),
        )
      ).datasetImportJobArn!;
      client.destroy();
      await first.stop({ keepData: true });
    } finally {
      hold.release();
    }

    const second = await startTestStack({ dataDir: first.dataDir });
    const again = new PersonalizeClient(sdkConfig(second));
    try {
      const cut = (await again.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn: cutArn })))
        .datasetImportJob!;
      assert.equal(cut.status, 'CREATE FAILED');
      assert.equal(cut.failureReason, RESTART_MESSAGE);
      assert.equal(
        (await again.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn: okArn })))
          .datasetImportJob!.status,
        'ACTIVE',
      );
      assert.equal((await again.send(new DescribeDatasetCommand({ datasetArn }))).dataset!.status, 'ACTIVE');
      assert.equal((await loadInteractions(second.dataDir, datasetArn))!.count, 1000);
      assert.deepEqual(second.server.stats().personalize, {
        datasetGroups: 1,
        datasets: 1,
        importJobs: 2,
        solutions: 0,
        solutionVersions: 0,
        campaigns: 0,
        campaignModels: 0,
        batchInferenceJobs: 0,
      });
      // New records still get names and order after the reloaded ones.
      await again.send(new CreateDatasetGroupCommand({ name: 'after-restart' }));
      const groups = (await again.send(new ListDatasetGroupsCommand({}))).datasetGroups!;
      assert.deepEqual(
        groups.map((g) => g.name),
        ['after-restart', 'durable'],
      );
    } finally {
      again.destroy();
      await second.stop();
    }
  });
});

function arnAccount(arn: string): string {
  return arn.split(':')[4]!;
}
