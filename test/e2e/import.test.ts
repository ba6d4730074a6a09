// mlpipe import and mlpipe datasets end to end: deploy every stack, upload sample data, run the
// ETL, then import interactions and item metadata into the local stack's Personalize datasets —
// successes, failures with their reasons, re-attaching and what `datasets` shows.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localS3Client, localTestHooks, runCli } from '../helpers/cli.js';

const BUCKET = 'mlpipe-datalake';

interface ImportJson {
  job: {
    arn: string;
    name: string;
    status: string;
    mode: string;
    dataLocation: string | null;
    failureReason: string | null;
  };
  attached: boolean;
  items: {
    rows: number;
    columns: string[];
    uri: string;
    source: string;
    nulls: Record<string, number>;
  } | null;
}

interface DatasetsJson {
  datasetGroups: Array<{
    name: string;
    status: string;
    datasets: Array<{
      name: string;
      type: string;
      status: string;
      latestImport: { name: string; status: string; mode: string; failureReason: string | null } | null;
    }>;
  }>;
}

async function setUpProject(env: NodeJS.ProcessEnv, prefix: string): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const generated = await runCli(['sample-data', '--users', '150', '--items', '400', '--ratings', '6000'], {
    cwd: dir,
    env,
  });
  assert.equal(generated.code, 0, generated.stderr);
  const deployed = await runCli(['deploy', '--yes'], { cwd: dir, env });
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stderr + deployed.stdout, /mlpipe-personalize: created \(CREATE_COMPLETE\)/);
  const uploaded = await runCli(['upload-raw'], { cwd: dir, env });
  assert.equal(uploaded.code, 0, uploaded.stderr);
  return dir;
}

