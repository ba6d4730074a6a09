// deploy / stacks / destroy end to end against the local stack, as a user runs them.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { localS3Client, runCli } from '../helpers/cli.js';

const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };

interface DeployJson {
  stacks: Array<{
    key: string;
    stackName: string;
    result: string;
    status: string | null;
    changes: Array<{ action: string; logicalId: string; type: string; replacement: string | null }>;
    outputs: Record<string, string>;
    assets: Array<{ uri: string }>;
  }>;
}

describe('mlpipe deploy, stacks and destroy', () => {
  let dir: string;
  let s3: S3Client;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-deploy-'));
    s3 = await localS3Client(dir, env);
  });
  after(async () => {
    s3.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('reports every stack as not deployed before the first deploy', async () => {
    const result = await runCli(['stacks', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const stacks = (JSON.parse(result.stdout) as { stacks: Array<{ key: string; status: string }> }).stacks;
    assert.deepEqual(
      stacks.map((s) => [s.key, s.status]),
      [
        ['datalake', 'NOT_DEPLOYED'],
        ['etl', 'NOT_DEPLOYED'],
        ['personalize', 'NOT_DEPLOYED'],
      ],
    );
  });

  it('refuses an unknown --parameter and an unknown --stack before changing anything', async () => {
    const parameter = await runCli(['deploy', '--parameter', 'Bogus=1'], { cwd: dir, env });
    assert.equal(parameter.code, 2);
    assert.match(
      parameter.errorText,
      /--parameter Bogus: no template being deployed declares this parameter\./,
    );
    const stack = await runCli(['deploy', '--stack', 'nope'], { cwd: dir, env });
    assert.equal(stack.code, 2);
    assert.match(stack.errorText, /Unknown stack "nope"\./);
    const stacks = JSON.parse((await runCli(['stacks', '--json'], { cwd: dir, env })).stdout) as {
      stacks: Array<{ status: string }>;
    };
    assert.ok(stacks.stacks.every((s) => s.status === 'NOT_DEPLOYED'));
  });

  it('fails with the failing resource and its reason (exit 3) when a resource cannot be created', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'someone-elses-bucket' }));
    const result = await runCli(['deploy', '--parameter', 'BucketName=someone-elses-bucket'], {
      cwd: dir,
      env,
    });
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.errorText,
      /Stack mlpipe-datalake ended ROLLBACK_COMPLETE: DataLakeBucket \(AWS::S3::Bucket\) CREATE_FAILED: /,
    );
    const stacks = JSON.parse((await runCli(['stacks', '--json'], { cwd: dir, env })).stdout) as {
      stacks: Array<{ key: string; status: string }>;
    };
    assert.equal(stacks.stacks.find((s) => s.key === 'datalake')?.status, 'ROLLBACK_COMPLETE');
  });

  it('deploys the data-lake stack (replacing the failed one), then the ETL stack with its assets', async () => {
    const result = await runCli(['deploy', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const [deployed, etl] = (JSON.parse(result.stdout) as DeployJson).stacks;
    assert.ok(deployed !== undefined && etl !== undefined);
    assert.equal(etl.stackName, 'mlpipe-etl');
    assert.equal(etl.result, 'created');
    assert.equal(etl.outputs.JobName, 'mlpipe-interactions-etl');
    assert.ok(etl.assets.some((a) => a.uri === 's3://mlpipe-datalake/glue_scripts/interactions_etl.py'));
    assert.ok(
      etl.assets.some(
        (a) =>
          a.uri === 's3://mlpipe-datalake/glue_scripts/mappings/hetrec2011-user-ratedmovies-timestamps.json',
      ),
    );
    assert.equal(deployed.result, 'created');
    assert.equal(deployed.status, 'CREATE_COMPLETE');
    assert.ok(deployed.changes.some((c) => c.action === 'Add' && c.logicalId === 'DataLakeBucket'));
    assert.equal(deployed.outputs.BucketName, 'mlpipe-datalake');
    assert.match(deployed.outputs.GlueRoleArn ?? '', /^arn:aws:iam::000000000000:role\//);
    await s3.send(new HeadBucketCommand({ Bucket: 'mlpipe-datalake' }));
    const block = await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'mlpipe-datalake' }));
    assert.equal(block.PublicAccessBlockConfiguration?.BlockPublicAcls, true);
    const policy = JSON.parse(
      (await s3.send(new GetBucketPolicyCommand({ Bucket: 'mlpipe-datalake' }))).Policy!,
    ) as {
      Statement: Array<{ Effect: string; Condition?: Record<string, Record<string, unknown>> }>;
    };
    assert.ok(
      policy.Statement.some(
        (s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport'),
      ),
    );
  });

  it('treats a second identical deploy as "no changes"', async () => {
    const result = await runCli(['deploy'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /mlpipe-datalake: no changes to deploy \(CREATE_COMPLETE\)/);
    assert.match(result.stdout, /mlpipe-etl: no changes to deploy \(CREATE_COMPLETE\)/);
  });

  it('updates in place when a prefix changes, and --no-execute only shows the change set', async () => {
    writeFileSync(path.join(dir, 'mlpipe.config.json'), JSON.stringify({ prefixes: { raw: 'incoming/' } }));
    const planned = await runCli(['deploy', '--no-execute', '--json'], { cwd: dir, env });
    assert.equal(planned.code, 0, planned.stderr);
    const plan = (JSON.parse(planned.stdout) as DeployJson).stacks[0]!;
    assert.equal(plan.result, 'change-set-created');
    assert.ok(
      plan.changes.length > 0 && plan.changes.every((c) => c.action === 'Modify' && c.replacement !== 'True'),
    );
    const applied = await runCli(['deploy', '--json'], { cwd: dir, env });
    assert.equal(applied.code, 0, applied.stderr);
    const [update, etlUpdate] = (JSON.parse(applied.stdout) as DeployJson).stacks;
    assert.equal(update?.result, 'updated');
    assert.equal(update?.status, 'UPDATE_COMPLETE');
    assert.equal(update?.outputs.RawPrefix, 'incoming/');
    assert.equal(etlUpdate?.result, 'updated', 'the job now reads from the new raw prefix');
  });

  it('lists the deployed stack with its outputs', async () => {
    const result = await runCli(['stacks'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /datalake\s+mlpipe-datalake\s+UPDATE_COMPLETE/);
    assert.match(result.stdout, /etl\s+mlpipe-etl\s+UPDATE_COMPLETE/);
    assert.match(result.stdout, /BucketName\s+mlpipe-datalake/);
  });

  it('destroys only with confirmation, and keeps the retained bucket', async () => {
    const refused = await runCli(['destroy'], { cwd: dir, env });
    assert.equal(refused.code, 2);
    assert.match(
      refused.errorText,
      /Refusing to delete mlpipe-personalize, mlpipe-etl, mlpipe-datalake without confirmation\./,
    );
    const result = await runCli(['destroy', '--yes', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const stacksDestroyed = (
      JSON.parse(result.stdout) as {
        stacks: Array<{ stackName: string; result: string; retained: Array<{ logicalId: string }> }>;
      }
    ).stacks;
    assert.deepEqual(
      stacksDestroyed.map((s) => [s.stackName, s.result]),
      [
        ['mlpipe-personalize', 'deleted'],
        ['mlpipe-etl', 'deleted'],
        ['mlpipe-datalake', 'deleted'],
      ],
      'reverse dependency order',
    );
    const destroyed = stacksDestroyed[2]!;
    assert.equal(destroyed.result, 'deleted');
    assert.deepEqual(
      destroyed.retained.map((r) => r.logicalId),
      ['DataLakeBucket'],
    );
    await s3.send(new HeadBucketCommand({ Bucket: 'mlpipe-datalake' }));
    const stacks = JSON.parse((await runCli(['stacks', '--json'], { cwd: dir, env })).stdout) as {
      stacks: Array<{ status: string }>;
    };
    assert.ok(stacks.stacks.every((s) => s.status === 'NOT_DEPLOYED'));
  });
});
