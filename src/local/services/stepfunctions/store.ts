/**
 * Step Functions state on disk, under `<dataDir>/stepfunctions/`:
 *
 * - `state.json` — every state machine (definition, role, configuration, revision), replaced
 *   atomically on each change.
 * - `executions/<hash of the execution ARN>.json` — one file per execution: its record and its
 *   history events, replaced atomically (temp file, fsync, rename). While an execution runs, its
 *   writes are coalesced (one in flight, one queued, at most one every HISTORY_WRITE_INTERVAL_MS),
 *   so a long history is not rewritten per event; the write that records its end is never skipped.
 *
 * On open, executions a crash left RUNNING are returned to the caller, which ends them (FAILED,
 * with a reason) before anything else runs.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { HistoryEvent, LoggingConfiguration } from '@aws-sdk/client-sfn';
import { readJson, writeFileAtomic } from '../../../shared/atomic-file.js';
import { StateFile, type Undo } from '../../store/state-file.js';

/** A running execution's file is rewritten at most this often (the end is written at once after). */
export const HISTORY_WRITE_INTERVAL_MS = 100;
/**
 * …and a queued write of a running execution waits this many times as long as the last write took,
 * so writes take at most about 1/(1+factor) of the server's time however long the history grows.
 */
export const HISTORY_WRITE_COST_FACTOR = 4;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface StateMachineRecord {
  stateMachineArn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: 'STANDARD';
  /** ISO 8601. */
  creationDate: string;
  updateDate?: string;
  revisionId: string;
  loggingConfiguration: LoggingConfiguration;
  tracingConfiguration: { enabled: boolean };
  tags: { key: string; value: string }[];
  /** Creation order. */
  seq: number;
}

export interface ExecutionRecord {
  executionArn: string;
  name: string;
  stateMachineArn: string;
  stateMachineName: string;
  /** The definition and role the execution runs with (later updates do not change it). */
  definition: string;
  roleArn: string;
  revisionId: string;
  /** When that revision of the state machine was made (its update, or its creation). */
  revisionDate: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate?: string;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  seq: number;
}

/** A history event as stored: the timestamp as epoch milliseconds. */
type StoredEvent = Omit<HistoryEvent, 'timestamp'> & { timestamp: number };

interface ExecutionFile {
  execution: ExecutionRecord;
  events: StoredEvent[];
}

interface WriteSlot {
  current: Promise<void>;
  queued: Promise<void> | undefined;
  /** When the last write started, and how long it took (ms). */
  lastWrite: number;
  lastCost: number;
}

function toStored(events: readonly HistoryEvent[]): StoredEvent[] {
  return events.map((e) => ({ ...e, timestamp: e.timestamp!.getTime() }));
}

function fromStored(events: readonly StoredEvent[]): HistoryEvent[] {
  return events.map((e) => ({ ...e, timestamp: new Date(e.timestamp) }));
}

export class StepFunctionsStore {
  readonly stateMachines = new Map<string, StateMachineRecord>();
  readonly executions = new Map<string, ExecutionRecord>();
  private readonly state: StateFile;
  private readonly slots = new Map<string, WriteSlot>();

  private constructor(
    readonly dir: string,
    private readonly log: (line: string) => void,
  ) {
    this.state = new StateFile(
      path.join(dir, 'state.json'),
      (line) => log(`stepfunctions: ${line}`),
      () => ({ stateMachines: [...this.stateMachines.values()] }),
    );
  }

