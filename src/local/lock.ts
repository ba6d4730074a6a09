/**
 * The server's side of owning a data dir: it takes the data dir's lock (data-dir-lock.ts: exclusive,
 * pid + start time) before anything else and keeps it for its lifetime, writes server.json once it
 * listens, and at shutdown removes server.json only if the record is still its own, then lets go
 * of the lock. Nobody else ever deletes server.json: a record left by a killed server is simply
 * stale (its pid is not running, or the endpoint answers with another pid) until the next holder
 * replaces it.
 */
import { readFileSync, rmSync } from 'node:fs';
import { acquireDirLock, localPaths, FILE_MODE, type LockAttempt, type ServerInfo } from './contract.js';
import { writeFileAtomicSync } from '../shared/atomic-file.js';

export { isProcessAlive, readServerInfo } from './contract.js';

/** Tries to take the data dir's lock for this server; never waits. */
export function acquireLock(dataDir: string): LockAttempt {
  return acquireDirLock(localPaths(dataDir).lock, 'server');
}

export function writeServerInfo(dataDir: string, info: ServerInfo): void {
  writeFileAtomicSync(localPaths(dataDir).serverInfo, JSON.stringify(info, null, 2) + '\n', FILE_MODE);
}

/** Removes server.json if it is this process's record (a later server's record is left alone). */
export function removeServerInfo(dataDir: string): void {
  const file = localPaths(dataDir).serverInfo;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<ServerInfo>;
    if (info.pid !== process.pid) return;
  } catch {
    return;
  }
  rmSync(file, { force: true });
}
