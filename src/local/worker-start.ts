/**
 * Starts a worker thread on a module that sits beside the calling module. Built, `<name>.js` loads
 * directly. Under tsx (tests, `npm run dev`) Node 20 does not apply the parent's `--import tsx`
 * hooks to a worker's entry module, so a small eval'd bootstrap registers tsx in the worker first
 * and then imports `<name>.ts`.
 */
import { Worker, type TransferListItem } from 'node:worker_threads';

export function startModuleWorker(
  callerUrl: string,
  name: string,
  workerData: unknown,
  transferList: TransferListItem[] = [],
): Worker {
  if (!callerUrl.endsWith('.ts')) {
    return new Worker(new URL(`./${name}.js`, callerUrl), { workerData, transferList });
  }
  const target = new URL(`./${name}.ts`, callerUrl).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code =
    `(async () => { const { register } = await import(${JSON.stringify(api)}); register(); ` +
    `await import(${JSON.stringify(target)}); })().catch((error) => { throw error; });`;
  return new Worker(code, { eval: true, workerData, transferList });
}
