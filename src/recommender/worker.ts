/**
 * Worker-thread entry of the engine's thread pool: keeps the arrays the pool shares with it
 * (SharedArrayBuffer-backed, so no copies) and runs the tasks it is sent, one at a time.
 */
import { parentPort } from 'node:worker_threads';
import { runTask, type SharedArray, type Task } from './tasks.js';

type Message = { type: 'share'; name: string; array: SharedArray } | { type: 'task'; id: number; task: Task };

const arrays = new Map<string, SharedArray>();
const port = parentPort;
if (port) {
  port.on('message', (message: Message) => {
    if (message.type === 'share') {
      arrays.set(message.name, message.array);
      return;
    }
    try {
      const result = runTask(message.task, arrays);
      port.postMessage({ id: message.id, result });
    } catch (error) {
      port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) });
    }
  });
}
