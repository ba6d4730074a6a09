// One server per data dir, always: stop racing start, reset racing writes, starts after kill -9
// (zombie and reused pids), and racing starters on a stale lock — real server processes and the CLI.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { PassThrough } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  CreateBucketCommand,
} from '@aws-sdk/client-s3';
import { runCli } from '../helpers/cli.js';
import { acquireDirLock, lockHolder, processIdentity } from '../../src/local/data-dir-lock.js';
import { readServerInfo, removeStackData } from '../../src/local/contract.js';
import { sdkError } from '../helpers/sdk.js';

const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };
/** The built server (npm test builds first), as `mlpipe local start` runs it. */
const SERVER = fileURLToPath(new URL('../../dist/local/main.js', import.meta.url));
/** Racing starters per trial and trials (MLPIPE_RACE_RACERS / MLPIPE_RACE_TRIALS to measure more). */
const RACERS = Number(process.env.MLPIPE_RACE_RACERS ?? 24);
const TRIALS = Number(process.env.MLPIPE_RACE_TRIALS ?? 1);

const cleanups: Array<() => Promise<unknown> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function newProject(): { dir: string; dataDir: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-lifecycle-'));
  cleanups.push(() => runCli(['local', 'stop'], { cwd: dir, env }));
  return { dir, dataDir: path.join(dir, '.mlpipe', 'local') };
}

/** Polls `check` until it holds (events seen through the file system or a process table). */
async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function logOf(dataDir: string): string {
  try {
    return readFileSync(path.join(dataDir, 'server.log'), 'utf8');
  } catch {
    return '';
  }
}

