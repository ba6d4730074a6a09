/**
 * Starts a worker thread on a module beside this one. Built, `<name>.js` loads directly. Under tsx
 * (tests, benchmarks) Node 20 does not apply the parent's `--import tsx` hooks to a worker's entry
 * module, so a small eval'd bootstrap registers tsx in the worker first and then imports
 * `<name>.ts`. Works from inside another worker too (the local stack trains in one).
 */
import { Worker } from 'node:worker_threads';

export function startEngineWorker(name: string, workerData: unknown): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), { workerData });
  const target = new URL(`./${name}.ts`, here).href;
  const api = import.meta.resolve('tsx/esm/api');
  const code =
    `(async () => { const { register } = await import(${JSON.stringify(api)}); register(); ` +
    `await import(${JSON.stringify(target)}); })().catch((error) => { throw error; });`;
  return new Worker(code, { eval: true, workerData });
}
