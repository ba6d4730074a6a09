/**
 * The units of parallel work and how one is run: a task names the shared arrays it reads and
 * writes (by the names they were shared under) and a row range. The same `runTask` serves the
 * worker threads and the single-threaded path, so both compute bit-identical results.
 */
import { gramianChunk, lossRows, neighbourRows, solveRows } from './kernels.js';

export type SharedArray = Float32Array | Float64Array | Uint32Array | Uint8Array;

export type Task =
  | {
      kind: 'solve';
      arrays: {
        ptr: string;
        idx: string;
        weight: string;
        fixed: string;
        gram: string;
        reg: string;
        out: string;
      };
      k: number;
      steps: number;
      start: number;
      end: number;
    }
  | { kind: 'gram'; factors: string; k: number; start: number; end: number }
  | {
      kind: 'loss';
      arrays: {
        ptr: string;
        idx: string;
        weight: string;
        fixed: string;
        gram: string;
        reg: string;
        out: string;
      };
      k: number;
      start: number;
      end: number;
    }
  | {
      kind: 'neighbours';
      arrays: {
        userPtr: string;
        items: string;
        userOf: string;
        occPtr: string;
        occ: string;
        counts: string;
        forward: string;
        backward: string;
        outIndex: string;
        outWeight: string;
      };
      window: number;
      m: number;
      sourceExponent: number;
      targetExponent: number;
      start: number;
      end: number;
    };

export type TaskResult = Float64Array | number | undefined;

export function runTask(task: Task, arrays: ReadonlyMap<string, SharedArray>): TaskResult {
  const get = <T extends SharedArray>(name: string): T => {
    const array = arrays.get(name);
    if (!array) throw new Error(`Array ${name} was not shared with this thread.`);
    return array as T;
  };
  switch (task.kind) {
    case 'solve':
    case 'loss': {
      const n = task.arrays;
      const solve = {
        ptr: get<Uint32Array>(n.ptr),
        idx: get<Uint32Array>(n.idx),
        weight: get<Float32Array>(n.weight),
        fixed: get<Float32Array>(n.fixed),
        gram: get<Float64Array>(n.gram),
        reg: get<Float32Array>(n.reg),
        out: get<Float32Array>(n.out),
      };
      if (task.kind === 'loss') return lossRows(solve, solve.out, task.k, task.start, task.end);
      solveRows(solve, task.k, task.steps, task.start, task.end);
      return undefined;
    }
    case 'gram':
      return gramianChunk(get<Float32Array>(task.factors), task.k, task.start, task.end);
    case 'neighbours': {
      const n = task.arrays;
      neighbourRows(
        {
          userPtr: get<Uint32Array>(n.userPtr),
          items: get<Uint32Array>(n.items),
          userOf: get<Uint32Array>(n.userOf),
          occPtr: get<Uint32Array>(n.occPtr),
          occ: get<Uint32Array>(n.occ),
          counts: get<Float64Array>(n.counts),
          forward: get<Float64Array>(n.forward),
          backward: get<Float64Array>(n.backward),
          outIndex: get<Uint32Array>(n.outIndex),
          outWeight: get<Float32Array>(n.outWeight),
        },
        task.window,
        task.m,
        task.sourceExponent,
        task.targetExponent,
        task.start,
        task.end,
      );
      return undefined;
    }
  }
}
