// Ctrl-C on a terminal, through a pseudo-terminal as a person presses it: waiting stops at once,
// the job goes on where the service keeps running it, the command that re-attaches is printed and
// the exit code is 130; an interrupted upload leaves no object and no multipart upload behind.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { localS3Client, runCli, runCliInPty } from '../helpers/cli.js';

const env = { MLPIPE_LOCAL_PORT: '0' };
const CTRL_C = '\u0003';

describe('Ctrl-C while a command waits', () => {
  let dir: string;
  let s3: S3Client;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-interrupt-'));
    // hetrec-size data: a multipart upload, and an ETL run and an import that take a while.
    const generated = await runCli(['sample-data'], { cwd: dir, env: { ...env, CI: 'true' } });
    assert.equal(generated.code, 0, generated.stderr);
    const deployed = await runCli(['deploy', '--yes'], { cwd: dir, env: { ...env, CI: 'true' } });
    assert.equal(deployed.code, 0, deployed.stderr);
    s3 = await localS3Client(dir, { ...env, CI: 'true' });
  });
  after(async () => {
    s3.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
    rmSync(dir, { recursive: true, force: true });
  });

  it('upload-raw aborts its multipart upload: no object, no upload left', async () => {
    // 12 parts of 8 MiB, four at a time: Ctrl-C once the first part is in, with the rest in flight.
    const row = '1\t2\t3.5\t1200000000000\n';
    writeFileSync(
      path.join(dir, 'big.dat'),
      `userID\tmovieID\trating\ttimestamp\n${row.repeat(Math.ceil((96 * 1024 * 1024) / row.length))}`,
    );
    const result = await runCliInPty(['upload-raw', 'big.dat'], {
      cwd: dir,
      env,
      steps: [{ expect: 'Uploading big\\.dat \\S+\\s+([1-9]\\d?)%', send: CTRL_C }],
    });
    assert.equal(result.stepsDone, 1, result.text);
    assert.equal(result.code, 130, result.text);
    assert.match(
      result.text,
      /Upload of big\.dat to s3:\/\/mlpipe-datalake\/raw\/big\.dat interrupted; nothing was written there \(the multipart upload was aborted\)\./,
    );
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mlpipe-datalake' }));
    assert.deepEqual(uploads.Uploads ?? [], [], 'no multipart upload is left');
    await assert.rejects(
      s3.send(new HeadObjectCommand({ Bucket: 'mlpipe-datalake', Key: 'raw/big.dat' })),
      /NotFound/,
    );
  });

  it('run-etl stops waiting, prints how to re-attach and exits 130; the run goes on', async () => {
    const uploaded = await runCli(['upload-raw'], { cwd: dir, env: { ...env, CI: 'true' } });
    assert.equal(uploaded.code, 0, uploaded.stderr);
    const result = await runCliInPty(['run-etl'], {
      cwd: dir,
      env,
      steps: [{ expect: 'RUNNING', send: CTRL_C }],
    });
    assert.equal(result.code, 130, result.text);
    assert.match(result.text, /still running; it goes on/);
    const reattach = /`mlpipe (run-etl --run-id jr_[0-9a-f]{64})`/.exec(result.text);
    assert.ok(reattach, `the re-attach command is printed:\n${result.text}`);
    const resumed = await runCli([...reattach[1]!.split(' '), '--json'], {
      cwd: dir,
      env: { ...env, CI: 'true' },
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as { state: string }).state, 'SUCCEEDED');
  });

  it('import stops waiting, prints how to re-attach and exits 130; the import goes on', async () => {
    const result = await runCliInPty(['import'], {
      cwd: dir,
      env,
      steps: [{ expect: 'import mlpipe-interactions-\\S+: CREATE', send: CTRL_C }],
    });
    assert.equal(result.code, 130, result.text);
    assert.match(result.text, /still running; it goes on/);
    const reattach = /`mlpipe (import --arn arn:aws:personalize:[^`\s]+)`/.exec(result.text);
    assert.ok(reattach, `the re-attach command is printed:\n${result.text}`);
    const resumed = await runCli([...reattach[1]!.split(' '), '--json'], {
      cwd: dir,
      env: { ...env, CI: 'true' },
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal((JSON.parse(resumed.stdout) as { job: { status: string } }).job.status, 'ACTIVE');
  });

  it('under --json, says so as a JSON error on stdout', async () => {
    const result = await runCliInPty(['import', '--json'], {
      cwd: dir,
      env,
      steps: [{ expect: 'target: local stack', send: CTRL_C }],
    });
    assert.equal(result.code, 130, result.text);
    const json = JSON.parse(result.text.slice(result.text.indexOf('{'))) as {
      error: { code: string; exit: number };
    };
    assert.equal(json.error.code, 'INTERRUPTED');
    assert.equal(json.error.exit, 130);
  });
});
