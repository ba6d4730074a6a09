/**
 * The data dir belongs to its owner only: 0700 for it and every folder in it, 0600 for every file.
 * The server runs with umask 077, so what it creates already has these modes; `secureDataDir`
 * brings a data dir made by an earlier version (0755 folders, 0644 files, readable by every local
 * user without signing anything) into line when a server starts on it. Symlinks are left alone.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DIR_MODE, FILE_MODE } from '../contract.js';

/** Fixes the modes under `dataDir`; returns how many entries it changed. */
export async function secureDataDir(dataDir: string): Promise<number> {
  let changed = 0;
  const visit = async (entry: string): Promise<void> => {
    const stat = await fs.lstat(entry).catch(() => undefined);
    if (stat === undefined || stat.isSymbolicLink()) return;
    const want = stat.isDirectory() ? DIR_MODE : FILE_MODE;
    if ((stat.mode & 0o777) !== want) {
      await fs.chmod(entry, want).catch(() => undefined);
      changed++;
    }
    if (!stat.isDirectory()) return;
    const names = await fs.readdir(entry).catch(() => [] as string[]);
    // Bounded fan-out: a lake can hold many thousands of files.
    for (let i = 0; i < names.length; i += 64)
      await Promise.all(names.slice(i, i + 64).map((name) => visit(path.join(entry, name))));
  };
  await visit(dataDir);
  return changed;
}
