/**
 * Reading the local stack's log: the last N lines, and following it as it grows (like tail -f).
 */
import { existsSync, promises as fs, watch } from 'node:fs';
import { localPaths } from '../../local/contract.js';
import { MlpipeError } from '../cli/errors.js';

export async function readLog(dataDir: string, lines: number): Promise<{ logFile: string; lines: string[] }> {
  const logFile = localPaths(dataDir).log;
  if (!existsSync(logFile)) {
    throw new MlpipeError(`No log yet: ${logFile} does not exist.`, {
      code: 'NO_LOG',
      suggestions: ['The log is written by a detached local stack: run `mlpipe local start`.'],
    });
  }
  const text = await fs.readFile(logFile, 'utf8');
  const all = text.split('\n');
  if (all[all.length - 1] === '') all.pop();
  return { logFile, lines: lines === 0 ? [] : all.slice(-lines) };
}

/** Calls `onLine` for each line appended to the file, until the process is interrupted. */
export async function followLog(logFile: string, onLine: (line: string) => void): Promise<never> {
  let offset = (await fs.stat(logFile)).size;
  let partial = '';
  const readNew = async (): Promise<void> => {
    const { size } = await fs.stat(logFile);
    if (size < offset) offset = 0; // rotated or truncated
    if (size === offset) return;
    const handle = await fs.open(logFile, 'r');
    try {
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      offset = size;
      const text = partial + buffer.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    } finally {
      await handle.close();
    }
  };
  let busy = Promise.resolve();
  watch(logFile, () => {
    busy = busy.then(readNew).catch(() => undefined);
  });
  // fs.watch can miss events on some filesystems: poll as well.
  setInterval(() => {
    busy = busy.then(readNew).catch(() => undefined);
  }, 500);
  return new Promise<never>(() => undefined);
}
