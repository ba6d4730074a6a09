/**
 * The data dir's lock: who owns a data dir (the one server, or a `local reset` of a stopped stack),
 * exclusive by construction, and how to tell whether a process is still the one that took it.
 *
 * A process is named by pid *and* start time (plus the boot id on Linux), so a reused pid or a
 * zombie (killed, not yet reaped) never passes for the holder.
 *
 * The lock is a folder of numbered generations, `server.lock/<n>.lock`, each holding the JSON
 * identity of the process that created it. Taking the lock: read the highest generation n; if its
 * holder is alive, the lock is held. Otherwise create generation n+1 with `link()` (atomic, fails
 * if it exists, and the file is complete the moment it appears), then list the folder again: if a
 * higher generation exists someone overtook us and we withdraw; else the lock is ours and the older
 * generations are removed. The highest generation is never removed, only marked released (replaced
 * atomically), so generation numbers only grow and two live holders cannot both be the highest:
 * whoever creates n+1 saw n dead or released, and a late creator of a lower number sees the higher
 * one when it lists the folder.
 *
 * Nothing here imports the rest of the local stack: the CLI's lifecycle commands use it through
 * contract.ts, the server through lock.ts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

/** A running process as the lock records it. */
export interface ProcessIdentity {
  pid: number;
  /** Opaque start time (Linux: clock ticks since boot; elsewhere as `ps` prints it), if known. */
  startTime?: string;
  /** Linux only: the kernel's boot id, so a record from before a reboot never matches. */
  bootId?: string;
}

export type LockRole = 'server' | 'reset';

export interface LockHolder extends ProcessIdentity {
  role: LockRole;
  generation: number;
  acquiredAt: string;
  /** Set once the holder let go (clean shutdown, reset done). */
  released?: boolean;
}

export type LockAttempt =
  { acquired: true; holder: LockHolder; release: () => void } | { acquired: false; holder: LockHolder };

let cachedBootId: string | null | undefined;
function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}

