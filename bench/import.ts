/**
 * Personalize import benchmark: a FULL dataset import of the hetrec-size interactions CSV (855,598
 * rows, epoch seconds, as the ETL writes it) in the local stack — S3 read, header and type checks,
 * duplicate collapse, interning and the compact typed-array store — timed from
 * CreateDatasetImportJob to ACTIVE, against DuckDB (1 thread) loading the same CSV into a typed
 * table with duplicates collapsed (`CREATE TABLE … AS SELECT DISTINCT * FROM read_csv(…)`).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateSchemaCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { builtLocalStack } from './stack.js';
import { readIdentity } from '../src/local/contract.js';
import { generateSampleData, HETREC_DEFAULTS } from '../src/sampledata/generator.js';
import { duckdbMedianMs, median, report, sqlPath } from './report.js';
import { interactionsSchema } from '../test/helpers/personalize.js';

const SCHEMA = interactionsSchema();

/** The ETL's output for the hetrec-size sample: USER_ID,ITEM_ID,TIMESTAMP with seconds. */
async function interactionsCsv(file: string): Promise<number> {
  let text = '';
  await generateSampleData(HETREC_DEFAULTS, {
    ratings: (chunk) => void (text += chunk),
    movies: () => undefined,
  });
  const out: string[] = ['USER_ID,ITEM_ID,TIMESTAMP'];
  for (const line of text.split('\n').slice(1)) {
    if (line === '') continue;
    const [user, item, , ms] = line.split('\t');
    out.push(`${user},${item},${Math.floor(Number(ms) / 1000)}`);
  }
  await fs.writeFile(file, `${out.join('\n')}\n`);
  return out.length - 1;
}

/** Polls every 25 ms, as `mlpipe import` starts polling the local stack. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

function duckdb(input: string): Promise<number | string> {
  return duckdbMedianMs(
    `CREATE OR REPLACE TABLE interactions AS SELECT DISTINCT * FROM read_csv('${sqlPath(input)}', ` +
      `header=true, columns={'USER_ID': 'VARCHAR', 'ITEM_ID': 'VARCHAR', 'TIMESTAMP': 'BIGINT'})`,
  );
}

export async function benchImport(): Promise<void> {
  const { startLocalStack, stopLocalStack } = await builtLocalStack();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlpipe-bench-import-'));
  const dataDir = path.join(dir, 'local');
  try {
    const file = path.join(dir, 'interactions.csv');
    const rows = await interactionsCsv(file);
    const { info } = await startLocalStack({ dataDir, port: 0, portFallback: false, region: 'us-east-1' });
    const config = { endpoint: info.endpoint, region: 'us-east-1', credentials: readIdentity(dataDir)! };
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const personalize = new PersonalizeClient(config);
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: 'bench',
        Key: 'transformed/interactions.csv',
        Body: await fs.readFile(file),
      }),
    );
    const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name: 'bench' }));
    await until(async () => {
      const g = await personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn }));
      return g.datasetGroup?.status === 'ACTIVE';
    });
    const { schemaArn } = await personalize.send(new CreateSchemaCommand({ name: 'bench', schema: SCHEMA }));
    const { datasetArn } = await personalize.send(
      new CreateDatasetCommand({ name: 'bench', datasetGroupArn, schemaArn, datasetType: 'Interactions' }),
    );
    await until(async () => {
      const d = await personalize.send(new DescribeDatasetCommand({ datasetArn }));
      return d.dataset?.status === 'ACTIVE';
    });
    const times: number[] = [];
    // How long the stack takes to answer while an import runs (it runs in a worker thread).
    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      const started = process.hrtime.bigint();
      const { datasetImportJobArn } = await personalize.send(
        new CreateDatasetImportJobCommand({
          jobName: `bench-${i}`,
          datasetArn,
          dataSource: { dataLocation: 's3://bench/transformed/' },
        }),
      );
      let status = '';
      await until(async () => {
        const asked = process.hrtime.bigint();
        const job = await personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn }));
        status = job.datasetImportJob?.status ?? '';
        if (status === 'CREATE IN_PROGRESS') latencies.push(Number(process.hrtime.bigint() - asked) / 1e6);
        if (status === 'CREATE FAILED') throw new Error(job.datasetImportJob?.failureReason);
        return status === 'ACTIVE';
      });
      if (i > 0) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    s3.destroy();
    personalize.destroy();
    await stopLocalStack(dataDir);
    const local = median(times);
    const stored = (
      await fs.stat(path.join(dataDir, 'personalize', 'data', 'bench', 'INTERACTIONS', 'data.bin'))
    ).size;
    const csvBytes = (await fs.stat(file)).size;
    report('import: local stack', {
      rows,
      median_ms: local,
      rows_s: Math.round(rows / (local / 1000)),
      stored_MB: stored / 1048576,
      csv_MB: csvBytes / 1048576,
    });
    report('import: describe during', {
      calls: latencies.length,
      median_ms: median(latencies),
      max_ms: Math.max(...latencies),
    });
    const duck = await duckdb(file);
    if (typeof duck === 'number') {
      report('import: duckdb (1 thread)', { median_ms: duck, rows_s: Math.round(rows / (duck / 1000)) });
      report('import: local / duckdb', { ratio: local / duck, aim: '< 3' });
    } else report('import: duckdb', { status: duck });
  } finally {
    await stopLocalStack(dataDir).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
