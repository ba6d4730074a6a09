/**
 * A service's state file: the whole state as one JSON document, replaced atomically on each save.
 * Saves are serialized, so the last change always wins on disk even when saves overlap.
 */
import { writeJsonAtomic } from '../../shared/atomic-file.js';

export class StateFile {
  private saving: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly log: (line: string) => void,
  ) {}

  /** Writes `state` after every earlier save; rejects if this write fails (later saves still run). */
  save(state: unknown): Promise<void> {
    const next = this.saving.then(() => writeJsonAtomic(this.path, state));
    this.saving = next.catch((error: unknown) => this.log(`saving ${this.path} failed: ${String(error)}`));
    return next;
  }

  /** Resolves once every save started so far has finished. */
  async flush(): Promise<void> {
    await this.saving;
  }
}
