/**
 * Recommender benchmark, on the deterministic hetrec-size sample (2,113 users, 10,197 movies,
 * 855,598 ratings; ms timestamps converted to seconds in-process), everything measured in this run:
 *   quality   Personalize's protocol (same seed, same split) for aws-popularity-count, a plain
 *             order-blind iALS (recency off, factor term only) and aws-user-personalization with
 *             its defaults: NDCG@10 and precision@10, as ratios to popularity
 *   speed     training on all users, a solution version (evaluation + served model), HPO (4
 *             candidates), model file size and load
 *   scaling   per-iteration iALS time and peak RSS at 1×, 2× and 4× the data (users and ratings scaled)
 */
import { generateSampleData, HETREC_DEFAULTS, type SampleDataOptions } from '../src/sampledata/generator.js';
import {
  defaultThreads,
  deserializeModel,
  evaluate,
  serializeModel,
  train,
  trainAndEvaluate,
  tune,
  type InteractionsInput,
} from '../src/recommender/index.js';
import { median, report } from './report.js';

/** The sample's ratings as the interactions columns the local stack stores (seconds). */
export async function sampleInteractions(
  options: SampleDataOptions = HETREC_DEFAULTS,
): Promise<InteractionsInput> {
  const chunks: string[] = [];
  await generateSampleData(options, { ratings: (chunk) => void chunks.push(chunk), movies: () => undefined });
  const text = chunks.join('');
  const users: string[] = [];
  const items: string[] = [];
  const userIds = new Map<string, number>();
  const itemIds = new Map<string, number>();
  const userIndex = new Uint32Array(options.ratings);
  const itemIndex = new Uint32Array(options.ratings);
  const timestamps = new Float64Array(options.ratings);
  let count = 0;
  let pos = text.indexOf('\n') + 1;
  while (pos < text.length) {
    const end = text.indexOf('\n', pos);
    const line = text.slice(pos, end);
    pos = end + 1;
    const [user, item, , ms] = line.split('\t') as [string, string, string, string];
    let u = userIds.get(user);
    if (u === undefined) userIds.set(user, (u = users.push(user) - 1));
    let i = itemIds.get(item);
    if (i === undefined) itemIds.set(item, (i = items.push(item) - 1));
    userIndex[count] = u;
    itemIndex[count] = i;
    timestamps[count++] = Math.floor(Number(ms) / 1000);
  }
  return { count, users, items, userIndex, itemIndex, timestamps };
}

const now = (): number => performance.now();
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const SEED = 42;
/** The plain order-blind iALS: no recency weighting, the factor term alone. */
const PLAIN_IALS = {
  recency_mask: 'false',
  factor_weight: '1',
  sequence_weight: '0',
  popularity_weight: '0',
  age_weight: '0',
};

export async function benchRecommender(): Promise<void> {
  const threads = defaultThreads();
  const data = await sampleInteractions();
  report('rec: data', {
    interactions: data.count,
    users: data.users.length,
    items: data.items.length,
    threads,
  });

  const popularity = await evaluate(data, { recipe: 'aws-popularity-count', seed: SEED, threads });
  const plain = await evaluate(data, { seed: SEED, threads, hyperparameters: PLAIN_IALS });
  const model = await evaluate(data, { seed: SEED, threads });
  const ndcg = (m: typeof popularity): number => m.metrics.normalized_discounted_cumulative_gain_at_10;
  const p10 = (m: typeof popularity): number => m.metrics.precision_at_10;
  report('rec: popularity-count', {
    ndcg10: ndcg(popularity),
    p10: p10(popularity),
    test_users: popularity.testUsers,
  });
  report('rec: plain iALS', {
    ndcg10: ndcg(plain),
    p10: p10(plain),
    ndcg_ratio: ndcg(plain) / ndcg(popularity),
    p10_ratio: p10(plain) / p10(popularity),
  });
  report('rec: user-personalization', {
    ndcg10: ndcg(model),
    p10: p10(model),
    ndcg_ratio: ndcg(model) / ndcg(popularity),
    p10_ratio: p10(model) / p10(popularity),
    vs_plain: ndcg(model) / ndcg(plain),
    aim: '>= 1.5 and > plain',
  });

  // CPU time (all threads of the process) beside wall time: on a shared machine the wall time
  // says how busy it was as much as how fast the engine is.
  const trainTimes: number[] = [];
  const trainCpu: number[] = [];
  let bytes: Uint8Array = new Uint8Array();
  for (let run = 0; run < 3; run++) {
    const started = now();
    const cpu = process.cpuUsage();
    const trained = await train(data, { seed: SEED, threads });
    trainTimes.push(now() - started);
    trainCpu.push(cpuMs(cpu));
    bytes = serializeModel(trained);
  }
  const loadTimes: number[] = [];
  for (let run = 0; run < 5; run++) {
    const copy = Uint8Array.from(bytes);
    const started = now();
    deserializeModel(copy);
    loadTimes.push(now() - started);
  }
  report('rec: train (all users)', {
    median_ms: median(trainTimes),
    median_cpu_ms: median(trainCpu),
    aim: '< 10000',
  });
  // A solution version: the protocol's evaluation and the served model, as the service trains it.
  const versionStarted = now();
  const versionCpu = process.cpuUsage();
  await trainAndEvaluate(data, { seed: SEED, threads });
  report('rec: solution version (evaluate + serve)', {
    ms: now() - versionStarted,
    cpu_ms: cpuMs(versionCpu),
    aim: '< 10000',
  });
  report('rec: model file', { MB: bytes.length / 1048576, load_median_ms: median(loadTimes) });

  const hpoStarted = now();
  const hpoCpu = process.cpuUsage();
  const search = await tune(data, { seed: SEED, threads, maxCandidates: 4 });
  report('rec: HPO (4 candidates)', {
    ms: now() - hpoStarted,
    cpu_ms: cpuMs(hpoCpu),
    best_validation_ndcg10: Math.max(...search.candidates.map((c) => c.ndcgAt10)),
    aim: '< 60000',
  });

  for (const scale of [1, 2, 4]) {
    const scaled = await sampleInteractions({
      ...HETREC_DEFAULTS,
      users: HETREC_DEFAULTS.users * scale,
      ratings: HETREC_DEFAULTS.ratings * scale,
    });
    const iterations: number[] = [];
    let peak = process.memoryUsage().rss;
    const started = now();
    const cpu = process.cpuUsage();
    await train(scaled, {
      seed: SEED,
      threads,
      hyperparameters: {
        training_iterations: 4,
        factor_weight: 1,
        sequence_weight: 0.25,
        popularity_weight: 0.5,
        age_weight: 0.25,
      },
      now,
      onProgress: (progress) => {
        peak = Math.max(peak, process.memoryUsage().rss);
        if (progress.stage === 'factors' && progress.milliseconds !== undefined)
          iterations.push(progress.milliseconds);
      },
    });
    report(`rec: scale ${scale}x`, {
      interactions: scaled.count,
      iteration_median_ms: median(iterations),
      train_ms: now() - started,
      train_cpu_ms: cpuMs(cpu),
      peak_rss_MB: peak / 1048576,
    });
  }
}
