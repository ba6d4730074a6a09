// Config resolution: precedence (flag > env > file > default), sources, and errors that name the file and key.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { describeSettings, findConfigFile, resolveSettings } from '../../src/lib/cli/config.js';
import { MlpipeError } from '../../src/lib/cli/errors.js';
import { STACKS } from '../../src/lib/infra/stacks.js';
import { solutionName } from '../../src/lib/personalize/solution-settings.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-config-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

describe('resolveSettings', () => {
  it('uses defaults when there is no config file', () => {
    const cwd = project({});
    const s = resolveSettings({}, { cwd, env: {} });
    assert.equal(s.configFile, undefined);
    assert.equal(s.target.value, 'local');
    assert.equal(s.target.from, 'default');
    assert.equal(s.region.value, 'us-east-1');
    assert.equal(s.project.value, 'mlpipe');
    assert.equal(s.bucket.value, 'mlpipe-datalake');
    assert.equal(s.prefixes.raw.value, 'raw/');
    assert.equal(s.prefixes.batchInput.value, 'batch_users_input/');
    assert.equal(s.stacks.datalake.value, 'mlpipe-datalake');
    assert.equal(s.local.dataDir.value, path.join(cwd, '.mlpipe', 'local'));
  });

  it('finds the config file by walking up and applies flag > env > file > default', () => {
    const dir = project({
      'mlpipe.config.yaml':
        'project: movies\ntarget: aws\nregion: eu-west-1\nprefixes:\n  raw: incoming/\nlocal:\n  dataDir: state\n',
      'sub/deeper/.keep': '',
    });
    const cwd = path.join(dir, 'sub', 'deeper');
    assert.equal(findConfigFile(cwd), path.join(dir, 'mlpipe.config.yaml'));
    const fromFile = resolveSettings({}, { cwd, env: {} });
    assert.equal(fromFile.target.value, 'aws');
    assert.equal(fromFile.target.source, 'config');
    assert.equal(fromFile.region.value, 'eu-west-1');
    assert.equal(fromFile.bucket.value, 'movies-datalake');
    assert.equal(fromFile.prefixes.raw.value, 'incoming/');
    assert.equal(fromFile.stacks.etl.value, 'movies-etl');
    assert.equal(fromFile.local.dataDir.value, path.join(dir, 'state'), 'relative to the config file');
    const fromEnv = resolveSettings({}, { cwd, env: { MLPIPE_TARGET: 'local', AWS_REGION: 'ap-south-1' } });
    assert.equal(fromEnv.target.value, 'local');
    assert.equal(fromEnv.target.from, 'MLPIPE_TARGET');
    assert.equal(fromEnv.region.value, 'ap-south-1');
    const fromFlag = resolveSettings(
      { target: 'aws', region: 'us-west-2' },
      { cwd, env: { MLPIPE_TARGET: 'local' } },
    );
    assert.equal(fromFlag.target.value, 'aws');
    assert.equal(fromFlag.target.from, '--target');
    assert.equal(fromFlag.region.from, '--region');
  });

  it('leaves aws region, profile and endpoint to the SDK chain when unset', () => {
    const s = resolveSettings({ target: 'aws' }, { cwd: project({}), env: {} });
    assert.equal(s.region.value, undefined);
    assert.equal(s.region.source, 'sdk');
    assert.equal(s.profile.value, undefined);
    const withEnv = resolveSettings(
      { target: 'aws' },
      { cwd: project({}), env: { AWS_PROFILE: 'prod', AWS_ENDPOINT_URL: 'http://localhost:9000' } },
    );
    assert.equal(withEnv.profile.value, 'prod');
    assert.equal(withEnv.endpointUrl.value, 'http://localhost:9000');
    // The local target finds its own endpoint and credentials, whatever AWS_* says.
    const local = resolveSettings(
      {},
      { cwd: project({}), env: { AWS_PROFILE: 'prod', AWS_ENDPOINT_URL: 'http://x:1' } },
    );
    assert.equal(local.profile.value, undefined);
    assert.equal(local.endpointUrl.value, undefined);
  });

  it('rejects an unknown target with a usage error naming its source', () => {
    assert.throws(
      () => resolveSettings({}, { cwd: project({}), env: { MLPIPE_TARGET: 'azure' } }),
      (error: unknown) =>
        error instanceof MlpipeError &&
        error.exit === 2 &&
        error.message === 'Unknown target "azure" (from MLPIPE_TARGET). Expected one of: local, aws.',
    );
  });

  it('names the file and the key for unknown keys and bad values', () => {
    const dir = project({
      'mlpipe.config.json': JSON.stringify({ buckett: 'x', prefixes: { raw: '/raw' } }),
    });
    assert.throws(
      () => resolveSettings({}, { cwd: dir, env: {} }),
      (error: unknown) =>
        error instanceof MlpipeError &&
        error.message.startsWith(`Config file ${path.join(dir, 'mlpipe.config.json')} is invalid:`) &&
        error.message.includes('unknown key "buckett"') &&
        error.message.includes('"prefixes.raw" must not start with "/"'),
    );
  });

  it('names the line of a YAML syntax error and the problem in bad JSON', () => {
    const yamlDir = project({ 'mlpipe.config.yml': 'project: a\nregion: [unclosed\n' });
    assert.throws(
      () => resolveSettings({}, { cwd: yamlDir, env: {} }),
      (error: unknown) =>
        error instanceof MlpipeError && /mlpipe\.config\.yml, line \d+ is not valid YAML/.test(error.message),
    );
    const jsonDir = project({ 'mlpipe.config.json': '{"project": ' });
    assert.throws(
      () => resolveSettings({}, { cwd: jsonDir, env: {} }),
      (error: unknown) => error instanceof MlpipeError && error.message.includes('is not valid JSON'),
    );
  });

  it('describes every setting with its origin', () => {
    const rows = describeSettings(resolveSettings({ target: 'local' }, { cwd: project({}), env: {} }));
    const target = rows.find((r) => r.key === 'target');
    assert.deepEqual(target, { key: 'target', value: 'local', from: '--target' });
    assert.ok(rows.some((r) => r.key === 'prefixes.recommendations' && r.value === 'recommendations/'));
    assert.ok(rows.some((r) => r.key === 'local.port' && r.value === 4577));
  });

  it('refuses a region AWS does not have, from any source, and names the nearest one', () => {
    const cwd = project({});
    const refused = (overrides: Record<string, string>, env: NodeJS.ProcessEnv, dir = cwd): MlpipeError => {
      try {
        resolveSettings(overrides, { cwd: dir, env });
      } catch (error) {
        assert.ok(error instanceof MlpipeError);
        return error;
      }
      assert.fail('accepted');
    };
    const flag = refused({ region: 'frankfurt' }, {});
    assert.equal(flag.exit, 2);
    assert.equal(flag.code, 'BAD_REGION');
    assert.equal(
      flag.message,
      '"frankfurt" (from --region) is not an AWS region: the nearest is eu-central-1, Europe (Frankfurt)',
    );
    assert.match(
      refused({}, { AWS_REGION: 'eu-centrl-1' }).message,
      /AWS_REGION\) .* nearest is eu-central-1/,
    );
    assert.match(
      refused({}, { AWS_DEFAULT_REGION: 'tokyo' }).message,
      /nearest is ap-northeast-1, Asia Pacific \(Tokyo\)/,
    );
    const file = refused({}, {}, project({ 'mlpipe.config.json': '{"region": "us-east1"}' }));
    assert.match(file.message, /"region" is not an AWS region: the nearest is us-east-1/);
    // Listed regions, other partitions, and a region newer than the SDK's list are accepted.
    for (const region of ['eu-central-1', 'us-gov-west-1', 'cn-north-1', 'sa-north-5'])
      assert.equal(resolveSettings({ region }, { cwd, env: {} }).region.value, region);
  });
});