/**
 * The identity of a running process, or undefined if there is none with this pid (gone, or a
 * zombie that has exited but not been reaped).
 */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    // pid (comm) state ppid … : comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined;
    const identity: ProcessIdentity = { pid, startTime: fields[19] };
    const boot = bootId();
    if (boot !== undefined) identity.bootId = boot;
    return identity;
  }
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  if (process.platform === 'win32') return { pid };
  try {
    const line = execFileSync('ps', ['-o', 'stat=', '-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (line === '') return undefined;
    if (line.startsWith('Z')) return undefined;
    return { pid, startTime: line.replace(/^\S+\s+/, '').replace(/\s+/g, ' ') };
  } catch {
    return undefined;
  }
}

/** True if a process with this pid runs (zombies do not). */
export function isProcessRunning(pid: number): boolean {
  return processIdentity(pid) !== undefined;
}

/** True if `recorded` is a process that still runs: same pid, same start time, same boot. */
export function isSameProcessRunning(recorded: ProcessIdentity): boolean {
  const now = processIdentity(recorded.pid);
  if (now === undefined) return false;
  if (recorded.startTime !== undefined && now.startTime !== undefined && recorded.startTime !== now.startTime)
    return false;
  if (recorded.bootId !== undefined && now.bootId !== undefined && recorded.bootId !== now.bootId)
    return false;
  return true;
}

let self: ProcessIdentity | undefined;
/** This process's identity (computed once). */
export function ownIdentity(): ProcessIdentity {
  self ??= processIdentity(process.pid) ?? { pid: process.pid };
  return self;
}

function generationOf(name: string): number | undefined {
  const match = /^(\d{1,15})\.lock$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}

function generations(lockDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(lockDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const out: number[] = [];
  for (const name of names) {
    const generation = generationOf(name);
    if (generation !== undefined) out.push(generation);
  }
  return out.sort((a, b) => a - b);
}

function lockFile(lockDir: string, generation: number): string {
  return path.join(lockDir, `${generation}.lock`);
}

/** The record of a generation; undefined if it vanished; a dead record if it cannot be read. */
function readHolder(lockDir: string, generation: number): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(lockFile(lockDir, generation), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (typeof value.pid === 'number') return { ...(value as LockHolder), generation };
  } catch {
    // Damaged from outside: it names no process, so it holds nothing.
  }
  return { pid: 0, role: 'server', generation, acquiredAt: '', released: true };
}

function isLive(holder: LockHolder): boolean {
  return holder.released !== true && isSameProcessRunning(holder);
}

/** Writes `text` to a fresh, fsynced file beside the generations and returns its path. */
function stage(lockDir: string, text: string): string {
  const tmp = path.join(lockDir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** A lock written by earlier versions: a plain file holding a pid. */
function legacyHolder(lockDir: string): LockHolder | undefined {
  let isFile = false;
  try {
    isFile = lstatSync(lockDir).isFile();
  } catch {
    return undefined;
  }
  if (!isFile) return undefined;
  const pid = Number(readFileSync(lockDir, 'utf8').trim());
  if (Number.isInteger(pid) && pid !== process.pid && isProcessRunning(pid))
    return { pid, role: 'server', generation: 0, acquiredAt: '' };
  rmSync(lockDir, { force: true });
  return undefined;
}

/** The live holder of the lock, if any. */
export function lockHolder(lockDir: string): LockHolder | undefined {
  const legacy = legacyHolder(lockDir);
  if (legacy !== undefined) return legacy;
  const all = generations(lockDir);
  const top = all[all.length - 1];
  if (top === undefined) return undefined;
  const holder = readHolder(lockDir, top);
  return holder !== undefined && isLive(holder) ? holder : undefined;
}

/**
 * Tries to take the lock in `lockDir` (a folder, created if needed) for this process. Returns the
 * live holder if another process has it. Never waits.
 */
export function acquireDirLock(lockDir: string, role: LockRole): LockAttempt {
  for (let attempt = 0; attempt < 100; attempt++) {
    const legacy = legacyHolder(lockDir);
    if (legacy !== undefined) return { acquired: false, holder: legacy };
    mkdirSync(lockDir, { recursive: true, mode: 0o700 });
    const before = generations(lockDir);
    const top = before[before.length - 1] ?? 0;
    if (before.length > 0) {
      const holder = readHolder(lockDir, top);
      if (holder === undefined) continue; // removed meanwhile by a newer holder: look again
      if (isLive(holder)) return { acquired: false, holder };
    }
    const mine: LockHolder = {
      ...ownIdentity(),
      role,
      generation: top + 1,
      acquiredAt: new Date().toISOString(),
    };
    const tmp = stage(lockDir, JSON.stringify(mine));
    let created = false;
    try {
      linkSync(tmp, lockFile(lockDir, mine.generation));
      created = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOENT') throw error;
    } finally {
      rmSync(tmp, { force: true });
    }
    if (!created) continue; // another process took this generation first
    const after = generations(lockDir);
    if (after[after.length - 1] !== mine.generation) {
      // A higher generation exists: we acted on an old view of the folder. Withdraw.
      rmSync(lockFile(lockDir, mine.generation), { force: true });
      continue;
    }
    for (const generation of after) {
      if (generation < mine.generation) rmSync(lockFile(lockDir, generation), { force: true });
    }
    return { acquired: true, holder: mine, release: () => releaseDirLock(lockDir, mine) };
  }
  throw new Error(`Could not take the lock in ${lockDir}: it keeps changing under this process.`);
}

/** Marks our generation released (replacing it atomically; the highest generation is never removed). */
function releaseDirLock(lockDir: string, mine: LockHolder): void {
  const current = readHolder(lockDir, mine.generation);
  if (current === undefined || current.pid !== mine.pid || current.startTime !== mine.startTime) return;
  const tmp = stage(lockDir, JSON.stringify({ ...mine, released: true }));
  try {
    renameSync(tmp, lockFile(lockDir, mine.generation));
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw error;
  }
}
