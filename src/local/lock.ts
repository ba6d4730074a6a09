/**
 * One server per data dir: the server holds `server.lock` (its pid, created exclusively) while it
 * runs. A lock whose process is gone is stale and replaced. Also reads and writes server.json.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { isProcessAlive, localPaths, type ServerInfo } from './contract.js';

export { isProcessAlive, readServerInfo } from './contract.js';
import { writeFileAtomicSync } from '../shared/atomic-file.js';

function lockHolder(lockFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8').trim());
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the data dir's lock for this process. Returns the pid of a live holder if another server
 * owns it, or undefined once the lock is ours.
 */
export function acquireLock(dataDir: string): number | undefined {
  const lockFile = localPaths(dataDir).lock;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = lockHolder(lockFile);
      if (holder !== undefined && holder !== process.pid && isProcessAlive(holder)) return holder;
      // Stale: its process is gone. Remove it and try again.
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not take the lock ${lockFile}; another process keeps recreating it.`);
}

export function releaseLock(dataDir: string): void {
  const lockFile = localPaths(dataDir).lock;
  if (lockHolder(lockFile) === process.pid) rmSync(lockFile, { force: true });
}

export function writeServerInfo(dataDir: string, info: ServerInfo): void {
  writeFileAtomicSync(localPaths(dataDir).serverInfo, JSON.stringify(info, null, 2) + '\n');
}

export function removeServerInfo(dataDir: string): void {
  rmSync(localPaths(dataDir).serverInfo, { force: true });
}
