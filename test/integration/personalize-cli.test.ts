// Personalize in the local stack driven by the AWS CLI (`aws personalize …`, `aws s3 cp`), as an
// operator would: create, describe, list and paginate, import from local S3, and the CLI's error
// exits. Skips where `aws` is not installed.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestStack, type TestStack } from '../helpers/local-stack.js';
import { awsCliAvailable, awsCliEnv, awsCliPath } from '../helpers/sdk.js';
import { interactionsSchema } from '../helpers/personalize.js';

const skip = awsCliAvailable() ? false : 'skipped: the aws CLI is not installed (Debian package awscli)';
const T0 = 1_100_000_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI exits 254 (v2) or 255 (v1) when the service answers with an error. */
const SERVICE_ERROR_EXITS = [254, 255];

describe('local stack Personalize with the AWS CLI', { skip }, () => {
  let stack: TestStack;
  let work: string;
  let env: NodeJS.ProcessEnv;

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

  /** Runs a command that must succeed and returns its JSON output ({} when it prints nothing). */
  async function ok<T = Record<string, unknown>>(...args: string[]): Promise<T> {
    const run = await aws(...args);
    assert.equal(run.code, 0, `aws ${args.join(' ')}: ${run.stderr}`);
    return (run.stdout.trim() === '' ? {} : JSON.parse(run.stdout)) as T;
  }

  /** Runs a command that must fail with the service error `name`; returns stderr. */
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
    for (let i = 0; i < 60; i++) {
      const value = await read();
      if (done(value)) return value;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail('did not settle');
  }

  before(async () => {
    stack = await startTestStack();
    work = await mkdtemp(path.join(os.tmpdir(), 'mlpipe-personalize-cli-'));
    env = awsCliEnv(stack, work);
  });

  after(async () => {
    await stack?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('creates a dataset group, schema and dataset, imports from S3 and lists with pagination', async () => {
    const group = await ok<{ datasetGroupArn: string }>(
      'personalize',
      'create-dataset-group',
      '--name',
      'cli-movies',
    );
    assert.match(group.datasetGroupArn, /^arn:aws:personalize:us-east-1:\d{12}:dataset-group\/cli-movies$/);
    const described = await until(
      () =>
        ok<{ datasetGroup: { status: string; creationDateTime: string | number } }>(
          'personalize',
          'describe-dataset-group',
          '--dataset-group-arn',
          group.datasetGroupArn,
        ),
      (v) => v.datasetGroup.status === 'ACTIVE',
    );
    // botocore parsed the epoch-seconds timestamp; CLI v1 prints it back as epoch seconds, v2 as ISO 8601.
    const created = described.datasetGroup.creationDateTime;
    const createdMs = typeof created === 'number' ? created * 1000 : Date.parse(created);
    assert.ok(Math.abs(createdMs - Date.now()) < 60_000, `creationDateTime ${created}`);
    for (const name of ['cli-a', 'cli-b']) await ok('personalize', 'create-dataset-group', '--name', name);
    await fails(
      'ResourceAlreadyExistsException',
      'personalize',
      'create-dataset-group',
      '--name',
      'cli-movies',
    );

    // --max-items: one item and a CLI NextToken; --starting-token continues from it.
    const firstPage = await ok<{ datasetGroups: { name: string }[]; NextToken: string }>(
      'personalize',
      'list-dataset-groups',
      '--max-items',
      '1',
    );
    assert.deepEqual(
      firstPage.datasetGroups.map((g) => g.name),
      ['cli-b'],
    );
    assert.ok(firstPage.NextToken);
    const secondPage = await ok<{ datasetGroups: { name: string }[]; NextToken?: string }>(
      'personalize',
      'list-dataset-groups',
      '--max-items',
      '5',
      '--starting-token',
      firstPage.NextToken,
    );
    assert.deepEqual(
      secondPage.datasetGroups.map((g) => g.name),
      ['cli-a', 'cli-movies'],
    );
    assert.equal(secondPage.NextToken, undefined);
    // --page-size 1: the CLI follows nextToken through three service pages and merges them.
    const merged = await ok<{ datasetGroups: { name: string }[] }>(
      'personalize',
      'list-dataset-groups',
      '--page-size',
      '1',
    );
    assert.deepEqual(
      merged.datasetGroups.map((g) => g.name),
      ['cli-b', 'cli-a', 'cli-movies'],
    );

    const schemaFile = path.join(work, 'interactions.avsc');
    await writeFile(schemaFile, interactionsSchema());
    const { schemaArn } = await ok<{ schemaArn: string }>(
      'personalize',
      'create-schema',
      '--name',
      'cli-interactions',
      '--schema',
      `file://${schemaFile}`,
    );
    const badSchema = await fails(
      'InvalidInputException',
      'personalize',
      'create-schema',
      '--name',
      'cli-bad',
      '--schema',
      '{"type":"enum"}',
    );
    assert.match(badSchema, /type "record"/);
    const { datasetArn } = await ok<{ datasetArn: string }>(
      'personalize',
      'create-dataset',
      '--name',
      'cli-interactions',
      '--dataset-group-arn',
      group.datasetGroupArn,
      '--dataset-type',
      'Interactions',
      '--schema-arn',
      schemaArn,
    );
    await until(
      () =>
        ok<{ dataset: { status: string } }>('personalize', 'describe-dataset', '--dataset-arn', datasetArn),
      (v) => v.dataset.status === 'ACTIVE',
    );

    const lines = ['USER_ID,ITEM_ID,TIMESTAMP'];
    for (let i = 0; i < 1100; i++) lines.push(`u${i % 40},i${i % 300},${T0 + i}`);
    const csv = path.join(work, 'interactions.csv');
    await writeFile(csv, lines.join('\n') + '\n');
    const made = await aws('s3', 'mb', 's3://cli-lake');
    assert.equal(made.code, 0, made.stderr);
    const copied = await aws('s3', 'cp', csv, 's3://cli-lake/imports/interactions.csv');
    assert.equal(copied.code, 0, copied.stderr);

    const { datasetImportJobArn } = await ok<{ datasetImportJobArn: string }>(
      'personalize',
      'create-dataset-import-job',
      '--job-name',
      'cli-import',
      '--dataset-arn',
      datasetArn,
      '--data-source',
      'dataLocation=s3://cli-lake/imports/',
      '--role-arn',
      'arn:aws:iam::000000000000:role/personalize',
      '--import-mode',
      'FULL',
    );
    const job = await until(
      () =>
        ok<{ datasetImportJob: { status: string; failureReason?: string; dataSource: object } }>(
          'personalize',
          'describe-dataset-import-job',
          '--dataset-import-job-arn',
          datasetImportJobArn,
        ),
      (v) => v.datasetImportJob.status === 'ACTIVE' || v.datasetImportJob.status === 'CREATE FAILED',
    );
    assert.equal(job.datasetImportJob.status, 'ACTIVE', job.datasetImportJob.failureReason);
    assert.deepEqual(job.datasetImportJob.dataSource, { dataLocation: 's3://cli-lake/imports/' });

    await fails(
      'ResourceAlreadyExistsException',
      'personalize',
      'create-dataset-import-job',
      '--job-name',
      'cli-import',
      '--dataset-arn',
      datasetArn,
      '--data-source',
      'dataLocation=s3://cli-lake/imports/',
    );
    const jobs = await ok<{ datasetImportJobs: { jobName: string; status: string; importMode: string }[] }>(
      'personalize',
      'list-dataset-import-jobs',
      '--dataset-arn',
      datasetArn,
    );
    assert.deepEqual(jobs.datasetImportJobs, [
      { ...jobs.datasetImportJobs[0]!, jobName: 'cli-import', status: 'ACTIVE', importMode: 'FULL' },
    ]);
    const datasets = await ok<{ datasets: { datasetType: string }[] }>(
      'personalize',
      'list-datasets',
      '--dataset-group-arn',
      group.datasetGroupArn,
    );
    assert.deepEqual(
      datasets.datasets.map((d) => d.datasetType),
      ['INTERACTIONS'],
    );
    await fails(
      'ResourceInUseException',
      'personalize',
      'delete-dataset-group',
      '--dataset-group-arn',
      group.datasetGroupArn,
    );
  });

  it('exits with the service error name for missing resources and bad input', async () => {
    const missing = await fails(
      'ResourceNotFoundException',
      'personalize',
      'describe-dataset-group',
      '--dataset-group-arn',
      'arn:aws:personalize:us-east-1:000000000000:dataset-group/nope',
    );
    assert.match(missing, /Could not find resource with ARN .*dataset-group\/nope/);
    await fails(
      'ResourceNotFoundException',
      'personalize',
      'describe-dataset-import-job',
      '--dataset-import-job-arn',
      'arn:aws:personalize:us-east-1:000000000000:dataset-import-job/nope',
    );
    await fails('InvalidNextTokenException', 'personalize', 'list-schemas', '--next-token', 'not-a-token!');
    // botocore checks no max length or pattern client-side: the service refuses the name.
    const tooLong = await fails(
      'InvalidInputException',
      'personalize',
      'create-dataset-group',
      '--name',
      'x'.repeat(64),
    );
    assert.match(tooLong, /length between 1 and 63/);
  });
});