/** `rows` interactions in Personalize's CSV format, epoch seconds unless `ms`. */
function interactionsCsv(rows: number, options: { ms?: boolean; header?: string } = {}): string {
  const lines = [options.header ?? 'USER_ID,ITEM_ID,TIMESTAMP'];
  for (let i = 0; i < rows; i++) {
    const ts = 1_200_000_000 + i;
    lines.push(`u${i % 40},i${i},${options.ms ? ts * 1000 : ts}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('mlpipe import', () => {
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true' };
  let dir: string;
  let s3: S3Client;
  const datasets = async (): Promise<DatasetsJson> => {
    const result = await runCli(['datasets', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as DatasetsJson;
  };
  const dataset = async (type: string): Promise<DatasetsJson['datasetGroups'][0]['datasets'][0]> => {
    const group = (await datasets()).datasetGroups.find((g) => g.name === 'mlpipe-dataset-group');
    const found = group?.datasets.find((d) => d.type === type);
    assert.ok(found, `${type} dataset listed`);
    return found;
  };
  const put = (key: string, body: string): Promise<unknown> =>
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

  before(async () => {
    dir = await setUpProject(env, 'mlpipe-import-');
    s3 = await localS3Client(dir, env);
  });
  after(async () => {
    s3?.destroy();
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('says to run the ETL first when transformed/ has no CSV', async () => {
    const result = await runCli(['import'], { cwd: dir, env });
    assert.equal(result.code, 1);
    assert.match(result.errorText, /There is no CSV to import at s3:\/\/mlpipe-datalake\/transformed\/\./);
    assert.match(result.errorText, /mlpipe run-etl/);
    const etl = await runCli(['run-etl'], { cwd: dir, env });
    assert.equal(etl.code, 0, etl.stderr);
  });

  it('imports the transformed interactions into the interactions dataset', async () => {
    const result = await runCli(['import', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as ImportJson;
    assert.equal(out.job.status, 'ACTIVE');
    assert.equal(out.job.mode, 'FULL');
    assert.equal(out.attached, false);
    assert.equal(out.job.dataLocation, `s3://${BUCKET}/transformed/`);
    assert.match(out.job.name, /^mlpipe-interactions-\d{8}T\d{6}-[0-9a-f]{4}$/);
    const listed = await dataset('INTERACTIONS');
    assert.equal(listed.status, 'ACTIVE');
    assert.deepEqual(
      { name: listed.latestImport?.name, status: listed.latestImport?.status },
      { name: out.job.name, status: 'ACTIVE' },
    );
  });

  it('prints a summary on a terminal-less run and appends with --mode incremental', async () => {
    const result = await runCli(
      ['import', '--mode', 'incremental', '--data', `s3://${BUCKET}/transformed/interactions.csv`],
      { cwd: dir, env },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^Dataset: {2}arn:aws:personalize:us-east-1:\d{12}:dataset\/mlpipe-dataset-group\/INTERACTIONS$/m,
    );
    assert.match(result.stdout, /^Data: {5}s3:\/\/mlpipe-datalake\/transformed\/interactions\.csv$/m);
    assert.match(result.stdout, /^Mode: {5}INCREMENTAL$/m);
    assert.match(
      result.stderr,
      /^Started import mlpipe-interactions-\S+ \(INCREMENTAL\) from s3:\/\/mlpipe-datalake\/transformed\/interactions\.csv\.$/m,
    );
    // One line per status, not one per poll.
    const statusLines = result.stderr.split('\n').filter((line) => line.startsWith('import '));
    assert.equal(new Set(statusLines.map((l) => l.replace(/ \(.*\)$/, ''))).size, statusLines.length);
    assert.equal((await dataset('INTERACTIONS')).latestImport?.mode, 'INCREMENTAL');
  });

  it('fails with the reason and exit 3 on millisecond timestamps, keeping the previous data', async () => {
    const before = await dataset('INTERACTIONS');
    await put('incoming/ms.csv', interactionsCsv(1200, { ms: true }));
    const result = await runCli(['import', '--data', `s3://${BUCKET}/incoming/ms.csv`], { cwd: dir, env });
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.errorText,
      /Import mlpipe-interactions-\S+ failed: TIMESTAMP values look like milliseconds/,
    );
    assert.match(result.errorText, /Personalize expects Unix epoch seconds/);
    assert.match(result.errorText, /The dataset keeps the data of its last successful import/);
    const after = await dataset('INTERACTIONS');
    assert.equal(after.status, 'ACTIVE');
    assert.equal(after.latestImport?.status, 'CREATE FAILED');
    assert.notEqual(after.latestImport?.name, before.latestImport?.name);
    const table = await runCli(['datasets'], { cwd: dir, env });
    assert.match(
      table.stdout,
      new RegExp(`${after.latestImport!.name} failed: TIMESTAMP values look like milliseconds`),
    );
  });

  it('fails naming the missing column, and refuses too few records', async () => {
    await put(
      'incoming/two-columns.csv',
      interactionsCsv(1200)
        .replace(/,\d+\n/g, '\n')
        .replace('USER_ID,ITEM_ID,TIMESTAMP', 'USER_ID,ITEM_ID'),
    );
    const missing = await runCli(['import', '--data', `s3://${BUCKET}/incoming/two-columns.csv`], {
      cwd: dir,
      env,
    });
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.errorText, /Input CSV is missing the following columns: \[TIMESTAMP\]/);
    await put('incoming/few.csv', interactionsCsv(10));
    const few = await runCli(['import', '--data', `s3://${BUCKET}/incoming/few.csv`], { cwd: dir, env });
    assert.equal(few.code, 3, few.stderr);
    assert.match(few.errorText, /fewer than 1000 records/);
  });

  it('refuses bad flags before connecting, and a reused job name', async () => {
    const uri = await runCli(['import', '--data', 'transformed/'], { cwd: dir, env });
    assert.equal(uri.code, 2);
    assert.match(uri.errorText, /"transformed\/" is not an S3 URI/);
    const arn = await runCli(['import', '--arn', 'arn:x', '--mode=full', '--data', 's3://b/k'], {
      cwd: dir,
      env,
    });
    assert.equal(arn.code, 2);
    assert.match(
      arn.errorText,
      /--arn attaches to an existing import; it cannot be combined with --data, --mode\./,
    );
    const both = await runCli(['import', '--data', 's3://b/k.csv', '--items', 'm.dat'], { cwd: dir, env });
    assert.equal(both.code, 2);
    assert.match(both.errorText, /--data imports a CSV already in Personalize's format/);
    const spec = await runCli(['import', '--items-spec', 'x'], { cwd: dir, env });
    assert.equal(spec.code, 2);
    assert.match(spec.errorText, /--items-spec applies to item metadata/);
    const name = (await dataset('INTERACTIONS')).latestImport!.name;
    const reused = await runCli(['import', '--job-name', name], { cwd: dir, env });
    assert.equal(reused.code, 2);
    assert.match(reused.errorText, new RegExp(`An import job named ${name} already exists`));
  });

  it("converts the lake's movies.dat with the items spec and imports it into the Items dataset", async () => {
    const result = await runCli(['import', '--dataset', 'items', '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as ImportJson;
    assert.equal(out.job.status, 'ACTIVE');
    assert.equal(out.items?.rows, 400);
    assert.equal(out.items?.source, `s3://${BUCKET}/raw/movies.dat`);
    assert.deepEqual(out.items?.columns, ['ITEM_ID', 'TITLE', 'GENRES', 'YEAR', 'CREATION_TIMESTAMP']);
    const csv = await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'items/items.csv' }))
    ).Body!.transformToString();
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines[0], 'ITEM_ID,TITLE,GENRES,YEAR,CREATION_TIMESTAMP');
    assert.equal(lines.length, 401);
    // movies.dat is Latin-1; the CSV is UTF-8 with the same titles.
    const movies = readFileSync(path.join(dir, 'data', 'movies.dat'), 'latin1')
      .split('\n')[1]!
      .split('\t');
    const [id, title, , , , year] = movies;
    const row = lines.find((line) => line.startsWith(`${id},`))!;
    const quoted = /[",]/.test(title!) ? `"${title!.replace(/"/g, '""')}"` : title!;
    // Genres come from movie_genres.dat, which upload-raw put beside movies.dat.
    const genres = readFileSync(path.join(dir, 'data', 'movie_genres.dat'), 'latin1')
      .split('\n')
      .filter((line) => line.startsWith(`${id}\t`))
      .map((line) => line.split('\t')[1]);
    assert.ok(genres.length >= 1);
    assert.equal(row, `${id},${quoted},${genres.join('|')},${year},${Date.UTC(Number(year), 0, 1) / 1000}`);
    assert.deepEqual(out.items?.nulls.GENRES, 0, 'every movie has a genre');
    assert.equal((await dataset('ITEMS')).latestImport?.status, 'ACTIVE');
  });

  it('refuses a local items file with bad lines, naming them, and writes nothing', async () => {
    const etag = (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'items/items.csv' }))).ETag;
    const good = readFileSync(path.join(dir, 'data', 'movies.dat'), 'latin1').split('\n');
    const bad = [...good.slice(0, 5), 'not-a-movie-line', ...good.slice(5)].join('\n');
    const file = path.join(dir, 'bad-movies.dat');
    writeFileSync(file, bad, 'latin1');
    const result = await runCli(['import', '--items', file], { cwd: dir, env });
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.errorText,
      /bad-movies\.dat: 1 line\(s\) cannot become items: bad-movies\.dat line 6: 1 fields, but the header has 21/,
    );
    assert.match(result.errorText, /Nothing was written or imported/);
    assert.equal(
      (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'items/items.csv' }))).ETag,
      etag,
    );
    const local = await runCli(['import', '--items', path.join('data', 'movies.dat')], { cwd: dir, env });
    assert.equal(local.code, 0, local.stderr);
    assert.match(
      local.stdout,
      /^Items: {4}400 from data\/movies\.dat \(columns ITEM_ID, TITLE, GENRES, YEAR, CREATION_TIMESTAMP\)$/m,
    );
    // Without movie_genres.dat beside it, GENRES stays empty and the command says why.
    mkdirSync(path.join(dir, 'alone'), { recursive: true });
    copyFileSync(path.join(dir, 'data', 'movies.dat'), path.join(dir, 'alone', 'movies.dat'));
    const alone = await runCli(['import', '--items', path.join('alone', 'movies.dat')], { cwd: dir, env });
    assert.equal(alone.code, 0, alone.stderr);
    assert.match(alone.stderr, /No movie_genres\.dat beside alone\/movies\.dat: GENRES stays empty/);
    assert.match(alone.stdout, /empty: GENRES 400\)$/m);
  });

  it('reads a MovieLens movies.csv with the spec its name selects', async () => {
    const file = path.join(dir, 'movies.csv');
    const lines = ['movieId,title,genres'];
    for (let i = 1; i <= 20; i++) lines.push(`${i},"Film ${i}, The (${1990 + i})",Drama|Comedy`);
    lines.push('21,Untitled,(no genres listed)');
    writeFileSync(file, `${lines.join('\r\n')}\r\n`);
    const result = await runCli(['import', '--items', file, '--json'], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as ImportJson;
    assert.equal(out.job.status, 'ACTIVE');
    assert.equal(out.items?.rows, 21);
    const csv = await (
      await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'items/items.csv' }))
    ).Body!.transformToString();
    assert.equal(csv.split('\n')[1], `1,"Film 1, The",Drama|Comedy,1991,${Date.UTC(1991, 0, 1) / 1000}`);
    assert.equal(csv.split('\n')[21], '21,Untitled,,,');
  });

  it('lists dataset groups, datasets and their latest imports', async () => {
    // Every column on a wide page; at 80 columns (the default) the secondary ones give way.
    const result = await runCli(['datasets'], { cwd: dir, env: { ...env, COLUMNS: '200' } });
    assert.equal(result.code, 0, result.stderr);
    const narrow = await runCli(['datasets'], { cwd: dir, env });
    assert.match(
      narrow.stdout.split('\n')[0]!,
      /^DATASET\s+(\S.*\s+)?LATEST IMPORT\s+IMPORT STATUS\s+UPDATED$/,
    );
    assert.ok(
      // Failure reasons follow the table as prose.
      narrow.stdout
        .split('\n\n')[0]!
        .split('\n')
        .every((line) => [...line].length <= 80),
      narrow.stdout,
    );
    const lines = result.stdout.split('\n');
    assert.match(
      lines[0]!,
      /^DATASET GROUP\s+DATASET\s+TYPE\s+STATUS\s+LATEST IMPORT\s+IMPORT STATUS\s+MODE\s+UPDATED \(UTC\)$/,
    );
    assert.match(
      result.stdout,
      /^mlpipe-dataset-group\s+mlpipe-interactions\s+INTERACTIONS\s+ACTIVE\s+mlpipe-interactions-\S+\s+CREATE FAILED\s+FULL/m,
    );
    assert.match(
      result.stdout,
      /^mlpipe-dataset-group\s+mlpipe-items\s+ITEMS\s+ACTIVE\s+mlpipe-items-\S+\s+ACTIVE\s+FULL/m,
    );
  });
});

describe('mlpipe import: running imports', () => {
  // The local stack runs with its test hooks: imports are held in CREATE IN_PROGRESS until the
  // test releases them, so the next commands find them running.
  const env = { MLPIPE_LOCAL_PORT: '0', CI: 'true', MLPIPE_LOCAL_TEST_HOOKS: '1' };
  const IMPORTS = 'personalize:dataset-import-job';
  let dir: string;
  let hooks: Awaited<ReturnType<typeof localTestHooks>>;

  before(async () => {
    dir = await setUpProject(env, 'mlpipe-import-wait-');
    const etl = await runCli(['run-etl'], { cwd: dir, env });
    assert.equal(etl.code, 0, etl.stderr);
    hooks = await localTestHooks(dir, env);
  });
  after(async () => {
    await runCli(['local', 'stop'], { cwd: dir, env });
  });

  it('refuses an incremental import of the whole ETL output, and before any full import', async () => {
    const whole = await runCli(['import', '--mode', 'incremental'], { cwd: dir, env });
    assert.equal(whole.code, 2, whole.stderr);
    assert.match(
      whole.errorText,
      /An incremental import appends the data it is given; the default, the lake's transformed\/ prefix, holds everything the ETL wrote/,
    );
    assert.match(whole.errorText, /Give the new interactions with --data/);
    const result = await runCli(
      ['import', '--mode', 'incremental', '--data', 's3://mlpipe-datalake/transformed/interactions.csv'],
      { cwd: dir, env },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.errorText, /An incremental import needs a completed full import first/);
    assert.match(result.errorText, /mlpipe import --mode full/);
  });

  it('--no-wait prints the ARN; a second import attaches to the running one; --arn re-attaches', async () => {
    await hooks.hold(IMPORTS);
    const started = await runCli(['import', '--no-wait'], { cwd: dir, env });
    assert.equal(started.code, 0, started.stderr);
    const arn = started.stdout.trim();
    assert.match(arn, /^arn:aws:personalize:us-east-1:\d{12}:dataset-import-job\/mlpipe-interactions-/);
    const other = await runCli(['import', '--data', 's3://mlpipe-datalake/transformed/interactions.csv'], {
      cwd: dir,
      env,
    });
    assert.equal(other.code, 1, other.stderr);
    assert.match(
      other.errorText,
      /Another import into this dataset is running: mlpipe-interactions-\S+ \(CREATE (PENDING|IN_PROGRESS), FULL from s3:\/\/mlpipe-datalake\/transformed\/\)\. Nothing was started or changed\./,
    );
    assert.match(
      other.errorText,
      /Wait for it with `mlpipe import --arn arn:aws:personalize:us-east-1:\d{12}:dataset-import-job\//,
    );
    // Released once the second import says it attaches, so it waits for the running one to end.
    let released: Promise<void> | undefined;
    const second = await runCli(['import', '--json'], {
      cwd: dir,
      env,
      onStderr: (stderr) => {
        if (released === undefined && /attaching to it/.test(stderr)) released = hooks.release(IMPORTS);
      },
    });
    await released;
    assert.equal(second.code, 0, second.stderr);
    const out = JSON.parse(second.stdout) as ImportJson;
    assert.equal(out.attached, true);
    assert.equal(out.job.arn, arn);
    assert.equal(out.job.status, 'ACTIVE');
    assert.match(
      second.stderr,
      /The same import is already running: mlpipe-interactions-\S+ \(CREATE (PENDING|IN_PROGRESS)\); attaching to it/,
    );
    const again = await runCli(['import', '--arn', arn, '--json'], { cwd: dir, env });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as ImportJson).job.status, 'ACTIVE');
    const unknown = await runCli(['import', '--arn', `${arn}-nope`], { cwd: dir, env });
    assert.equal(unknown.code, 1);
    assert.match(unknown.errorText, /There is no dataset import job arn:aws:personalize:.*-nope\./);
  });

  it('refuses to rewrite items.csv while an items import runs', async () => {
    await hooks.hold(IMPORTS);
    const started = await runCli(['import', '--dataset', 'items', '--no-wait'], { cwd: dir, env });
    assert.equal(started.code, 0, started.stderr);
    const s3 = await localS3Client(dir, env);
    try {
      const head = () => s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'items/items.csv' }));
      const before = (await head()).ETag;
      const again = await runCli(['import', '--items', path.join('data', 'movies.dat')], { cwd: dir, env });
      assert.equal(again.code, 1, again.stderr);
      assert.match(again.errorText, /Another import into this dataset is running: mlpipe-items-/);
      assert.equal((await head()).ETag, before, 'items.csv untouched');
      await hooks.release(IMPORTS);
      const waited = await runCli(['import', '--arn', started.stdout.trim()], { cwd: dir, env });
      assert.equal(waited.code, 0, waited.stderr);
    } finally {
      s3.destroy();
    }
  });
});
