/**
 * Managing the embedded local stack from the CLI: find the server that owns a data dir, start one
 * (detached, or in the foreground), stop it, reset its state, check its files, and turn it into a
 * client Connection. The server itself lives in src/local; this module only starts and talks to it.
 *
 * The server is the only one that writes or removes server.json, and only while it holds the data
 * dir's lock; this module never deletes a record it did not write, so a stop racing a start cannot
 * remove the new server's record. A reset asks the running server to reset itself (it holds the
 * lock, and requests arriving meanwhile wait); with no server running, the reset takes the lock
 * itself, so a server starting meanwhile waits for it instead of writing into a data dir being
 * emptied.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  promises as fs,
  readFileSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  acquireDirLock,
  buildId,
  CONTROL_TOKEN_HEADER,
  DamagedIdentityError,
  DIR_MODE,
  EXIT_LOCK_HELD,
  FILE_MODE,
  HEALTH_PATH,
  isProcessAlive,
  loadOrCreateIdentity,
  lockHolder,
  localPaths,
  quarantineFile,
  readIdentity,
  readServerInfo,
  removeStackData,
  RESET_PATH,
  STATUS_PATH,
  type CheckReport,
  type LocalIdentity,
  type ServerInfo,
} from '../../local/contract.js';
import type { Connection } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError } from '../cli/errors.js';
import { requestJson, type LocalResponse } from './http.js';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

export type LocalStackState =
  | { state: 'running'; info: ServerInfo }
  | { state: 'stopped' }
  /** server.json names a process that is gone or is not our server any more. */
  | { state: 'stale'; info: ServerInfo };

export interface LocalStackStatus {
  running: boolean;
  dataDir: string;
  endpoint: string | null;
  pid: number | null;
  version: string | null;
  /** The running server's build (see buildId in contract.ts); null when stopped or not recorded. */
  build: string | null;
  startedAt: string | null;
  uptimeSeconds: number | null;
  /** What the stack holds, per service (running servers only). */
  services: Record<string, Record<string, number>> | null;
  /** Real ms per AWS ms of the waits the running stack imposes. */
  timeScale: number | null;
  diskBytes: number;
}

interface Health {
  service: string;
  version: string;
  pid: number;
  dataDir: string;
  startedAt: string;
  services?: Record<string, Record<string, number>>;
  timeScale?: number;
}

async function getJson<T>(url: string, timeoutMs = 1500): Promise<T | undefined> {
  try {
    const response = await requestJson(url, { timeoutMs });
    return response.ok ? (response.body as T | undefined) : undefined;
  } catch {
    return undefined;
  }
}

/** Is a server running for this data dir? Checks the pid and asks the server itself. */
export async function probeLocalStack(dataDir: string): Promise<LocalStackState> {
  const info = readServerInfo(dataDir);
  if (info === undefined) return { state: 'stopped' };
  if (!isProcessAlive(info.pid)) return { state: 'stale', info };
  const health = await getJson<Health>(`${info.endpoint}${HEALTH_PATH}`);
  if (
    health === undefined ||
    health.service !== 'mlpipe-local' ||
    health.pid !== info.pid ||
    path.resolve(health.dataDir) !== path.resolve(dataDir)
  ) {
    return { state: 'stale', info };
  }
  return { state: 'running', info };
}

function serverEntry(): { entry: string; execArgv: string[] } {
  // Under the TypeScript test runner this module is src/lib/local/lifecycle.ts; built, dist/lib/local/lifecycle.js.
  const fromSource = import.meta.url.endsWith('.ts');
  return {
    entry: fileURLToPath(new URL(`../../local/main.${fromSource ? 'ts' : 'js'}`, import.meta.url)),
    execArgv: fromSource ? ['--import', 'tsx'] : [],
  };
}

function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export interface StartOptions {
  dataDir: string;
  port: number;
  /** When the port was not chosen explicitly, a busy port falls back to a free one. */
  portFallback: boolean;
  region: string;
  /** Real ms per AWS ms of the stack's waits (`--time-scale`); the server's default when absent. */
  timeScale?: number;
}

export interface StartResult {
  info: ServerInfo;
  alreadyRunning: boolean;
}

/**
 * Creates the data dir and any missing parents one level at a time. Node's recursive mkdir loops
 * for ever where the parent refuses new entries with ENOENT (`/proc/nope`); this fails at once,
 * naming the path and the reason.
 */
