/**
 * CloudFormation state on disk: one JSON file per stack (its template, parameters, resources,
 * events and change sets) under `<dataDir>/cloudformation/stacks/`, each replaced atomically.
 * Writes of one stack are serialized and coalesced: a save requested while another is in flight
 * writes once more afterwards, with whatever the record holds by then.
 *
 * A request's change (a new stack, a change set, a stack's status) goes through `commit`: it is
 * visible only once written, and a write that fails (a full disk) leaves nothing changed. `save` is
 * for the progress of an operation (resources' statuses and events along the way).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../../../shared/atomic-file.js';
import type { Undo } from '../../store/state-file.js';
import type { StackRecord } from './types.js';

interface WriteSlot {
  /** The write in flight (or the last one). */
  current: Promise<void>;
  /** A write queued behind it, shared by every save requested meanwhile. */
  queued: Promise<void> | undefined;
}

export class CloudFormationStore {
  /** Every stack ever created (deleted ones too: DescribeStacks by ID and ListStacks show them). */
  readonly stacks = new Map<string, StackRecord>();
  private readonly slots = new Map<string, WriteSlot>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<CloudFormationStore> {
    const store = new CloudFormationStore(dir);
    const stacksDir = path.join(dir, 'stacks');
    await fs.mkdir(stacksDir, { recursive: true });
    for (const name of (await fs.readdir(stacksDir)).sort()) {
      const file = path.join(stacksDir, name);
      if (name.startsWith('.tmp-')) {
        // A write that crashed before its rename: the previous file is intact.
        await fs.rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      // A damaged stack file stops start-up (readJson names it): never run without a stack's state.
      const stack = await readJson<StackRecord>(file);
      if (stack !== undefined) store.stacks.set(stack.stackId, stack);
    }
    return store;
  }

  private fileFor(stack: StackRecord): string {
    const id = stack.stackId.slice(stack.stackId.lastIndexOf('/') + 1);
    return path.join(this.dir, 'stacks', `${id}.json`);
  }

  /** Adds a new stack once its file is written. */
  add(stack: StackRecord): Promise<void> {
    return this.commit(stack, () => {
      this.stacks.set(stack.stackId, stack);
      return () => this.stacks.delete(stack.stackId);
    });
  }

  /**
   * Applies a change to `stack` once it is on disk: after every write of the stack requested
   * before, `apply` changes the record (and may throw to refuse), it is serialized, undone while
   * the write is in flight (so no reader sees it early), then applied for good. `apply` must do
   * the same when run twice. Rejects, with nothing changed, if the write fails.
   */
  commit(stack: StackRecord, apply: () => Undo): Promise<void> {
    let slot = this.slots.get(stack.stackId);
    if (slot === undefined) {
      slot = { current: Promise.resolve(), queued: undefined };
      this.slots.set(stack.stackId, slot);
    }
    const next = (slot.queued ?? slot.current)
      .catch(() => undefined)
      .then(async () => {
        const undo = apply();
        const text = JSON.stringify(stack, null, 2) + '\n';
        undo();
        await writeFileAtomic(this.fileFor(stack), text);
        apply();
      });
    // Saves requested from now on write after this one.
    slot.queued = undefined;
    slot.current = next.catch(() => undefined);
    return next;
  }

  save(stack: StackRecord): Promise<void> {
    const slot = this.slots.get(stack.stackId);
    if (slot === undefined) {
      const current = writeJsonAtomic(this.fileFor(stack), stack);
      this.slots.set(stack.stackId, { current: current.catch(() => undefined), queued: undefined });
      return current;
    }
    if (slot.queued !== undefined) return slot.queued;
    const queued = slot.current.then(() => {
      slot.queued = undefined;
      return writeJsonAtomic(this.fileFor(stack), stack);
    });
    slot.queued = queued;
    slot.current = queued.catch(() => undefined);
    return queued;
  }

  /** Resolves when every write requested so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => slot.current));
  }
}
