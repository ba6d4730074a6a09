/**
 * Runs a dataset import's CPU work (dataset-import.ts's importCsv) in a worker thread (import-worker.ts),
 * or in the calling thread when a worker cannot start. Files are handed over as bytes whose
 * buffers are transferred, not copied.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../../worker-start.js';
import { importCsv, type ImportResult } from './dataset-import.js';
import { DataProblem, type DatasetType, type SchemaField } from './schema.js';

export interface ImportTask {
  dataDir: string;
  datasetArn: string;
  type: DatasetType;
  fields: SchemaField[];
  mode: 'FULL' | 'INCREMENTAL';
  files: { name: string; data: Uint8Array }[];
}

export type ImportTaskResult =
  { ok: true; result: ImportResult } | { ok: false; problem: boolean; message: string; stack: string };

/** Thrown when the task was stopped (the server is shutting down). */
export class ImportStopped extends Error {}

export interface RunningImport {
  done: Promise<ImportResult>;
  /** Stops the worker; `done` rejects with ImportStopped. */
  stop(): void;
}

function settle(message: ImportTaskResult): ImportResult {
  if (message.ok) return message.result;
  if (message.problem) throw new DataProblem(message.message);
  const error = new Error(message.message);
  error.stack = message.stack;
  throw error;
}

/** Starts the import; the files' buffers are transferred to the worker (unusable here afterwards). */
export function startImportTask(task: ImportTask): RunningImport {
  let worker: Worker | undefined;
  try {
    worker = startModuleWorker(
      import.meta.url,
      'import-worker',
      task,
      task.files.map((file) => file.data.buffer as ArrayBuffer),
    );
  } catch {
    worker = undefined;
  }
  if (worker === undefined) {
    const files = task.files.map((f) => ({ name: f.name, text: Buffer.from(f.data).toString('utf8') }));
    return { done: importCsv({ ...task, files }), stop: () => undefined };
  }
  const running = worker;
  let stopped = false;
  const done = new Promise<ImportResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    running.on('message', (message: ImportTaskResult) =>
      finish(() => {
        try {
          resolve(settle(message));
        } catch (error) {
          reject(error as Error);
        }
      }),
    );
    running.on('error', (error) => finish(() => reject(stopped ? new ImportStopped('stopped') : error)));
    running.on('exit', (code) =>
      finish(() =>
        reject(
          stopped
            ? new ImportStopped('stopped')
            : new Error(`The import worker exited with code ${code} before finishing.`),
        ),
      ),
    );
  });
  return {
    done,
    stop: () => {
      stopped = true;
      void running.terminate();
    },
  };
}
