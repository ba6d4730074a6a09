/**
 * Unit tests for the recommender engine (src/recommender): Personalize's metrics on hand-computed
 * examples, the evaluation split, training minimums, determinism, exclusions, softmax scores, cold
 * users, recency weighting, the three recipes, model files and hyperparameter search. Data is
 * small and synthetic (two taste clusters with skewed popularity), so every test runs in seconds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deserializeModel,
  evaluate,
  METRIC_NAMES,
  protocolSplit,
  rank,
  recommend,
  RecommenderError,
  scoreCatalogue,
  serializeModel,
  similarItems,
  train,
  trainAndEvaluate,
  tune,
  userMetrics,
  inputLength,
  type InteractionsInput,
  type UserPersonalizationModel,
} from '../../src/recommender/index.js';
import { buildSequences } from '../../src/recommender/dataset.js';
import { Random } from '../../src/recommender/random.js';

const DAY = 86_400;
const START = 1_200_000_000;

/**
 * Users who like cluster A (items a0…a99) or cluster B (b0…b99), picking within it by a skewed
 * popularity (item rank r is picked ∝ 1/(r + 1)), one interaction a day.
 */
function clusteredData(users = 80, perUser = 30, seed = 1): InteractionsInput {
  const random = new Random(seed);
  const items = [
    ...Array.from({ length: 100 }, (_, i) => `a${i}`),
    ...Array.from({ length: 100 }, (_, i) => `b${i}`),
  ];
  const weights = Array.from({ length: 100 }, (_, r) => 1 / (r + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const rows: [number, number, number][] = [];
  for (let u = 0; u < users; u++) {
    const offset = u % 2 === 0 ? 0 : 100;
    const taken = new Set<number>();
    for (let e = 0; e < perUser; e++) {
      let item: number;
      do {
        let x = random.next() * total;
        let r = 0;
        while (r < 99 && (x -= weights[r]!) > 0) r++;
        item = offset + r;
      } while (taken.has(item));
      taken.add(item);
      rows.push([u, item, START + (u % 7) * DAY + e * DAY]);
    }
  }
  return columns(
    rows,
    Array.from({ length: users }, (_, u) => `u${u}`),
    items,
  );
}

function columns(rows: [number, number, number][], users: string[], items: string[]): InteractionsInput {
  return {
    count: rows.length,
    users,
    items,
    userIndex: Uint32Array.from(rows.map((r) => r[0])),
    itemIndex: Uint32Array.from(rows.map((r) => r[1])),
    timestamps: Float64Array.from(rows.map((r) => r[2])),
  };
}

const FAST = { hidden_dimension: 32, training_iterations: 4 };

/** The n most-interacted items (ties: lower index first). */
function mostPopular(data: InteractionsInput, n: number): string[] {
  const counts = new Array<number>(data.items.length).fill(0);
  for (let r = 0; r < data.count; r++) counts[data.itemIndex[r]!]!++;
  return counts
    .map((count, i) => ({ count, i }))
    .sort((a, b) => b.count - a.count || a.i - b.i)
    .slice(0, n)
    .map(({ i }) => data.items[i]!);
}

describe('recommender: metrics', () => {
  it('reproduces the worked example: hits at ranks 2 and 5 → RR 0.5, NDCG@5 0.6241, P@5 0.4', () => {
    const m = userMetrics([10, 1, 11, 12, 2, 13, 14, 15, 16, 17], new Set([1, 2]));
    assert.equal(m.reciprocalRank, 0.5);
    assert.equal(Number(m.ndcg[0].toFixed(4)), 0.6241);
    assert.equal(m.precision[0], 0.4);
    // @10: same hits; P@10 = 2/10; ideal DCG still over the 2 truth items.
    assert.equal(m.precision[1], 0.2);
    assert.equal(Number(m.ndcg[1].toFixed(4)), 0.6241);
  });

  it('takes the ideal DCG over min(|truth|, K) and scores misses as zero', () => {
    // Three truth items, one hit at rank 1: DCG 1, ideal (K=5) 1 + 1/log2(3) + 1/2.
    const m = userMetrics([7, 8, 9, 10, 11], new Set([7, 100, 101]));
    assert.ok(Math.abs(m.ndcg[0] - 1 / (1 + 1 / Math.log2(3) + 0.5)) < 1e-12);
    assert.equal(m.reciprocalRank, 1);
    const none = userMetrics([1, 2, 3], new Set([4]));
    assert.deepEqual(none, { reciprocalRank: 0, ndcg: [0, 0, 0], precision: [0, 0, 0] });
  });
});

describe('recommender: evaluation split', () => {
  it('holds out 10% of the users with ≥ 2 interactions, oldest 90% as input, newest 10% as truth', () => {
    const data = clusteredData(100, 30);
    // One user with a single interaction: never a test user.
    const withSingle = columns(
      [
        ...Array.from(
          data.userIndex,
          (u, r) => [u, data.itemIndex[r]!, data.timestamps[r]!] as [number, number, number],
        ),
        [100, 0, START],
      ],
      [...data.users, 'single'],
      [...data.items],
    );
    const sequences = buildSequences(withSingle);
    const split = protocolSplit(sequences, 7);
    assert.equal(split.test.length, 10);
    assert.ok(split.test.every((t) => t.user !== 100));
    for (const t of split.test) {
      assert.equal(t.inputLength, 27);
      assert.equal(
        split.train.userPtr[t.user + 1]! - split.train.userPtr[t.user]!,
        0,
        'test users do not train',
      );
      const from = sequences.userPtr[t.user]!;
      const newest = Array.from(sequences.items.subarray(from + 27, from + 30));
      assert.deepEqual(Array.from(t.truth).sort(), newest.sort());
      // The cut is by time: every input interaction is no newer than every truth one.
      assert.ok(sequences.times[from + 26]! <= sequences.times[from + 27]!);
    }
    const total = split.train.userPtr[split.train.nUsers]!;
    assert.equal(total, withSingle.count - 10 * 30);
    assert.deepEqual(
      protocolSplit(sequences, 7).test.map((t) => t.user),
      split.test.map((t) => t.user),
      'same seed, same users',
    );
    assert.notDeepEqual(
      protocolSplit(sequences, 8).test.map((t) => t.user),
      split.test.map((t) => t.user),
    );
  });

  it('cuts short histories so both parts are non-empty', () => {
    assert.deepEqual([2, 3, 5, 10, 15, 100].map(inputLength), [1, 2, 4, 9, 13, 90]);
  });

  it('reports exactly the GetSolutionMetrics keys, for the model and the popularity baseline', async () => {
    const data = clusteredData();
    const model = await evaluate(data, { threads: 1, seed: 3, hyperparameters: FAST });
    const baseline = await evaluate(data, { threads: 1, seed: 3, recipe: 'aws-popularity-count' });
    for (const result of [model, baseline]) {
      assert.deepEqual(Object.keys(result.metrics).sort(), [...METRIC_NAMES].sort());
      for (const value of Object.values(result.metrics)) assert.ok(value >= 0 && value <= 1);
      assert.equal(result.testUsers, 8);
    }
    // Taste matters in this data: the personalised model beats popularity.
    assert.ok(
      model.metrics.normalized_discounted_cumulative_gain_at_10 >
        baseline.metrics.normalized_discounted_cumulative_gain_at_10,
    );
  });
});

describe('recommender: training minimums', () => {
  it('refuses fewer than 1,000 interactions', async () => {
    const data = clusteredData(33, 30);
    await assert.rejects(
      train(data, { threads: 1 }),
      (error: unknown) =>
        error instanceof RecommenderError &&
        error.code === 'INSUFFICIENT_DATA' &&
        /^Dataset has fewer than 1000 interactions/.test(error.message),
    );
  });

  it('refuses fewer than 25 users with at least 2 interactions', async () => {
    const data = clusteredData(24, 50);
    await assert.rejects(train(data, { threads: 1 }), {
      name: 'RecommenderError',
      code: 'INSUFFICIENT_DATA',
      message: 'Dataset has fewer than 25 users with at least 2 interactions each.',
    });
  });

  it('rejects unknown and out-of-range hyperparameters', async () => {
    const data = clusteredData();
    await assert.rejects(train(data, { threads: 1, hyperparameters: { hidden_dim: '10' } }), {
      code: 'INVALID_HYPERPARAMETER',
    });
    await assert.rejects(train(data, { threads: 1, hyperparameters: { hidden_dimension: '8' } }), {
      code: 'INVALID_HYPERPARAMETER',
      message: /from 32 to 256/,
    });
    await assert.rejects(
      train(data, { threads: 1, recipe: 'aws-popularity-count', hyperparameters: { bptt: 4 } }),
      {
        code: 'INVALID_HYPERPARAMETER',
      },
    );
  });
});

describe('recommender: aws-user-personalization', () => {
  let shared: Promise<UserPersonalizationModel> | undefined;
  const model = (): Promise<UserPersonalizationModel> =>
    (shared ??= train(clusteredData(), {
      threads: 1,
      seed: 5,
      hyperparameters: FAST,
    }) as Promise<UserPersonalizationModel>);

  it('is deterministic for a seed, whatever the thread count', async () => {
    const data = clusteredData();
    const a = serializeModel(await model());
    const b = serializeModel(await train(data, { threads: 1, seed: 5, hyperparameters: FAST }));
    const c = serializeModel(await train(data, { threads: 2, seed: 5, hyperparameters: FAST }));
    assert.ok(Buffer.from(a).equals(Buffer.from(b)), 'same seed, same bytes');
    assert.ok(Buffer.from(a).equals(Buffer.from(c)), 'two worker threads, same bytes');
    const other = serializeModel(await train(data, { threads: 1, seed: 6, hyperparameters: FAST }));
    assert.ok(!Buffer.from(a).equals(Buffer.from(other)), 'another seed, another model');
  });

  it("never recommends a user's own items, and recommends their cluster", async () => {
    const m = await model();
    const data = clusteredData();
    const seen = new Set<string>();
    for (let r = 0; r < data.count; r++)
      if (data.userIndex[r] === 0) seen.add(data.items[data.itemIndex[r]!]!);
    const recs = recommend(m, { userId: 'u0', numResults: 50, explorationWeight: 0 });
    assert.equal(recs.itemIds.length, 50);
    assert.ok(recs.itemIds.every((id) => !seen.has(id)));
    assert.ok(
      recs.itemIds.slice(0, 10).every((id) => id.startsWith('a')),
      recs.itemIds.join(' '),
    );
  });

  it('a solution version serves the evaluated model extended to all users, with their full histories', async () => {
    const data = clusteredData();
    const options = { threads: 1, seed: 5, hyperparameters: FAST };
    const { model: served, evaluation } = await trainAndEvaluate(data, options);
    assert.deepEqual(evaluation, await evaluate(data, options));
    const m = served as UserPersonalizationModel;
    assert.equal(m.histories.items.length, data.count);
    const k = m.factors;
    for (let u = 0; u < data.users.length; u++) {
      const seen = new Set<string>();
      for (let r = 0; r < data.count; r++)
        if (data.userIndex[r] === u) seen.add(data.items[data.itemIndex[r]!]!);
      // Every user, held out of the evaluation model or not, has a trained vector and their cluster.
      assert.ok(
        m.userFactors.subarray(u * k, (u + 1) * k).some((x) => x !== 0),
        `user ${u} has a vector`,
      );
      const recs = recommend(m, { userId: `u${u}`, numResults: 10, explorationWeight: 0 });
      assert.ok(recs.itemIds.every((id) => !seen.has(id)));
      const cluster = u % 2 === 0 ? 'a' : 'b';
      assert.ok(
        recs.itemIds.filter((id) => id.startsWith(cluster)).length >= 8,
        `u${u}: ${recs.itemIds.join(' ')}`,
      );
    }
  });

  it('scores are a softmax over the catalogue: they sum to 1 and fall with rank', async () => {
    const m = await model();
    const all = scoreCatalogue(m, { userId: 'u1' });
    assert.equal(all.length, m.items.length);
    assert.ok(Math.abs(all.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    const recs = recommend(m, { userId: 'u1', numResults: 25 });
    assert.equal(recs.scores!.length, 25);
    for (let r = 1; r < 25; r++) assert.ok(recs.scores![r - 1]! >= recs.scores![r]!);
    recs.itemIds.forEach((id, r) => assert.equal(recs.scores![r], all[m.items.indexOf(id)]));
  });

  it('gives unknown users without history popular items, and folds in a given history', async () => {
    const data = clusteredData();
    // Popularity over the whole time range (popularity_window 1): the all-time most popular.
    const m = await train(data, { threads: 1, seed: 5, hyperparameters: { ...FAST, popularity_window: 1 } });
    const cold = recommend(m, { userId: 'nobody', numResults: 4, explorationWeight: 0 });
    assert.deepEqual(cold.itemIds, mostPopular(data, 4));
    const history = ['b0', 'b2', 'b3', 'b5'].map((itemId, e) => ({ itemId, timestamp: START + e * DAY }));
    const warm = recommend(m, { userId: 'nobody', history, numResults: 10, explorationWeight: 0 });
    assert.ok(
      warm.itemIds.every((id) => id.startsWith('b') && !['b0', 'b2', 'b3', 'b5'].includes(id)),
      warm.itemIds.join(' '),
    );
  });

  it('weights recent interactions more with recency_mask (and not without)', async () => {
    // Old history in cluster A, the latest few in B: with a short recency half-life the latest
    // interactions dominate; order-blind, the larger A part does.
    const data = clusteredData();
    const history = [
      ...['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10', 'a11'].map((itemId, e) => ({
        itemId,
        timestamp: START + e * DAY,
      })),
      ...['b0', 'b1', 'b2'].map((itemId, e) => ({ itemId, timestamp: START + (20 + e) * DAY })),
    ];
    const shareB = async (recency: boolean): Promise<number> => {
      const m = await train(data, {
        threads: 1,
        seed: 5,
        hyperparameters: { ...FAST, recency_mask: recency, recency_half_life: 2, recency_floor: 0.02 },
      });
      const recs = recommend(m, { history, numResults: 10, explorationWeight: 0 });
      return recs.itemIds.filter((id) => id.startsWith('b')).length / 10;
    };
    const recent = await shareB(true);
    const blind = await shareB(false);
    assert.ok(recent >= 0.7, `recency on: ${recent} of the top 10 from the recent cluster`);
    assert.ok(blind <= 0.3, `recency off: ${blind} of the top 10 from the recent cluster`);
  });

  it('ranks a given item list with scores over the list', async () => {
    const m = await model();
    const ranked = rank(m, { userId: 'u0', itemList: ['b50', 'a40', 'zzz', 'a60'] });
    assert.deepEqual(ranked.itemIds.slice(2), ['b50', 'zzz'].slice(0, 0).concat(ranked.itemIds.slice(2)));
    assert.equal(ranked.itemIds.at(-1), 'zzz', 'unknown items go last');
    assert.equal(ranked.itemIds.indexOf('b50'), 2, 'the other cluster ranks below the own one');
    const known = ranked.scores!.slice(0, 3);
    assert.ok(Math.abs(known.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.equal(ranked.scores![3], 0);
  });

  it('explores new items when exploration_weight is up', async () => {
    const data = clusteredData();
    // Item "new" is created a day before the latest interaction and has no interactions.
    let latest = 0;
    for (const t of data.timestamps) latest = Math.max(latest, t);
    const m = await train(data, {
      threads: 1,
      seed: 5,
      hyperparameters: FAST,
      itemMetadata: { creationTimestamps: new Map([['new', latest - DAY]]) },
    });
    const plain = recommend(m, { userId: 'u0', numResults: 10, explorationWeight: 0 }).itemIds;
    assert.ok(!plain.includes('new'), plain.join(' '));
    const explored = recommend(m, { userId: 'u0', numResults: 10, explorationWeight: 1 }).itemIds;
    assert.ok(explored.slice(0, 2).includes('new'), explored.join(' '));
  });

  it('round-trips through the model file, and refuses other bytes', async () => {
    const m = await model();
    const bytes = serializeModel(m);
    const loaded = deserializeModel(bytes);
    assert.deepEqual(recommend(loaded, { userId: 'u3' }), recommend(m, { userId: 'u3' }));
    assert.ok(Buffer.from(serializeModel(loaded)).equals(Buffer.from(bytes)));
    // An unaligned copy loads too.
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    assert.deepEqual(recommend(deserializeModel(shifted), { userId: 'u3' }), recommend(m, { userId: 'u3' }));
    assert.throws(() => deserializeModel(new TextEncoder().encode('not a model at all')), {
      code: 'INVALID_MODEL',
    });
    assert.throws(() => deserializeModel(bytes.subarray(0, bytes.length - 100)), { code: 'INVALID_MODEL' });
  });

  it('reads version 1 model files (before the age term): they score with the age weight 0', async () => {
    const m = await model();
    const old = asVersion1(serializeModel(m));
    const loaded = deserializeModel(old) as UserPersonalizationModel;
    assert.equal(loaded.weights.age, 0);
    assert.equal(loaded.params.age_weight, 0);
    const same: UserPersonalizationModel = { ...m, weights: { ...m.weights, age: 0 } };
    assert.deepEqual(recommend(loaded, { userId: 'u3' }), recommend(same, { userId: 'u3' }));
    const future = Uint8Array.from(old);
    new DataView(future.buffer).setUint32(4, 99, true);
    assert.throws(() => deserializeModel(future), { code: 'INVALID_MODEL', message: /version 99/ });
  });

  it('finds hyperparameters on a validation slice and reports them as strings', async () => {
    const result = await tune(clusteredData(), {
      threads: 1,
      seed: 5,
      hyperparameters: FAST,
      maxCandidates: 2,
      searchSpace: { regularization: [0.005, 0.08] },
    });
    assert.equal(result.candidates.length, 2);
    assert.ok(result.validationUsers > 0);
    for (const value of Object.values(result.best)) assert.equal(typeof value, 'string');
    assert.ok(['0.005', '0.08', '0.02'].includes(result.best.regularization!));
    assert.ok(Number(result.best.factor_weight) >= 0, 'fitted blend weights are reported');
  });
});

describe('recommender: aws-popularity-count and aws-similar-items', () => {
  it('popularity-count returns the most-interacted unseen items, without scores', async () => {
    const data = clusteredData();
    const m = await train(data, { threads: 1, recipe: 'aws-popularity-count' });
    const cold = recommend(m, { numResults: 4 });
    assert.equal(cold.scores, undefined);
    assert.deepEqual(cold.itemIds, mostPopular(data, 4));
    const counts = new Map<string, number>();
    for (let r = 0; r < data.count; r++) {
      const id = data.items[data.itemIndex[r]!]!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const recs = recommend(m, { userId: 'u0', numResults: 20 });
    for (let r = 1; r < 20; r++)
      assert.ok(counts.get(recs.itemIds[r - 1]!)! >= counts.get(recs.itemIds[r]!)!);
  });

  it('similar-items finds items of the same cluster, never the item itself', async () => {
    const m = await train(clusteredData(), { threads: 1, recipe: 'aws-similar-items' });
    const similar = similarItems(m, { itemId: 'a3', numResults: 10 });
    assert.equal(similar.itemIds.length, 10);
    assert.ok(!similar.itemIds.includes('a3'));
    assert.ok(similar.itemIds.filter((id) => id.startsWith('a')).length >= 8, similar.itemIds.join(' '));
    // Unknown items get popular ones.
    assert.equal(similarItems(m, { itemId: 'unknown', numResults: 3 }).itemIds.length, 3);
    const up = await train(clusteredData(), { threads: 1, hyperparameters: FAST });
    assert.throws(() => similarItems(up, { itemId: 'a3' }), { code: 'UNSUPPORTED_QUERY' });
  });
});

/**
 * A version 2 model file rewritten as version 1 wrote it: no `ageHistogram` array, no age weight
 * in the weights or the hyperparameters.
 */
function asVersion1(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as {
    weights: Record<string, number>;
    params: Record<string, unknown>;
    arrays: { name: string; type: 'u32' | 'f32' | 'f64'; length: number }[];
  };
  const chunks: Uint8Array[] = [];
  let offset = 12 + length;
  for (const array of header.arrays) {
    const size = array.length * (array.type === 'f64' ? 8 : 4);
    const padded = Math.ceil(size / 8) * 8;
    if (array.name !== 'ageHistogram') chunks.push(bytes.subarray(offset, offset + padded));
    offset += padded;
  }
  header.arrays = header.arrays.filter((array) => array.name !== 'ageHistogram');
  delete header.weights.age;
  delete header.params.age_weight;
  const encoded = new TextEncoder().encode(JSON.stringify(header));
  const json = new Uint8Array(Math.ceil((12 + encoded.length) / 8) * 8 - 12).fill(0x20);
  json.set(encoded);
  const head = new Uint8Array(12 + json.length);
  head.set(bytes.subarray(0, 4));
  const headView = new DataView(head.buffer);
  headView.setUint32(4, 1, true);
  headView.setUint32(8, json.length, true);
  head.set(json, 12);
  return Buffer.concat([head, ...chunks]);
}