export function createDataDir(dataDir: string): void {
  const missing: string[] = [];
  let dir = path.resolve(dataDir);
  while (!existsSync(dir)) {
    missing.unshift(dir);
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const refuse = (where: string, reason: string): MlpipeError =>
    new MlpipeError(
      `Cannot create the local stack's data dir ${dataDir}: ${reason}${where === path.resolve(dataDir) ? '' : ` (at ${where})`}.`,
      {
        code: 'DATA_DIR_UNUSABLE',
        suggestions: [
          'Choose a writable folder with --data-dir, MLPIPE_LOCAL_DIR or local.dataDir in the config file.',
        ],
      },
    );
  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw refuse(path.resolve(dataDir), `${dir} is a file, not a folder`);
  for (const level of missing) {
    try {
      mkdirSync(level, { mode: level === path.resolve(dataDir) ? DIR_MODE : 0o777 });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'EEXIST') continue;
      const reasons: Record<string, string> = {
        EACCES: 'permission denied',
        EPERM: 'operation not permitted',
        EROFS: 'the file system is read-only',
        ENOSPC: 'no space left on the device',
        ENOENT: `${path.dirname(level)} does not accept new folders`,
        ENOTDIR: `${path.dirname(level)} is not a folder`,
      };
      throw refuse(level, `${reasons[e.code ?? ''] ?? e.message} (${e.code ?? 'error'})`);
    }
  }
}

/**
 * Starts a detached server for the data dir, or reports the one already running. Starters may
 * race: the lock lets one server through, the others exit with EXIT_LOCK_HELD and their starters
 * wait for the winner to answer (or, if the holder was a server on its way out, start again).
 */
export async function startLocalStack(options: StartOptions): Promise<StartResult> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  createDataDir(options.dataDir);
  const paths = localPaths(options.dataDir);
  for (;;) {
    const current = await probeLocalStack(options.dataDir);
    if (current.state === 'running') return { info: current.info, alreadyRunning: true };
    // A stale server.json is left for the new server to replace: it may already be a newer record.
    const started = await spawnServer(options, deadline);
    if (started !== 'lock-held') return { info: started, alreadyRunning: false };
    const winner = await waitForLockHolder(options.dataDir, deadline);
    if (winner !== undefined) return { info: winner, alreadyRunning: true };
    if (Date.now() > deadline) {
      throw new MlpipeError(`The local stack did not become ready within ${START_TIMEOUT_MS / 1000}s.`, {
        code: 'LOCAL_START_TIMEOUT',
        suggestions: [`See the log: ${paths.log}`],
      });
    }
  }
}

/** The server that holds the lock once it answers; undefined when nobody holds it any more. */
async function waitForLockHolder(dataDir: string, deadline: number): Promise<ServerInfo | undefined> {
  while (Date.now() < deadline) {
    const holder = lockHolder(localPaths(dataDir).lock);
    if (holder === undefined) return undefined;
    const state = await probeLocalStack(dataDir);
    if (state.state === 'running' && state.info.pid === holder.pid) return state.info;
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  return undefined;
}

/** Spawns one server; resolves with its record once it answers, or 'lock-held' if it lost the lock. */
async function spawnServer(options: StartOptions, deadline: number): Promise<ServerInfo | 'lock-held'> {
  const paths = localPaths(options.dataDir);
  // The server caps and rotates this file itself (it is its stdout and stderr, appended to).
  const logFd = openSync(paths.log, 'a', FILE_MODE);
  writeSync(logFd, `--- ${new Date().toISOString()} starting local stack ---\n`);
  const { entry, execArgv } = serverEntry();
  const args = [
    ...execArgv,
    entry,
    '--data-dir',
    options.dataDir,
    '--port',
    String(options.port),
    '--region',
    options.region,
    ...(options.timeScale === undefined ? [] : ['--time-scale', String(options.timeScale)]),
  ];
  if (options.portFallback) args.push('--port-fallback');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.unref();

  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    if (exited === EXIT_LOCK_HELD) return 'lock-held';
    if (exited !== undefined) {
      throw new MlpipeError(`The local stack failed to start (exit code ${exited}).\n${logTail(paths.log)}`, {
        code: 'LOCAL_START_FAILED',
        suggestions: [
          `See the full log: ${paths.log}`,
          'Try another port with `mlpipe local start --port N`.',
        ],
      });
    }
    const info = readServerInfo(options.dataDir);
    if (info !== undefined && info.pid === child.pid) {
      const health = await getJson<Health>(`${info.endpoint}${HEALTH_PATH}`);
      if (health !== undefined) return info;
    }
  }
  if (exited === undefined) child.kill('SIGKILL');
  throw new MlpipeError(`The local stack did not become ready within ${START_TIMEOUT_MS / 1000}s.`, {
    code: 'LOCAL_START_TIMEOUT',
    suggestions: [`See the log: ${paths.log}`],
  });
}

