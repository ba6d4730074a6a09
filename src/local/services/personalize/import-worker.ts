/**
 * Worker-thread entry of a dataset import: validates and stores the CSV files (data.ts's
 * importCsv) off the server's thread, so the local stack keeps answering while a large import
 * runs. The files arrive as transferred byte arrays; the result, or the failure reason, goes back
 * in one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { importCsv } from './dataset-import.js';
import { DataProblem } from './schema.js';
import type { ImportTask, ImportTaskResult } from './import-task.js';

const port = parentPort;
if (port === null) throw new Error('import-worker.ts must run in a worker thread');
const task = workerData as ImportTask;
let message: ImportTaskResult;
try {
  const result = await importCsv({
    ...task,
    files: task.files.map((file) => ({
      name: file.name,
      text: Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).toString('utf8'),
    })),
  });
  message = { ok: true, result };
} catch (error) {
  message = {
    ok: false,
    problem: error instanceof DataProblem,
    message: (error as Error)?.message ?? String(error),
    stack: (error as Error)?.stack ?? String(error),
  };
}
port.postMessage(message);
port.close();
