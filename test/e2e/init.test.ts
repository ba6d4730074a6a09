// End-to-end: `mlpipe init` run as a subprocess (bin/run.js, built) in fresh project directories.
// No terminal is attached, so init never prompts: flags and defaults only.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';

const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };
const PACKAGE_TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));

function newProject(name = 'mlpipe-init-'): string {
  return mkdtempSync(path.join(os.tmpdir(), name));
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

interface InitJson {
  configFile: string;
  config: Record<string, unknown>;
  templatesCopied: string[];
}

describe('mlpipe init', () => {
  it('writes mlpipe.config.json from the flags, and prints it with the next steps', async () => {
    const dir = newProject();
    const result = await runCli(
      [
        'init',
        '--project',
        'movies',
        '--bucket',
        'movies-lake-1',
        '--region',
        'eu-west-1',
        '--target',
        'aws',
      ],
      { cwd: dir, env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readJson(path.join(dir, 'mlpipe.config.json')), {
      project: 'movies',
      target: 'aws',
      region: 'eu-west-1',
      bucket: 'movies-lake-1',
    });
    assert.match(result.stdout, /Wrote mlpipe\.config\.json/);
    for (const next of [
      'mlpipe deploy',
      'mlpipe sample-data',
      'mlpipe upload-raw',
      'mlpipe start-pipeline --wait',
      'mlpipe show-recs --user 75',
    ])
      assert.ok(result.stdout.includes(`  ${next} `), next);
    assert.match(result.stdout, /s3:\/\/movies-lake-1\/raw\//);
    assert.match(result.stdout, /create the pipeline's stacks on AWS \(eu-west-1\)/);
    // demo runs only on the local stack, so it is not offered for an AWS project.
    assert.doesNotMatch(result.stdout, /mlpipe demo/);
    for (const line of result.stdout.split('\n')) assert.ok(line.length <= 80, `fits 80 columns: "${line}"`);
  });

  it("defaults to the directory's name, the local target, us-east-1 and <project>-datalake", async () => {
    const parent = newProject();
    const dir = path.join(parent, 'My Movies_2');
    mkdirSync(dir);
    const result = await runCli(['init'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readJson(path.join(dir, 'mlpipe.config.json')), {
      project: 'my-movies-2',
      target: 'local',
      region: 'us-east-1',
      bucket: 'my-movies-2-datalake',
    });
    assert.match(result.stdout, /create the pipeline's stacks locally/);
    assert.match(result.stdout, /^Or all of it at once: mlpipe demo$/m);
  });

  it('suggests a globally unique bucket name for the aws target', async () => {
    const dir = newProject();
    const result = await runCli(['init', '--project', 'films', '--target', 'aws', '--json'], {
      cwd: dir,
      env,
    });
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as InitJson;
    assert.match(String(parsed.config.bucket), /^films-datalake-[0-9a-f]{8}$/);
  });

  it('returns {configFile, config, templatesCopied} as the only thing on stdout with --json', async () => {
    const dir = newProject();
    const result = await runCli(['init', '--project', 'movies', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as InitJson;
    assert.deepEqual(parsed, {
      configFile: path.join(dir, 'mlpipe.config.json'),
      config: { project: 'movies', target: 'local', region: 'us-east-1', bucket: 'movies-datalake' },
      templatesCopied: [],
    });
  });

  it('refuses to overwrite an existing config file without --force, and overwrites with it', async () => {
    const dir = newProject();
    const original = '{"project": "keep"}\n';
    writeFileSync(path.join(dir, 'mlpipe.config.json'), original);
    const refused = await runCli(['init', '--project', 'movies'], { cwd: dir, env });
    assert.equal(refused.code, 1);
    assert.match(refused.errorText, /mlpipe\.config\.json already exists in .*; not overwriting\./);
    assert.match(refused.errorText, /--force/);
    assert.equal(readFileSync(path.join(dir, 'mlpipe.config.json'), 'utf8'), original);

    const yamlDir = newProject();
    writeFileSync(path.join(yamlDir, 'mlpipe.config.yaml'), 'project: keep\n');
    const refusedYaml = await runCli(['init', '--json'], { cwd: yamlDir, env });
    assert.equal(refusedYaml.code, 1);
    const error = JSON.parse(refusedYaml.stdout) as { error: { code: string; message: string } };
    assert.equal(error.error.code, 'CONFIG_EXISTS');
    assert.match(error.error.message, /mlpipe\.config\.yaml already exists/);
    assert.equal(existsSync(path.join(yamlDir, 'mlpipe.config.json')), false);

    const forced = await runCli(['init', '--project', 'movies', '--force'], { cwd: dir, env });
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((readJson(path.join(dir, 'mlpipe.config.json')) as { project: string }).project, 'movies');
  });

  it("reports a bad value with the config schema's rule, naming the flag and field, and writes nothing", async () => {
    const dir = newProject();
    const badProject = await runCli(['init', '--project', 'Bad_Name'], { cwd: dir, env });
    assert.equal(badProject.code, 2);
    assert.match(
      badProject.errorText,
      /Invalid --project "Bad_Name": "project" must be lower-case letters, digits and "-", at most 41 characters\./,
    );
    assert.doesNotMatch(badProject.errorText, /--bucket/, 'the derived bucket name is not blamed');

    const badBucket = await runCli(['init', '--bucket', 'x', '--json'], { cwd: dir, env });
    assert.equal(badBucket.code, 2);
    const error = JSON.parse(badBucket.stdout) as { error: { code: string; message: string } };
    assert.equal(error.error.code, 'CONFIG_INVALID');
    assert.match(error.error.message, /--bucket "x": "bucket" must be a valid S3 bucket name/);

    const badTarget = await runCli(['init', '--target', 'gcp'], { cwd: dir, env });
    assert.equal(badTarget.code, 2);
    assert.match(badTarget.stderr, /Expected --target=gcp to be one of: local, aws/);
    assert.deepEqual(readdirSync(dir), [], 'nothing was written');
  });

  it('copies the packaged templates with --templates, refusing to overwrite them without --force', async () => {
    const shipped = readdirSync(PACKAGE_TEMPLATES)
      .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
      .sort();
    assert.ok(shipped.includes('datalake.yaml'));

    const dir = newProject();
    const result = await runCli(['init', '--project', 'movies', '--templates', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as InitJson;
    assert.deepEqual(
      parsed.templatesCopied,
      shipped.map((name) => path.join(dir, 'templates', name)),
    );
    for (const name of shipped) {
      assert.equal(
        readFileSync(path.join(dir, 'templates', name), 'utf8'),
        readFileSync(path.join(PACKAGE_TEMPLATES, name), 'utf8'),
        name,
      );
    }

    // An edited copy is never overwritten by accident.
    writeFileSync(path.join(dir, 'templates', 'datalake.yaml'), '# mine\n');
    const forced = await runCli(['init', '--force', '--templates', 'templates'], { cwd: dir, env });
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(readFileSync(path.join(dir, 'templates', 'datalake.yaml'), 'utf8'), '# mine\n');

    const other = newProject();
    mkdirSync(path.join(other, 'cfn'));
    writeFileSync(path.join(other, 'cfn', 'datalake.yaml'), '# mine\n');
    const clash = await runCli(['init', '--templates', 'cfn'], { cwd: other, env });
    assert.equal(clash.code, 1);
    assert.match(clash.errorText, /cfn\/datalake\.yaml already exists; not overwriting\./);
    assert.equal(readFileSync(path.join(other, 'cfn', 'datalake.yaml'), 'utf8'), '# mine\n');
    assert.equal(existsSync(path.join(other, 'mlpipe.config.json')), false, 'nothing was written');

    const text = await runCli(['init', '--templates', 'templates'], { cwd: newProject(), env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Copied \d+ templates? to templates\/: .*datalake\.yaml/);
    assert.match(text.stdout, /`mlpipe deploy` will use \.\/templates/);
  });

  it('is what `config show` reports afterwards', async () => {
    const dir = newProject();
    const init = await runCli(
      ['init', '--project', 'films', '--bucket', 'films-lake-42', '--region', 'eu-central-1'],
      { cwd: dir, env },
    );
    assert.equal(init.code, 0, init.stderr);
    // Empty region variables count as unset, so the file's region shows through.
    const show = await runCli(['config', 'show', '--json'], {
      cwd: dir,
      env: { ...env, AWS_REGION: '', AWS_DEFAULT_REGION: '' },
    });
    assert.equal(show.code, 0, show.stderr);
    const parsed = JSON.parse(show.stdout) as {
      configFile: string;
      settings: Array<{ key: string; value: unknown; from: string }>;
    };
    const configFile = path.join(dir, 'mlpipe.config.json');
    assert.equal(parsed.configFile, configFile);
    const byKey = new Map(parsed.settings.map((s) => [s.key, s]));
    assert.deepEqual(byKey.get('project'), { key: 'project', value: 'films', from: configFile });
    assert.deepEqual(byKey.get('target'), { key: 'target', value: 'local', from: configFile });
    assert.deepEqual(byKey.get('bucket'), { key: 'bucket', value: 'films-lake-42', from: configFile });
    assert.deepEqual(byKey.get('stacks.datalake'), {
      key: 'stacks.datalake',
      value: 'films-datalake',
      from: 'default',
    });
    assert.deepEqual(byKey.get('region'), { key: 'region', value: 'eu-central-1', from: configFile });
  });
});
