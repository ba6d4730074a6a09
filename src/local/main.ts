/**
 * Entry point of a local stack server process: `node dist/local/main.js --data-dir D [--port P]
 * [--port-fallback] [--region R] [--time-scale S]`. Runs with umask 077 (everything it creates is
 * its owner's only), takes the data dir's lock before touching anything and holds it for its
 * lifetime (a lock held by a `local reset` of a stopped stack is waited for; one held by another
 * server ends this process with EXIT_LOCK_HELD), records where it listens in server.json, and shuts
 * down cleanly on SIGTERM/SIGINT. Its log (stdout) is size-capped and never throws
 * (server-log.ts). The test hooks are served only when MLPIPE_LOCAL_TEST_HOOKS=1 is in its
 * environment; MLPIPE_LOCAL_HEADERS_TIMEOUT_MS and MLPIPE_LOCAL_IDLE_TIMEOUT_MS set how long a
 * client may take over a request's head and stay silent mid-request (server.ts).
 *
 * `--check` instead verifies every state and object file of the data dir (check.ts), prints the
 * report as JSON on stdout and exits 0 — what `mlpipe local check` runs.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadOrCreateIdentity } from './credentials.js';
import {
  buildId,
  DIR_MODE,
  EXIT_LOCK_HELD,
  localPaths,
  TEST_HOOKS_ENV,
  type LockAttempt,
} from './contract.js';
import { checkDataDir } from './check.js';
import { DEFAULT_TIME_SCALE, parseTimeScale } from './core/clock.js';
import { acquireLock, removeServerInfo, writeServerInfo } from './lock.js';
import { LocalServer, timeoutsFromEnv } from './server.js';
import { LOG_MAX_BYTES_ENV, ServerLog } from './server-log.js';
import { VERSION } from './version.js';
import { DamagedFileError } from '../shared/atomic-file.js';

/** How long a start waits for a `local reset` of the stopped stack to finish. */
const RESET_WAIT_MS = 120_000;

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    'port-fallback': { type: 'boolean', default: false },
    region: { type: 'string', default: 'us-east-1' },
    'time-scale': { type: 'string' },
    check: { type: 'boolean', default: false },
  },
});

process.umask(0o077);
const dataDir = path.resolve(values['data-dir'] ?? '.mlpipe/local');
const wantedPort = Number(values.port);
const maxBytes = Number(process.env[LOG_MAX_BYTES_ENV]);
const serverLog = new ServerLog({
  logFile: localPaths(dataDir).log,
  ...(Number.isFinite(maxBytes) && maxBytes > 0 ? { maxBytes } : {}),
});
const log = (line: string): void => serverLog.line(line);

async function takeLock(): Promise<LockAttempt & { acquired: true }> {
  const deadline = Date.now() + RESET_WAIT_MS;
  let waiting = false;
  for (;;) {
    const attempt = acquireLock(dataDir);
    if (attempt.acquired) return attempt;
    if (attempt.holder.role !== 'reset' || Date.now() > deadline) {
      process.stderr.write(`A local stack (pid ${attempt.holder.pid}) already serves ${dataDir}.\n`);
      process.exit(EXIT_LOCK_HELD);
    }
    if (!waiting) log(`waiting for the reset of this data dir (pid ${attempt.holder.pid}) to finish`);
    waiting = true;
    await sleep(50); // a reset of the stopped stack holds it briefly
  }
}

async function main(): Promise<void> {
  if (values.check) {
    process.stdout.write(JSON.stringify(await checkDataDir(dataDir)) + '\n');
    return;
  }
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  const lock = await takeLock();
  let server: LocalServer | undefined;
  try {
    const identity = loadOrCreateIdentity(dataDir, values.region!);
    const timeScale =
      values['time-scale'] === undefined ? DEFAULT_TIME_SCALE : parseTimeScale(values['time-scale']);
    if (timeScale === undefined) throw new Error(`--time-scale ${values['time-scale']} is not a number ≥ 0.`);
    const timeouts = timeoutsFromEnv(process.env);
    const controlToken = randomBytes(24).toString('hex');
    server = await LocalServer.create({
      ...timeouts,
      dataDir,
      identity,
      version: VERSION,
      log,
      timeScale,
      controlToken,
      testHooks: process.env[TEST_HOOKS_ENV] === '1',
    });
    let port: number;
    try {
      port = await server.listen(wantedPort);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !values['port-fallback']) throw error;
      log(`port ${wantedPort} is in use; listening on a free port instead`);
      port = await server.listen(0);
    }
    writeServerInfo(dataDir, {
      pid: process.pid,
      controlToken,
      port,
      host: '127.0.0.1',
      endpoint: `http://127.0.0.1:${port}`,
      dataDir,
      startedAt: new Date().toISOString(),
      version: VERSION,
      build: buildId(),
    });
    log(
      `mlpipe local stack ${VERSION} listening on http://127.0.0.1:${port} (pid ${process.pid}, data dir ${dataDir}, time scale ${timeScale})`,
    );
  } catch (error) {
    await server?.close().catch(() => undefined);
    lock.release();
    throw error;
  }

  const running = server;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    // The record goes first: once this line is logged, nobody is sent here any more.
    removeServerInfo(dataDir);
    log(`received ${signal}, shutting down`);
    void running.close().finally(() => {
      lock.release();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const advice =
    error instanceof DamagedFileError
      ? ' Nothing was changed. `mlpipe local check` lists every damaged file; restore this one, or move it aside and start again (its state is lost), or `mlpipe local reset` to start afresh.'
      : '';
  process.stderr.write(`mlpipe local stack failed to start: ${(error as Error).message}${advice}\n`);
  process.exit(1);
});
