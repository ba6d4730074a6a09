/**
 * One Glue job run's CPU work: the mapping spec applied to the input byte stream by the local ETL
 * engine (src/etl), the output and reject CSVs streamed to temp files. Runs inside the run's worker
 * thread (worker.ts), or in the server's thread when a worker cannot be started. No S3 access here:
 * the caller feeds the input and commits the files.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { EtlError, loadMappingSpec, runEtl, type EtlReport } from '../../../etl/index.js';

export interface EtlTaskInput {
  /** The spec in its JSON form (overrides already applied). */
  specJson: unknown;
  specLabel: string;
  rejectThreshold?: number;
  /** Temp files the output and reject CSVs are written to. */
  outputFile: string;
  rejectsFile: string;
  /** Optional temp file for the distinct users as batch inference input (`--users_output_path`). */
  usersFile?: string;
}

export type EtlTaskResult =
  | { ok: true; report: EtlReport; rejectsWritten: boolean }
  | {
      ok: false;
      message: string;
      kind?: string;
      firstRejects: { line: number; reason: string }[];
      rejectsWritten: boolean;
    };

function sink(stream: WriteStream, touched: { written: boolean }): (chunk: string) => Promise<void> | void {
  return (chunk) => {
    if (chunk.length === 0) return;
    touched.written = true;
    if (!stream.write(chunk)) return once(stream, 'drain').then(() => undefined);
  };
}

async function closeStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return;
  await new Promise<void>((resolve, reject) => {
    stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

export async function runEtlTask(
  task: EtlTaskInput,
  input: AsyncIterable<Buffer | Uint8Array>,
  onProgress?: (rowsRead: number) => void,
): Promise<EtlTaskResult> {
  const out = createWriteStream(task.outputFile);
  const rej = createWriteStream(task.rejectsFile);
  const users = task.usersFile === undefined ? undefined : createWriteStream(task.usersFile);
  const outTouched = { written: false };
  const rejTouched = { written: false };
  try {
    const spec = loadMappingSpec(task.specJson, task.specLabel);
    const report = await runEtl(
      spec,
      input,
      {
        output: sink(out, outTouched),
        rejects: sink(rej, rejTouched),
        ...(users ? { users: sink(users, { written: false }) } : {}),
      },
      { rejectThreshold: task.rejectThreshold, onProgress },
    );
    await closeStream(out);
    await closeStream(rej);
    if (users) await closeStream(users);
    return { ok: true, report, rejectsWritten: rejTouched.written && report.rowsRejected > 0 };
  } catch (error) {
    await closeStream(out).catch(() => undefined);
    await closeStream(rej).catch(() => undefined);
    if (users) await closeStream(users).catch(() => undefined);
    if (error instanceof EtlError) {
      return {
        ok: false,
        message: error.message,
        kind: error.kind,
        firstRejects: [...error.firstRejects],
        rejectsWritten: rejTouched.written,
      };
    }
    return {
      ok: false,
      message: (error as Error)?.message ?? String(error),
      firstRejects: [],
      rejectsWritten: rejTouched.written,
    };
  }
}
