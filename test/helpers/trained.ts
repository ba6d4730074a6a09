/**
 * Trained Personalize solution versions in a test stack, through the real SDK clients: a bucket,
 * a dataset group with the sample interactions imported, and one ACTIVE solution version per
 * recipe asked for (hyperparameters that keep training quick on a busy machine). For the batch
 * inference, campaign and runtime tests and benchmarks.
 */
import assert from 'node:assert/strict';
import {
  CreateDatasetCommand,
  CreateDatasetGroupCommand,
  CreateDatasetImportJobCommand,
  CreateSchemaCommand,
  CreateSolutionCommand,
  CreateSolutionVersionCommand,
  DescribeDatasetCommand,
  DescribeDatasetGroupCommand,
  DescribeDatasetImportJobCommand,
  DescribeSolutionCommand,
  DescribeSolutionVersionCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { sdkConfig, type TestStack } from './local-stack.js';
import { interactionsSchema, sampleInteractionsCsv } from './personalize.js';

export type TrainedRecipe = 'aws-user-personalization' | 'aws-popularity-count' | 'aws-similar-items';

const QUICK: Record<TrainedRecipe, Record<string, string>> = {
  'aws-user-personalization': { hidden_dimension: '32', training_iterations: '2', neighbours: '20' },
  'aws-popularity-count': {},
  'aws-similar-items': { neighbours: '20' },
};

/**
 * Polls `read` until `done` (a status change the service makes), yielding between reads; `tick`
 * (e.g. advancing a ManualClock) runs between reads too.
 */
export async function until<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  tick?: () => Promise<void>,
): Promise<T> {
  for (let i = 0; i < 60_000; i++) {
    const value = await read();
    if (done(value)) return value;
    if (tick !== undefined) await tick();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`${what} did not happen`);
}

export interface Trained {
  bucket: string;
  groupArn: string;
  /** The interactions CSV imported (USER_ID,ITEM_ID,TIMESTAMP). */
  csv: string;
  /** ACTIVE solution version ARN per recipe. */
  versions: Partial<Record<TrainedRecipe, string>>;
  /** Solution ARN per recipe. */
  solutions: Partial<Record<TrainedRecipe, string>>;
}

export async function trainSolutionVersions(
  stack: TestStack,
  recipes: readonly TrainedRecipe[],
  options: {
    bucket?: string;
    name?: string;
    data?: { users: number; items: number; ratings: number };
    /** Moves the stack's clock between polls (a ManualClock stack). */
    tick?: () => Promise<void>;
  } = {},
): Promise<Trained> {
  const tick = options.tick;
  const bucket = options.bucket ?? 'lake';
  const name = options.name ?? 'recs';
  const personalize = new PersonalizeClient(sdkConfig(stack));
  const s3 = new S3Client(sdkConfig(stack));
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const csv = await sampleInteractionsCsv(options.data);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${name}/interactions.csv`, Body: csv }));
    const { datasetGroupArn } = await personalize.send(new CreateDatasetGroupCommand({ name }));
    await until(
      () => personalize.send(new DescribeDatasetGroupCommand({ datasetGroupArn })),
      (r) => r.datasetGroup?.status === 'ACTIVE',
      'dataset group ACTIVE',
      tick,
    );
    const { schemaArn } = await personalize.send(
      new CreateSchemaCommand({ name: `${name}-interactions`, schema: interactionsSchema() }),
    );
    const { datasetArn } = await personalize.send(
      new CreateDatasetCommand({
        name: `${name}-interactions`,
        datasetGroupArn,
        datasetType: 'Interactions',
        schemaArn,
      }),
    );
    await until(
      () => personalize.send(new DescribeDatasetCommand({ datasetArn })),
      (r) => r.dataset?.status === 'ACTIVE',
      'dataset ACTIVE',
      tick,
    );
    const { datasetImportJobArn } = await personalize.send(
      new CreateDatasetImportJobCommand({
        jobName: `${name}-import`,
        datasetArn,
        dataSource: { dataLocation: `s3://${bucket}/${name}/interactions.csv` },
        roleArn: 'arn:aws:iam::000000000000:role/personalize',
      }),
    );
    const imported = await until(
      () => personalize.send(new DescribeDatasetImportJobCommand({ datasetImportJobArn })),
      (r) => ['ACTIVE', 'CREATE FAILED'].includes(r.datasetImportJob?.status ?? ''),
      'import',
      tick,
    );
    assert.equal(imported.datasetImportJob?.status, 'ACTIVE', imported.datasetImportJob?.failureReason);
    const trained: Trained = { bucket, groupArn: datasetGroupArn!, csv, versions: {}, solutions: {} };
    for (const recipe of recipes) {
      const { solutionArn } = await personalize.send(
        new CreateSolutionCommand({
          name: `${name}-${recipe}`,
          datasetGroupArn,
          recipeArn: `arn:aws:personalize:::recipe/${recipe}`,
          ...(Object.keys(QUICK[recipe]).length === 0
            ? {}
            : { solutionConfig: { algorithmHyperParameters: QUICK[recipe] } }),
        }),
      );
      await until(
        () => personalize.send(new DescribeSolutionCommand({ solutionArn })),
        (r) => r.solution?.status === 'ACTIVE',
        'solution ACTIVE',
        tick,
      );
      const { solutionVersionArn } = await personalize.send(
        new CreateSolutionVersionCommand({ solutionArn }),
      );
      const version = await until(
        () => personalize.send(new DescribeSolutionVersionCommand({ solutionVersionArn })),
        (r) => ['ACTIVE', 'CREATE FAILED'].includes(r.solutionVersion?.status ?? ''),
        `${recipe} training`,
        tick,
      );
      assert.equal(version.solutionVersion?.status, 'ACTIVE', version.solutionVersion?.failureReason);
      trained.versions[recipe] = solutionVersionArn!;
      trained.solutions[recipe] = solutionArn!;
    }
    return trained;
  } finally {
    personalize.destroy();
    s3.destroy();
  }
}
