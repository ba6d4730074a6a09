// run-etl end to end: deploy the data lake and the ETL job, upload sample data, run the Glue job
// on the local stack, and check the output, the summary, failures and re-attaching.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localS3Client, runCli } from '../helpers/cli.js';
import { awsCliAvailable, awsCliEnv, awsCliPath } from '../helpers/sdk.js';

const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };

interface RunJson {
  runId: string;
  state: string;
  outputUri: string | null;
  rejectsUri: string | null;
  report: {
    rowsRead: number;
    rowsWritten: number;
    rowsRejected: number;
    meetsTrainingMinimums: boolean;
  } | null;
}

describe('mlpipe run-etl', () => {
  let dir: string;
  let s3: S3Client;
  const output = async (): Promise<string> => {
    const object = await s3.send(
      new GetObjectCommand({ Bucket: 'mlpipe-datalake', Key: 'transformed/interactions.csv' }),
    );
    return object.Body!.transformToString();
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-etl-'));
    const generated = await runCli(['sample-data', '--users', '200', '--items', '600', '--ratings', '8000'], {
      cwd: dir,
      env,
    });
    assert.equal(generated.code, 0, generated.stderr);
    const deployed = await runCli(['deploy', '--yes'], { cwd: dir, env });
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.match(
      deployed.stderr,
      /Uploaded \d+ asset file\(s\) for mlpipe-etl to s3:\/\/mlpipe-datalake\/glue_scripts\//,
    );
    s3 = await localS3Client(dir, env);
  });
  after(async () => {
    s3?.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('says to upload raw data first when there is none', async () => {
    const result = await runCli(['run-etl'], { cwd: dir, env });
    assert.equal(result.code, 1);
    assert.match(
      result.errorText,
      /There is no raw data at s3:\/\/mlpipe-datalake\/raw\/user_ratedmovies-timestamps\.dat\./,
    );
    assert.match(result.errorText, /Run `mlpipe upload-raw` first/);
  });

  it('transforms the uploaded file into Personalize CSV with a summary', async () => {
    const upload = await runCli(['upload-raw'], { cwd: dir, env });
    assert.equal(upload.code, 0, upload.stderr);
    const result = await runCli(['run-etl', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const run = JSON.parse(result.stdout) as RunJson;
    assert.equal(run.state, 'SUCCEEDED');
    assert.equal(run.outputUri, 's3://mlpipe-datalake/transformed/interactions.csv');
    assert.equal(run.report?.rowsRead, 8000);
    assert.equal(run.report?.rowsRejected, 0);
    assert.equal(run.report?.meetsTrainingMinimums, true);
    const csv = (await output()).split('\n');
    assert.equal(csv[0], 'USER_ID,ITEM_ID,TIMESTAMP');
    assert.match(csv[1]!, /^\d+,\d+,\d{9,10}$/, 'timestamps in seconds');
    assert.equal(csv.filter((line) => line !== '').length - 1, run.report?.rowsWritten);
    const human = await runCli(['run-etl'], { cwd: dir, env });
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Rows:\s+8,000 read, [\d,]+ written, 0 rejected/);
    assert.match(human.stdout, /Personalize training minimums: met/);
  });

  it('starts without waiting, re-attaches by run id, lists runs and shows a run log', async () => {
    const started = await runCli(['run-etl', '--no-wait'], { cwd: dir, env });
    assert.equal(started.code, 0, started.stderr);
    const runId = started.stdout.trim();
    assert.match(runId, /^jr_[0-9a-f]{64}$/);
    const attached = await runCli(['run-etl', '--run-id', runId, '--json'], { cwd: dir, env });
    assert.equal(attached.code, 0, attached.stderr);
    assert.equal((JSON.parse(attached.stdout) as RunJson).state, 'SUCCEEDED');
    const list = JSON.parse((await runCli(['run-etl', '--list', '--json'], { cwd: dir, env })).stdout) as {
      runs: RunJson[];
    };
    assert.ok(list.runs.length >= 3);
    assert.equal(list.runs[0]!.runId, runId, 'newest first');
    const logs = await runCli(['run-etl', '--logs', '--run-id', runId], { cwd: dir, env });
    assert.equal(logs.code, 0, logs.stderr);
    assert.ok(logs.stdout.trim().split('\n').length > 0);
    // The log is in CloudWatch Logs, where Glue writes it: /aws-glue/jobs/output, stream = run id.
    assert.match(
      logs.stdout,
      /^\d{4}-\d\d-\d\dT[\d:.]+Z Run jr_[0-9a-f]{64} of job mlpipe-interactions-etl started$/m,
    );
    assert.match(logs.stdout, /Run ended SUCCEEDED$/m);
    const followed = await runCli(['run-etl', '--logs', '--follow', '--run-id', runId, '--json'], {
      cwd: dir,
      env,
    });
    assert.equal(followed.code, 0, followed.stderr);
    assert.deepEqual((JSON.parse(followed.stdout) as { log: string[] }).log, logs.stdout.trim().split('\n'));
  });

  it("`aws logs get-log-events` reads a run's log from the local stack", async (t) => {
    if (!awsCliAvailable()) {
      t.skip('the AWS CLI (aws) is not installed');
      return;
    }
    const runs = JSON.parse((await runCli(['run-etl', '--list', '--json'], { cwd: dir, env })).stdout) as {
      runs: RunJson[];
    };
    const runId = runs.runs[0]!.runId;
    const local = JSON.parse((await runCli(['local', 'env', '--json'], { cwd: dir, env })).stdout) as Record<
      string,
      string
    >;
    const { stdout } = await promisify(execFile)(
      awsCliPath(),
      [
        '--endpoint-url',
        local.AWS_ENDPOINT_URL!,
        'logs',
        'get-log-events',
        '--log-group-name',
        '/aws-glue/jobs/output',
        '--log-stream-name',
        runId,
        '--start-from-head',
        '--output',
        'json',
      ],
      {
        env: awsCliEnv(
          {
            credentials: {
              accessKeyId: local.AWS_ACCESS_KEY_ID!,
              secretAccessKey: local.AWS_SECRET_ACCESS_KEY!,
            },
            region: local.AWS_REGION!,
          },
          dir,
        ),
      },
    );
    const events = (JSON.parse(stdout) as { events: { message: string }[] }).events.map((e) => e.message);
    assert.match(events[0]!, new RegExp(`^Run ${runId} of job mlpipe-interactions-etl started$`));
    assert.match(events[events.length - 1]!, /^Run ended (SUCCEEDED|FAILED)/);
  });

  it('fails a run on a wrongly separated file (exit 3) and leaves the previous output intact', async () => {
    const before = await output();
    const bad = path.join(dir, 'comma.dat');
    writeFileSync(bad, 'userID,movieID,rating,timestamp\n75,3,1,1162160236000\n');
    const upload = await runCli(
      [
        'upload-raw',
        bad,
        '--key',
        'raw/user_ratedmovies-timestamps.dat',
        '--items',
        path.join(dir, 'data', 'movies.dat'),
      ],
      {
        cwd: dir,
        env,
      },
    );
    assert.equal(upload.code, 0, upload.stderr);
    const result = await runCli(['run-etl'], { cwd: dir, env });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.errorText, /ended FAILED: .*separator/);
    assert.equal(await output(), before, 'the previous output is untouched');
  });
});
