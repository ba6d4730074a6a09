// mlpipe destroy after mlpipe train end to end against a started local stack (small sample data):
// the solutions train created on demand are listed in the confirmation, deleted before the
// Personalize stack, and versions still training (held by the test hooks) are stopped first.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateSolutionCommand,
  DeleteSolutionCommand,
  ListDatasetGroupsCommand,
  ListSolutionsCommand,
  PersonalizeClient,
} from '@aws-sdk/client-personalize';
import { localTestHooks, runCli } from '../helpers/cli.js';

interface DestroyJson {
  stacks: Array<{
    key: string;
    stackName: string;
    result: string;
    cleared: {
      datasetGroupArn: string;
      stoppedVersions: string[];
      deletedSolutions: Array<{ name: string; arn: string }>;
    } | null;
  }>;
}

describe('mlpipe destroy after train', () => {
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true', MLPIPE_LOCAL_TEST_HOOKS: '1' };
  const TRAINING = 'personalize:solution-version';
  let dir: string;
  let personalize: PersonalizeClient;
  let hooks: Awaited<ReturnType<typeof localTestHooks>>;
  const cli = (args: string[]) => runCli(args, { cwd: dir, env });
  const ok = async (args: string[]) => {
    const result = await cli(args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const solutionNames = async (): Promise<string[]> =>
    ((await personalize.send(new ListSolutionsCommand({}))).solutions ?? []).map((s) => s.name ?? '').sort();

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-destroy-'));
    for (const args of [
      ['sample-data', '--users', '150', '--items', '400', '--ratings', '6000'],
      // The stacks up to Personalize's: a pipeline stack would import its exports, blocking --stack personalize.
      ['deploy', '--yes', '--stack', 'datalake', '--stack', 'etl', '--stack', 'personalize'],
      ['upload-raw'],
      ['run-etl'],
      ['import'],
    ])
      await ok(args);
    const local = JSON.parse((await ok(['local', 'env', '--json'])).stdout) as Record<string, string>;
    personalize = new PersonalizeClient({
      endpoint: local.AWS_ENDPOINT_URL,
      region: local.AWS_REGION,
      credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID!, secretAccessKey: local.AWS_SECRET_ACCESS_KEY! },
    });
    hooks = await localTestHooks(dir, env);
  });
  after(async () => {
    personalize?.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('lists and deletes the popularity baseline train created, then the Personalize stack', async () => {
    await ok(['train', '--recipe', 'aws-popularity-count']);
    assert.deepEqual(await solutionNames(), ['mlpipe-personalization', 'mlpipe-popularity']);

    const refused = await cli(['destroy', '--stack', 'personalize']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.errorText,
      /Refusing to delete mlpipe-personalize and solution mlpipe-popularity without confirmation\./,
    );
    assert.match(
      refused.stderr,
      // Wrapped between words to fit 80 columns (the continuation indented).
      /Before deleting stack mlpipe-personalize, destroy clears what `mlpipe train`\s+left in its dataset group:\n {2}delete solution mlpipe-popularity \(aws-popularity-count, 1 version\)/,
    );
    assert.deepEqual(
      await solutionNames(),
      ['mlpipe-personalization', 'mlpipe-popularity'],
      'nothing deleted',
    );

    const result = await ok(['destroy', '--stack', 'personalize', '--yes', '--json']);
    const [stack] = (JSON.parse(result.stdout) as DestroyJson).stacks;
    assert.equal(stack?.stackName, 'mlpipe-personalize');
    assert.equal(stack.result, 'deleted');
    assert.match(stack.cleared?.datasetGroupArn ?? '', /:dataset-group\//);
    assert.deepEqual(stack.cleared?.stoppedVersions, []);
    assert.deepEqual(
      stack.cleared?.deletedSolutions.map((s) => s.name),
      ['mlpipe-popularity'],
    );
    assert.deepEqual(await solutionNames(), [], 'no solutions left');
  });

  it('refuses, changing nothing, while the dataset group has a solution mlpipe did not create', async () => {
    await ok(['deploy', '--stack', 'personalize', '--yes']);
    await ok(['import']);
    const [group] = (await personalize.send(new ListDatasetGroupsCommand({}))).datasetGroups ?? [];
    const { solutionArn } = await personalize.send(
      new CreateSolutionCommand({
        name: 'handmade',
        datasetGroupArn: group?.datasetGroupArn,
        recipeArn: 'arn:aws:personalize:::recipe/aws-popularity-count',
      }),
    );
    const result = await cli(['destroy', '--yes', '--json']);
    assert.equal(result.code, 1, result.stderr);
    const { error } = JSON.parse(result.stdout) as {
      error: { code: string; message: string; suggestions: string[] };
    };
    assert.equal(error.code, 'FOREIGN_SOLUTIONS');
    assert.match(error.message, /has solution mlpipe did not create: handmade\..*Nothing was deleted\./);
    assert.ok(
      error.suggestions.some((s) =>
        s.includes(
          `eval "$(mlpipe local env)" && aws --endpoint-url "$AWS_ENDPOINT_URL" personalize delete-solution --solution-arn ${solutionArn}`,
        ),
      ),
      error.suggestions.join('\n'),
    );
    assert.deepEqual(await solutionNames(), ['handmade', 'mlpipe-personalization'], 'nothing deleted');
    const stacks = JSON.parse((await ok(['stacks', '--json'])).stdout) as {
      stacks: Array<{ key: string; status: string }>;
    };
    assert.ok(
      stacks.stacks.filter((s) => s.key !== 'pipeline').every((s) => s.status.endsWith('_COMPLETE')),
      'every stack deployed before is still deployed',
    );
    await personalize.send(new DeleteSolutionCommand({ solutionArn }));
  });

  it('stops versions still training, deletes the solutions, then every stack', async () => {
    await hooks.hold(TRAINING);
    try {
      const baseline = await ok(['train', '--recipe', 'aws-popularity-count', '--no-wait']);
      const baselineVersion = baseline.stdout.trim();
      const project = await ok(['train', '--no-wait']);
      const projectVersion = project.stdout.trim();
      assert.match(baselineVersion, /:solution\/mlpipe-popularity\//);
      assert.match(projectVersion, /:solution\/mlpipe-personalization\//);

      const result = await cli(['destroy', '--yes']);
      assert.equal(result.code, 0, result.stderr);
      for (const arn of [baselineVersion, projectVersion]) {
        // The plan wraps its lines between words to fit 80 columns.
        assert.ok(
          result.stderr.replace(/\s+/g, ' ').includes(`stop training: solution version ${arn}`),
          result.stderr,
        );
        assert.ok(result.stdout.includes(`solution version ${arn}: stopped`), result.stdout);
      }
      assert.match(result.stdout, /solution mlpipe-popularity: deleted/);
      assert.match(result.stdout, /mlpipe-personalize: deleted/);
      assert.match(result.stdout, /mlpipe-datalake: deleted/);
      assert.deepEqual(await solutionNames(), [], 'no solutions left');
    } finally {
      await hooks.release(TRAINING);
    }
  });
});
