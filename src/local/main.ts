/**
 * Entry point of a local stack server process: `node dist/local/main.js --data-dir D [--port P]
 * [--port-fallback] [--region R] [--time-scale S]`. Owns the data dir's lock for its lifetime,
 * records where it listens in server.json, and shuts down cleanly on SIGTERM/SIGINT. The test hooks
 * are served only when MLPIPE_LOCAL_TEST_HOOKS=1 is in its environment.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { loadOrCreateIdentity } from './credentials.js';
import { TEST_HOOKS_ENV } from './contract.js';
import { DEFAULT_TIME_SCALE, parseTimeScale } from './core/clock.js';
import { acquireLock, releaseLock, removeServerInfo, writeServerInfo } from './lock.js';
import { LocalServer } from './server.js';
import { VERSION } from './version.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    'port-fallback': { type: 'boolean', default: false },
    region: { type: 'string', default: 'us-east-1' },
    'time-scale': { type: 'string' },
  },
});

const dataDir = path.resolve(values['data-dir'] ?? '.mlpipe/local');
const wantedPort = Number(values.port);
const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const holder = acquireLock(dataDir);
  if (holder !== undefined) {
    process.stderr.write(`A local stack (pid ${holder}) already serves ${dataDir}.\n`);
    process.exit(1);
  }
  const identity = loadOrCreateIdentity(dataDir, values.region!);
  const timeScale =
    values['time-scale'] === undefined ? DEFAULT_TIME_SCALE : parseTimeScale(values['time-scale']);
  if (timeScale === undefined) {
    releaseLock(dataDir);
    throw new Error(`--time-scale ${values['time-scale']} is not a number ≥ 0.`);
  }
  const server = await LocalServer.create({
    dataDir,
    identity,
    version: VERSION,
    log,
    timeScale,
    testHooks: process.env[TEST_HOOKS_ENV] === '1',
  });
  let port: number;
  try {
    port = await server.listen(wantedPort);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && values['port-fallback']) {
      log(`port ${wantedPort} is in use; listening on a free port instead`);
      port = await server.listen(0);
    } else {
      releaseLock(dataDir);
      throw error;
    }
  }
  writeServerInfo(dataDir, {
    pid: process.pid,
    port,
    host: '127.0.0.1',
    endpoint: `http://127.0.0.1:${port}`,
    dataDir,
    startedAt: new Date().toISOString(),
    version: VERSION,
  });
  log(
    `mlpipe local stack ${VERSION} listening on http://127.0.0.1:${port} (pid ${process.pid}, data dir ${dataDir}, time scale ${timeScale})`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`received ${signal}, shutting down`);
    removeServerInfo(dataDir);
    void server.close().finally(() => {
      releaseLock(dataDir);
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`mlpipe local stack failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
