// The pipeline end to end on a started local stack: `mlpipe demo --small` (sample data, deploy,
// upload, the state machine's run, the baseline, metrics, one user's recommendations), then the
// commands around it — executions, start-pipeline (a named run, a name used before, a run whose
// ETL fails), batch-infer, show-recs (titles from movies.dat, history, unknown user, --live without
// a campaign) and schedule (on, off, kept through a plain redeploy).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { localS3Client, runCli } from '../helpers/cli.js';

const BUCKET = 'mlpipe-datalake';

interface StateJson {
  name: string;
  type: string;
  status: string;
  visits: number;
  detail: string;
}
interface ExecutionJson {
  arn: string;
  name: string;
  status: string;
  failedState: string | null;
  error: string | null;
  cause: string | null;
  output: {
    runId: string;
    solutionVersionArn: string;
    metrics: Record<string, number>;
    recommendations: string;
  } | null;
  states: StateJson[];
}
interface ShowRecsJson {
  query: { userId?: string; itemId?: string };
  source: { kind: string; job: string; file: string; line: number };
  record: {
    input: { userId: string };
    output: { recommendedItems: string[]; scores: number[] };
    error: null;
  };
  items: { rank: number; itemId: string; title: string | null; year: number | null; score: number | null }[];
  history?: { itemId: string; timestamp: number; title: string | null }[];
  catalogue: string | null;
}

