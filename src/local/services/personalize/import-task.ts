/**
 * Runs a dataset import's CPU work (dataset-import.ts's importCsv) in a worker thread
 * (import-worker.ts) through the jobs layer's worker runner, or in the calling thread when no
 * worker can start. Files are handed over as bytes whose buffers are transferred, not copied.
 */
import { runWorkerTask } from '../../jobs/index.js';
import { importCsv, type ImportResult } from './dataset-import.js';
import type { DatasetType, SchemaField } from './schema.js';

export interface ImportTask {
  dataDir: string;
  datasetArn: string;
  type: DatasetType;
  fields: SchemaField[];
  mode: 'FULL' | 'INCREMENTAL';
  files: { name: string; data: Uint8Array }[];
}

/**
 * Checks and stages the import; the files' buffers are transferred to the worker (unusable here
 * afterwards). Rejects with JobFailure for a problem with the data, JobStopped when `signal` aborts.
 */
export function runImportTask(task: ImportTask, signal: AbortSignal): Promise<ImportResult> {
  const running = runWorkerTask<ImportResult>(import.meta.url, 'import-worker', task, {
    signal,
    transfer: task.files.map((file) => file.data.buffer as ArrayBuffer),
  });
  if (running !== undefined) return running;
  const files = task.files.map((f) => ({ name: f.name, text: Buffer.from(f.data).toString('utf8') }));
  return importCsv({ ...task, files, signal });
}
