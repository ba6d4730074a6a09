// Similar items end to end on a started local stack, through `bin/run.js`: small sample data, an
// aws-similar-items version (`train --recipe aws-similar-items`), `batch-infer --item` (which uses
// that version by default), and `show-recs --item` — the table at 80 columns with the item's title,
// --json, an item the catalogue lacks, one not in the output, and no similar-items output yet; a
// user's batch job written later is not taken for the items' and the other way round.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

interface ShowRecsJson {
  query: { itemId?: string; userId?: string; title?: string | null; year?: number | null };
  source: { kind: string; job: string; file: string; line: number };
  record: {
    input: Record<string, string>;
    output: { recommendedItems: string[]; scores?: number[] };
    error: null;
  };
  items: { rank: number; itemId: string; title: string | null; year: number | null; score: number | null }[];
  catalogue: string | null;
}
interface BatchJson {
  job: { arn: string; status: string; solutionVersionArn: string };
  inputLines: number;
  output: { records: number; errorLines: number };
}
interface ErrorJson {
  error: { code: string; message: string; suggestions: string[]; exit: number };
}

describe('similar items: train --recipe aws-similar-items, batch-infer --item, show-recs --item', () => {
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };
  let dir: string;
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runCli(args, { cwd: dir, env: { ...env, ...extra } });
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  const failure = async (args: string[], exit: number): Promise<ErrorJson['error']> => {
    const result = await cli([...args, '--json']);
    assert.equal(result.code, exit, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return (JSON.parse(result.stdout) as ErrorJson).error;
  };
  /** The catalogue's titles (movies.dat is Latin-1, tab-separated, id and title first). */
  let titles: Map<string, string>;
  /** Items in the catalogue, most rated first. */
  let rated: string[];
  let similarVersion: string;
  let itemsJob: BatchJson;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mlpipe-similar-'));
    for (const args of [
      ['sample-data', '--users', '150', '--items', '400', '--ratings', '6000'],
      ['deploy', '--yes'],
      ['upload-raw'],
      ['run-etl'],
      ['import'],
    ]) {
      const result = await cli(args);
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    }
    titles = new Map(
      readFileSync(path.join(dir, 'data', 'movies.dat'), 'latin1')
        .split('\n')
        .slice(1)
        .filter((line) => line !== '')
        .map((line) => line.split('\t') as [string, string])
        .map(([id, title]) => [id, title]),
    );
    const counts = new Map<string, number>();
    for (const line of readFileSync(path.join(dir, 'data', 'user_ratedmovies-timestamps.dat'), 'utf8')
      .split('\n')
      .slice(1)) {
      const item = line.split('\t')[1];
      if (item !== undefined && titles.has(item)) counts.set(item, (counts.get(item) ?? 0) + 1);
    }
    rated = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([item]) => item);
  });
  after(async () => {
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('before any similar-items output: show-recs --item and batch-infer --item say what to run', async () => {
    const noOutput = await failure(['show-recs', '--item', rated[0]!], 1);
    assert.equal(noOutput.code, 'NO_BATCH_OUTPUT');
    assert.equal(noOutput.message, 'No similar items from a batch job yet.');
    assert.match(noOutput.suggestions[0]!, /`mlpipe batch-infer --item ID`/);
    const noVersion = await failure(['batch-infer', '--item', rated[0]!], 1);
    assert.equal(noVersion.code, 'NO_TRAINED_VERSION');
    assert.match(noVersion.suggestions[0]!, /`mlpipe train --recipe aws-similar-items`/);
  });

  it('batch-infer --item answers with the latest aws-similar-items version, without --solution-version', async () => {
    const trained = await json<{ solution: { recipe: string }; version: { arn: string; status: string } }>([
      'train',
      '--recipe',
      'aws-similar-items',
    ]);
    assert.equal(trained.solution.recipe, 'aws-similar-items');
    assert.equal(trained.version.status, 'ACTIVE');
    similarVersion = trained.version.arn;
    itemsJob = await json<BatchJson>([
      'batch-infer',
      '--item',
      rated[0]!,
      '--item',
      rated[1]!,
      '--num-results',
      '5',
    ]);
    assert.equal(itemsJob.job.status, 'ACTIVE');
    assert.equal(itemsJob.job.solutionVersionArn, similarVersion);
    assert.equal(itemsJob.inputLines, 2);
    assert.deepEqual([itemsJob.output.records, itemsJob.output.errorLines], [2, 0]);
  });

  it('show-recs --item prints the item and its similar items with titles, fitting 80 columns', async () => {
    const item = rated[0]!;
    const table = await cli(['show-recs', '--item', item], { COLUMNS: '80' });
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    for (const line of lines) assert.ok([...line].length <= 80, `longer than 80 columns: ${line}`);
    const title = titles.get(item)!.replace(/ \(\d{4}\)$/, '');
    assert.ok(lines[0]!.startsWith(`Item ${item} (`), lines[0]);
    assert.match(table.stdout, /: 5 similar items,?\s+from batch job mlpipe-batch-/);
    const header = lines.findIndex((line) => /^#\s+ITEM\s+TITLE\s+YEAR$/.test(line));
    assert.ok(header > 0, `no table header in:\n${table.stdout}`);
    assert.doesNotMatch(table.stdout, /SCORE/, 'aws-similar-items gives no scores');
    const rows = lines.slice(header + 2);
    assert.equal(rows.length, 5);
    const shown = await json<ShowRecsJson>(['show-recs', '--item', item]);
    assert.equal(shown.query.itemId, item);
    assert.equal(shown.query.title, title);
    assert.equal(shown.source.kind, 'batch');
    assert.equal(shown.source.job, itemsJob.job.arn);
    assert.equal(shown.source.line, 1);
    assert.deepEqual(shown.record.input, { itemId: item });
    assert.equal(shown.record.error, null);
    assert.equal(shown.record.output.scores, undefined);
    assert.deepEqual(
      shown.items.map((i) => i.itemId),
      shown.record.output.recommendedItems,
    );
    assert.ok(!shown.items.some((i) => i.itemId === item), 'an item is not similar to itself');
    assert.deepEqual(
      shown.items.map((i) => i.rank),
      [1, 2, 3, 4, 5],
    );
    assert.ok(shown.items.every((i) => i.title !== null && i.year !== null && i.score === null));
    assert.equal(shown.catalogue, 's3://mlpipe-datalake/raw/movies.dat');
    shown.items.forEach((i, n) => assert.ok(rows[n]!.includes(i.itemId), rows[n]));
    const limited = await json<ShowRecsJson>(['show-recs', '--item', rated[1]!, '--limit', '2']);
    assert.equal(limited.source.line, 2);
    assert.equal(limited.items.length, 2);
  });

  it('an item the catalogue lacks, and one not in the output, are errors saying what to do', async () => {
    const unknown = await cli(['show-recs', '--item', 'no-such-movie']);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.errorText,
      /Item no-such-movie is not in the catalogue s3:\/\/mlpipe-datalake\/raw\/movies\.dat\./,
    );
    assert.match(
      unknown.errorText,
      /Give an item ID from its first column, e\.g\. `mlpipe show-recs --item \S+`/,
    );
    assert.equal((await failure(['show-recs', '--item', 'no-such-movie'], 1)).code, 'ITEM_NOT_IN_CATALOGUE');
    const absent = rated[2]!;
    const missing = await cli(['show-recs', '--item', absent]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.errorText,
      new RegExp(`Item ${absent} is not in the output of batch job mlpipe-batch-`),
    );
    assert.match(
      missing.errorText,
      new RegExp(`Get its similar items: \`mlpipe batch-infer --item ${absent}\``),
    );
    assert.equal((await failure(['show-recs', '--item', absent], 1)).code, 'ITEM_NOT_IN_OUTPUT');
  });

  it('a user batch job and the items one are each found for their own kind of question', async () => {
    const noUsers = await failure(['show-recs', '--user', '1'], 1);
    assert.equal(noUsers.code, 'NO_BATCH_OUTPUT');
    assert.equal(noUsers.message, 'No batch recommendations yet.');
    const trained = await cli(['train']);
    assert.equal(trained.code, 0, trained.stderr);
    const usersJob = await json<BatchJson>(['batch-infer', '--user', '1', '--num-results', '3']);
    assert.notEqual(usersJob.job.solutionVersionArn, similarVersion);
    const forUser = await json<ShowRecsJson>(['show-recs', '--user', '1']);
    assert.equal(forUser.source.job, usersJob.job.arn);
    assert.equal(forUser.items.length, 3);
    // The user's job is newer, but it answers users: --item still reads the items job.
    const forItem = await json<ShowRecsJson>(['show-recs', '--item', rated[0]!]);
    assert.equal(forItem.source.job, itemsJob.job.arn);
    // Given explicitly, a job of the other kind has no record for the question.
    const wrongJob = await cli(['show-recs', '--item', rated[0]!, '--job', usersJob.job.arn]);
    assert.equal(wrongJob.code, 1);
    assert.match(wrongJob.errorText, new RegExp(`Item ${rated[0]} is not in the output of batch job`));
  });
});
