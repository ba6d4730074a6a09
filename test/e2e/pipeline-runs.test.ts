// Pipeline runs that do not simply succeed, in a project whose name is as long as the templates
// allow (41 characters): a run whose Personalize import fails (a CSV under the transformed prefix
// that breaks the schema), Ctrl-C on `start-pipeline --wait` in a terminal and re-attaching with
// `executions --follow`, a run started without a name (a UUID, as EventBridge's schedule starts
// them) whose jobs still fit Personalize's 63 characters, and `destroy --stack personalize`
// refused while the pipeline stack imports its exports.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  ListBatchInferenceJobsCommand,
  ListDatasetImportJobsCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { localS3Client, localTestHooks, plainText, runCli, runCliInPty } from '../helpers/cli.js';

const PROJECT = 'film-club-recommendations-nightly-archive';
const BUCKET = `${PROJECT}-datalake`;
const MACHINE = `arn:aws:states:us-east-1:000000000000:stateMachine:${PROJECT}-pipeline`;
const CTRL_C = '\u0003';
const TRAINING_JOBS = 'personalize:solution-version';

describe('pipeline runs: an import failure, Ctrl-C and re-attach, an unnamed run, destroy refused', () => {
  // Test hooks: the re-attach test holds training so the run is surely still going when Ctrl-C lands.
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true', MLPIPE_LOCAL_TEST_HOOKS: '1' };
  let dir: string;
  let s3: S3Client;
  let sfn: SFNClient;
  let personalize: PersonalizeClient;
  let cfn: CloudFormationClient;
  const cli = (args: string[], onStderr?: (stderr: string) => void) =>
    runCli(args, { cwd: dir, env, timeoutMs: 300_000, ...(onStderr ? { onStderr } : {}) });

  before(async () => {
    assert.equal(PROJECT.length, 41, 'the longest project name the templates allow');
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-pipeline-runs-'));
    writeFileSync(path.join(dir, 'mlpipe.config.json'), JSON.stringify({ project: PROJECT }));
    for (const args of [['sample-data', '--small'], ['deploy', '--yes'], ['upload-raw']]) {
      const result = await cli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    s3 = await localS3Client(dir, env);
    const local = JSON.parse((await cli(['local', 'env', '--json'])).stdout) as Record<string, string>;
    const config = {
      endpoint: local.AWS_ENDPOINT_URL,
      region: local.AWS_REGION,
      credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID!, secretAccessKey: local.AWS_SECRET_ACCESS_KEY! },
    };
    sfn = new SFNClient(config);
    personalize = new PersonalizeClient(config);
    cfn = new CloudFormationClient(config);
  });
  after(async () => {
    for (const client of [s3, sfn, personalize, cfn]) client?.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
    rmSync(dir, { recursive: true, force: true });
  });

  it('a run whose import fails ends FAILED at ImportFailed with Personalize’s failureReason (exit 3)', async () => {
    // A file left under the transformed prefix that the import reads with the ETL's output.
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'transformed/extra.csv',
        Body: 'USER_ID,ITEM_ID\n75,3114\n',
      }),
    );
    try {
      const failed = await cli(['start-pipeline', '--wait', '--name', 'bad-import']);
      assert.equal(failed.code, 3, failed.stderr);
      const reason = 'Input CSV is missing the following columns: [TIMESTAMP]';
      // The failed state, the error and the cause, on stderr; the live view marks the state.
      assert.ok(
        failed.errorText.includes(
          `Pipeline run bad-import FAILED in state ImportFailed: ImportFailed: ${reason}`,
        ),
        failed.errorText,
      );
      // The ETL run as `run-etl` names it (a prefix `run-etl --run-id` takes), not cut with "…".
      assert.match(failed.stderr, /^✓ RunEtl jr_[0-9a-f]{7} SUCCEEDED/m);
      assert.match(failed.stderr, /^✓ DescribeImport \S+ CREATE FAILED/m);
      assert.match(failed.stderr, /^✗ ImportFailed/m);
      assert.match(failed.stdout, /bad-import FAILED/);

      const execution = await sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${MACHINE.replace(':stateMachine:', ':execution:')}:bad-import`,
        }),
      );
      assert.equal(execution.status, 'FAILED');
      assert.equal(execution.error, 'ImportFailed');
      const jobs = await personalize.send(new ListDatasetImportJobsCommand({}));
      const job = jobs.datasetImportJobs?.find((j) => j.jobName === `${PROJECT}-bad-import`);
      assert.equal(job?.status, 'CREATE FAILED');
      assert.equal(execution.cause, job.failureReason);
      assert.equal(execution.cause, reason);
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'transformed/extra.csv' }));
    }
  });

  it('Ctrl-C on start-pipeline --wait leaves the run going and names the command that re-attaches; it does; starting it again says it runs', async () => {
    const hooks = await localTestHooks(dir, env);
    await hooks.hold(TRAINING_JOBS);
    const arn = `${MACHINE.replace(':stateMachine:', ':execution:')}:interrupted`;
    try {
      // The live view on an 80-column terminal: Ctrl-C once it shows training in progress.
      const result = await runCliInPty(['start-pipeline', '--wait', '--name', 'interrupted'], {
        cwd: dir,
        env: { MLPIPE_LOCAL_PORT: '0' },
        steps: [{ expect: 'DescribeTraining[^\\n]*CREATE IN_PROGRESS', send: CTRL_C }],
      });
      assert.equal(result.stepsDone, 1, result.text);
      assert.equal(result.code, 130, result.text);
      const said = plainText(result.output.slice(result.sentAt[0]));
      assert.match(said, /Stopped waiting for the pipeline execution\./);
      assert.ok(
        said.includes(`The execution goes on; re-attach with \`mlpipe executions --follow ${arn}\``),
        said,
      );
      // The run goes on: training is held, so it is surely still running.
      const running = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      assert.equal(running.status, 'RUNNING');

      // Started again by the same name and input: Step Functions returns the running run, and
      // the command says so instead of "Started".
      const again = await cli(['start-pipeline', '--name', 'interrupted']);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), arn);
      const said2 = again.stderr.replace(/\s+/g, ' ');
      assert.match(
        said2,
        /Pipeline run interrupted is already running \(started .* UTC, with the same input\): nothing new was started/,
      );
      assert.doesNotMatch(said2, /Started pipeline run/);

      // Re-attach; training is let go once the view shows the run's polling loop.
      let released: Promise<void> | undefined;
      const followed = await cli(['executions', '--follow', arn], (stderr) => {
        if (released === undefined && /DescribeTraining \S+ CREATE IN_PROGRESS/.test(stderr))
          released = hooks.release(TRAINING_JOBS);
      });
      await released;
      assert.ok(released !== undefined, `the view showed training in progress:\n${followed.stderr}`);
      assert.equal(followed.code, 0, followed.stderr);
      assert.match(followed.stdout, /interrupted SUCCEEDED/);
      const ended = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
      assert.equal(ended.status, 'SUCCEEDED');
    } finally {
      await hooks.release(TRAINING_JOBS);
    }
  });

  it('a run started without a name (a UUID, as the schedule starts them) names its jobs within 63 characters', async () => {
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: MACHINE, input: '{}' }));
    const uuid = started.executionArn!.slice(started.executionArn!.lastIndexOf(':') + 1);
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const followed = await cli(['executions', '--follow', started.executionArn!, '--json']);
    assert.equal(followed.code, 0, followed.stderr);
    const run = (
      JSON.parse(followed.stdout) as { execution: { status: string; output: { recommendations: string } } }
    ).execution;
    assert.equal(run.status, 'SUCCEEDED');
    const parts = uuid.split('-');
    const jobName = `${PROJECT}-${parts[0]}-${parts[4]}`;
    assert.equal(jobName.length, 63);
    const imports = await personalize.send(new ListDatasetImportJobsCommand({}));
    assert.equal(imports.datasetImportJobs?.find((j) => j.jobName === jobName)?.status, 'ACTIVE');
    const batches = await personalize.send(new ListBatchInferenceJobsCommand({}));
    assert.equal(batches.batchInferenceJobs?.find((j) => j.jobName === jobName)?.status, 'ACTIVE');
    // The recommendations are under the whole run id: S3 keys have room.
    assert.equal(run.output.recommendations, `s3://${BUCKET}/recommendations/${uuid}/`);
  });

  it('start-pipeline refuses a name of five "-"-separated parts that is not a UUID', async () => {
    const refused = await cli(['start-pipeline', '--name', 'nightly-2026-11-30-a']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.errorText, /Run name "nightly-2026-11-30-a" has five "-"-separated parts/);
    assert.match(refused.errorText, /"nightly-a"/);
  });

  it('destroy --stack personalize says the pipeline stack uses its exports, and deletes nothing', async () => {
    const refused = await cli(['destroy', '--stack', 'personalize', '--yes']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(
      refused.errorText.includes(
        `Stack ${PROJECT}-personalize cannot be deleted while stack ${PROJECT}-pipeline uses its exports (${PROJECT}-personalize-InteractionsDatasetArn, ${PROJECT}-personalize-SolutionArn); nothing was deleted.`,
      ),
      refused.errorText,
    );
    assert.match(
      refused.errorText,
      /Run `mlpipe destroy --stack pipeline` first, or `mlpipe destroy` to delete every stack\./,
    );
    // The data lake is used by every other stack, and personalize's users in turn by pipeline:
    // the suggestion names every stack that has to go first, in the order they can go.
    const lake = await cli(['destroy', '--stack', 'datalake', '--yes']);
    assert.equal(lake.code, 1, lake.stderr);
    assert.match(lake.errorText, new RegExp(`Stack ${PROJECT}-datalake cannot be deleted while stack`));
    assert.match(
      lake.errorText,
      /Run `mlpipe destroy --stack pipeline --stack personalize --stack etl` first, or `mlpipe destroy`/,
    );
    for (const key of ['personalize', 'datalake']) {
      const stack = (await cfn.send(new DescribeStacksCommand({ StackName: `${PROJECT}-${key}` })))
        .Stacks?.[0];
      assert.match(stack?.StackStatus ?? '', /_COMPLETE$/);
      assert.doesNotMatch(stack?.StackStatus ?? '', /DELETE/);
    }
  });
});
