// Installing mlpipe for use anywhere, as the README says: the packed tarball (what `npm pack`
// makes, and what `npm install -g .` installs) goes into a fresh global prefix, and `mlpipe` on
// that PATH works in a folder outside the clone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('installed for use anywhere', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-install-'));
    // dist/ is built by `npm test`'s pretest; the tarball is exactly what `npm pack` publishes.
    const packed = await run(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const tarball = path.join(tmp, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    const prefix = path.join(tmp, 'prefix');
    // The npm cache from installing the clone serves every dependency; the registry only if it does not.
    await run(
      NPM,
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { cwd: tmp, maxBuffer: 64 * 1024 * 1024 },
    );
    env = { ...process.env, PATH: `${path.join(prefix, 'bin')}${path.delimiter}${process.env.PATH ?? ''}` };
    for (const key of ['MLPIPE_TARGET', 'MLPIPE_LOCAL_DIR', 'MLPIPE_CONFIG', 'MLPIPE_LOCAL_PORT', 'COLUMNS'])
      delete env[key];
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('puts mlpipe on the PATH, and it works in a new folder', async () => {
    const version = await run('mlpipe', ['--version'], { env, cwd: tmp });
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.match(version.stdout, new RegExp(`^mlpipe/${pkg.version.replace(/\./g, '\\.')} `));
    const project = path.join(tmp, 'movies');
    mkdirSync(project);
    const init = await run('mlpipe', ['init', '--json'], { env, cwd: project });
    assert.equal(
      (JSON.parse(init.stdout) as { configFile: string }).configFile,
      path.join(project, 'mlpipe.config.json'),
    );
    assert.ok(existsSync(path.join(project, 'mlpipe.config.json')));
    const help = await run('mlpipe', ['deploy', '--help'], { env, cwd: project });
    assert.match(help.stdout, /Deploy the pipeline's stacks: show each change set/);
    // The templates and Glue assets ship in the package: a deploy plan works from the install.
    const planned = await run('mlpipe', ['deploy', '--no-execute', '--stack', 'datalake', '--json'], {
      env: { ...env, MLPIPE_LOCAL_PORT: '0', CI: 'true' },
      cwd: project,
    });
    assert.equal(
      (JSON.parse(planned.stdout) as { stacks: Array<{ result: string }> }).stacks[0]?.result,
      'change-set-created',
    );
    await run('mlpipe', ['local', 'stop'], { env, cwd: project });
  });
});
