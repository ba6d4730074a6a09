/**
 * mlpipe benchmarks. Every figure is a ratio against a baseline measured in the same run on the
 * same machine, so results compare across machines. Run with `npm run bench` (after a build).
 *
 *   startup   `mlpipe --help`, `mlpipe upload-raw --help`, `mlpipe local env --json` and
 *             `mlpipe stacks --json` against a running local stack, and `mlpipe local start` until
 *             the stack answers, vs `node -e 0` (median of N runs)
 *   upload    100 MB file uploaded to the local stack (as upload-raw does it) vs fs.copyFile
 *   etl       the local ETL engine on the hetrec-size sample vs DuckDB doing the same work (bench/etl.ts)
 *   import    a Personalize FULL import of the ETL's output in the local stack vs DuckDB loading it (bench/import.ts)
 *   recommender  offline metrics vs popularity and plain iALS, training/HPO time, scaling (bench/recommender.ts)
 *   stepfunctions  the Step Functions engine per state transition vs a loop of as many awaits (bench/stepfunctions.ts)
 *   inference  batch inference users/s vs a plain recommend() loop; GetRecommendations p50/p95/p99
 *              at 50 in flight vs one recommend() call (bench/inference.ts)
 *   show-recs  finding a user in a 100k-line batch output (streamed from the local S3) vs scanning
 *              the file from disk (bench/show-recs.ts)
 *   demo      `mlpipe demo` at sample size, first run and re-run: wall time vs its own pipeline run,
 *              and the run's work (each job's own time) vs its polling overshoot (bench/demo.ts)
 */
// Same reason as bin/run.js: pinned SDK versions support Node 20; the future-version warning is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { spawnSync } from 'node:child_process';
import { createReadStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client, CreateBucketCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { builtLocalStack } from './stack.js';
import { readIdentity } from '../src/local/contract.js';
import { PART_SIZE } from '../src/lib/data/upload.js';
import { benchDemo } from './demo.js';
import { benchEtl } from './etl.js';
import { benchImport } from './import.js';
import { benchInference } from './inference.js';
import { benchRecommender } from './recommender.js';
import { benchShowRecs } from './show-recs.js';
import { benchStepFunctions } from './stepfunctions.js';
import { median, report } from './report.js';

const BIN = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const only = process.argv.slice(2);
const want = (name: string): boolean => only.length === 0 || only.includes(name);

function timeCommand(
  args: string[],
  runs: number,
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stopAfter?: () => void } = {},
): number {
  const { stopAfter, ...spawnOptions } = options;
  const times: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { stdio: 'ignore', ...spawnOptions });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    stopAfter?.();
    if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
    if (i > 0) times.push(ms); // the first run warms the disk cache
  }
  return median(times);
}

async function benchStartup(): Promise<void> {
  const runs = 15;
  const baseline = timeCommand(['-e', '0'], runs);
  const help = timeCommand([BIN, '--help'], runs);
  const commandHelp = timeCommand([BIN, 'upload-raw', '--help'], runs);
  report('startup: node -e 0', { median_ms: baseline });
  report('startup: --help', { median_ms: help, ratio: help / baseline, aim: '< 3' });
  report('startup: cmd --help', { median_ms: commandHelp, ratio: commandHelp / baseline, aim: '< 3' });
  // Commands that talk to the stack: settings, the health probe, one SDK client and its call.
  const project = await fs.mkdtemp(path.join(os.tmpdir(), 'mlpipe-bench-startup-'));
  const env = { ...process.env, MLPIPE_LOCAL_PORT: '0', CI: 'true' };
  const options = { cwd: project, env };
  try {
    if (spawnSync(process.execPath, [BIN, 'local', 'start'], { stdio: 'ignore', ...options }).status !== 0)
      throw new Error('mlpipe local start failed');
    const localEnv = timeCommand([BIN, 'local', 'env', '--json'], runs, options);
    const stacks = timeCommand([BIN, 'stacks', '--json'], runs, options);
    report('startup: local env --json', { median_ms: localEnv, ratio: localEnv / baseline });
    report('startup: stacks --json', { median_ms: stacks, ratio: stacks / baseline });
  } finally {
    spawnSync(process.execPath, [BIN, 'local', 'stop'], { stdio: 'ignore', ...options });
  }
  // Starting the local stack: `local start` returns once the server answers its health check.
  try {
    const start = timeCommand([BIN, 'local', 'start'], runs, {
      ...options,
      stopAfter: () => spawnSync(process.execPath, [BIN, 'local', 'stop'], { stdio: 'ignore', ...options }),
    });
    report('startup: local start', { median_ms: start, ratio: start / baseline });
  } finally {
    spawnSync(process.execPath, [BIN, 'local', 'stop'], { stdio: 'ignore', ...options });
    await fs.rm(project, { recursive: true, force: true });
  }
}

async function benchUpload(): Promise<void> {
  const { startLocalStack, stopLocalStack } = await builtLocalStack();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlpipe-bench-'));
  const dataDir = path.join(dir, 'local');
  const file = path.join(dir, 'payload.bin');
  const size = 100 * 1024 * 1024;
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < block.length; i++) block[i] = (i * 2654435761) >>> 24;
  const handle = await fs.open(file, 'w');
  for (let written = 0; written < size; written += block.length) await handle.write(block);
  await handle.close();
  try {
    const copyTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      await fs.copyFile(file, path.join(dir, `copy-${i}.bin`));
      copyTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
      await fs.rm(path.join(dir, `copy-${i}.bin`));
    }
    const { info } = await startLocalStack({ dataDir, port: 0, portFallback: false, region: 'us-east-1' });
    const identity = readIdentity(dataDir)!;
    const s3 = new S3Client({
      endpoint: info.endpoint,
      region: 'us-east-1',
      credentials: identity,
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const uploadTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = process.hrtime.bigint();
      const upload = new Upload({
        client: s3,
        params: { Bucket: 'bench', Key: `payload-${i}.bin`, Body: createReadStream(file) },
        partSize: PART_SIZE,
        queueSize: 4,
      });
      await upload.done();
      uploadTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'bench', Key: `payload-${i}.bin` }));
      if (head.ContentLength !== size)
        throw new Error(`uploaded ${head.ContentLength} bytes, expected ${size}`);
    }
    s3.destroy();
    await stopLocalStack(dataDir);
    const copy = median(copyTimes);
    const upload = median(uploadTimes);
    report('upload 100MB: copyFile', { median_ms: copy, MB_s: size / 1048576 / (copy / 1000) });
    report('upload 100MB: local S3', {
      median_ms: upload,
      MB_s: size / 1048576 / (upload / 1000),
      ratio: upload / copy,
    });
  } finally {
    await stopLocalStack(dataDir).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
}

console.log(`mlpipe bench on node ${process.version}, ${os.cpus().length} cores`);
if (want('startup')) await benchStartup();
if (want('upload')) await benchUpload();
if (want('etl')) await benchEtl();
if (want('import')) await benchImport();
if (want('recommender')) await benchRecommender();
if (want('stepfunctions')) await benchStepFunctions();
if (want('inference')) await benchInference();
if (want('show-recs')) await benchShowRecs();
if (want('demo')) await benchDemo();
