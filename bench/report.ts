/** Shared by the benchmarks: medians and one aligned `name key=value …` line per figure. */

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function report(name: string, fields: Record<string, string | number>): void {
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`);
  console.log(`${name.padEnd(24)} ${parts.join('  ')}`);
}

/**
 * The median time of `sql` run 3 times (after one warm-up run) by DuckDB on one thread, the
 * baseline several benchmarks compare with; 'unavailable' when @duckdb/node-api cannot load here.
 */
export async function duckdbMedianMs(sql: string): Promise<number | string> {
  let api: typeof import('@duckdb/node-api');
  try {
    api = await import('@duckdb/node-api');
  } catch {
    return 'unavailable';
  }
  const instance = await api.DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const started = process.hrtime.bigint();
    await connection.run(sql);
    if (i > 0) times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  connection.closeSync();
  return median(times);
}

/** A path as a DuckDB string literal's content. */
export function sqlPath(p: string): string {
  return p.replace(/'/g, "''");
}
