// deploy / stacks / destroy end to end against the local stack, as a user runs them.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { localS3Client, runCli, runCliInPty, screenLines } from '../helpers/cli.js';

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
    adoptedBucket: string | null;
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
        ['pipeline', 'NOT_DEPLOYED'],
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
      /Refusing to delete mlpipe-pipeline, mlpipe-personalize, mlpipe-etl, mlpipe-datalake without confirmation\./,
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
        ['mlpipe-pipeline', 'deleted'],
        ['mlpipe-personalize', 'deleted'],
        ['mlpipe-etl', 'deleted'],
        ['mlpipe-datalake', 'deleted'],
      ],
      'reverse dependency order',
    );
    const destroyed = stacksDestroyed[3]!;
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

  it('after destroy, says the kept bucket blocks the deploy and what to do', async () => {
    const result = await runCli(['deploy', '--yes'], { cwd: dir, env });
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.errorText,
      /The bucket mlpipe-datalake already exists \(\d+ objects?\), so the stack cannot create it; `mlpipe destroy` keeps the data-lake bucket/,
    );
    assert.match(result.errorText, /`mlpipe deploy --delete-kept-bucket`/);
    assert.match(result.errorText, /set "bucket" in mlpipe\.config\.json/);
    assert.match(
      result.errorText,
      /Adopt it into the stack with its \d+ objects? \(a CloudFormation resource import\), then deploy: `mlpipe deploy --adopt-kept-bucket`/,
    );
    assert.ok(
      result.errorText.indexOf('--adopt-kept-bucket') < result.errorText.indexOf('--delete-kept-bucket'),
      'adopting is suggested first',
    );
    const stacks = JSON.parse((await runCli(['stacks', '--json'], { cwd: dir, env })).stdout) as {
      stacks: Array<{ key: string; status: string }>;
    };
    assert.deepEqual(
      stacks.stacks.map((s) => s.status),
      ['ROLLBACK_COMPLETE', 'NOT_DEPLOYED', 'NOT_DEPLOYED', 'NOT_DEPLOYED'],
      'the later stacks were not tried',
    );
  });

  it('stops with exit 130 on Ctrl-C at the kept-bucket question, changing nothing', async () => {
    const result = await runCliInPty(['deploy'], {
      cwd: dir,
      env: { MLPIPE_LOCAL_PORT: '0' },
      steps: [
        { expect: 'Deploy these changes to mlpipe-datalake\\?', send: 'y\r' },
        { expect: 'What should deploy do\\?[\\s\\S]*Stop', send: '\u0003' },
      ],
    });
    assert.equal(result.code, 130, result.text);
    assert.match(result.text, /Error: Interrupted\./);
    assert.doesNotMatch(result.text, /ExitPromptError|Deploying stack .* failed/);
    await s3.send(new HeadBucketCommand({ Bucket: 'mlpipe-datalake' })); // the kept bucket is untouched
  });

  it('on a terminal offers another bucket name, saves it in the config file and deploys with it', async () => {
    const result = await runCliInPty(['deploy'], {
      cwd: dir,
      env: { MLPIPE_LOCAL_PORT: '0' },
      steps: [
        { expect: 'Deploy these changes to mlpipe-datalake\\?', send: 'y\r' },
        // Adopting comes first; one down is another bucket name.
        { expect: 'What should deploy do\\?[\\s\\S]*Stop', send: `${String.fromCharCode(27)}[B\r` },
        { expect: 'Bucket name', send: '\r' },
        { expect: 'Deploy these changes to mlpipe-datalake\\?', send: 'y\r' },
        { expect: 'Deploy these changes to mlpipe-etl\\?', send: 'y\r' },
        { expect: 'Deploy these changes to mlpipe-personalize\\?', send: 'y\r' },
        { expect: 'Deploy these changes to mlpipe-pipeline\\?', send: 'y\r' },
      ],
    });
    assert.equal(result.code, 0, result.text);
    assert.match(
      result.text,
      /Adopt mlpipe-datalake with its \d+ objects? \(CloudFormation resource import\)[^]*Use another bucket name[^]*Delete mlpipe-datalake and its[^]*Stop/,
      'the choices, adopting first',
    );
    const config = JSON.parse(readFileSync(path.join(dir, 'mlpipe.config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.deepEqual(
      config,
      { prefixes: { raw: 'incoming/' }, bucket: 'mlpipe-datalake-2' },
      'other keys kept',
    );
    const stacks = JSON.parse((await runCli(['stacks', '--json'], { cwd: dir, env })).stdout) as {
      stacks: Array<{ key: string; outputs: Record<string, string> }>;
    };
    assert.equal(stacks.stacks.find((s) => s.key === 'datalake')?.outputs.BucketName, 'mlpipe-datalake-2');
    await s3.send(new HeadBucketCommand({ Bucket: 'mlpipe-datalake' })); // the kept bucket is untouched
  });

  it('with --delete-kept-bucket deletes the kept bucket and its objects, then deploys', async () => {
    const destroyed = await runCli(['destroy', '--yes'], { cwd: dir, env });
    assert.equal(destroyed.code, 0, destroyed.stderr);
    await s3.send(new PutObjectCommand({ Bucket: 'mlpipe-datalake-2', Key: 'raw/old.dat', Body: 'x' }));
    const result = await runCli(['deploy', '--yes', '--delete-kept-bucket', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as DeployJson).stacks[0]?.result, 'created');
    await assert.rejects(
      s3.send(new HeadObjectCommand({ Bucket: 'mlpipe-datalake-2', Key: 'raw/old.dat' })),
      /NotFound/,
    );
  });

  it('refuses --adopt-kept-bucket with --delete-kept-bucket', async () => {
    const result = await runCli(['deploy', '--adopt-kept-bucket', '--delete-kept-bucket'], { cwd: dir, env });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /--adopt-kept-bucket=true cannot also be provided when using\s+(›\s+)?--delete-kept-bucket/,
    );
  });

  it('with --adopt-kept-bucket adopts the kept bucket with its objects (a resource import), then deploys', async () => {
    const destroyed = await runCli(['destroy', '--yes'], { cwd: dir, env });
    assert.equal(destroyed.code, 0, destroyed.stderr);
    const keys = ['raw/ratings.dat', 'transformed/interactions.csv', 'recommendations/users.json.out'];
    for (const key of keys)
      await s3.send(new PutObjectCommand({ Bucket: 'mlpipe-datalake-2', Key: key, Body: `kept ${key}` }));
    const result = await runCli(['deploy', '--yes', '--adopt-kept-bucket', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const stacks = (JSON.parse(result.stdout) as DeployJson).stacks;
    assert.deepEqual(
      stacks.map((s) => [s.stackName, s.result, s.status, s.adoptedBucket]),
      [
        ['mlpipe-datalake', 'updated', 'UPDATE_COMPLETE', 'mlpipe-datalake-2'],
        ['mlpipe-etl', 'created', 'CREATE_COMPLETE', null],
        ['mlpipe-personalize', 'created', 'CREATE_COMPLETE', null],
        ['mlpipe-pipeline', 'created', 'CREATE_COMPLETE', null],
      ],
    );
    assert.ok(
      stacks[0]!.changes.every((c) => c.logicalId !== 'DataLakeBucket'),
      'the update leaves the adopted bucket as it is',
    );
    for (const key of keys) {
      const object = await s3.send(new HeadObjectCommand({ Bucket: 'mlpipe-datalake-2', Key: key }));
      assert.equal(object.ContentLength, `kept ${key}`.length, `${key} is still in the bucket`);
    }
    const listed = JSON.parse((await runCli(['stacks', '--json'], { cwd: dir, env })).stdout) as {
      stacks: Array<{ key: string; status: string; outputs: Record<string, string> }>;
    };
    assert.ok(
      listed.stacks.every((s) => /^[A-Z_]+_COMPLETE$/.test(s.status) && !/ROLLBACK/.test(s.status)),
      JSON.stringify(listed.stacks.map((s) => s.status)),
    );
    assert.equal(listed.stacks.find((s) => s.key === 'datalake')?.outputs.BucketName, 'mlpipe-datalake-2');
    const shown = await runCli(['stacks'], { cwd: dir, env });
    assert.match(shown.stdout, /BucketName\s+mlpipe-datalake-2/);
  });

  it('on a terminal adopts the kept bucket as the first choice, with progress lines that fit 80 columns', async () => {
    const destroyed = await runCli(['destroy', '--yes'], { cwd: dir, env });
    assert.equal(destroyed.code, 0, destroyed.stderr);
    const result = await runCliInPty(['deploy'], {
      cwd: dir,
      env: { MLPIPE_LOCAL_PORT: '0' },
      cols: 80,
      steps: [
        { expect: 'Deploy these changes to mlpipe-datalake\\?', send: 'y\r' },
        { expect: 'What should deploy do\\?[\\s\\S]*Stop', send: '\r' },
        { expect: 'Deploy these changes to mlpipe-datalake\\?', send: 'y\r' },
        { expect: 'Deploy these changes to mlpipe-etl\\?', send: 'y\r' },
        { expect: 'Deploy these changes to mlpipe-personalize\\?', send: 'y\r' },
        { expect: 'Deploy these changes to mlpipe-pipeline\\?', send: 'y\r' },
      ],
    });
    assert.equal(result.code, 0, result.text);
    assert.match(
      result.text,
      /Adopting mlpipe-datalake-2 \(\d+ objects?\) into mlpipe-datalake as DataLakeBucket/,
    );
    assert.match(
      result.text,
      /Change set for mlpipe-datalake \(resource import\):\n[^]*Import\s+DataLakeBucket/,
    );
    // At 80 columns the resource type is left out: time, status, logical id.
    assert.match(result.text, /IMPORT_COMPLETE\s+DataLakeBucket/);
    assert.match(result.text, /mlpipe-datalake: IMPORT_COMPLETE \(/);
    assert.match(
      result.text,
      /mlpipe-datalake: adopted bucket mlpipe-datalake-2, updated \(UPDATE_COMPLETE\)/,
    );
    const progress = screenLines(result.output).filter(
      (line) => /IMPORT_|Adopting|resource import/.test(line) && !line.includes('What should'),
    );
    assert.ok(progress.length >= 4, result.text);
    for (const line of progress) assert.ok([...line].length <= 80, `fits 80 columns: ${line}`);
    await s3.send(new HeadObjectCommand({ Bucket: 'mlpipe-datalake-2', Key: 'raw/ratings.dat' }));
  });
});

describe('two deploys at once', () => {
  it('says in words that another deploy is running, never a raw CloudFormation error', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-deploy-twice-'));
    try {
      const started = await runCli(['local', 'start'], { cwd: dir, env });
      assert.equal(started.code, 0, started.stderr);
      const results = await Promise.all([
        runCli(['deploy', '--yes'], { cwd: dir, env }),
        runCli(['deploy', '--yes'], { cwd: dir, env }),
      ]);
      for (const result of results) {
        assert.doesNotMatch(
          result.stderr,
          /ChangeSetNotFound|HTTP 404|AlreadyExists|ValidationError/,
          result.stderr,
        );
        if (result.code !== 0) {
          assert.equal(result.code, 1, result.stderr);
          assert.match(result.errorText, /Another deploy \(or destroy\) of stack mlpipe-\w+ is running/);
          assert.match(result.errorText, /run `mlpipe deploy` again/);
        }
      }
      assert.ok(
        results.some((r) => r.code === 0),
        'one of them deploys',
      );
    } finally {
      await runCli(['local', 'stop'], { cwd: dir, env });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
