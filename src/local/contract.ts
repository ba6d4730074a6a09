/**
 * The contract between the local stack's server and the CLI commands that manage it (start, stop,
 * status, reset, logs, env): the only module of src/local the CLI may import. It names the data
 * dir's layout, what a running server records, how to tell whether it is alive, the stack's
 * identity file, and the internal (unsigned) endpoints.
 *
 *   <dataDir>/credentials.json   the stack's own access key, secret, account and region
 *   <dataDir>/server.json        written by the running server: pid, port, endpoint, start time
 *   <dataDir>/server.lock        held (by pid) while a server owns this data dir
 *   <dataDir>/server.log         the server's log (detached servers)
 *   <dataDir>/<service>/         each service's state
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const localPaths = (dataDir: string) => ({
  credentials: path.join(dataDir, 'credentials.json'),
  serverInfo: path.join(dataDir, 'server.json'),
  lock: path.join(dataDir, 'server.lock'),
  log: path.join(dataDir, 'server.log'),
});

/** Files in the data dir that are about the server, not its data (kept by `local reset`). */
export const SERVER_FILES = ['credentials.json', 'server.json', 'server.lock', 'server.log'] as const;

/** What a running server records in server.json. */
export interface ServerInfo {
  pid: number;
  port: number;
  host: string;
  endpoint: string;
  dataDir: string;
  startedAt: string;
  version: string;
}

/** Internal endpoints (not AWS APIs): no signature needed, no data exposed beyond counts. */
export const HEALTH_PATH = '/_mlpipe/health';
export const STATUS_PATH = '/_mlpipe/status';

/**
 * Test hooks, served only by a server started with MLPIPE_LOCAL_TEST_HOOKS=1: hold jobs of a kind
 * in their running status (`POST` `{"kind"}`), release them, count those waiting.
 */
export const TEST_HOOKS_ENV = 'MLPIPE_LOCAL_TEST_HOOKS';
export const TEST_HOLD_PATH = '/_mlpipe/test/hold';
export const TEST_RELEASE_PATH = '/_mlpipe/test/release';
export const TEST_HELD_PATH = '/_mlpipe/test/held';
export const TEST_HOOK_PATHS: ReadonlySet<string> = new Set([
  TEST_HOLD_PATH,
  TEST_RELEASE_PATH,
  TEST_HELD_PATH,
]);

/** The stack's identity (credentials.json): the keys clients sign with, its account and region. */
export interface LocalIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  accountId: string;
  region: string;
}

function isIdentity(value: unknown): value is LocalIdentity {
  const v = value as Partial<LocalIdentity> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.accessKeyId === 'string' &&
    typeof v.secretAccessKey === 'string' &&
    typeof v.accountId === 'string' &&
    typeof v.region === 'string'
  );
}

export function readIdentity(dataDir: string): LocalIdentity | undefined {
  const file = localPaths(dataDir).credentials;
  if (!existsSync(file)) return undefined;
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isIdentity(value)) throw new Error(`${file} is damaged: delete it to create new local credentials.`);
  return value;
}

/** True if a process with this pid exists (and we may signal it). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What server.json records, or undefined when there is none (or it cannot be read). */
export function readServerInfo(dataDir: string): ServerInfo | undefined {
  const file = localPaths(dataDir).serverInfo;
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ServerInfo;
  } catch {
    return undefined;
  }
}
