/**
 * Worker-thread entry of a Glue job run: runs etl-task.ts on input chunks pulled from the parent
 * (one chunk in flight: the parent reads S3 only as fast as the engine consumes, constant memory).
 *
 * Protocol — worker → parent: `{type:'pull'}`, `{type:'progress', rowsRead}`, `{type:'result', result}`;
 * parent → worker: `{type:'chunk', data}`, `{type:'end'}`, `{type:'error', message}`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runEtlTask, type EtlTaskInput } from './etl-task.js';

export type ParentMessage =
  { type: 'chunk'; data: Uint8Array } | { type: 'end' } | { type: 'error'; message: string };

const port = parentPort;
if (port === null) throw new Error('worker.ts must run in a worker thread');

const waiting: ((message: ParentMessage) => void)[] = [];
port.on('message', (message: ParentMessage) => waiting.shift()?.(message));

function pull(): Promise<ParentMessage> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    port!.postMessage({ type: 'pull' });
  });
}

async function* input(): AsyncGenerator<Buffer> {
  for (;;) {
    const message = await pull();
    if (message.type === 'end') return;
    if (message.type === 'error') throw new Error(message.message);
    yield Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
  }
}

// Every block's count goes to the parent, which logs a line each time a multiple of 50,000 is
// passed: a time-based throttle here would skip those lines whenever the run is fast.
const result = await runEtlTask(workerData as EtlTaskInput, input(), (rowsRead) => {
  port.postMessage({ type: 'progress', rowsRead });
});
port.postMessage({ type: 'result', result });
port.close();
