/**
 * Batch inference and real-time recommendations benchmark, on the hetrec-size sample (2,113 users,
 * 855,598 interactions) in the local stack started from the build:
 *   - users per second of a batch inference job (every user × 25 items, timed from
 *     CreateBatchInferenceJob to ACTIVE: S3 read, scoring, `.out` written and put) against a plain
 *     loop of `recommend()` over the same model in this process (the baseline: scoring alone);
 *   - GetRecommendations latency p50/p95/p99 with 50 requests in flight from a campaign of the same
 *     version, against one `recommend()` call's median in this process.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CreateBatchInferenceJobCommand,
  CreateCampaignCommand,
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateSchemaCommand,
  CreateSolutionCommand,
  CreateSolutionVersionCommand,
  DescribeBatchInferenceJobCommand,
  DescribeCampaignCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  DescribeSolutionCommand,
  DescribeSolutionVersionCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { GetRecommendationsCommand, PersonalizeRuntimeClient } from '@aws-sdk/client-personalize-runtime';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { readIdentity } from '../src/local/contract.js';
import { modelFile } from '../src/local/services/personalize/trained-models.js';
import { deserializeModel, recommend } from '../src/recommender/index.js';
import { generateSampleData, HETREC_DEFAULTS } from '../src/sampledata/generator.js';
import { interactionsSchema } from '../test/helpers/personalize.js';
import { median, report } from './report.js';
import { builtLocalStack } from './stack.js';

const CONCURRENCY = 50;
const REQUESTS = 2_000;

/** Polls every 25 ms until `check` holds; `what` names the wait if it throws. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  try {
    while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function benchInference(): Promise<void> {
  const { startLocalStack, stopLocalStack } = await builtLocalStack();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlpipe-bench-inference-'));
  const dataDir = path.join(dir, 'local');
  try {
    let ratings = '';
    await generateSampleData(HETREC_DEFAULTS, {
      ratings: (chunk) => void (ratings += chunk),
      movies: () => undefined,
    });
    const users = new Set<string>();
    const csv: string[] = ['USER_ID,ITEM_ID,TIMESTAMP'];
    for (const line of ratings.split('\n').slice(1)) {
      if (line === '') continue;
      const [user, item, , ms] = line.split('\t') as [string, string, string, string];
      users.add(user);
      csv.push(`${user},${item},${Math.floor(Number(ms) / 1000)}`);
    }
    const { info } = await startLocalStack({ dataDir, port: 0, portFallback: false, region: 'us-east-1' });
    const config = { endpoint: info.endpoint, region: 'us-east-1', credentials: readIdentity(dataDir)! };
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    const personalize = new PersonalizeClient(config);
    const runtime = new PersonalizeRuntimeClient(config);
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    await s3.send(
      new PutObjectCommand({ Bucket: 'bench', Key: 'transformed/i.csv', Body: `${csv.join('\n')}\n` }),
    );
    await s3.send(
      new PutObjectCommand({
        Bucket: 'bench',
        Key: 'batch_users_input/users.jsonl',
        Body: [...users].map((u) => `{"userId":"${u}"}\n`).join(''),
      }),
    );
    const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name: 'bench' }));
    await until(
      async () =>
        (await personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn }))).datasetGroup
          ?.status === 'ACTIVE',
      'group',
    );
    const { schemaArn } = await personalize.send(
      new CreateSchemaCommand({ name: 'bench', schema: interactionsSchema() }),
    );
    const { datasetArn } = await personalize.send(
      new CreateDatasetCommand({ name: 'bench', datasetGroupArn, schemaArn, datasetType: 'Interactions' }),
    );
    await until(
      async () =>
        (await personalize.send(new DescribeDatasetCommand({ datasetArn }))).dataset?.status === 'ACTIVE',
      'dataset',
    );
    const { datasetImportJobArn } = await personalize.send(
      new CreateDatasetImportJobCommand({
        jobName: 'bench',
        datasetArn,
        dataSource: { dataLocation: 's3://bench/transformed/' },
        roleArn: 'arn:aws:iam::000000000000:role/bench',
      }),
    );
    await until(async () => {
      const job = await personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn }));
      if (job.datasetImportJob?.status === 'CREATE FAILED')
        throw new Error(job.datasetImportJob.failureReason);
      return job.datasetImportJob?.status === 'ACTIVE';
    }, 'import');
    const { solutionArn } = await personalize.send(
      new CreateSolutionCommand({
        name: 'bench',
        datasetGroupArn,
        recipeArn: 'arn:aws:personalize:::recipe/aws-user-personalization',
      }),
    );
    await until(
      async () =>
        (await personalize.send(new DescribeSolutionCommand({ solutionArn }))).solution?.status === 'ACTIVE',
      'solution',
    );
    const { solutionVersionArn } = await personalize.send(new CreateSolutionVersionCommand({ solutionArn }));
    await until(async () => {
      const v = await personalize.send(new DescribeSolutionVersionCommand({ solutionVersionArn }));
      if (v.solutionVersion?.status === 'CREATE FAILED') throw new Error(v.solutionVersion.failureReason);
      return v.solutionVersion?.status === 'ACTIVE';
    }, 'training');

    // The baseline: the same model, loaded here, every user scored in a plain loop.
    const bytes = await fs.readFile(modelFile(dataDir, solutionVersionArn!));
    const model = deserializeModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const userList = [...users];
    for (const u of userList.slice(0, 50)) recommend(model, { userId: u, numResults: 25 }); // warm-up
    const loopTimes: number[] = [];
    const callTimes: number[] = [];
    for (let run = 0; run < 3; run++) {
      const started = process.hrtime.bigint();
      for (const u of userList) {
        const t = process.hrtime.bigint();
        recommend(model, { userId: u, numResults: 25 });
        if (run === 0) callTimes.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      loopTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const loop = median(loopTimes);

    const jobTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      const { batchInferenceJobArn } = await personalize.send(
        new CreateBatchInferenceJobCommand({
          jobName: `bench-${i}`,
          solutionVersionArn,
          roleArn: 'arn:aws:iam::000000000000:role/bench',
          numResults: 25,
          jobInput: { s3DataSource: { path: 's3://bench/batch_users_input/users.jsonl' } },
          jobOutput: { s3DataDestination: { path: `s3://bench/recommendations/${i}/` } },
        }),
      );
      await until(async () => {
        const job = await personalize.send(new DescribeBatchInferenceJobCommand({ batchInferenceJobArn }));
        if (job.batchInferenceJob?.status === 'CREATE FAILED')
          throw new Error(job.batchInferenceJob.failureReason);
        return job.batchInferenceJob?.status === 'ACTIVE';
      }, 'batch');
      jobTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const job = median(jobTimes);
    report('batch: model loop', {
      users: userList.length,
      median_ms: loop,
      users_s: Math.round(userList.length / (loop / 1000)),
    });
    report('batch: inference job', {
      users: userList.length,
      median_ms: job,
      users_s: Math.round(userList.length / (job / 1000)),
      ratio: job / loop,
      aim: '< 2',
    });

    const { campaignArn } = await personalize.send(
      new CreateCampaignCommand({ name: 'bench', solutionVersionArn, minProvisionedTPS: 1 }),
    );
    await until(
      async () =>
        (await personalize.send(new DescribeCampaignCommand({ campaignArn }))).campaign?.status === 'ACTIVE',
      'campaign',
    );
    for (let i = 0; i < 50; i++)
      await runtime.send(
        new GetRecommendationsCommand({ campaignArn, userId: userList[i]!, numResults: 25 }),
      );
    const latencies: number[] = [];
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < REQUESTS) {
          const user = userList[next++ % userList.length]!;
          const t = process.hrtime.bigint();
          await runtime.send(new GetRecommendationsCommand({ campaignArn, userId: user, numResults: 25 }));
          latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    const wall = Number(process.hrtime.bigint() - started) / 1e6;
    latencies.sort((a, b) => a - b);
    const call = median(callTimes);
    report('recs: recommend() call', { median_ms: call });
    report(`recs: GetRecommendations`, {
      in_flight: CONCURRENCY,
      requests: REQUESTS,
      p50_ms: percentile(latencies, 50),
      p95_ms: percentile(latencies, 95),
      p99_ms: percentile(latencies, 99),
      req_s: Math.round(REQUESTS / (wall / 1000)),
      p50_ratio: percentile(latencies, 50) / call,
    });
    s3.destroy();
    personalize.destroy();
    runtime.destroy();
    await stopLocalStack(dataDir);
  } finally {
    await stopLocalStack(dataDir).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}
