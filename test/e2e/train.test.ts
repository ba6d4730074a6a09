// mlpipe train, metrics and solutions end to end against a started local stack: small sample data
// (training takes seconds), refusal without an import, training the project's solution, the
// popularity baseline and an HPO solution, --no-wait and --arn, metrics beside the baseline, the
// solutions table at 80 columns, and a training that fails (exit 3 with Personalize's reason).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { localS3Client, runCli } from '../helpers/cli.js';

const BUCKET = 'mlpipe-datalake';
const METRIC_KEYS = [
  'coverage',
  'mean_reciprocal_rank_at_25',
  'normalized_discounted_cumulative_gain_at_10',
  'normalized_discounted_cumulative_gain_at_25',
  'normalized_discounted_cumulative_gain_at_5',
  'precision_at_10',
  'precision_at_25',
  'precision_at_5',
];

interface VersionJson {
  arn: string;
  id: string;
  solutionArn: string;
  status: string;
  trainingMode: string;
  trainingHours: number | null;
  failureReason: string | null;
  tunedHyperparameters: Record<string, string> | null;
}
interface SolutionJson {
  name: string;
  arn: string;
  recipe: string;
  performHPO: boolean;
}
interface TrainJson {
  solution: SolutionJson;
  solutionCreated: boolean;
  version: VersionJson;
  attached: boolean;
  metrics: Record<string, number> | null;
  elapsedSeconds: number | null;
}
interface MetricsJson {
  solution: SolutionJson;
  version: VersionJson;
  metrics: Record<string, number>;
  baseline: { solution: SolutionJson; version: VersionJson; metrics: Record<string, number> } | null;
  ratios: Record<string, number | null> | null;
}
interface SolutionsJson {
  solutions: Array<
    SolutionJson & { project: boolean; versions: Array<VersionJson & { ndcgAt10: number | null }> }
  >;
}