describe('the pipeline: demo, start-pipeline, executions, batch-infer, show-recs, schedule', () => {
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };
  let dir: string;
  let s3: S3Client;
  const cli = (args: string[]) => runCli(args, { cwd: dir, env });
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  let firstRun: ExecutionJson;
  let user: string;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-pipeline-'));
  });
  after(async () => {
    s3?.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('demo runs the whole pipeline and shows the metrics beside the baseline and one user’s recommendations', async () => {
    const demo = await json<{
      steps: { step: string }[];
      execution: { name: string; execution: ExecutionJson };
      metrics: { ratios: Record<string, number> | null };
      recommendations: ShowRecsJson;
    }>(['demo', '--small']);
    assert.deepEqual(
      demo.steps.map((s) => s.step),
      ['sample data', 'deploy', 'upload', 'pipeline', 'baseline', 'metrics', 'recommendations'],
    );
    firstRun = demo.execution.execution;
    assert.equal(firstRun.status, 'SUCCEEDED');
    // Every task of the chain ran, and the polling loops polled.
    const byName = new Map(firstRun.states.map((s) => [s.name, s]));
    for (const name of ['RunEtl', 'StartImport', 'StartTraining', 'GetMetrics', 'StartBatch', 'Done'])
      assert.equal(byName.get(name)?.status, 'succeeded', name);
    assert.match(byName.get('DescribeImport')!.detail, /ACTIVE$/);
    assert.match(byName.get('DescribeBatch')!.detail, /ACTIVE$/);
    assert.equal(firstRun.output!.runId, demo.execution.name);
    assert.equal(firstRun.output!.recommendations, `s3://${BUCKET}/recommendations/${demo.execution.name}/`);
    assert.ok(firstRun.output!.metrics.normalized_discounted_cumulative_gain_at_10! > 0);
    assert.ok(demo.metrics.ratios !== null, 'metrics beside the popularity baseline');
    // The user shown has recommendations with titles from the sample movies.dat.
    const recs = demo.recommendations;
    user = recs.query.userId!;
    assert.equal(recs.items.length, 10);
    assert.ok(recs.items.every((i) => i.title !== null && i.year !== null));
    assert.equal(recs.catalogue, `s3://${BUCKET}/raw/movies.dat`);
    assert.equal(recs.history?.length, 5);
    s3 = await localS3Client(dir, env);
  });

  it('the run read the ETL’s users list and wrote one line per user under its own prefix', async () => {
    const body = async (key: string): Promise<string> =>
      (await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString()) ??
      '';
    const users = (await body('batch_users_input/users.jsonl')).trimEnd().split('\n');
    const out = (await body(`recommendations/${firstRun.name}/users.jsonl.out`)).trimEnd().split('\n');
    assert.equal(out.length, users.length);
    const first = JSON.parse(out[0]!) as {
      input: unknown;
      output: { recommendedItems: string[] };
      error: null;
    };
    assert.deepEqual(first.input, JSON.parse(users[0]!));
    assert.equal(first.output.recommendedItems.length, 25);
    assert.equal(first.error, null);
  });

  it('executions lists the run; --follow of a finished run shows it and exits as it ended', async () => {
    const listed = await json<{ executions: { name: string; status: string }[] }>(['executions']);
    assert.deepEqual(
      listed.executions.map((e) => [e.name, e.status]),
      [[firstRun.name, 'SUCCEEDED']],
    );
    const followed = await json<{ execution: ExecutionJson }>(['executions', '--follow', firstRun.name]);
    assert.equal(followed.execution.arn, firstRun.arn);
    const table = await runCli(['executions'], { cwd: dir, env: { ...env, COLUMNS: '80' } });
    assert.match(table.stdout, new RegExp(`${firstRun.name}\\s+SUCCEEDED`));
  });

  it('start-pipeline refuses a name used before and a name Personalize cannot take', async () => {
    const again = await cli(['start-pipeline', '--name', firstRun.name]);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.errorText, new RegExp(`A run named "${firstRun.name}" already exists`));
    assert.match(again.errorText, /mlpipe executions --follow arn:aws:states:/);
    const bad = await cli(['start-pipeline', '--name', 'no spaces']);
    assert.equal(bad.code, 2);
    assert.match(bad.errorText, /letters, digits, "-" and "_"/);
    for (const name of ['nightly--a-b-c-d', 'nightly-']) {
      const empty = await cli(['start-pipeline', '--name', name]);
      assert.equal(empty.code, 2, `${name}: ${empty.stderr}`);
      assert.match(empty.errorText, /has "--" or ends with "-"/);
    }
    const input = await cli(['start-pipeline', '--input', '[1]']);
    assert.equal(input.code, 2);
    assert.match(input.errorText, /--input must be a JSON object/);
  });

  it('show-recs finds a user in the output; an unknown user and --live without a campaign say what to do', async () => {
    const shown = await json<ShowRecsJson>(['show-recs', '--user', user, '--limit', '3']);
    assert.equal(shown.items.length, 3);
    assert.equal(shown.source.kind, 'batch');
    assert.deepEqual(
      shown.items.map((i) => i.itemId),
      shown.record.output.recommendedItems.slice(0, 3),
    );
    const table = await runCli(['show-recs', '--user', user, '--limit', '3'], {
      cwd: dir,
      env: { ...env, COLUMNS: '80' },
    });
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /#\s+ITEM\s+TITLE\s+YEAR\s+SCORE/);
    // With --history, each table has its heading: the interactions, then the recommendations.
    const withHistory = await runCli(['show-recs', '--user', user, '--limit', '3', '--history', '2'], {
      cwd: dir,
      env: { ...env, COLUMNS: '80' },
    });
    assert.equal(withHistory.code, 0, withHistory.stderr);
    assert.match(
      withHistory.stdout,
      /Latest interactions \(2\):\nWHEN \(UTC\)\s+ITEM[\s\S]*\n\nRecommended \(3\):\n#\s+ITEM/,
    );
    for (const line of table.stdout.split('\n')) assert.ok([...line].length <= 80, line);
    // The README's own example works on the sample data the demo generated.
    const readme = await json<ShowRecsJson>(['show-recs', '--user', '75']);
    assert.equal(readme.query.userId, '75');
    assert.equal(readme.items.length, 10);
    assert.ok(readme.items.every((i) => i.title !== null));
    const unknown = await cli(['show-recs', '--user', 'nobody-here']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.errorText, /User nobody-here is not in the output of batch job/);
    assert.match(unknown.errorText, /mlpipe batch-infer --user nobody-here/);
    const live = await cli(['show-recs', '--user', user, '--live']);
    assert.equal(live.code, 1);
    assert.match(live.errorText, /CampaignSolutionVersionArn=/);
  });

  it('batch-infer writes the users given, waits, and show-recs reads the newest job', async () => {
    const result = await json<{
      job: { arn: string; status: string; outputPath: string };
      inputLines: number;
      output: { records: number; errorLines: number; files: string[] };
    }>(['batch-infer', '--user', user, '--user', 'nobody-here', '--num-results', '5']);
    assert.equal(result.job.status, 'ACTIVE');
    assert.equal(result.inputLines, 2);
    assert.deepEqual([result.output.records, result.output.errorLines], [2, 0]);
    const shown = await json<ShowRecsJson>(['show-recs', '--user', 'nobody-here']);
    assert.equal(shown.source.job, result.job.arn);
    assert.equal(shown.items.length, 5, 'an unknown user gets popular items');
    const bad = await cli(['batch-infer', '--users-file', path.join(dir, 'missing.jsonl')]);
    assert.equal(bad.code, 2);
    assert.match(bad.errorText, /Cannot read --users-file/);
  });

  it('a run whose ETL fails ends FAILED at EtlFailed with the cause (exit 3)', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'raw/user_ratedmovies-timestamps.dat',
        Body: 'this is not\ta ratings file\n',
      }),
    );
    const failed = await cli(['start-pipeline', '--wait', '--name', 'broken-etl']);
    assert.equal(failed.code, 3, failed.stderr);
    assert.match(failed.errorText, /Pipeline run broken-etl FAILED in state EtlFailed: EtlFailed/);
    const listed = await json<{ executions: { name: string; status: string; failedState: string | null }[] }>(
      ['executions'],
    );
    assert.deepEqual(listed.executions[0], {
      ...listed.executions[0],
      name: 'broken-etl',
      status: 'FAILED',
      failedState: 'EtlFailed',
    });
  });

  it('schedule turns the rule on and off, and a plain redeploy keeps it', async () => {
    const off = await json<{ state: string; expression: string }>(['schedule']);
    assert.deepEqual([off.state, off.expression], ['DISABLED', 'rate(1 day)']);
    const on = await json<{ state: string; expression: string }>(['schedule', '--rate', '6 hours']);
    assert.deepEqual([on.state, on.expression], ['ENABLED', 'rate(6 hours)']);
    const redeploy = await cli(['deploy', '--yes', '--stack', 'pipeline']);
    assert.equal(redeploy.code, 0, redeploy.stderr);
    const kept = await json<{ state: string; expression: string }>(['schedule']);
    assert.deepEqual([kept.state, kept.expression], ['ENABLED', 'rate(6 hours)']);
    const stopped = await json<{ state: string; expression: string }>(['schedule', '--off']);
    assert.deepEqual([stopped.state, stopped.expression], ['DISABLED', 'rate(6 hours)']);
    const bad = await cli(['schedule', '--cron', '0 3 * * *']);
    assert.equal(bad.code, 2);
    assert.match(bad.errorText, /EventBridge cron has six/);
  });

  it('with a campaign deployed, show-recs --live answers a user and says why it cannot answer an item', async () => {
    const solutions = await json<{
      solutions: { project: boolean; versions: { arn: string; status: string }[] }[];
    }>(['solutions']);
    const version = solutions.solutions.find((s) => s.project)!.versions.find((v) => v.status === 'ACTIVE')!;
    const deployed = await cli([
      'deploy',
      '--yes',
      '--stack',
      'personalize',
      '--parameter',
      `CampaignSolutionVersionArn=${version.arn}`,
    ]);
    assert.equal(deployed.code, 0, deployed.stderr);
    const live = await json<ShowRecsJson>(['show-recs', '--user', '75', '--live', '--limit', '4']);
    assert.equal(live.source.kind, 'campaign');
    assert.equal(live.items.length, 4);
    assert.ok(live.items.every((i) => i.title !== null && i.score !== null));
    // The campaign serves aws-user-personalization: an item is the wrong question, said in words.
    const item = await cli(['show-recs', '--item', live.items[0]!.itemId, '--live']);
    assert.equal(item.code, 2, item.stderr);
    assert.match(
      item.errorText,
      /Campaign mlpipe-campaign recommends items for a user; it cannot give items similar/,
    );
    assert.match(item.errorText, /mlpipe show-recs --user 75 --live/);
  });
});
