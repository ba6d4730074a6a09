/**
 * The campaigns' scoring thread (campaign-scoring.ts): keeps the models it is sent, as views on the
 * server's shared bytes, and answers queries one at a time, in the order they came.
 */
import { parentPort } from 'node:worker_threads';
import { deserializeModel, RecommenderError, type Model } from '../../../recommender/index.js';
import type { ScoringReply, ScoringRequest } from './campaign-scoring.js';
import { scoreQuery, warmModel } from './campaign-scoring-query.js';

const models = new Map<string, Model>();
const port = parentPort;
if (port === null) throw new Error('campaign-scoring-worker must run in a worker thread');

port.on('message', (request: ScoringRequest) => {
  if (request.type === 'unload') {
    models.delete(request.key);
    return;
  }
  let reply: ScoringReply;
  try {
    if (request.type === 'load') {
      const model = deserializeModel(request.bytes);
      warmModel(model);
      models.set(request.key, model);
      reply = { id: request.id, result: null };
    } else {
      const model = models.get(request.key);
      reply = { id: request.id, result: model === undefined ? null : scoreQuery(model, request.query) };
    }
  } catch (error) {
    reply = {
      id: request.id,
      error: {
        message: error instanceof Error ? error.message : String(error),
        code: error instanceof RecommenderError ? error.code : null,
      },
    };
  }
  port.postMessage(reply);
});