/** Runs the server in this terminal until it is interrupted. Resolves with its exit code. */
export async function runLocalStackForeground(options: StartOptions): Promise<number> {
  createDataDir(options.dataDir);
  const { entry, execArgv } = serverEntry();
  const args = [
    ...execArgv,
    entry,
    '--data-dir',
    options.dataDir,
    '--port',
    String(options.port),
    '--region',
    options.region,
    ...(options.timeScale === undefined ? [] : ['--time-scale', String(options.timeScale)]),
  ];
  if (options.portFallback) args.push('--port-fallback');
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal's process group; stay alive until it has exited.
  const ignore = (): void => undefined;
  process.on('SIGINT', ignore);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      process.off('SIGINT', ignore);
      resolve(code ?? 0);
    });
  });
}

export interface StopResult {
  wasRunning: boolean;
  pid: number | null;
}

/**
 * Stops the data dir's server (SIGTERM, then SIGKILL if it will not go). Deletes nothing: the
 * server removes its own record, and a record left by a killed one is stale until replaced.
 */
export async function stopLocalStack(dataDir: string): Promise<StopResult> {
  const current = await probeLocalStack(dataDir);
  if (current.state !== 'running') return { wasRunning: false, pid: null };
  const { pid } = current.info;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isProcessAlive(pid) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 30));
  if (isProcessAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    // isProcessAlive is false for a zombie: a killed server need not be reaped to count as gone.
    while (isProcessAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { wasRunning: true, pid };
}

async function directorySize(dir: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await directorySize(full);
    else if (entry.isFile()) total += (await fs.stat(full)).size;
  }
  return total;
}

export async function localStackStatus(dataDir: string): Promise<LocalStackStatus> {
  const current = await probeLocalStack(dataDir);
  const diskBytes = await directorySize(dataDir);
  if (current.state !== 'running') {
    return {
      running: false,
      dataDir,
      endpoint: null,
      pid: null,
      version: null,
      build: null,
      startedAt: null,
      uptimeSeconds: null,
      services: null,
      timeScale: null,
      diskBytes,
    };
  }
  const status = await getJson<Health>(`${current.info.endpoint}${STATUS_PATH}`, 5000);
  return {
    running: true,
    dataDir,
    endpoint: current.info.endpoint,
    pid: current.info.pid,
    version: current.info.version,
    build: current.info.build ?? null,
    startedAt: current.info.startedAt,
    uptimeSeconds: Math.round((Date.now() - Date.parse(current.info.startedAt)) / 1000),
    services: status?.services ?? null,
    timeScale: status?.timeScale ?? null,
    diskBytes,
  };
}

export interface ResetResult {
  dataDir: string;
  removedBytes: number;
  /** The stack was running: it reset itself and kept serving (with the same endpoint). */
  restarted: boolean;
  /** A damaged credentials.json was moved here and new credentials were made. */
  quarantinedCredentials: string | null;
}

/** Asks a running server to reset itself; undefined if it is not (or no longer) running. */
async function resetRunningServer(dataDir: string): Promise<number | undefined> {
  const current = await probeLocalStack(dataDir);
  if (current.state !== 'running' || current.info.controlToken === undefined) return undefined;
  let response: LocalResponse;
  try {
    response = await requestJson(`${current.info.endpoint}${RESET_PATH}`, {
      method: 'POST',
      headers: { [CONTROL_TOKEN_HEADER]: current.info.controlToken },
    });
  } catch {
    return undefined; // stopped meanwhile
  }
  const body = (response.body ?? {}) as { removedBytes?: number; message?: string };
  if (!response.ok || typeof body.removedBytes !== 'number') {
    throw new MlpipeError(`The local stack refused to reset: ${body.message ?? `HTTP ${response.status}`}`, {
      code: 'LOCAL_RESET_FAILED',
    });
  }
  return body.removedBytes;
}

/** Moves a damaged credentials.json aside and makes new credentials; returns where it went. */
function regenerateDamagedIdentity(options: StartOptions): string | null {
  try {
    readIdentity(options.dataDir);
    return null;
  } catch (error) {
    if (!(error instanceof DamagedIdentityError)) throw error;
    const moved = quarantineFile(options.dataDir, error.file);
    loadOrCreateIdentity(options.dataDir, options.region);
    return moved;
  }
}

/**
 * Deletes every service's state, keeping the stack's credentials (a damaged credentials.json is
 * quarantined and replaced). A running server does it itself, under its lock, and keeps serving;
 * otherwise this process takes the lock for the time it takes, so no server starts meanwhile.
 */
