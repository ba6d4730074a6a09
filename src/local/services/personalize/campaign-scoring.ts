/**
 * Where campaigns score: one worker thread shared by every campaign (campaign-scoring-worker.ts),
 * holding the models of the campaigns' solution versions as views on the same shared memory the
 * server's own copies use (trained-models.ts). GetRecommendations and GetPersonalizedRanking post a
 * query and await the answer, so the server's thread only parses and answers HTTP: with scoring on
 * it, a burst of requests kept it busy long enough for new connections to wait seconds to be
 * served (bench/inference.ts). Queries are answered one at a time, in the order they came.
 *
 * A model is loaded (deserialized and warmed with one query, which builds its ID tables) when a
 * campaign provisions or when the server starts with ACTIVE campaigns, never on a request. If the
 * thread stops, the queries it held fail and the next query starts a new one with every model
 * loaded again. Where no worker thread can start, queries are scored on the calling thread.
 */
import type { Worker } from 'node:worker_threads';
import {
  deserializeModel,
  RecommenderError,
  type Model,
  type Recommendations,
  type RecommenderErrorCode,
} from '../../../recommender/index.js';
import { startModuleWorker } from '../../worker-start.js';
import { scoreQuery, warmModel, type ScoringQuery } from './campaign-scoring-query.js';

export type { ScoringQuery } from './campaign-scoring-query.js';

/** parent → worker */
export type ScoringRequest =
  | { type: 'load'; id: number; key: string; bytes: Uint8Array }
  | { type: 'unload'; key: string }
  | { type: 'score'; id: number; key: string; query: ScoringQuery };

/** worker → parent */
export type ScoringReply =
  | { id: number; result: Recommendations | null }
  | { id: number; error: { message: string; code: RecommenderErrorCode | null } };

interface Pending {
  resolve(result: Recommendations | null): void;
  reject(error: Error): void;
}

export class CampaignScoring {
  /** The models the campaigns serve, by solution version ARN: what a new thread is loaded with. */
  private readonly models = new Map<string, Uint8Array>();
  private readonly loads = new Map<string, Promise<void>>();
  private readonly pending = new Map<number, Pending>();
  private worker: Worker | undefined;
  /** Set when no worker thread could start: models deserialized here and scored inline. */
  private inline: Map<string, Model> | undefined;
  private nextId = 0;
  private closed = false;

  constructor(private readonly log: (line: string) => void) {}

  /** Models loaded for serving. */
  get size(): number {
    return this.models.size;
  }

  /**
   * Makes `key`'s model servable: resolves once the scoring thread has it (at once when it
   * already has), rejects when the bytes are not a model it can load.
   */
  load(key: string, bytes: Uint8Array): Promise<void> {
    const known = this.loads.get(key);
    if (known !== undefined) return known;
    // Posted before it is recorded: a thread started by this post is given the others only.
    const loading = this.post({ type: 'load', id: 0, key, bytes }).then(() => undefined);
    this.models.set(key, bytes);
    loading.catch(() => {
      if (this.loads.get(key) === loading) {
        this.loads.delete(key);
        this.models.delete(key);
        this.postUnload(key);
      }
    });
    this.loads.set(key, loading);
    return loading;
  }

  /** Whether `key`'s model is loaded or loading. */
  has(key: string): boolean {
    return this.loads.has(key);
  }

  /** Drops `key`'s model (no campaign serves it any more). */
  unload(key: string): void {
    if (!this.loads.delete(key)) return;
    this.models.delete(key);
    this.postUnload(key);
  }

  /** Scores `query` with `key`'s model (loaded first with `load`). */
  async score(key: string, query: ScoringQuery): Promise<Recommendations> {
    const loading = this.loads.get(key);
    if (loading === undefined) throw new Error(`No model is loaded for ${key}.`);
    await loading;
    const result = await this.post({ type: 'score', id: 0, key, query });
    if (result === null) throw new Error(`The scoring thread has no model for ${key}.`);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
    this.failPending(new Error('The local stack is stopping.'));
  }

  private postUnload(key: string): void {
    if (this.inline !== undefined) this.inline.delete(key);
    else this.worker?.postMessage({ type: 'unload', key } satisfies ScoringRequest);
  }

  private post(request: ScoringRequest): Promise<Recommendations | null> {
    if (this.closed) return Promise.reject(new Error('The local stack is stopping.'));
    const worker = this.inline === undefined ? this.thread() : undefined;
    if (worker === undefined) return Promise.resolve().then(() => this.runInline(request));
    const id = ++this.nextId;
    return new Promise<Recommendations | null>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  /** The scoring thread, started (and given every model) when there is none. */
  private thread(): Worker | undefined {
    if (this.worker !== undefined) return this.worker;
    let worker: Worker;
    try {
      worker = startModuleWorker(import.meta.url, 'campaign-scoring-worker', undefined);
    } catch (error) {
      this.log(`personalize: campaigns score on the server's thread (${(error as Error).message})`);
      this.inline = new Map();
      return undefined;
    }
    worker.unref();
    worker.on('message', (reply: ScoringReply) => {
      const waiting = this.pending.get(reply.id);
      if (waiting === undefined) return;
      this.pending.delete(reply.id);
      if ('error' in reply)
        waiting.reject(
          reply.error.code === null
            ? new Error(reply.error.message)
            : new RecommenderError(reply.error.code, reply.error.message),
        );
      else waiting.resolve(reply.result);
    });
    const stopped = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (!this.closed) this.log(`personalize: the campaigns' scoring thread stopped (${why}); restarting`);
      this.failPending(new Error(`The campaigns' scoring thread stopped: ${why}`));
    };
    worker.on('error', (error) => stopped(error.message));
    worker.on('exit', (code) => stopped(`exit code ${code}`));
    this.worker = worker;
    // A thread that replaced a stopped one gets every model back before any query (messages keep
    // their order); a load that failed before fails again and is logged.
    for (const [key, bytes] of this.models) {
      const id = ++this.nextId;
      this.pending.set(id, {
        resolve: () => undefined,
        reject: (error) => this.log(`personalize: reloading ${key} for campaigns failed: ${error.message}`),
      });
      worker.postMessage({ type: 'load', id, key, bytes } satisfies ScoringRequest);
    }
    return worker;
  }

  private failPending(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(error);
  }

  private runInline(request: ScoringRequest): Recommendations | null {
    const models = this.inline!;
    switch (request.type) {
      case 'load': {
        const model = deserializeModel(request.bytes);
        warmModel(model);
        models.set(request.key, model);
        return null;
      }
      case 'unload':
        models.delete(request.key);
        return null;
      case 'score': {
        const model = models.get(request.key);
        return model === undefined ? null : scoreQuery(model, request.query);
      }
    }
  }
}
