/**
 * ETL benchmark: the local engine (src/etl) on the hetrec-size sample (file -> engine -> file) as
 * rows/s, against DuckDB doing the same work (read_csv + ms->s + COPY to CSV) on the same file, and
 * peak RSS on 1x and 4x the data to show memory does not grow with the input (only the duplicate
 * table, 16 bytes per distinct row, does). Wired into bench/run.ts as `etl`.
 */
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadMappingSpec, runEtl, type EtlReport, type MappingSpec } from '../src/etl/index.js';
import { generateSampleData, HETREC_DEFAULTS } from '../src/sampledata/generator.js';
import { writableSink } from '../src/sampledata/sinks.js';
import { duckdbMedianMs, median, report, sqlPath } from './report.js';

const SPEC = fileURLToPath(
  new URL('../glue/mappings/hetrec2011-user-ratedmovies-timestamps.json', import.meta.url),
);

async function etlFile(
  spec: MappingSpec,
  input: string,
  output: string,
): Promise<{ ms: number; peak: number; report: EtlReport }> {
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const started = process.hrtime.bigint();
  const out = createWriteStream(output);
  const rej = createWriteStream(`${output}.rejects.csv`);
  const result = await runEtl(
    spec,
    createReadStream(input, { highWaterMark: 256 * 1024 }),
    { output: writableSink(out), rejects: writableSink(rej) },
    { onProgress: () => (peak = Math.max(peak, process.memoryUsage().rss)) },
  );
  out.end();
  rej.end();
  await Promise.all([once(out, 'finish'), once(rej, 'finish')]);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  clearInterval(sampler);
  return { ms, peak: Math.max(peak, process.memoryUsage().rss), report: result };
}

function duckdb(input: string, output: string): Promise<number | string> {
  return duckdbMedianMs(
    `COPY (SELECT userID AS USER_ID, movieID AS ITEM_ID, timestamp // 1000 AS TIMESTAMP ` +
      `FROM read_csv('${sqlPath(input)}', delim='\t', header=true)) TO '${sqlPath(output)}' (HEADER)`,
  );
}

export async function benchEtl(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mlpipe-bench-etl-'));
  try {
    const input = path.join(dir, 'ratings.dat');
    const file = await fs.open(input, 'w');
    await generateSampleData(HETREC_DEFAULTS, {
      ratings: async (chunk) => void (await file.write(chunk, null, 'latin1')),
      movies: () => undefined,
    });
    await file.close();
    // 4x: the same rows four times (the body repeated, header once), so duplicates are collapsed too.
    const input4 = path.join(dir, 'ratings4.dat');
    await fs.copyFile(input, input4);
    {
      const bytes = await fs.readFile(input);
      for (let i = 0; i < 3; i++) await fs.appendFile(input4, bytes.subarray(bytes.indexOf(10) + 1));
    }

    const spec = loadMappingSpec(await fs.readFile(SPEC, 'utf8'), path.basename(SPEC));
    const output = path.join(dir, 'out.csv');
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(await etlFile(spec, input, output));
    const local = median(runs.slice(1).map((r) => r.ms));
    const rows = runs[0]!.report.rowsRead;
    // The 4x run goes before DuckDB, whose memory would otherwise count in this process's RSS.
    const big = await etlFile(spec, input4, path.join(dir, 'out4.csv'));
    const duck = await duckdb(input, path.join(dir, 'duck.csv'));
    report('etl: local engine', {
      rows,
      median_ms: local,
      rows_s: Math.round(rows / (local / 1000)),
      aim: '>= 1e6',
    });
    if (typeof duck === 'number') {
      report('etl: duckdb (1 thread)', { median_ms: duck, rows_s: Math.round(rows / (duck / 1000)) });
      report('etl: local / duckdb', { ratio: local / duck, aim: '< 3' });
      const same =
        (await fs.readFile(output, 'utf8')) === (await fs.readFile(path.join(dir, 'duck.csv'), 'utf8'));
      report('etl: same output', { identical: same ? 'yes' : 'no' });
    } else report('etl: duckdb', { status: duck });
    const peak1 = Math.max(...runs.map((r) => r.peak));
    report('etl: peak rss 1x', { MB: peak1 / 1048576 });
    report('etl: peak rss 4x', {
      MB: big.peak / 1048576,
      rows: big.report.rowsRead,
      duplicates: big.report.duplicatesCollapsed,
      rows_s: Math.round(big.report.rowsRead / (big.ms / 1000)),
      ratio: big.peak / peak1,
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await benchEtl();
