// The aws target's code path (SDK default credential chain, --endpoint-url, "deploy first"), exercised
// without internet by pointing it at a local stack the way one would point it at any S3-compatible endpoint.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { runCli } from '../helpers/cli.js';

const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };

/**
 * A project with sample data whose aws target is a local stack: the SDK's default chain gets the
 * stack's credentials and endpoint from the environment, as it would get AWS's.
 */
async function awsProject(prefix: string): Promise<{ dir: string; awsEnv: Record<string, string> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const generated = await runCli(['sample-data', '--users', '100', '--items', '300', '--ratings', '3000'], {
    cwd: dir,
    env,
  });
  assert.equal(generated.code, 0, generated.stderr);
  const local = JSON.parse((await runCli(['local', 'env', '--json'], { cwd: dir, env })).stdout) as Record<
    string,
    string
  >;
  return {
    dir,
    awsEnv: {
      ...env,
      AWS_ACCESS_KEY_ID: local.AWS_ACCESS_KEY_ID!,
      AWS_SECRET_ACCESS_KEY: local.AWS_SECRET_ACCESS_KEY!,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: local.AWS_ENDPOINT_URL!,
      AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
    },
  };
}

describe('--target aws', () => {
  let dir: string;
  let awsEnv: Record<string, string>;
  before(async () => {
    ({ dir, awsEnv } = await awsProject('mlpipe-aws-'));
  });
  after(async () => {
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('tells the user to deploy first when the bucket does not exist, and creates nothing', async () => {
    const result = await runCli(['upload-raw', '--target', 'aws'], { cwd: dir, env: awsEnv });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /target: aws \(region us-east-1, endpoint http:\/\/127\.0\.0\.1:\d+\)/);
    assert.match(result.errorText, /Bucket mlpipe-datalake does not exist on AWS\./);
    assert.match(result.errorText, /Run `mlpipe deploy` first/);
  });

  it('uploads through the SDK default credential chain once the bucket exists', async () => {
    const s3 = new S3Client({
      endpoint: awsEnv.AWS_ENDPOINT_URL,
      region: 'us-east-1',
      credentials: { accessKeyId: awsEnv.AWS_ACCESS_KEY_ID!, secretAccessKey: awsEnv.AWS_SECRET_ACCESS_KEY! },
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'mlpipe-datalake' }));
    const result = await runCli(['upload-raw', '--target', 'aws', '--json'], { cwd: dir, env: awsEnv });
    assert.equal(result.code, 0, result.stderr);
    const upload = JSON.parse(result.stdout) as { stackDeployed: boolean; interactions: { key: string } };
    assert.equal(upload.stackDeployed, false, 'never deploys on its own on the aws target');
    const object = await s3.send(
      new GetObjectCommand({ Bucket: 'mlpipe-datalake', Key: upload.interactions.key }),
    );
    assert.match(await object.Body!.transformToString(), /^userID\tmovieID\trating\ttimestamp\n/);
    s3.destroy();
  });

  it('reports bad credentials as the AWS error with a hint', async () => {
    const result = await runCli(['upload-raw', '--target', 'aws'], {
      cwd: dir,
      env: { ...awsEnv, AWS_SECRET_ACCESS_KEY: 'wrong' },
    });
    assert.equal(result.code, 1);
    assert.match(result.errorText, /Describing stack mlpipe-datalake failed: SignatureDoesNotMatch: /);
    assert.match(result.errorText, /The endpoint refused the credentials\./);
  });
});

describe('--target aws: deploy, ETL and import through the same code path', () => {
  let dir: string;
  let awsEnv: Record<string, string>;
  const aws = (args: string[]): ReturnType<typeof runCli> =>
    runCli([...args, '--target', 'aws'], { cwd: dir, env: awsEnv });
  before(async () => {
    ({ dir, awsEnv } = await awsProject('mlpipe-aws-pipeline-'));
  });
  after(async () => {
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('says to deploy the Personalize stack before importing', async () => {
    const result = await aws(['import']);
    assert.equal(result.code, 1);
    assert.match(result.errorText, /Stack mlpipe-personalize is not deployed\./);
    assert.match(result.errorText, /Run `mlpipe deploy --stack personalize`\./);
  });

  it('deploys every stack, runs the ETL and imports interactions and items', async () => {
    const deployed = await aws(['deploy', '--yes']);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(deployed.stdout, /mlpipe-personalize: created \(CREATE_COMPLETE\)/);
    for (const step of [['upload-raw'], ['run-etl']]) {
      const result = await aws(step);
      assert.equal(result.code, 0, `${step.join(' ')}: ${result.stderr}`);
    }
    const imported = await aws(['import', '--json']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stderr, /target: aws \(region us-east-1, endpoint http:\/\/127\.0\.0\.1:\d+\)/);
    assert.equal((JSON.parse(imported.stdout) as { job: { status: string } }).job.status, 'ACTIVE');
    const items = await aws(['import', '--dataset', 'items', '--json']);
    assert.equal(items.code, 0, items.stderr);
    assert.equal((JSON.parse(items.stdout) as { items: { rows: number } }).items.rows, 300);
    const listed = await aws(['datasets', '--json']);
    const groups = (
      JSON.parse(listed.stdout) as {
        datasetGroups: Array<{ datasets: Array<{ type: string; latestImport: { status: string } }> }>;
      }
    ).datasetGroups;
    assert.deepEqual(
      groups[0]!.datasets.map((d) => [d.type, d.latestImport.status]),
      [
        ['INTERACTIONS', 'ACTIVE'],
        ['ITEMS', 'ACTIVE'],
      ],
    );
  });
});
