/**
 * The contract between the local stack's server and the CLI commands that manage it (start, stop,
 * status, reset, logs, env): the only module of src/local the CLI may import. It names the data
 * dir's layout, what a running server records, how to tell whether it is alive, the data dir's
 * lock (data-dir-lock.ts), the stack's identity file, and the internal (unsigned) endpoints.
 *
 *   <dataDir>/credentials.json   the stack's own access key, secret, account and region
 *   <dataDir>/server.json        written by the server holding the lock: pid, port, endpoint, …
 *   <dataDir>/server.lock/       the lock: one server (or a reset of a stopped stack) at a time
 *   <dataDir>/server.log         the server's log (detached servers), rotated to server.log.1
 *   <dataDir>/quarantine/        files found damaged, moved aside (never deleted)
 *   <dataDir>/<service>/         each service's state
 *
 * The data dir is 0700 and every file in it 0600: only its owner reads the lake.
 */
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  promises as fs,
  readFileSync,
  renameSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';
import { tempPathFor, writeFileAtomicSync } from '../shared/atomic-file.js';
import { isProcessRunning } from './data-dir-lock.js';

export {
  acquireDirLock,
  isProcessRunning,
  lockHolder,
  type LockAttempt,
  type LockHolder,
} from './data-dir-lock.js';

export const localPaths = (dataDir: string) => ({
  credentials: path.join(dataDir, 'credentials.json'),
  serverInfo: path.join(dataDir, 'server.json'),
  lock: path.join(dataDir, 'server.lock'),
  log: path.join(dataDir, 'server.log'),
  quarantine: path.join(dataDir, 'quarantine'),
});

/** Entries of the data dir that are about the server, not its data (kept by `local reset`). */
export const SERVER_FILES = [
  'credentials.json',
  'server.json',
  'server.lock',
  'server.log',
  'server.log.1',
] as const;

/** Modes of everything in the data dir: its owner only. */
export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Exit code of a server that found the data dir's lock held by another live process. */
export const EXIT_LOCK_HELD = 75;

/** What `main.js --check` (`mlpipe local check`) prints as JSON: check.ts fills it in. */
export interface DamagedFile {
  /** Absolute path of the damaged file. */
  path: string;
  /** What is wrong with it. */
  problem: string;
}

export interface CheckReport {
  dataDir: string;
  /** How many files of each kind were verified. */
  checked: {
    stateFiles: number;
    objects: number;
    dataFiles: number;
    dataBytes: number;
    datasetFiles: number;
  };
  damaged: DamagedFile[];
  /** Files moved aside earlier (by a server that found them damaged). */
  quarantined: string[];
}

/** What a running server records in server.json. */
export interface ServerInfo {
  pid: number;
  /** Sent as `x-mlpipe-control-token` to the server's control endpoints (reset); server.json is 0600. */
  controlToken?: string;
  port: number;
  host: string;
  endpoint: string;
  dataDir: string;
  startedAt: string;
  version: string;
  /** The build that started the server (`buildId()`); absent in records of older builds. */
  build?: string | null;
}

/**
 * Which build of mlpipe this code is: a hash of the compiled files, written to `dist/build.json`
 * by the build (scripts/manifest.mjs). The same for the CLI and the server it starts from one
 * install; a server started by an older install (before an upgrade or a rebuild) has another, and
 * the CLI says so rather than have the old server fail at what it does not know. Null when there
 * is no build file (run from a checkout that was never built).
 */
export function buildId(): string | null {
  if (cachedBuildId !== undefined) return cachedBuildId;
  try {
    const file = new URL('../../dist/build.json', import.meta.url);
    const id = (JSON.parse(readFileSync(file, 'utf8')) as { id?: unknown }).id;
    cachedBuildId = typeof id === 'string' && id !== '' ? id : null;
  } catch {
    cachedBuildId = null;
  }
  return cachedBuildId;
}
let cachedBuildId: string | null | undefined;