describe('the training section', () => {
  const personalizeParameters = (settings: ReturnType<typeof resolveSettings>): Record<string, string> =>
    STACKS.find((d) => d.key === 'personalize')!.parameters(settings);

  it('defaults to aws-user-personalization without HPO, named after the project and recipe', () => {
    const s = resolveSettings({}, { cwd: project({}), env: {} });
    assert.equal(s.training.recipe.value, 'aws-user-personalization');
    assert.equal(s.training.hpo.value, false);
    assert.deepEqual(s.training.hyperparameters, {});
    assert.deepEqual(personalizeParameters(s), {
      ProjectName: 'mlpipe',
      DataLakeStackName: 'mlpipe-datalake',
      SolutionName: 'mlpipe-personalization',
      SolutionRecipe: 'aws-user-personalization',
      PerformHPO: 'false',
      HiddenDimension: '',
      Bptt: '',
      RecencyMask: '',
      ExplorationWeight: '',
      ExplorationItemAgeCutOff: '',
      PopularityDiscountFactor: '',
    });
  });

  it('passes the recipe, HPO and hyperparameters to the stack, and names the solution after them', () => {
    const cwd = project({
      'mlpipe.config.yaml':
        'project: films\ntraining:\n  hpo: true\n  hyperparameters:\n    hidden_dimension: 64\n    recency_mask: false\n    exploration_weight: 0.5\n',
    });
    const s = resolveSettings({}, { cwd, env: {} });
    const parameters = personalizeParameters(s);
    assert.deepEqual(
      [
        parameters.PerformHPO,
        parameters.HiddenDimension,
        parameters.RecencyMask,
        parameters.ExplorationWeight,
      ],
      ['true', '64', 'false', '0.5'],
    );
    assert.match(parameters.SolutionName!, /^films-personalization-[0-9a-f]{5}$/);
    assert.equal(
      parameters.SolutionName,
      solutionName('films', {
        recipe: 'aws-user-personalization',
        hpo: true,
        hyperparameters: { recency_mask: 'false', exploration_weight: '0.5', hidden_dimension: '64' },
      }),
      'the name does not depend on the order of the keys',
    );
    assert.notEqual(
      parameters.SolutionName,
      solutionName('films', {
        recipe: 'aws-user-personalization',
        hpo: false,
        hyperparameters: { hidden_dimension: '64' },
      }),
    );
    const rows = describeSettings(s);
    assert.ok(rows.some((r) => r.key === 'training.hyperparameters.hidden_dimension' && r.value === '64'));
    assert.ok(rows.some((r) => r.key === 'training.hpo' && r.value === 'true'));
    assert.equal(
      solutionName('a'.repeat(41), { recipe: 'aws-user-personalization', hpo: true, hyperparameters: {} })
        .length,
      63,
    );
  });

  it('refuses hyperparameters out of range, of another recipe, unknown ones, and HPO without aws-user-personalization', () => {
    const refused = (yaml: string, message: RegExp): void =>
      assert.throws(
        () => resolveSettings({}, { cwd: project({ 'mlpipe.config.yaml': yaml }), env: {} }),
        (error: unknown) => error instanceof MlpipeError && message.test(error.message),
        yaml,
      );
    refused(
      'training:\n  hyperparameters:\n    hidden_dimension: 8\n',
      /"training\.hyperparameters\.hidden_dimension" Too small: expected number to be >=32/,
    );
    refused(
      'training:\n  hyperparameters:\n    hidden_dimensions: 64\n',
      /unknown key "hidden_dimensions" in "training\.hyperparameters"/,
    );
    refused('training:\n  recipe: aws-sims\n', /"training\.recipe" Invalid option/);
    refused(
      'training:\n  recipe: aws-popularity-count\n  hyperparameters:\n    hidden_dimension: 64\n',
      /"training\.hyperparameters\.hidden_dimension" is a hyperparameter of aws-user-personalization, but the recipe is aws-popularity-count/,
    );
    refused(
      'training:\n  recipe: aws-similar-items\n  hpo: true\n',
      /"training\.hpo" searches hyperparameters of aws-user-personalization, but the recipe is aws-similar-items/,
    );
  });
});