describe('mlpipe train, metrics, solutions', () => {
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };
  let dir: string;
  let s3: S3Client;
  const cli = (args: string[]) => runCli(args, { cwd: dir, env });
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  let projectVersion: VersionJson;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-train-'));
    for (const args of [
      ['sample-data', '--users', '150', '--items', '400', '--ratings', '6000'],
      ['deploy', '--yes'],
      ['upload-raw'],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    s3 = await localS3Client(dir, env);
  });
  after(async () => {
    s3?.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('says to run mlpipe import first when the interactions dataset has no import', async () => {
    const result = await cli(['train']);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.errorText, /has no completed import, so there is nothing to train on/);
    assert.match(result.errorText, /Run `mlpipe import` first/);
    const asJson = await cli(['train', '--json']);
    assert.equal(asJson.code, 1);
    assert.equal((JSON.parse(asJson.stdout) as { error: { code: string } }).error.code, 'NO_IMPORT');
    const metrics = await cli(['metrics']);
    assert.equal(metrics.code, 1);
    assert.match(metrics.errorText, /no ACTIVE solution version/);
    const listed = await json<SolutionsJson>(['solutions']);
    assert.deepEqual(
      listed.solutions.map((s) => ({ name: s.name, project: s.project, versions: s.versions.length })),
      [{ name: 'mlpipe-personalization', project: true, versions: 0 }],
    );
    for (const args of [['run-etl'], ['import']]) {
      const prepared = await cli(args);
      assert.equal(prepared.code, 0, `${args.join(' ')}: ${prepared.stderr}`);
    }
  });

  it('trains the deployed solution and prints the offline metrics (--json)', async () => {
    const out = await json<TrainJson>(['train']);
    assert.equal(out.solution.name, 'mlpipe-personalization');
    assert.equal(out.solution.recipe, 'aws-user-personalization');
    assert.equal(out.solutionCreated, false);
    assert.equal(out.attached, false);
    assert.equal(out.version.status, 'ACTIVE');
    assert.equal(out.version.trainingMode, 'FULL');
    assert.ok((out.version.trainingHours ?? 0) > 0);
    assert.deepEqual(Object.keys(out.metrics ?? {}).sort(), METRIC_KEYS);
    assert.ok((out.metrics?.normalized_discounted_cumulative_gain_at_10 ?? 0) > 0);
    projectVersion = out.version;
  });

  it('--no-wait prints the ARN at once and --arn re-attaches to it', async () => {
    const started = await cli(['train', '--no-wait']);
    assert.equal(started.code, 0, started.stderr);
    const arn = started.stdout.trim();
    assert.match(arn, /^arn:aws:personalize:us-east-1:\d{12}:solution\/mlpipe-personalization\/[0-9a-f]{8}$/);
    assert.match(started.stderr, /Started solution version [0-9a-f]{8} of mlpipe-personalization \(FULL\)/);
    const attached = await cli(['train', '--arn', arn]);
    assert.equal(attached.code, 0, attached.stderr);
    assert.match(attached.stdout, new RegExp(`Version: +${arn} \\(FULL\\)`));
    assert.match(attached.stdout, /^NDCG@10 +0\.\d{4}$/m);
    const again = await json<TrainJson>(['train', '--arn', arn]);
    assert.equal(again.version.status, 'ACTIVE');
    assert.equal(again.version.arn, arn);
    const mixed = await cli(['train', '--arn', arn, '--hpo']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.errorText, /cannot be combined with --hpo/);
  });

  it('shows metrics without a baseline, then beside the popularity baseline with the ratio', async () => {
    const alone = await cli(['metrics']);
    assert.equal(alone.code, 0, alone.stderr);
    assert.doesNotMatch(alone.stdout, /BASELINE/);
    assert.match(alone.stderr, /mlpipe train --recipe aws-popularity-count/);

    const baseline = await json<TrainJson>(['train', '--recipe', 'aws-popularity-count']);
    assert.equal(baseline.solution.name, 'mlpipe-popularity');
    assert.equal(baseline.solution.recipe, 'aws-popularity-count');
    assert.equal(baseline.solutionCreated, true);
    assert.equal(baseline.version.status, 'ACTIVE');
    // A second baseline training reuses the solution.
    const second = await json<TrainJson>(['train', '--recipe', 'aws-popularity-count', '--no-wait']);
    assert.equal(second.solutionCreated, false);
    assert.equal(second.solution.arn, baseline.solution.arn);
    await json<TrainJson>(['train', '--arn', second.version.arn]);

    const report = await json<MetricsReportLike>(['metrics']);
    assert.equal(report.solution.name, 'mlpipe-personalization');
    assert.equal(report.baseline?.solution.name, 'mlpipe-popularity');
    assert.equal(report.baseline?.version.arn, second.version.arn, 'the latest baseline version');
    const ndcg = 'normalized_discounted_cumulative_gain_at_10';
    assert.ok(
      Math.abs(report.ratios![ndcg]! - report.metrics[ndcg]! / report.baseline!.metrics[ndcg]!) < 1e-9,
    );

    const shown = await cli(['metrics']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^METRIC +VALUE +BASELINE +RATIO$/m);
    assert.match(shown.stdout, /^NDCG@10 +0\.\d{4} +0\.\d{4} +\d+\.\d{2}×$/m);
    assert.match(
      shown.stdout,
      /^Baseline: mlpipe-popularity \(aws-popularity-count\), version [0-9a-f]{8}$/m,
    );

    const byArn = await json<MetricsReportLike>(['metrics', '--arn', projectVersion.arn]);
    assert.equal(byArn.version.arn, projectVersion.arn);
  });

  it('--hpo trains a solution with HPO of its own and reports the tuned hyperparameters', async () => {
    const out = await json<TrainJson>(['train', '--hpo']);
    assert.equal(out.solution.performHPO, true);
    assert.match(out.solution.name, /^mlpipe-personalization-[0-9a-f]{5}$/);
    assert.equal(out.solutionCreated, true);
    assert.equal(out.version.status, 'ACTIVE');
    assert.ok(out.version.tunedHyperparameters !== null, 'tunedHPOParams after HPO');
    assert.ok('hidden_dimension' in out.version.tunedHyperparameters);
    const refused = await cli(['train', '--recipe', 'aws-popularity-count', '--hpo']);
    assert.equal(refused.code, 2);
    assert.match(refused.errorText, /--hpo searches hyperparameters of aws-user-personalization/);
  });

  it('lists the solutions and their versions in 80 columns, and as JSON', async () => {
    const listed = await json<SolutionsJson>(['solutions']);
    const byName = new Map(listed.solutions.map((s) => [s.name, s]));
    const project = byName.get('mlpipe-personalization');
    assert.equal(project?.project, true);
    assert.equal(project?.versions.length, 2);
    assert.ok(
      project.versions.every((v) => v.status === 'ACTIVE' && v.ndcgAt10 !== null && v.trainingHours !== null),
    );
    assert.equal(byName.get('mlpipe-popularity')?.versions.length, 2);
    assert.equal(listed.solutions.length, 3);

    const table = await cli(['solutions']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    for (const line of lines) assert.ok([...line].length <= 80, `${[...line].length} columns: ${line}`);
    assert.match(lines[0]!, /^SOLUTION +.*VERSION +STATUS +.*TRAINING +NDCG@10$/);
    assert.match(lines[2]!, /^\*mlpipe-personalization +/, 'the project solution first, marked *');
    assert.equal(lines.filter((l) => /ACTIVE/.test(l)).length, 5);
  });

  it('exits 3 with the failure reason when training fails, and solutions shows it', async () => {
    // 1,200 interactions of 10 users: enough to import, too few users to train.
    const rows = ['USER_ID,ITEM_ID,TIMESTAMP'];
    for (let i = 0; i < 1200; i++) rows.push(`u${i % 10},i${i},${1_200_000_000 + i}`);
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'incoming/ten-users.csv', Body: `${rows.join('\n')}\n` }),
    );
    const imported = await cli(['import', '--data', `s3://${BUCKET}/incoming/ten-users.csv`]);
    assert.equal(imported.code, 0, imported.stderr);

    const failed = await cli(['train']);
    assert.equal(failed.code, 3, failed.stderr);
    assert.match(failed.errorText, /Training [0-9a-f]{8} failed: .*fewer than 25 users/);
    assert.match(failed.stderr, /not trained/);
    const asJson = await cli(['train', '--json']);
    assert.equal(asJson.code, 3);
    const error = (JSON.parse(asJson.stdout) as { error: { code: string; exit: number; message: string } })
      .error;
    assert.deepEqual({ code: error.code, exit: error.exit }, { code: 'TRAINING_FAILED', exit: 3 });

    const listed = await cli(['solutions']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /CREATE FAILED/);
    assert.match(listed.stdout, /^mlpipe-personalization\/[0-9a-f]{8} CREATE FAILED: .*fewer than 25 users/m);
    // metrics still shows the latest ACTIVE version.
    const metrics = await json<MetricsReportLike>(['metrics']);
    assert.equal(metrics.version.status, 'ACTIVE');
  });
});

type MetricsReportLike = MetricsJson;