export async function resetLocalStack(options: StartOptions): Promise<ResetResult> {
  const { dataDir } = options;
  for (let attempt = 0; attempt < 20; attempt++) {
    const byServer = await resetRunningServer(dataDir);
    if (byServer !== undefined) {
      // The server rewrote a damaged file from the identity it runs with.
      return { dataDir, removedBytes: byServer, restarted: true, quarantinedCredentials: null };
    }
    if (!existsSync(dataDir))
      return { dataDir, removedBytes: 0, restarted: false, quarantinedCredentials: null };
    const lock = acquireDirLock(localPaths(dataDir).lock, 'reset');
    if (!lock.acquired) {
      // A server holds the data dir (it may still be opening): ask it once it answers.
      await waitForServer(dataDir, lock.holder.pid);
      continue;
    }
    try {
      const removedBytes = await removeStackData(dataDir);
      const quarantinedCredentials = regenerateDamagedIdentity(options);
      return { dataDir, removedBytes, restarted: false, quarantinedCredentials };
    } finally {
      lock.release();
    }
  }
  throw new MlpipeError(`Could not reset ${dataDir}: servers kept starting and stopping on it.`, {
    code: 'LOCAL_RESET_FAILED',
  });
}

/** Waits until the server with this pid answers for the data dir, or is gone. */
async function waitForServer(dataDir: string, pid: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline && isProcessAlive(pid)) {
    const state = await probeLocalStack(dataDir);
    if (state.state === 'running' && state.info.pid === pid) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function startOptionsFor(settings: Settings, port?: number, timeScale?: number): StartOptions {
  return {
    dataDir: settings.local.dataDir.value,
    port: port ?? settings.local.port.value,
    portFallback: port === undefined && settings.local.port.source === 'default',
    region: settings.region.value ?? 'us-east-1',
    timeScale: timeScale ?? settings.local.timeScale.value,
  };
}

/** The local stack's identity (credentials, account, region) for a data dir that has been started once. */
export function localIdentity(dataDir: string): LocalIdentity {
  const identity = readIdentity(dataDir);
  if (identity === undefined) {
    throw new MlpipeError(
      `The local stack in ${dataDir} has not been started yet, so it has no credentials.`,
      {
        code: 'LOCAL_NOT_STARTED',
        suggestions: ['Run `mlpipe local start`.'],
      },
    );
  }
  return identity;
}

export interface LocalConnection {
  connection: Connection;
  info: ServerInfo;
  started: boolean;
}

/**
 * What to tell the user when the running server was started by another build of mlpipe (an
 * install upgraded or rebuilt while it ran): it answers with the old code, which may not know
 * what this CLI asks. Not restarted here: jobs it runs would stop with it.
 */
export function otherBuildNotice(info: Pick<ServerInfo, 'pid' | 'version' | 'build'>): string | undefined {
  const mine = buildId();
  if (mine === null || info.build === mine) return undefined;
  const theirs = info.build ?? `${info.version}, an earlier build`;
  return `The local stack (pid ${info.pid}) was started by another build of mlpipe (${theirs}; this is ${mine}) and runs that build's code. Restart it to use this one: \`mlpipe local stop\` (jobs it is running stop too); the next command starts it again.`;
}

/** Returns a Connection to the data dir's server, starting one first if none is running. */
export async function connectLocalStack(
  settings: Settings,
  onStarting: () => void = () => undefined,
): Promise<LocalConnection> {
  const options = startOptionsFor(settings);
  let state = await probeLocalStack(options.dataDir);
  let started = false;
  if (state.state !== 'running') {
    onStarting();
    const result = await startLocalStack(options);
    started = !result.alreadyRunning;
    state = { state: 'running', info: result.info };
  }
  const identity = localIdentity(options.dataDir);
  return {
    connection: {
      target: 'local',
      region: settings.region.value ?? identity.region,
      endpoint: state.info.endpoint,
      credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey },
      profile: undefined,
    },
    info: state.info,
    started,
  };
}

/**
 * Verifies every state and object file of the data dir (run by the server's entry point as
 * `--check`, so the CLI never reads service files itself) and returns what is damaged. Changes
 * nothing; works with or without a server running.
 */
export async function checkLocalStack(dataDir: string): Promise<CheckReport> {
  if (!existsSync(dataDir))
    throw new MlpipeError(`There is no local stack data dir at ${dataDir}: nothing to check.`, {
      code: 'LOCAL_NO_DATA_DIR',
      suggestions: ['Start the local stack with `mlpipe local start`.'],
    });
  const { entry, execArgv } = serverEntry();
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      process.execPath,
      [...execArgv, entry, '--check', '--data-dir', dataDir],
      { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
    ));
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new MlpipeError(`Checking ${dataDir} failed: ${stderr || (error as Error).message}`, {
      code: 'LOCAL_CHECK_FAILED',
    });
  }
  return JSON.parse(stdout) as CheckReport;
}