async function s3For(dir: string): Promise<S3Client> {
  const result = await runCli(['local', 'env', '--json'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  const local = JSON.parse(result.stdout) as Record<string, string>;
  const client = new S3Client({
    endpoint: local.AWS_ENDPOINT_URL,
    region: local.AWS_REGION,
    credentials: { accessKeyId: local.AWS_ACCESS_KEY_ID!, secretAccessKey: local.AWS_SECRET_ACCESS_KEY! },
    forcePathStyle: true,
  });
  cleanups.push(() => client.destroy());
  return client;
}

interface Status {
  running: boolean;
  pid: number | null;
}

async function status(dir: string): Promise<Status> {
  const result = await runCli(['local', 'status', '--json'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Status;
}

/** A pid that certainly names no process: one that has just exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

describe('local stack lifecycle', () => {
  it('a stop racing a start never removes the new server’s record (issue 10, item 1)', async () => {
    const { dir, dataDir } = newProject();
    const first = await runCli(['local', 'start', '--json'], { cwd: dir, env });
    assert.equal(first.code, 0, first.stderr);
    const firstPid = (JSON.parse(first.stdout) as { pid: number }).pid;
    const stopping = runCli(['local', 'stop'], { cwd: dir, env });
    // The old server has dropped its record and is closing: now a start races the stop.
    await waitFor('the first server to begin shutting down', () =>
      logOf(dataDir).includes('received SIGTERM'),
    );
    const second = await runCli(['local', 'start', '--json'], { cwd: dir, env });
    assert.equal((await stopping).code, 0);
    assert.equal(second.code, 0, second.stderr);
    const secondPid = (JSON.parse(second.stdout) as { pid: number }).pid;
    assert.notEqual(secondPid, firstPid);

    const now = await status(dir);
    assert.equal(now.running, true, 'status finds the new server');
    assert.equal(now.pid, secondPid);
    assert.equal(readServerInfo(dataDir)?.pid, secondPid);
    assert.equal(lockHolder(path.join(dataDir, 'server.lock'))?.pid, secondPid);
    const envResult = await runCli(['local', 'env', '--json'], { cwd: dir, env });
    assert.equal(envResult.code, 0, envResult.stderr);
    const stop = await runCli(['local', 'stop', '--json'], { cwd: dir, env });
    assert.deepEqual(JSON.parse(stop.stdout), { dataDir, wasRunning: true, pid: secondPid });
  });

  it('a start while a reset of the stopped stack holds the data dir waits, and its writes are kept (item 2)', async () => {
    const { dir, dataDir } = newProject();
    const s3 = await s3For(dir);
    await s3.send(new CreateBucketCommand({ Bucket: 'before-reset' }));
    assert.equal((await runCli(['local', 'stop'], { cwd: dir, env })).code, 0);

    // This test process plays the reset: it holds the lock while it empties the data dir.
    const lock = acquireDirLock(path.join(dataDir, 'server.lock'), 'reset');
    assert.ok(lock.acquired);
    const starting = runCli(['local', 'env', '--json'], { cwd: dir, env });
    await waitFor('the new server to wait for the reset', () =>
      logOf(dataDir).includes('waiting for the reset of this data dir'),
    );
    assert.equal(readServerInfo(dataDir), undefined, 'no server serves while the reset runs');
    await removeStackData(dataDir);
    lock.release();
    const started = await starting;
    assert.equal(started.code, 0, started.stderr);

    const after = await s3For(dir);
    assert.equal(
      (await sdkError(after.send(new HeadBucketCommand({ Bucket: 'before-reset' })))).name,
      'NotFound',
    );
    await after.send(new CreateBucketCommand({ Bucket: 'after-reset' }));
    await after.send(new PutObjectCommand({ Bucket: 'after-reset', Key: 'kept', Body: 'kept\n' }));
    assert.equal((await runCli(['local', 'stop'], { cwd: dir, env })).code, 0);
    const again = await s3For(dir);
    const object = await again.send(new GetObjectCommand({ Bucket: 'after-reset', Key: 'kept' }));
    assert.equal(await object.Body?.transformToString(), 'kept\n');
  });

  it('a running stack resets itself: writes in flight finish first, writes arriving meanwhile wait and are kept (item 2)', async () => {
    const { dir, dataDir } = newProject();
    const s3 = await s3For(dir);
    await s3.send(new CreateBucketCommand({ Bucket: 'lake' }));
    await s3.send(new PutObjectCommand({ Bucket: 'lake', Key: 'old', Body: 'old\n' }));
    const before = readServerInfo(dataDir)!;

    // An upload whose body is still arriving when the reset begins.
    const slowBody = new PassThrough();
    slowBody.write('first half, ');
    const inFlight = s3.send(
      new PutObjectCommand({ Bucket: 'lake', Key: 'in-flight', Body: slowBody, ContentLength: 24 }),
    );
    const tmpDir = path.join(dataDir, 's3', 'tmp');
    await waitFor('the upload to reach the server', () => readdirSync(tmpDir).length > 0);
    const resetting = runCli(['local', 'reset', '--yes', '--json'], { cwd: dir, env });
    await waitFor('the reset to wait for the upload', () =>
      logOf(dataDir).includes('reset: waiting for 1 request(s) in flight'),
    );
    // Sent while the reset runs: it waits for the reset, then lands in the empty stack.
    const meanwhile = s3.send(new CreateBucketCommand({ Bucket: 'created-during-reset' }));
    slowBody.end('second half\n');
    await inFlight;
    const reset = await resetting;
    assert.equal(reset.code, 0, reset.stderr);
    assert.equal((JSON.parse(reset.stdout) as { restarted: boolean }).restarted, true);
    await meanwhile;

    const info = readServerInfo(dataDir)!;
    assert.equal(info.pid, before.pid, 'the same server kept serving');
    assert.equal(info.endpoint, before.endpoint);
    assert.equal((await sdkError(s3.send(new HeadBucketCommand({ Bucket: 'lake' })))).name, 'NotFound');
    await s3.send(new HeadBucketCommand({ Bucket: 'created-during-reset' }));
    assert.equal((await runCli(['local', 'stop'], { cwd: dir, env })).code, 0);
    const again = await s3For(dir);
    await again.send(new HeadBucketCommand({ Bucket: 'created-during-reset' }));
  });

  it('starts right after kill -9, while the killed server is an unreaped zombie (item 3)', async (t) => {
    if (process.platform !== 'linux') return t.skip('zombies are observed through /proc (Linux only)');
    const { dir, dataDir } = newProject();
    mkdirSync(dataDir, { recursive: true });
    // A parent that never reaps: the server it starts stays a zombie once killed.
    const parent = spawn(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${SERVER}" --data-dir "${dataDir}" --port 0 >/dev/null 2>&1 & echo $!; exec sleep 600`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    cleanups.push(() => void parent.kill('SIGKILL'));
    const pid = await new Promise<number>((resolve) =>
      parent.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
    await waitFor('the server to listen', () => readServerInfo(dataDir)?.pid === pid);
    process.kill(pid, 'SIGKILL');
    await waitFor('the server to become a zombie', () =>
      /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')),
    );
    assert.equal(lockHolder(path.join(dataDir, 'server.lock')), undefined, 'a zombie holds no lock');
    const start = await runCli(['local', 'start', '--json'], { cwd: dir, env });
    assert.equal(start.code, 0, start.stderr);
    const info = JSON.parse(start.stdout) as { pid: number; alreadyRunning: boolean };
    assert.equal(info.alreadyRunning, false);
    assert.notEqual(info.pid, pid);
    assert.equal((await status(dir)).pid, info.pid);
  });

  it('starts when the lock names a pid now used by another process (item 3)', async () => {
    const { dir, dataDir } = newProject();
    const lockDir = path.join(dataDir, 'server.lock');
    mkdirSync(lockDir, { recursive: true });
    // This very test process stands in for a process that reused the dead server's pid.
    const self = processIdentity(process.pid)!;
    writeFileSync(
      path.join(lockDir, '7.lock'),
      JSON.stringify({ ...self, startTime: `${self.startTime ?? ''}0`, role: 'server', acquiredAt: '' }),
    );
    const start = await runCli(['local', 'start', '--json'], { cwd: dir, env });
    assert.equal(start.code, 0, start.stderr);
    const info = JSON.parse(start.stdout) as { pid: number };
    assert.equal(lockHolder(lockDir)?.pid, info.pid);
    assert.equal(lockHolder(lockDir)?.generation, 8);
    assert.ok(!existsSync(path.join(lockDir, '7.lock')), 'the stale generation is cleared');
  });

  it(`lets exactly one of ${RACERS} racing servers through a stale lock, in each of ${TRIALS} trials (item 3)`, async (t) => {
    let doubles = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-race-'));
      const lockDir = path.join(dataDir, 'server.lock');
      mkdirSync(lockDir);
      writeFileSync(
        path.join(lockDir, '1.lock'),
        JSON.stringify({ pid: deadPid(), role: 'server', acquiredAt: new Date().toISOString() }),
      );
      const racers: Array<{
        child: ChildProcess;
        output: string;
        listening: boolean;
        exit: Promise<number | null>;
      }> = [];
      for (let i = 0; i < RACERS; i++) {
        const child = spawn(process.execPath, [SERVER, '--data-dir', dataDir, '--port', '0'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const racer = {
          child,
          output: '',
          listening: false,
          exit: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))),
        };
        // The whole output, not each chunk: a line may arrive in two.
        const collect = (d: Buffer): void => {
          racer.output += d.toString();
          if (racer.output.includes('listening on')) racer.listening = true;
        };
        child.stdout!.on('data', collect);
        child.stderr!.on('data', collect);
        racers.push(racer);
      }
      // Every racer either serves or has given up.
      try {
        await waitFor(
          `every racer of trial ${trial + 1} to settle`,
          () => racers.every((r) => r.listening || r.child.exitCode !== null),
          180_000,
        );
      } catch (error) {
        const stuck = racers
          .filter((r) => !r.listening && r.child.exitCode === null)
          .map((r) => `pid ${r.child.pid}: ${JSON.stringify(r.output.slice(-400))}`);
        for (const r of racers) r.child.kill('SIGKILL');
        assert.fail(
          `${(error as Error).message}; still running, not listening: ${stuck.join('; ')}; lock: ${JSON.stringify(lockHolder(lockDir))}`,
        );
      }
      const serving = racers.filter((r) => r.listening && r.child.exitCode === null);
      const losers = racers.filter((r) => !r.listening);
      if (serving.length !== 1) doubles++;
      // Measuring runs (MLPIPE_RACE_TRIALS=100) report each trial as it ends.
      if (process.env.MLPIPE_RACE_PROGRESS === '1')
        process.stderr.write(`race trial ${trial + 1}/${TRIALS}: ${serving.length} server(s)\n`);
      for (const loser of losers) assert.equal(loser.child.exitCode, 75, 'a loser exits with EXIT_LOCK_HELD');
      assert.equal(lockHolder(lockDir)?.pid, serving[0]?.child.pid);
      for (const r of serving) r.child.kill('SIGTERM');
      await Promise.all(racers.map((r) => r.exit));
      rmSync(dataDir, { recursive: true, force: true });
    }
    t.diagnostic(`${doubles} double server(s) in ${TRIALS} trials of ${RACERS} racers`);
    assert.equal(doubles, 0, `${doubles} of ${TRIALS} trials had more than one server`);
  });

  it('racing `mlpipe local start`s all succeed and agree on one server', async () => {
    const { dir, dataDir } = newProject();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => runCli(['local', 'start', '--json'], { cwd: dir, env })),
    );
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const pids = new Set(results.map((r) => (JSON.parse(r.stdout) as { pid: number }).pid));
    assert.equal(pids.size, 1, 'one server for the data dir');
    assert.equal(lockHolder(path.join(dataDir, 'server.lock'))?.pid, [...pids][0]);
  });
});

describe('a local stack started by another build of mlpipe', () => {
  it('is named with a warning and the restart to do, and not after the restart', async () => {
    // Another install of mlpipe (an older one still running after an upgrade): this checkout's
    // files with a build id of its own, in a folder of its own.
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const older = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-older-install-'));
    cleanups.push(() => rmSync(older, { recursive: true, force: true }));
    for (const entry of ['bin', 'dist', 'package.json', 'oclif.manifest.json'])
      cpSync(path.join(root, entry), path.join(older, entry), { recursive: true });
    symlinkSync(path.join(root, 'node_modules'), path.join(older, 'node_modules'));
    writeFileSync(path.join(older, 'dist', 'build.json'), '{"id":"0.1.0+0123456789ab","version":"0.1.0"}\n');
    const mine = (JSON.parse(readFileSync(path.join(root, 'dist', 'build.json'), 'utf8')) as { id: string })
      .id;

    const { dir } = newProject();
    const started = await runCli(['local', 'start'], {
      cwd: dir,
      env,
      bin: path.join(older, 'bin', 'run.js'),
    });
    assert.equal(started.code, 0, started.stderr);

    const stacks = await runCli(['stacks', '--json'], { cwd: dir, env });
    assert.equal(stacks.code, 0, stacks.stderr);
    const warning = stacks.stderr.replace(/\s+/g, ' ');
    assert.match(warning, /Warning: The local stack \(pid \d+\) was started by another build of mlpipe/);
    assert.ok(warning.includes(`(0.1.0+0123456789ab; this is ${mine})`), warning);
    assert.ok(warning.includes('`mlpipe local stop`'), warning);
    JSON.parse(stacks.stdout); // stdout stays the result alone
    const status = await runCli(['local', 'status'], { cwd: dir, env });
    assert.match(status.stdout, /build 0\.1\.0\+0123456789ab/);
    assert.match(status.stderr.replace(/\s+/g, ' '), /another build of mlpipe/);

    assert.equal((await runCli(['local', 'stop'], { cwd: dir, env })).code, 0);
    const again = await runCli(['stacks', '--json'], { cwd: dir, env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /Starting the local stack/);
    assert.doesNotMatch(again.stderr.replace(/\s+/g, ' '), /another build/);
    const later = await runCli(['stacks', '--json'], { cwd: dir, env });
    assert.doesNotMatch(later.stderr.replace(/\s+/g, ' '), /another build/);
    assert.match(
      (await runCli(['local', 'status'], { cwd: dir, env })).stdout,
      new RegExp(`build ${mine.replace('+', '\\+')}`),
    );
  });
});
