// End-to-end: bin/run.js as a subprocess, in a fresh project directory, the way a user runs it.
import assert from 'node:assert/strict';
import {
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { BIN, runCli, runCliInPty } from '../helpers/cli.js';
import { lockHolder } from '../../src/local/data-dir-lock.js';

// Port 0: every test project's stack picks a free port, so tests never collide with a running stack.
const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };

function newProject(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'mlpipe-e2e-'));
}

describe('mlpipe CLI', () => {
  it('lists every command with a summary in --help', async () => {
    const result = await runCli(['--help'], { cwd: newProject(), env });
    assert.equal(result.code, 0);
    for (const command of [
      'sample-data',
      'upload-raw',
      'config show',
      'local start',
      'local stop',
      'local status',
      'local logs',
      'local reset',
      'local env',
      'autocomplete',
      'train',
      'metrics',
      'solutions',
    ]) {
      assert.match(result.stdout, new RegExp(`\\b${command}\\b`), `--help mentions ${command}`);
    }
    // Read at 80 columns (the width off a terminal): the summary line too, which oclif never wraps.
    for (const line of result.stdout.split('\n'))
      assert.ok([...line].length <= 80, `--help fits 80 columns: "${line}"`);
    assert.match(result.stdout, /^DESCRIPTION\n {2}Raw MovieLens-style interactions/m);
    // Each command's `--help` opens with its summary, unwrapped: every summary fits 80 columns.
    const manifest = JSON.parse(readFileSync(path.join(BIN, '..', '..', 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { summary?: string }>;
    };
    for (const [id, command] of Object.entries(manifest.commands))
      assert.ok((command.summary ?? '').length <= 80, `${id}'s summary fits 80 columns: ${command.summary}`);
    const help = await runCli(['deploy', '--help'], { cwd: newProject(), env });
    assert.equal(help.code, 0);
    assert.ok(help.stdout.split('\n')[0]!.length <= 80, help.stdout.split('\n')[0]);
  });

  it('reports an unknown command with the closest commands (exit 2) and an unknown flag (exit 2)', async () => {
    const typo = await runCli(['uplod-raw'], { cwd: newProject(), env });
    assert.equal(typo.code, 2);
    assert.match(
      typo.errorText,
      /"uplod-raw" is not a mlpipe command\. → Did you mean `mlpipe upload-raw`\?/,
    );
    const topic = await runCli(['local', 'strat'], { cwd: newProject(), env });
    assert.equal(topic.code, 2);
    assert.match(
      topic.errorText,
      /"local strat" is not a mlpipe command\. → Did you mean `mlpipe local start`/,
    );
    const unknown = await runCli(['campaigns'], { cwd: newProject(), env });
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.errorText,
      /"campaigns" is not a mlpipe command\. → Run `mlpipe --help` for every command\./,
    );
    const json = await runCli(['destory', '--json'], { cwd: newProject(), env });
    assert.equal(json.code, 2);
    assert.deepEqual(JSON.parse(json.stdout), {
      error: {
        code: 'UNKNOWN_COMMAND',
        message: '"destory" is not a mlpipe command.',
        suggestions: ['Did you mean `mlpipe destroy`?', 'Run `mlpipe --help` for every command.'],
        exit: 2,
      },
    });
    const badFlag = await runCli(['upload-raw', '--bogus'], { cwd: newProject(), env });
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /Nonexistent flag: --bogus/);
    assert.doesNotMatch(badFlag.stderr, /Did you mean/, 'nothing close to --bogus');
    // A typo of a flag names the flag meant, on the terminal and under --json.
    const flagTypo = await runCli(['show-recs', '--usr', '75'], { cwd: newProject(), env });
    assert.equal(flagTypo.code, 2);
    assert.match(flagTypo.errorText, /Nonexistent flag: --usr .*Did you mean --user\?/);
    const typoJson = await runCli(['show-recs', '--lmit=3', '--json'], { cwd: newProject(), env });
    assert.equal(typoJson.code, 2);
    assert.deepEqual(
      (JSON.parse(typoJson.stdout) as { error: { suggestions: string[] } }).error.suggestions,
      ['Did you mean --limit?'],
    );
  });

  it('never runs another command for a typo on a terminal, whatever key is pressed', async () => {
    const dir = newProject();
    // The stock not-found plugin asked "Did you mean init? (Y/n)" here, and Enter ran init.
    const result = await runCliInPty(['campaigns'], {
      cwd: dir,
      env: { MLPIPE_LOCAL_PORT: '0' },
      steps: [{ expect: 'not a mlpipe command', send: '\r' }],
    });
    assert.equal(result.code, 2, result.text);
    assert.doesNotMatch(result.text, /Did you mean init/);
    assert.deepEqual(readdirSync(dir), [], 'nothing was run: no config file, no local stack');
  });

  it('under --json prints every error, flag errors included, as one small JSON document on stdout', async () => {
    const cases: Array<{ args: string[]; exit: number; code: string; message: RegExp }> = [
      {
        args: ['upload-raw', '--bogus', '--json'],
        exit: 2,
        code: 'USAGE',
        message: /^Nonexistent flag: --bogus$/,
      },
      {
        args: ['import', '--mode', 'x', '--json'],
        exit: 2,
        code: 'USAGE',
        message: /--mode=x to be one of: full, incremental/,
      },
      { args: ['deploy', '--timeout', 'soon', '--json'], exit: 2, code: 'USAGE', message: /--timeout/ },
      {
        args: ['upload-raw', 'nope.dat', '--json'],
        exit: 1,
        code: 'FILE_NOT_FOUND',
        message: /nope\.dat does not exist/,
      },
    ];
    for (const c of cases) {
      const result = await runCli(c.args, { cwd: newProject(), env });
      assert.equal(result.code, c.exit, `${c.args.join(' ')}: ${result.stderr}`);
      assert.ok(result.stdout.length < 2000, `${c.args.join(' ')}: ${result.stdout.length} bytes`);
      const parsed = JSON.parse(result.stdout) as { error: Record<string, unknown> };
      assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'exit', 'message', 'suggestions']);
      assert.equal(parsed.error.code, c.code);
      assert.equal(parsed.error.exit, c.exit);
      assert.match(String(parsed.error.message), c.message);
      assert.doesNotMatch(result.stderr, /USAGE|FLAGS/, 'no help text');
    }
  });

  it('refuses a region AWS does not have, naming the nearest, and writes nothing', async () => {
    const dir = newProject();
    const result = await runCli(['init', '--region', 'frankfurt'], { cwd: dir, env });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.errorText,
      /--region "frankfurt": "region" is not an AWS region: the nearest is eu-central-1, Europe \(Frankfurt\)/,
    );
    assert.deepEqual(readdirSync(dir), []);
  });

  it('fails at once, naming the path and the reason, when the data dir cannot be created', async () => {
    const dir = newProject();
    writeFileSync(path.join(dir, 'afile'), '');
    // /proc refuses new folders with ENOENT, on which a recursive mkdir used to loop for ever.
    const proc = await runCli(['stacks', '--data-dir', '/proc/nope'], { cwd: dir, env, timeoutMs: 30_000 });
    assert.equal(proc.code, 1, proc.stderr);
    assert.match(
      proc.errorText,
      /Cannot create the local stack's data dir \/proc\/nope: \/proc does not accept new folders \(ENOENT\)\./,
    );
    const file = await runCli(['local', 'start', '--data-dir', 'afile/state'], {
      cwd: dir,
      env,
      timeoutMs: 30_000,
    });
    assert.equal(file.code, 1, file.stderr);
    assert.match(file.errorText, /data dir .*afile\/state: .*afile is a file, not a folder\./);
  });

  it('finds the project root from any folder inside it, and says when a command would start a stack outside one', async () => {
    const dir = newProject();
    mkdirSync(path.join(dir, 'data', 'deeper'), { recursive: true });
    const outside = await runCli(['stacks', '--json'], { cwd: path.join(dir, 'data'), env });
    assert.equal(outside.code, 0, outside.stderr);
    assert.match(
      outside.errorText,
      new RegExp(`No mlpipe project in ${path.join(dir, 'data')} or above it .*creates a new local stack`),
    );
    await runCli(['local', 'stop'], { cwd: path.join(dir, 'data'), env });
    rmSync(path.join(dir, 'data', '.mlpipe'), { recursive: true, force: true });
    // The root has a local stack (.mlpipe/): every folder below finds it, and nothing is said.
    const started = await runCli(['local', 'start'], { cwd: dir, env });
    assert.equal(started.code, 0, started.stderr);
    try {
      for (const cwd of [path.join(dir, 'data'), path.join(dir, 'data', 'deeper')]) {
        const status = await runCli(['local', 'status', '--json'], { cwd, env });
        const parsed = JSON.parse(status.stdout) as { running: boolean; dataDir: string };
        assert.equal(parsed.dataDir, path.join(dir, '.mlpipe', 'local'), cwd);
        assert.equal(parsed.running, true);
        const stacks = await runCli(['stacks', '--json'], { cwd, env });
        assert.equal(stacks.code, 0, stacks.stderr);
        assert.doesNotMatch(stacks.stderr, /No mlpipe project|Starting the local stack/);
        const shown = JSON.parse((await runCli(['config', 'show', '--json'], { cwd, env })).stdout) as {
          projectDir: string;
          projectFound: string;
        };
        assert.deepEqual([shown.projectDir, shown.projectFound], [dir, 'mlpipe-dir']);
      }
      assert.ok(!existsSync(path.join(dir, 'data', '.mlpipe')), 'no second stack in data/');
      // A config file wins over a nearer .mlpipe/, and names the same root.
      writeFileSync(path.join(dir, 'mlpipe.config.json'), '{}');
      mkdirSync(path.join(dir, 'data', '.mlpipe'));
      const shown = JSON.parse(
        (await runCli(['config', 'show', '--json'], { cwd: path.join(dir, 'data'), env })).stdout,
      ) as { projectDir: string; projectFound: string };
      assert.deepEqual([shown.projectDir, shown.projectFound], [dir, 'config-file']);
    } finally {
      await runCli(['local', 'stop'], { cwd: dir, env });
    }
  });

  it('shows resolved settings and their sources with config show', async () => {
    const dir = newProject();
    writeFileSync(
      path.join(dir, 'mlpipe.config.json'),
      JSON.stringify({ project: 'films', region: 'eu-west-1' }),
    );
    const result = await runCli(['config', 'show', '--json'], {
      cwd: dir,
      env: { ...env, MLPIPE_TARGET: 'aws' },
    });
    assert.equal(result.code, 0, result.stderr);
    const parsed = JSON.parse(result.stdout) as {
      configFile: string;
      settings: Array<{ key: string; value: unknown; from: string }>;
    };
    const byKey = new Map(parsed.settings.map((s) => [s.key, s]));
    assert.equal(parsed.configFile, path.join(dir, 'mlpipe.config.json'));
    assert.deepEqual(byKey.get('target'), { key: 'target', value: 'aws', from: 'MLPIPE_TARGET' });
    assert.deepEqual(byKey.get('bucket'), { key: 'bucket', value: 'films-datalake', from: 'default' });
    assert.equal(byKey.get('region')?.from, path.join(dir, 'mlpipe.config.json'));
    const bad = await runCli(['config', 'show', '--target', 'gcp'], { cwd: dir, env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Expected --target=gcp to be one of: local, aws/);
  });

  describe('sample-data', () => {
    it('writes the small preset, refuses to overwrite, and overwrites with --force', async () => {
      const dir = newProject();
      const first = await runCli(['sample-data', '--small', '--json'], { cwd: dir, env });
      assert.equal(first.code, 0, first.stderr);
      const result = JSON.parse(first.stdout) as {
        ratingsFile: string;
        summary: { ratings: number; users: number };
      };
      assert.equal(result.summary.ratings, 50000);
      const ratings = readFileSync(path.join(dir, 'data', 'user_ratedmovies-timestamps.dat'), 'latin1').split(
        '\n',
      );
      assert.equal(ratings[0], 'userID\tmovieID\trating\ttimestamp');
      assert.equal(ratings.length, 50000 + 2, 'header + rows + final newline');
      assert.match(ratings[1]!, /^\d+\t\d+\t\d(\.5)?\t\d{13}$/);
      // The same command again is a no-op; other options would overwrite, so they need --force.
      const again = await runCli(['sample-data', '--small', '--json'], { cwd: dir, env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal((JSON.parse(again.stdout) as { written: boolean }).written, false);
      const other = await runCli(['sample-data', '--small', '--seed', '7'], { cwd: dir, env });
      assert.equal(other.code, 1);
      assert.match(other.errorText, /user_ratedmovies-timestamps\.dat and .*movies\.dat already exist/);
      assert.match(other.errorText, /--force/);
      const forced = await runCli(['sample-data', '--small', '--seed', '7', '--force'], { cwd: dir, env });
      assert.equal(forced.code, 0, forced.stderr);
      const reseeded = readFileSync(
        path.join(dir, 'data', 'user_ratedmovies-timestamps.dat'),
        'latin1',
      ).split('\n');
      assert.notDeepEqual(reseeded.slice(1, 50), ratings.slice(1, 50));
    });
  });

  describe('local stack and upload-raw', () => {
    let dir: string;
    before(async () => {
      dir = newProject();
      const generated = await runCli(
        ['sample-data', '--users', '300', '--items', '800', '--ratings', '12000'],
        { cwd: dir, env },
      );
      assert.equal(generated.code, 0, generated.stderr);
    });
    after(async () => {
      await runCli(['local', 'stop'], { cwd: dir, env });
      rmSync(dir, { recursive: true, force: true });
    });

    it('starts the stack and deploys the data lake on demand, uploads ratings and movies, prints the S3 URIs', async () => {
      const result = await runCli(['upload-raw', '--json'], { cwd: dir, env });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Starting the local stack/);
      assert.match(result.stderr, /target: local stack at http:\/\/127\.0\.0\.1:\d+/);
      const upload = JSON.parse(result.stdout) as {
        bucket: string;
        stackDeployed: boolean;
        interactions: { uri: string; size: number; etag: string };
        items: { uri: string } | null;
        genres: { uri: string } | null;
      };
      assert.equal(upload.bucket, 'mlpipe-datalake');
      assert.equal(upload.stackDeployed, true, 'the data-lake stack is deployed on first use');
      assert.match(result.stderr, /Deploying the data-lake stack mlpipe-datalake on the local stack first/);
      assert.equal(upload.interactions.uri, 's3://mlpipe-datalake/raw/user_ratedmovies-timestamps.dat');
      assert.equal(
        upload.interactions.size,
        readFileSync(path.join(dir, 'data', 'user_ratedmovies-timestamps.dat')).length,
      );
      assert.match(upload.interactions.etag, /^"[0-9a-f]{32}"$/);
      assert.equal(upload.items?.uri, 's3://mlpipe-datalake/raw/movies.dat');
      assert.equal(
        upload.genres?.uri,
        's3://mlpipe-datalake/raw/movie_genres.dat',
        'hetrec genres ride along',
      );

      const status = await runCli(['local', 'status', '--json'], { cwd: dir, env });
      const parsed = JSON.parse(status.stdout) as {
        running: boolean;
        services: { s3: { buckets: number; objects: number } };
      };
      assert.equal(parsed.running, true);
      assert.equal(parsed.services.s3.buckets, 1);
      assert.equal(parsed.services.s3.objects, 3);
    });

    it('says the stack is already running on a second start, and prints usable env lines', async () => {
      const start = await runCli(['local', 'start'], { cwd: dir, env });
      assert.equal(start.code, 0);
      assert.match(start.stdout, /already running at http:\/\/127\.0\.0\.1:\d+/);
      const envLines = await runCli(['local', 'env'], { cwd: dir, env });
      assert.match(envLines.stdout, /^export AWS_ENDPOINT_URL='http:\/\/127\.0\.0\.1:\d+'$/m);
      assert.match(envLines.stdout, /^export AWS_ACCESS_KEY_ID='AKIAMLPIPE[A-Z2-7]{10}'$/m);
      assert.match(envLines.stdout, /^export AWS_SECRET_ACCESS_KEY='.{40}'$/m);
      assert.match(envLines.stdout, /^export AWS_REGION='us-east-1'$/m);
    });

    it('refuses missing, empty, directory and non-interactions files with clear errors', async () => {
      const missing = await runCli(['upload-raw', 'nope.dat'], { cwd: dir, env });
      assert.equal(missing.code, 1);
      assert.match(missing.errorText, /The interactions file nope\.dat does not exist\./);
      assert.match(missing.errorText, /mlpipe sample-data/);
      writeFileSync(path.join(dir, 'empty.dat'), '');
      const empty = await runCli(['upload-raw', 'empty.dat'], { cwd: dir, env });
      assert.equal(empty.code, 1);
      assert.match(empty.errorText, /The interactions file empty\.dat is empty \(0 bytes\)\./);
      mkdirSync(path.join(dir, 'adir'), { recursive: true });
      const directory = await runCli(['upload-raw', 'adir'], { cwd: dir, env });
      assert.equal(directory.code, 1);
      assert.match(directory.errorText, /The interactions file adir is a directory; pass a file\./);
      const movies = await runCli(['upload-raw', 'data/movies.dat', '--json'], { cwd: dir, env });
      assert.equal(movies.code, 1);
      const error = JSON.parse(movies.stdout) as { error: { message: string; code: string } };
      assert.equal(error.error.code, 'NOT_INTERACTIONS');
      assert.match(error.error.message, /^data\/movies\.dat does not look like interactions data/);
      const forced = await runCli(
        [
          'upload-raw',
          'data/movies.dat',
          '--key',
          'raw/forced-movies.dat',
          '--items',
          'data/user_ratedmovies-timestamps.dat',
          '--force',
          '--json',
        ],
        {
          cwd: dir,
          env,
        },
      );
      assert.equal(forced.code, 0, forced.stderr);
    });

    it('keeps its data across stop and start, and reset --yes empties it', async () => {
      const stop = await runCli(['local', 'stop'], { cwd: dir, env });
      assert.match(stop.stdout, /Stopped the local stack \(pid \d+\)\./);
      const stopped = JSON.parse((await runCli(['local', 'status', '--json'], { cwd: dir, env })).stdout) as {
        running: boolean;
      };
      assert.equal(stopped.running, false);
      const start = await runCli(['local', 'start', '--json'], { cwd: dir, env });
      assert.equal((JSON.parse(start.stdout) as { alreadyRunning: boolean }).alreadyRunning, false);
      const status = JSON.parse((await runCli(['local', 'status', '--json'], { cwd: dir, env })).stdout) as {
        services: { s3: { objects: number } };
      };
      // ratings, movies, genres and forced-movies: the forced run's --items overwrote the ratings object.
      assert.equal(status.services.s3.objects, 4);
      const refused = await runCli(['local', 'reset'], { cwd: dir, env });
      assert.equal(refused.code, 2);
      assert.match(refused.errorText, /Pass --yes to confirm/);
      const reset = await runCli(['local', 'reset', '--yes', '--json'], { cwd: dir, env });
      assert.equal(reset.code, 0, reset.stderr);
      assert.equal((JSON.parse(reset.stdout) as { restarted: boolean }).restarted, true);
      const after = JSON.parse((await runCli(['local', 'status', '--json'], { cwd: dir, env })).stdout) as {
        services: { s3: { objects: number; buckets: number } };
      };
      assert.equal(after.services.s3.buckets, 0);
      const logs = await runCli(['local', 'logs', '--lines', '5'], { cwd: dir, env });
      assert.equal(logs.code, 0);
      assert.match(logs.stdout, /listening on http:\/\/127\.0\.0\.1:\d+/);
    });

    it('follows the log as requests arrive with local logs --follow', async () => {
      const follower = spawn(process.execPath, [BIN, 'local', 'logs', '--follow', '--lines', '0'], {
        cwd: dir,
        env: { ...process.env, ...env },
      });
      let seen = '';
      follower.stdout.on('data', (d: Buffer) => (seen += d.toString()));
      try {
        await new Promise((resolve) => setTimeout(resolve, 800));
        const listed = await runCli(['stacks', '--json'], { cwd: dir, env });
        assert.equal(listed.code, 0, listed.stderr);
        const deadline = Date.now() + 10_000;
        while (!/CloudFormation\.DescribeStacks|POST \/ 200/.test(seen) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.match(seen, /CloudFormation\.DescribeStacks|POST \/ 200/);
      } finally {
        follower.kill('SIGINT');
      }
    });

    it('detects a stale server record and starts a fresh server', async () => {
      await runCli(['local', 'stop'], { cwd: dir, env });
      const dataDir = path.join(dir, '.mlpipe', 'local');
      // A server that died without cleaning up: its records name a pid that no longer exists.
      writeFileSync(
        path.join(dataDir, 'server.json'),
        JSON.stringify({
          pid: 999999,
          port: 1,
          endpoint: 'http://127.0.0.1:1',
          dataDir,
          startedAt: new Date().toISOString(),
          version: 'x',
          host: '127.0.0.1',
        }),
      );
      // The lock an earlier version left: a plain file holding the dead server's pid.
      rmSync(path.join(dataDir, 'server.lock'), { recursive: true, force: true });
      writeFileSync(path.join(dataDir, 'server.lock'), '999999');
      const status = JSON.parse((await runCli(['local', 'status', '--json'], { cwd: dir, env })).stdout) as {
        running: boolean;
      };
      assert.equal(status.running, false);
      const start = await runCli(['local', 'start', '--json'], { cwd: dir, env });
      assert.equal(start.code, 0, start.stderr);
      const info = JSON.parse(start.stdout) as { pid: number; alreadyRunning: boolean };
      assert.equal(info.alreadyRunning, false);
      assert.notEqual(info.pid, 999999);
      assert.equal(lockHolder(path.join(dataDir, 'server.lock'))?.pid, info.pid);
      assert.ok(existsSync(path.join(dataDir, 'server.json')));
    });
  });
});
