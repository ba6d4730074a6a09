/**
 * A service's state file: the whole state as one JSON document, replaced atomically on each write.
 * Writes are serialized, so the last change always wins on disk even when saves overlap.
 *
 * `commit` is how a request changes state: the change becomes visible only once it is on disk. A
 * change that cannot be written (a full disk) fails the request and leaves nothing behind — no
 * job that answers "already exists" to a retry and is gone after a restart. A status the stack
 * reaches on its own (a job's end, a provisioning step) is committed too, through `untilWritten`,
 * which tries again while the disk is full. `save` is for progress that may be lost (a Glue run's
 * status on the way): it is kept in memory even if the write fails.
 */
import { writeFileAtomic, writeJsonAtomic } from '../../shared/atomic-file.js';
import { isDiskFull } from '../core/errors.js';

/** Undoes a change `commit` applied in memory. */
export type Undo = () => void;

/**
 * Sets `changes` on `target` (an undefined member is deleted) and returns how to undo it: the
 * `apply` of a `commit` that changes a record in place (a status, a reason, a time).
 */
export function assign<T extends object>(target: T, changes: Partial<T>): Undo {
  const record = target as Record<string, unknown>;
  const before = Object.keys(changes).map((key) => [key, key in record, record[key]] as const);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete record[key];
    else record[key] = value;
  }
  return () => {
    for (const [key, had, value] of before) {
      if (had) record[key] = value;
      else delete record[key];
    }
  };
}

/** How long a write the stack makes on its own waits before it tries a full disk again. */
export const DISK_FULL_RETRY_MS = 250;

/**
 * Runs `write` until it succeeds: on a full disk it waits DISK_FULL_RETRY_MS (real time: freeing
 * space is not on the stack's clock) and tries again, until `signal` aborts (the stack is
 * stopping: what was not written is not there after the restart either). For progress the stack
 * makes on its own (a status a job reached), which must not be shown before it is on disk and must
 * not be lost while the disk is full. Other errors reject at once.
 */
export async function untilWritten(
  write: () => Promise<void>,
  signal: AbortSignal | undefined,
  onDiskFull: (error: unknown) => void = () => undefined,
): Promise<void> {
  for (;;) {
    try {
      await write();
      return;
    } catch (error) {
      if (!isDiskFull(error) || signal?.aborted === true) throw error;
      onDiskFull(error);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, DISK_FULL_RETRY_MS);
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(error);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

export class StateFile {
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: (line: string) => void,
    /** The whole state to write (what `commit` and `save` persist). */
    private readonly snapshot?: () => unknown,
  ) {}

  /** Writes `state` after every earlier write; rejects if this write fails (later saves still run). */
  save(state: unknown = this.snapshot?.()): Promise<void> {
    const next = this.saving.then(() => writeJsonAtomic(this.path, state));
    this.saving = next.catch((error: unknown) => this.log(`saving ${this.path} failed: ${String(error)}`));
    return next;
  }

  /**
   * Applies a change once it is on disk. `apply` checks and changes the in-memory state and returns
   * how to undo it; it runs after every earlier write, may throw to refuse the change, and must do
   * the same when run twice on the same state. The state is written with the change applied (and
   * the change undone while the write is in flight, so no reader sees it early), then applied for
   * good. Rejects, with nothing changed, if the write fails.
   */
  commit(apply: () => Undo): Promise<void> {
    const snapshot = this.snapshot;
    if (snapshot === undefined) throw new Error(`${this.path}: commit needs a snapshot function`);
    const next = this.saving.then(async () => {
      const undo = apply();
      // Serialized now, before the undo: in-place changes are captured as applied.
      const text = JSON.stringify(snapshot(), null, 2) + '\n';
      undo();
      await writeFileAtomic(this.path, text);
      apply();
    });
    this.saving = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every write started so far has finished. */
  async flush(): Promise<void> {
    await this.saving;
  }
}