/** Internal endpoints (not AWS APIs): no signature needed, no data exposed beyond counts. */
export const HEALTH_PATH = '/_mlpipe/health';
export const STATUS_PATH = '/_mlpipe/status';

/**
 * Control endpoints: not AWS APIs, and refused unless the request carries server.json's control
 * token (readable only by the data dir's owner) in this header.
 */
export const CONTROL_TOKEN_HEADER = 'x-mlpipe-control-token';
/** `POST`: the server deletes every service's state under its lock and reopens its services. */
export const RESET_PATH = '/_mlpipe/reset';

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

/** Thrown when credentials.json exists but cannot be read as an identity. */
export class DamagedIdentityError extends Error {
  constructor(readonly file: string) {
    super(`${file} is damaged: run \`mlpipe local reset\` to create new local credentials.`);
    this.name = 'DamagedIdentityError';
  }
}

export function readIdentity(dataDir: string): LocalIdentity | undefined {
  const file = localPaths(dataDir).credentials;
  if (!existsSync(file)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new DamagedIdentityError(file);
  }
  if (!isIdentity(value)) throw new DamagedIdentityError(file);
  return value;
}

export const LOCAL_ACCOUNT_ID = '000000000000';

function randomString(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! % alphabet.length];
  return out;
}

/** Reads the data dir's identity, creating it if absent. Safe when two processes race to create it. */
export function loadOrCreateIdentity(dataDir: string, region: string): LocalIdentity {
  const existing = readIdentity(dataDir);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  const identity: LocalIdentity = {
    accessKeyId: `AKIAMLPIPE${randomString('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 10)}`,
    secretAccessKey: randomString('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 40),
    accountId: LOCAL_ACCOUNT_ID,
    region,
  };
  const target = localPaths(dataDir).credentials;
  const tmp = tempPathFor(target);
  writeFileAtomicSync(tmp, JSON.stringify(identity, null, 2) + '\n', FILE_MODE);
  try {
    // link() fails if the file appeared meanwhile: then the other process's identity wins.
    linkSync(tmp, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(tmp);
  }
  return readIdentity(path.resolve(dataDir))!;
}

/**
 * Moves a damaged file of the data dir into `quarantine/` (keeping its path below the data dir, with
 * a time stamp), never deleting it. Returns where it went.
 */
export function quarantineFile(dataDir: string, file: string): string {
  const relative = path.relative(dataDir, file);
  const inside = relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const target = path.join(
    localPaths(dataDir).quarantine,
    `${inside ? relative : path.basename(file)}.${stamp}-${randomBytes(3).toString('hex')}`,
  );
  mkdirSync(path.dirname(target), { recursive: true, mode: DIR_MODE });
  renameSync(file, target);
  return target;
}

/** True if a process with this pid runs (a zombie that has exited does not). */
export function isProcessAlive(pid: number): boolean {
  return isProcessRunning(pid);
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

async function entrySize(entry: string): Promise<number> {
  const stat = await fs.lstat(entry).catch(() => undefined);
  if (stat === undefined) return 0;
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const name of await fs.readdir(entry).catch(() => [] as string[]))
    total += await entrySize(path.join(entry, name));
  return total;
}

/**
 * Deletes every service's state (and the quarantine) from the data dir, keeping SERVER_FILES, and
 * returns the bytes removed. Only the lock's holder may call it: the server (resetting itself) or
 * a `local reset` of a stopped stack.
 */
export async function removeStackData(dataDir: string): Promise<number> {
  let removed = 0;
  const entries = await fs.readdir(dataDir).catch(() => [] as string[]);
  for (const name of entries) {
    if ((SERVER_FILES as readonly string[]).includes(name)) continue;
    const full = path.join(dataDir, name);
    removed += await entrySize(full);
    await fs.rm(full, { recursive: true, force: true });
  }
  return removed;
}
