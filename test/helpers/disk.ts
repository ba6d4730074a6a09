/**
 * A real full disk for fault tests: a small tmpfs (where this process may mount one: root on
 * Linux) filled to the last byte, and freed again. Nothing is mocked: writes under it fail with
 * ENOSPC as they would on a full disk.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Mounts a tmpfs of `megabytes` at a new folder and returns it, or undefined where this process
 * may not mount; `cleanups` gets what unmounts and removes it.
 */
export function smallDisk(megabytes: number, cleanups: Array<() => unknown>): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0700`, 'tmpfs', dir], {
      stdio: 'ignore',
    });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  cleanups.push(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A disk filled to the last byte. */
export interface FullDisk {
  /**
   * Takes what was freed since (a write that was in flight when the disk filled, replacing a
   * file, frees the old one's pages): call before a step that must meet a full disk.
   */
  topUp(): void;
  /** Frees the space again. */
  free(): void;
}

/** Fills `dir`'s disk to the last byte. */
export function fillDisk(dir: string): FullDisk {
  const big = path.join(dir, 'filler');
  let tails = 0;
  const fill = (file: string, size: number): void => {
    const fd = openSync(file, 'w');
    try {
      for (;;) writeSync(fd, Buffer.alloc(size, 1));
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
  };
  // Big writes first, then small ones for the last partial page.
  fill(big, 64 * 1024);
  const topUp = (): void => fill(path.join(dir, `filler-tail-${tails++}`), 512);
  topUp();
  return {
    topUp,
    free: () => {
      rmSync(big, { force: true });
      for (let i = 0; i < tails; i++) rmSync(path.join(dir, `filler-tail-${i}`), { force: true });
    },
  };
}
