// Personalize training in the local stack driven by the AWS CLI (`aws personalize …`), as an
// operator would: recipes, a solution with hyperparameters from a JSON file, a solution version
// trained and its metrics, a stopped version, listing with pagination, errors, delete. Skips
// where `aws` is not installed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SOLUTION_VERSION_JOB_KIND } from '../../src/local/services/personalize/solutions.js';
import { sdkConfig, startTestStack, type TestStack } from '../helpers/local-stack.js';
import { interactionsSchema, sampleInteractionsCsv } from '../helpers/personalize.js';
import { awsCliAvailable, awsCliEnv, awsCliPath } from '../helpers/sdk.js';

const skip = awsCliAvailable() ? false : 'skipped: the aws CLI is not installed (Debian package awscli)';
const RECIPE = 'arn:aws:personalize:::recipe/';
/** The CLI exits 254 (v2) or 255 (v1) when the service answers with an error. */
const SERVICE_ERROR_EXITS = [254, 255];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('local stack Personalize training with the AWS CLI', { skip }, () => {
  let stack: TestStack;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let groupArn: string;

  const aws = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        awsCliPath(),
        ['--endpoint-url', stack.endpoint, '--output', 'json', ...args],
        { env, cwd: work },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  async function ok<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const run = await aws(...args);
    assert.equal(run.code, 0, `aws ${args.join(' ')}: ${run.stderr}`);
    return (run.stdout.trim() === '' ? {} : JSON.parse(run.stdout)) as T;
  }

  async function fails(name: string, ...args: string[]): Promise<string> {
    const run = await aws(...args);
    assert.ok(
      SERVICE_ERROR_EXITS.includes(run.code),
      `aws ${args.join(' ')} exited ${run.code}: ${run.stderr}`,
    );
    assert.match(run.stderr, new RegExp(`An error occurred \\(${name}\\) when calling the `));
    return run.stderr;
  }

  async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 6000; i++) {
      const value = await read();
      if (done(value)) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('did not settle');
  }

  before(async () => {
    stack = await startTestStack();
    work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-training-cli-'));
    env = awsCliEnv(stack, work);
    // The data side is set up in-process (personalize-cli drives it with the CLI).
    const s3 = new S3Client(sdkConfig(stack));
    await s3.send(new CreateBucketCommand({ Bucket: 'cli' }));
    await s3.send(new PutObjectCommand({ Bucket: 'cli', Key: 'i.csv', Body: await sampleInteractionsCsv() }));
    s3.destroy();
    const invoke = (operation: string, input: object) =>
      stack.server.registry.invoke('personalize', operation, input) as Promise<
        Record<string, Record<string, string>>
      >;
    const active = async (operation: string, input: object, member: string): Promise<void> => {
      await until(
        () => invoke(operation, input),
        (r) => r[member]!.status === 'ACTIVE',
      );
    };
    groupArn = (await invoke('CreateDatasetGroup', { name: 'cli-training' })).datasetGroupArn as never;
    const schemaArn = (await invoke('CreateSchema', { name: 'cli-i', schema: interactionsSchema() }))
      .schemaArn;
    await active('DescribeDatasetGroup', { datasetGroupArn: groupArn }, 'datasetGroup');
    const datasetArn = (
      await invoke('CreateDataset', {
        name: 'cli-i',
        datasetGroupArn: groupArn,
        datasetType: 'Interactions',
        schemaArn,
      })
    ).datasetArn;
    await active('DescribeDataset', { datasetArn }, 'dataset');
    const job = (
      await invoke('CreateDatasetImportJob', {
        jobName: 'cli-i',
        datasetArn,
        dataSource: { dataLocation: 's3://cli/i.csv' },
      })
    ).datasetImportJobArn;
    await active('DescribeDatasetImportJob', { datasetImportJobArn: job }, 'datasetImportJob');
  });

  after(async () => {
    await stack?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('lists and describes recipes', async () => {
    const listed = await ok<{ recipes: { name: string }[] }>('personalize', 'list-recipes');
    assert.deepEqual(
      listed.recipes.map((r) => r.name),
      ['aws-user-personalization', 'aws-popularity-count', 'aws-similar-items'],
    );
    const described = await ok<{ recipe: { recipeType: string; status: string } }>(
      'personalize',
      'describe-recipe',
      '--recipe-arn',
      `${RECIPE}aws-user-personalization`,
    );
    assert.deepEqual(
      [described.recipe.recipeType, described.recipe.status],
      ['USER_PERSONALIZATION', 'ACTIVE'],
    );
    const refused = await fails(
      'ResourceNotFoundException',
      'personalize',
      'describe-recipe',
      '--recipe-arn',
      `${RECIPE}aws-sims`,
    );
    assert.match(refused, /not offered by the local stack; it offers aws-user-personalization/);
  });

  it('creates a solution, trains a version, reads its metrics, stops one, lists and deletes', async () => {
    const config = path.join(work, 'config.json');
    await writeFile(
      config,
      JSON.stringify({
        algorithmHyperParameters: { hidden_dimension: '32', training_iterations: '2', neighbours: '20' },
      }),
    );
    const { solutionArn } = await ok<{ solutionArn: string }>(
      'personalize',
      'create-solution',
      '--name',
      'cli-personalized',
      '--dataset-group-arn',
      groupArn,
      '--recipe-arn',
      `${RECIPE}aws-user-personalization`,
      '--no-perform-auto-training',
      '--solution-config',
      `file://${config}`,
    );
    assert.match(solutionArn, /:solution\/cli-personalized$/);
    await fails(
      'InvalidInputException',
      'personalize',
      'create-solution',
      '--name',
      'cli-auto',
      '--dataset-group-arn',
      groupArn,
      '--recipe-arn',
      `${RECIPE}aws-user-personalization`,
      '--perform-auto-training',
    );
    await until(
      () =>
        ok<{ solution: { status: string } }>(
          'personalize',
          'describe-solution',
          '--solution-arn',
          solutionArn,
        ),
      (r) => r.solution.status === 'ACTIVE',
    );
    const { solutionVersionArn } = await ok<{ solutionVersionArn: string }>(
      'personalize',
      'create-solution-version',
      '--solution-arn',
      solutionArn,
      '--training-mode',
      'FULL',
    );
    const trained = await until(
      () =>
        ok<{ solutionVersion: { status: string; trainingHours: number; failureReason?: string } }>(
          'personalize',
          'describe-solution-version',
          '--solution-version-arn',
          solutionVersionArn,
        ),
      (r) => ['ACTIVE', 'CREATE FAILED'].includes(r.solutionVersion.status),
    );
    assert.equal(trained.solutionVersion.status, 'ACTIVE', trained.solutionVersion.failureReason);
    assert.ok(trained.solutionVersion.trainingHours > 0);
    const metrics = await ok<{ metrics: Record<string, number> }>(
      'personalize',
      'get-solution-metrics',
      '--solution-version-arn',
      solutionVersionArn,
    );
    assert.ok(metrics.metrics.normalized_discounted_cumulative_gain_at_10! > 0);

    const hold = stack.server.jobs.hold(SOLUTION_VERSION_JOB_KIND);
    try {
      const held = await ok<{ solutionVersionArn: string }>(
        'personalize',
        'create-solution-version',
        '--solution-arn',
        solutionArn,
      );
      await fails('ResourceInUseException', 'personalize', 'delete-solution', '--solution-arn', solutionArn);
      await ok(
        'personalize',
        'stop-solution-version-creation',
        '--solution-version-arn',
        held.solutionVersionArn,
      );
      const stopped = await until(
        () =>
          ok<{ solutionVersion: { status: string } }>(
            'personalize',
            'describe-solution-version',
            '--solution-version-arn',
            held.solutionVersionArn,
          ),
        (r) => r.solutionVersion.status === 'CREATE STOPPED',
      );
      assert.equal(stopped.solutionVersion.status, 'CREATE STOPPED');
    } finally {
      hold.release();
    }

    // --page-size 1: the CLI follows nextToken through the service's pages and merges them.
    const versions = await ok<{ solutionVersions: { status: string }[] }>(
      'personalize',
      'list-solution-versions',
      '--solution-arn',
      solutionArn,
      '--page-size',
      '1',
    );
    assert.deepEqual(
      versions.solutionVersions.map((v) => v.status),
      ['CREATE STOPPED', 'ACTIVE'],
    );
    const solutions = await ok<{ solutions: { name: string }[] }>(
      'personalize',
      'list-solutions',
      '--dataset-group-arn',
      groupArn,
    );
    assert.deepEqual(
      solutions.solutions.map((s) => s.name),
      ['cli-personalized'],
    );
    await ok('personalize', 'delete-solution', '--solution-arn', solutionArn);
    await fails(
      'ResourceNotFoundException',
      'personalize',
      'describe-solution',
      '--solution-arn',
      solutionArn,
    );
  });
});
