/**
 * The server's own log lines (one per request, plus start-up, shutdown and faults), written so that
 * logging can never take the server down and never fills the disk:
 *
 * - A write that fails (ENOSPC, EIO, a closed terminal) drops the line instead of throwing; once a
 *   write works again, one line says how many were dropped and why.
 * - When the log is the data dir's server.log (a detached server: stdout and stderr are that file,
 *   opened for appending), it is capped at `maxBytes`: past the cap it is copied to server.log.1
 *   and truncated in place. Truncating (rather than renaming) keeps every descriptor that appends
 *   to it valid — stdout, stderr, and the CLI's start-up lines — and appends land at the new end.
 */
import { copyFileSync, fstatSync, ftruncateSync, statSync, writeSync } from 'node:fs';

export const DEFAULT_LOG_MAX_BYTES = 5 * 1024 * 1024;
/** Environment override of the cap (bytes), for tests and small disks. */
export const LOG_MAX_BYTES_ENV = 'MLPIPE_LOCAL_LOG_MAX_BYTES';

export interface ServerLogOptions {
  /** The data dir's server.log: rotation is on when the descriptor is this file. */
  logFile: string;
  maxBytes?: number;
  /** Descriptor lines go to (default 1, stdout). */
  fd?: number;
  /** Seam for fault tests of the log itself (default fs.writeSync). */
  write?: (fd: number, text: string) => void;
}

export class ServerLog {
  private readonly fd: number;
  private readonly maxBytes: number;
  private readonly rotating: boolean;
  private readonly write: (fd: number, text: string) => void;
  private size = 0;
  private dropped = 0;
  private dropReason = '';

  constructor(private readonly options: ServerLogOptions) {
    this.fd = options.fd ?? 1;
    this.maxBytes = Math.max(4096, options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.write =
      options.write ??
      ((fd, text) => {
        writeSync(fd, text);
      });
    this.rotating = sameFile(this.fd, options.logFile);
    if (this.rotating) this.size = fstatSync(this.fd).size;
  }

  /** True when this log is size-capped and rotated (it is the data dir's server.log). */
  get rotated(): boolean {
    return this.rotating;
  }

  line(text: string): void {
    if (this.dropped > 0) {
      const note = `${new Date().toISOString()} log: ${this.dropped} line(s) could not be written (${this.dropReason})\n`;
      if (!this.append(note)) {
        this.dropped++;
        return;
      }
      this.dropped = 0;
    }
    if (!this.append(`${text}\n`)) this.dropped++;
  }

  private append(text: string): boolean {
    const bytes = Buffer.byteLength(text);
    if (this.rotating && this.size + bytes > this.maxBytes) this.rotate();
    try {
      this.write(this.fd, text);
    } catch (error) {
      this.dropReason = (error as NodeJS.ErrnoException).code ?? String(error);
      return false;
    }
    this.size += bytes;
    return true;
  }

  private rotate(): void {
    let kept = true;
    try {
      copyFileSync(this.options.logFile, `${this.options.logFile}.1`);
    } catch {
      kept = false; // e.g. a full disk: the cap still holds, the older lines are lost
    }
    try {
      ftruncateSync(this.fd, 0);
      this.size = 0;
    } catch {
      return;
    }
    if (!kept)
      this.append(`${new Date().toISOString()} log: rotated; the previous lines could not be kept\n`);
  }
}

function sameFile(fd: number, file: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(file);
    return a.isFile() && a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}
