/**
 * Crash-safe file writing shared by the local stack (state and object files) and the CLI (config
 * files, sample data): every file is replaced atomically (write to a temp file in the same
 * directory, fsync it, rename over the target, fsync the directory), so a reader sees the old
 * content or the new one, never a mix or a torn write.
 */
import { randomBytes } from 'node:crypto';
import {
  promises as fs,
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  writeFileSync,
  unlinkSync,
} from 'node:fs';
import path from 'node:path';

/** A unique temp path next to `target` (same directory, so the rename stays on one filesystem). */
export function tempPathFor(target: string): string {
  return path.join(
    path.dirname(target),
    `.tmp-${path.basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}`,
  );
}

/** fsyncs a directory so a rename in it survives a power loss. Best effort where unsupported. */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

/** Atomically replaces `target` with `data`. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = await stageFile(target, data);
  try {
    await fs.rename(tmp, target);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await fsyncDir(path.dirname(target));
}

/** Synchronous variant for start-up and shutdown paths; `mode` for files only their owner may read. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array, mode = 0o666): void {
  const tmp = tempPathFor(target);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, target);
  } catch (error) {
    unlinkSync(tmp);
    throw error;
  }
}

/**
 * Writes `data` to a fsynced temp file next to `target` and returns its path; `commitFile` moves it
 * into place later (so another thread can do the writing and the owner decides when it counts).
 */
export async function stageFile(target: string, data: string | Uint8Array): Promise<string> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tempPathFor(target);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  return tmp;
}

/** Atomically moves an already-written, fsynced temp file into place. */
export async function commitFile(tmp: string, target: string): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  await fs.rename(tmp, target);
  await fsyncDir(path.dirname(target));
}

/** Writes JSON atomically (pretty-printed: these files are small and humans read them). */
export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 2) + '\n');
}

/** A file that exists but cannot be read as what it should hold. */
export class DamagedFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file} is damaged (${problem}).`);
    this.name = 'DamagedFileError';
  }
}

/** The JSON in `file`, or undefined if there is no such file; DamagedFileError if it is not JSON. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new DamagedFileError(file, (error as Error).message);
  }
}
