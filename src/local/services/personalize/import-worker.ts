/**
 * Worker-thread entry of a dataset import: validates and stores the CSV files (dataset-import.ts's
 * importCsv) off the server's thread, so the local stack keeps answering while a large import
 * runs. The files arrive as transferred byte arrays; the result, or the failure reason (a
 * DataProblem is the data's fault), goes back through the jobs layer's worker protocol.
 */
import { serveWorkerTask } from '../../jobs/index.js';
import { importCsv } from './dataset-import.js';
import type { ImportTask } from './import-task.js';
import { DataProblem } from './schema.js';

await serveWorkerTask(
  (task: ImportTask) =>
    importCsv({
      ...task,
      files: task.files.map((file) => ({
        name: file.name,
        text: Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength).toString('utf8'),
      })),
    }),
  (error) => error instanceof DataProblem,
);
