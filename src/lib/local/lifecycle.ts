/**
 * Managing the embedded local stack from the CLI: find the server that owns a data dir, start one
 * (detached, or in the foreground), stop it, reset its state, and turn it into a client
 * Connection. The server itself lives in src/local; this module only starts and talks to it.
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  promises as fs,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  HEALTH_PATH,
  isProcessAlive,
  localPaths,
  readIdentity,
  readServerInfo,
  SERVER_FILES,
  STATUS_PATH,
  type LocalIdentity,
  type ServerInfo,
} from '../../local/contract.js';
import type { Connection } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError } from '../cli/errors.js';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const MAX_LOG_BYTES = 10 * 1024 * 1024;

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
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    return (await response.json()) as T;
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

function rotateLog(logFile: string): void {
  if (existsSync(logFile) && statSync(logFile).size > MAX_LOG_BYTES) renameSync(logFile, `${logFile}.1`);
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
      mkdirSync(level);
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

/** Starts a detached server for the data dir, or reports the one already running. */
export async function startLocalStack(options: StartOptions): Promise<StartResult> {
  const current = await probeLocalStack(options.dataDir);
  if (current.state === 'running') return { info: current.info, alreadyRunning: true };
  createDataDir(options.dataDir);
  const paths = localPaths(options.dataDir);
  if (current.state === 'stale') await fs.rm(paths.serverInfo, { force: true });
  rotateLog(paths.log);
  const logFd = openSync(paths.log, 'a');
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

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 40));
    if (exited !== undefined) {
      // Lost a race with another starter? Then that server is the answer.
      const other = await probeLocalStack(options.dataDir);
      if (other.state === 'running') return { info: other.info, alreadyRunning: true };
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
      if (health !== undefined) return { info, alreadyRunning: false };
    }
  }
  child.kill('SIGKILL');
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

/** Stops the data dir's server (SIGTERM, then SIGKILL if it will not go) and clears stale files. */
export async function stopLocalStack(dataDir: string): Promise<StopResult> {
  const current = await probeLocalStack(dataDir);
  const paths = localPaths(dataDir);
  if (current.state !== 'running') {
    if (current.state === 'stale') await fs.rm(paths.serverInfo, { force: true });
    return { wasRunning: false, pid: null };
  }
  const { pid } = current.info;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isProcessAlive(pid) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 30));
  if (isProcessAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (isProcessAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await fs.rm(paths.serverInfo, { force: true });
  if (existsSync(paths.lock) && readFileSync(paths.lock, 'utf8').trim() === String(pid))
    await fs.rm(paths.lock, { force: true });
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
  restarted: boolean;
}

/** Deletes every service's state (keeping the stack's credentials), restarting a running server. */
export async function resetLocalStack(options: StartOptions): Promise<ResetResult> {
  const { wasRunning } = await stopLocalStack(options.dataDir);
  let removedBytes = 0;
  if (existsSync(options.dataDir)) {
    for (const entry of await fs.readdir(options.dataDir)) {
      if ((SERVER_FILES as readonly string[]).includes(entry) || entry.startsWith('server.log')) continue;
      const full = path.join(options.dataDir, entry);
      removedBytes += (await fs.stat(full)).isDirectory()
        ? await directorySize(full)
        : (await fs.stat(full)).size;
      await fs.rm(full, { recursive: true, force: true });
    }
  }
  if (wasRunning) await startLocalStack(options);
  return { dataDir: options.dataDir, removedBytes, restarted: wasRunning };
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