  /** Loads everything; `interrupted` holds executions a crash left RUNNING, with their histories. */
  static async open(
    dir: string,
    log: (line: string) => void,
  ): Promise<{
    store: StepFunctionsStore;
    interrupted: { execution: ExecutionRecord; events: HistoryEvent[] }[];
  }> {
    const store = new StepFunctionsStore(dir, log);
    const state = await readJson<{ stateMachines: StateMachineRecord[] }>(path.join(dir, 'state.json'));
    for (const machine of state?.stateMachines ?? [])
      store.stateMachines.set(machine.stateMachineArn, machine);
    const executionsDir = path.join(dir, 'executions');
    await fs.mkdir(executionsDir, { recursive: true });
    const interrupted: { execution: ExecutionRecord; events: HistoryEvent[] }[] = [];
    for (const name of (await fs.readdir(executionsDir)).sort()) {
      const file = path.join(executionsDir, name);
      if (name.startsWith('.tmp-')) {
        // A write that crashed before its rename: the previous file is intact.
        await fs.rm(file, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      try {
        const stored = await readJson<ExecutionFile>(file);
        if (stored === undefined) continue;
        store.executions.set(stored.execution.executionArn, stored.execution);
        if (stored.execution.status === 'RUNNING')
          interrupted.push({ execution: stored.execution, events: fromStored(stored.events) });
      } catch (error) {
        log(`stepfunctions: ignoring unreadable execution file ${file}: ${(error as Error).message}`);
      }
    }
    return { store, interrupted };
  }

  /** Applies a change to the state machines once it is on disk (see `StateFile.commit`). */
  commitStateMachines(apply: () => Undo): Promise<void> {
    return this.state.commit(apply);
  }

  private fileFor(executionArn: string): string {
    const id = createHash('sha256').update(executionArn).digest('hex').slice(0, 32);
    return path.join(this.dir, 'executions', `${id}.json`);
  }

  /**
   * Persists an execution and its history (`events` is read when the write happens, so a queued
   * write carries everything recorded by then). Writes of one execution are serialized and
   * coalesced; with `throttle`, a queued write waits until HISTORY_WRITE_INTERVAL_MS after the last.
   */
  saveExecution(
    execution: ExecutionRecord,
    events: () => readonly HistoryEvent[],
    throttle = false,
  ): Promise<void> {
    const file = this.fileFor(execution.executionArn);
    const write = async (): Promise<void> => {
      const slotNow = this.slots.get(execution.executionArn);
      const started = Date.now();
      if (slotNow !== undefined) slotNow.lastWrite = started;
      // Compact: the file is read back by this store only, and a long history is megabytes.
      await writeFileAtomic(
        file,
        JSON.stringify({ execution, events: toStored(events()) } satisfies ExecutionFile),
      );
      if (slotNow !== undefined) slotNow.lastCost = Date.now() - started;
    };
    const slot = this.slots.get(execution.executionArn);
    if (slot === undefined) {
      const fresh: WriteSlot = { current: Promise.resolve(), queued: undefined, lastWrite: 0, lastCost: 0 };
      this.slots.set(execution.executionArn, fresh);
      const current = write();
      fresh.current = current.catch((error: unknown) =>
        this.log(`stepfunctions: saving ${file} failed: ${String(error)}`),
      );
      return current;
    }
    if (slot.queued !== undefined) return slot.queued;
    const queued = slot.current.then(async () => {
      const gap = Math.max(HISTORY_WRITE_INTERVAL_MS, slot.lastCost * (1 + HISTORY_WRITE_COST_FACTOR));
      const wait = slot.lastWrite + gap - Date.now();
      if (throttle && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      slot.queued = undefined;
      return write();
    });
    slot.queued = queued;
    slot.current = queued.catch((error: unknown) =>
      this.log(`stepfunctions: saving ${file} failed: ${String(error)}`),
    );
    return queued;
  }

  /**
   * Applies a change to an execution's record once it is written with its history: after every
   * write requested before, the record is serialized with the change applied, the change undone
   * while the write is in flight (no reader sees it early), then applied for good. Rejects, with
   * nothing changed, if the write fails.
   */
  commitExecution(
    execution: ExecutionRecord,
    events: () => readonly HistoryEvent[],
    apply: () => Undo,
  ): Promise<void> {
    const file = this.fileFor(execution.executionArn);
    let slot = this.slots.get(execution.executionArn);
    if (slot === undefined) {
      slot = { current: Promise.resolve(), queued: undefined, lastWrite: 0, lastCost: 0 };
      this.slots.set(execution.executionArn, slot);
    }
    const owner = slot;
    const before = owner.queued ?? owner.current;
    const next = before
      .catch(() => undefined)
      .then(async () => {
        const undo = apply();
        const text = JSON.stringify({ execution, events: toStored(events()) } satisfies ExecutionFile);
        undo();
        owner.lastWrite = Date.now();
        await writeFileAtomic(file, text);
        apply();
      });
    // Later saves queue behind this one; a failure is the caller's to report.
    owner.queued = undefined;
    owner.current = next.catch(() => undefined);
    return next;
  }

  /** Forgets the writes of an execution that was never recorded (its first write failed). */
  forget(executionArn: string): void {
    this.slots.delete(executionArn);
  }

  /** The stored history of an execution that is not running (running ones are held in memory). */
  async readHistory(executionArn: string): Promise<HistoryEvent[]> {
    await this.slots.get(executionArn)?.current;
    const stored = await readJson<ExecutionFile>(this.fileFor(executionArn));
    return stored === undefined ? [] : fromStored(stored.events);
  }

  async deleteExecution(executionArn: string): Promise<void> {
    await this.slots.get(executionArn)?.current;
    this.slots.delete(executionArn);
    this.executions.delete(executionArn);
    await fs.rm(this.fileFor(executionArn), { force: true });
  }

  /** Resolves when every write requested so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.slots.values()].map((slot) => slot.current));
    await this.state.flush();
  }
}
