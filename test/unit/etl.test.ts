/**
 * Unit tests for the local ETL engine (src/etl): the shipped mapping specs (checked against the
 * JSON Schema's structure and by loadMappingSpec), the transform on small inline inputs fed in
 * arbitrary chunk splits, encodings and line endings, every bad input of the ETL issue with its
 * exact error or reject reason, the report's counts, and determinism.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  EtlError,
  loadMappingSpec,
  runEtl,
  withOverrides,
  type EtlReport,
  type MappingSpec,
} from '../../src/etl/index.js';
import { fromEngineError } from '../../src/lib/cli/errors.js';

const MAPPINGS = fileURLToPath(new URL('../../glue/mappings/', import.meta.url));
/** The parts of a spec's JSON that tests patch to make it invalid. */
interface SpecJson {
  source: { separator: string };
  timestamp: { unit: string };
  mappings: Array<{ from: string; to: string }>;
  filters?: unknown[];
  checks: { minTimestamp: string };
  [key: string]: unknown;
}
const NOW = Date.parse('2025-01-01T00:00:00Z');

function spec(name: string): MappingSpec {
  return loadMappingSpec(readFileSync(path.join(MAPPINGS, `${name}.json`), 'utf8'), `${name}.json`);
}
const HETREC = spec('hetrec2011-user-ratedmovies-timestamps');
const ML_SMALL = spec('ml-latest-small-ratings');
const ML_100K = spec('ml-100k-u-data');

interface Run {
  output: string;
  rejects: string;
  report: EtlReport;
}

async function* chunks(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes.length === 0 ? bytes.length : sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

async function run(
  s: MappingSpec,
  input: string | Buffer,
  sizes: number[] = [],
  rejectThreshold?: number,
): Promise<Run> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let output = '';
  let rejects = '';
  const report = await runEtl(
    s,
    chunks(bytes, sizes),
    { output: (c) => void (output += c), rejects: (c) => void (rejects += c) },
    { now: NOW, rejectThreshold },
  );
  return { output, rejects, report };
}

async function fails(s: MappingSpec, input: string | Buffer, message: string | RegExp): Promise<EtlError> {
  let caught: unknown;
  try {
    await run(s, input);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof EtlError, `expected an EtlError, got ${String(caught)}`);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else assert.match(caught.message, message);
  return caught;
}

const HEADER = 'userID\tmovieID\trating\ttimestamp\n';
const GOOD = HEADER + '75\t3\t1\t1162160236000\n75\t32\t4.5\t1162160624000\n';

/** Many rows, so one bad row stays under the 1% threshold. */
function hetrecRows(n: number, users = 30): string {
  let s = '';
  for (let i = 0; i < n; i++)
    s += `${(i % users) + 1}\t${100 + i}\t${(i % 10) / 2 + 0.5}\t${1162160236000 + i * 1000}\n`;
  return s;
}

describe('mapping specs', () => {
  const schema = JSON.parse(readFileSync(path.join(MAPPINGS, 'mapping-spec.schema.json'), 'utf8')) as {
    $schema: string;
    required: string[];
    properties: Record<string, unknown>;
    additionalProperties: boolean;
  };

  it('ships a draft 2020-12 schema and three specs that satisfy it and loadMappingSpec', () => {
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    const files = readdirSync(MAPPINGS).filter(
      (f) => f.endsWith('.json') && f !== 'mapping-spec.schema.json',
    );
    assert.deepEqual(files.sort(), [
      'hetrec2011-user-ratedmovies-timestamps.json',
      'ml-100k-u-data.json',
      'ml-latest-small-ratings.json',
    ]);
    for (const file of files) {
      const json = JSON.parse(readFileSync(path.join(MAPPINGS, file), 'utf8')) as Record<string, unknown>;
      for (const key of schema.required) assert.ok(key in json, `${file}: ${key}`);
      for (const key of Object.keys(json))
        assert.ok(key in schema.properties, `${file}: ${key} not in schema`);
      assert.equal(loadMappingSpec(json, file).name, file.replace(/\.json$/, ''));
    }
  });

  it('rejects bad specs naming the file and the field', () => {
    const base = JSON.parse(readFileSync(path.join(MAPPINGS, 'ml-100k-u-data.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const bad = (patch: (j: SpecJson) => void, message: string): void => {
      const j = structuredClone(base) as SpecJson;
      patch(j);
      assert.throws(() => loadMappingSpec(j, 'x.json'), { name: 'EtlError', message });
    };
    bad((j) => (j.source.separator = ''), 'x.json: source.separator: must have at least 1 character(s)');
    bad(
      (j) => (j.timestamp.unit = 'us'),
      'x.json: timestamp.unit: must be one of "ms", "s", "auto", got "us"',
    );
    bad(
      (j) => (j.mappings[1]!.to = 'item_id'),
      'x.json: mappings[1].to: must be an upper-case column name like USER_ID, got "item_id"',
    );
    bad((j) => j.mappings.pop(), 'x.json: mappings: must have at least 3 item(s)');
    bad(
      (j) => (j.mappings[0]!.from = 'who'),
      'x.json: mappings[0].from: column "who" is not in source.columns (user, item, rating, timestamp)',
    );
    bad(
      (j) => (j.filters = [{ column: 'rating', op: '>=', value: '4' }]),
      'x.json: filters[0].value: must be a number for >=',
    );
    bad(
      (j) => (j.extra = 1),
      'x.json: (top level): unknown key "extra" (allowed: $schema, specVersion, name, description, source, mappings, drop, timestamp, filters, eventValue, output, checks)',
    );
    assert.throws(() => loadMappingSpec('{', 'y.json'), {
      name: 'EtlError',
      message: /^y\.json: not valid JSON/,
    });
  });
});

describe('runEtl on the shipped specs', () => {
  it('hetrec: ms -> s, rating dropped', async () => {
    const { output, report } = await run(HETREC, GOOD);
    assert.equal(output, 'USER_ID,ITEM_ID,TIMESTAMP\n75,3,1162160236\n75,32,1162160624\n');
    assert.equal(report.rowsRead, 2);
    assert.equal(report.rowsWritten, 2);
  });

  it('hetrec: the rating as EVENT_VALUE, or a rating filter', async () => {
    const withValue = withOverrides(HETREC, { eventValue: true });
    assert.equal(
      (await run(withValue, GOOD)).output,
      'USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE\n75,3,1162160236,1\n75,32,1162160624,4.5\n',
    );
    const liked = withOverrides(HETREC, { filters: [{ column: 'rating', op: '>=', value: 4 }] });
    const { output, report } = await run(liked, GOOD);
    assert.equal(output, 'USER_ID,ITEM_ID,TIMESTAMP\n75,32,1162160624\n');
    assert.equal(report.rowsFiltered, 1);
    assert.equal(report.rowsRejected, 0);
  });

  it('ml-latest-small: comma, header, seconds, quoted fields honoured', async () => {
    const input = 'userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"1","a,""b""",4.0,964981247\n';
    const { output } = await run(ML_SMALL, input);
    assert.equal(output, 'USER_ID,ITEM_ID,TIMESTAMP\n1,1,964982703\n1,"a,""b""",964981247\n');
  });

  it('ml-100k: TAB, no header, columns by position', async () => {
    const { output, report } = await run(ML_100K, '196\t242\t3\t881250949\n186\t302\t3\t891717742\n');
    assert.equal(output, 'USER_ID,ITEM_ID,TIMESTAMP\n196,242,881250949\n186,302,891717742\n');
    assert.equal(report.rowsRead, 2);
  });
});

describe('runEtl input handling', () => {
  it('gives the same result for any chunk split, byte by byte included', async () => {
    const input = GOOD + '76\t3\t2\t1162160999000\n';
    const whole = await run(HETREC, input);
    for (const sizes of [[1], [2], [3, 7], [5, 1, 11], [64]])
      assert.deepEqual(await run(HETREC, input, sizes), whole);
    const quoted =
      'userId,movieId,rating,timestamp\r\n"1","a\r\nb",4.0,964982703\r\n2,"x""y",1,964982704\r\n3,3,1,bad\r\n';
    const q = await run(ML_SMALL, quoted, [], 1);
    assert.equal(q.output, 'USER_ID,ITEM_ID,TIMESTAMP\n1,"a\r\nb",964982703\n2,"x""y",964982704\n');
    assert.deepEqual(q.report.firstRejects, [
      { line: 5, reason: 'timestamp is not a number: "bad" (column timestamp)' },
    ]);
    for (const sizes of [[1], [2], [3, 5]]) assert.deepEqual(await run(ML_SMALL, quoted, sizes, 1), q);
  });

  it('accepts CRLF, a BOM and a missing final newline', async () => {
    const expected = (await run(HETREC, GOOD)).output;
    const crlf = GOOD.replace(/\n/g, '\r\n');
    assert.equal((await run(HETREC, crlf)).output, expected);
    assert.equal((await run(HETREC, '\uFEFF' + crlf.slice(0, -2), [1])).output, expected);
    assert.equal((await run(HETREC, GOOD.slice(0, -1))).output, expected);
    const blank = await run(HETREC, GOOD + '\n\n');
    assert.equal(blank.output, expected);
    assert.equal(blank.report.blankLines, 2);
  });

  it('reads Latin-1 under a latin1 spec and writes UTF-8', async () => {
    const input = Buffer.concat([
      Buffer.from(HEADER),
      Buffer.from('75\tcaf\xe9\t1\t1162160236000\n', 'latin1'),
    ]);
    assert.equal((await run(HETREC, input)).output, 'USER_ID,ITEM_ID,TIMESTAMP\n75,café,1162160236\n');
  });

  it('rejects a row with a non-UTF-8 byte under a UTF-8 spec, naming the line', async () => {
    const rows = Array.from({ length: 200 }, (_, i) => `${i % 30},${i},4,964982703`).join('\n');
    const input = Buffer.concat([
      Buffer.from(`userId,movieId,rating,timestamp\n${rows}\n`),
      Buffer.from('7,caf\xe9,4,964982703\n', 'latin1'),
      Buffer.from('8,café,4,964982703\n'),
    ]);
    const { output, rejects, report } = await run(ML_SMALL, input, [100]);
    assert.deepEqual(report.firstRejects, [
      { line: 202, reason: 'invalid UTF-8 byte sequence (the spec says source.encoding utf-8)' },
    ]);
    assert.ok(
      rejects.startsWith(
        'line,reason,raw\n202,invalid UTF-8 byte sequence (the spec says source.encoding utf-8),"7,caf\uFFFD,4,964982703"',
      ),
    );
    assert.ok(output.endsWith('\n8,café,964982703\n'));
    const header = Buffer.concat([
      Buffer.from('userId,movieId,r\xe9ting,timestamp\n', 'latin1'),
      Buffer.from('1,1,1,964982703\n'),
    ]);
    await fails(
      ML_SMALL,
      header,
      'line 1 (the header) is not valid UTF-8: is the file Latin-1? The spec says source.encoding utf-8; set it to latin1',
    );
  });
});

describe('runEtl bad input', () => {
  it('wrong separator', async () => {
    await fails(
      HETREC,
      'userID,movieID,rating,timestamp\n75,3,1,1162160236000\n',
      'line 1 has 1 column, expected 4: is the separator right? The spec expects TAB (the line contains comma (,))',
    );
    await fails(
      ML_100K,
      '196 242 3 881250949\n',
      'line 1 has 1 column, expected 4: is the separator right? The spec expects TAB',
    );
  });

  it('missing header', async () => {
    await fails(
      HETREC,
      '75\t3\t1\t1162160236000\n',
      'line 1 is not a header (found: 75, 3, 1, 1162160236000): the spec expects a header line with columns userID, movieID, timestamp; for a file without one set source.header to false and list source.columns',
    );
  });

  it('missing required column', async () => {
    await fails(
      HETREC,
      'userID\trating\ttimestamp\n75\t1\t1162160236000\n',
      'header is missing column movieID (found: userID, rating, timestamp)',
    );
  });

  it('empty file, blank-only file and header-only file', async () => {
    await fails(
      HETREC,
      '',
      'the input is empty: expected a header line with columns userID, movieID, timestamp and data rows',
    );
    await fails(
      HETREC,
      '\n\r\n',
      'the input is empty (only blank lines): expected a header line with columns userID, movieID, timestamp and data rows',
    );
    await fails(ML_100K, '', 'the input is empty: expected data rows with 4 columns');
    await fails(HETREC, HEADER, 'the input has only a header line and no data rows');
    await fails(HETREC, HEADER.trim(), 'the input has only a header line and no data rows');
  });

  it('rejects bad rows with the line number and an exact reason', async () => {
    const bad = [
      '75\t3\t1\tabc', // 2: non-numeric timestamp
      '75\t4\t1\t-5', // 3: negative
      '\t5\t1\t1162160236000', // 4: empty user
      '75\t\t1\t1162160236000', // 5: empty item
      '75\t6\t1', // 6: ragged
      `${'u'.repeat(300)}\t7\t1\t1162160236000`, // 7: 300-character ID
      '75\t8\t1\t12000', // 8: implausible (1970)
      '75\t9\t1\t1162160236000\textra', // 9: ragged
    ];
    const { output, rejects, report } = await run(
      HETREC,
      HEADER + bad.join('\n') + '\n' + hetrecRows(1000),
      [],
      0.01,
    );
    assert.deepEqual(report.firstRejects, [
      { line: 2, reason: 'timestamp is not a number: "abc" (column timestamp)' },
      { line: 3, reason: 'timestamp is negative: "-5" (column timestamp)' },
      { line: 4, reason: 'empty USER_ID (column userID)' },
      { line: 5, reason: 'empty ITEM_ID (column movieID)' },
      { line: 6, reason: 'expected 4 columns, found 3' },
      { line: 7, reason: 'USER_ID is 300 characters long, more than 256 (column userID)' },
      {
        line: 8,
        reason: 'timestamp out of range: 12 s is before 1990-01-01; is the unit right? (timestamp.unit ms)',
      },
      { line: 9, reason: 'expected 4 columns, found 5' },
    ]);
    assert.equal(report.rowsRejected, 8);
    assert.equal(report.rowsRead, 1008);
    assert.equal(report.rowsWritten, 1000);
    assert.equal(rejects.split('\n')[0], 'line,reason,raw');
    assert.equal(
      rejects.split('\n')[1],
      '2,"timestamp is not a number: ""abc"" (column timestamp)",75\t3\t1\tabc',
    );
    assert.ok(!output.includes('abc'));
  });

  it('fails when rejects exceed the threshold, naming the count, threshold and first rejects', async () => {
    const error = await fails(
      HETREC,
      HEADER + '75\t3\t1\tabc\n' + hetrecRows(50),
      '1 of 51 rows rejected (1.96%), more than the reject threshold of 1%; first rejects: line 2: timestamp is not a number: "abc" (column timestamp)',
    );
    assert.equal(error.kind, 'threshold');
    assert.equal(fromEngineError(error)?.exit, 3, 'the CLI reports a threshold failure as a failed job');
    assert.deepEqual(error.firstRejects, [
      { line: 2, reason: 'timestamp is not a number: "abc" (column timestamp)' },
    ]);
    assert.equal(
      (await run(HETREC, HEADER + '75\t3\t1\tabc\n' + hetrecRows(50), [], 0.05)).report.rowsRejected,
      1,
    );
  });

  it('rejects future timestamps and honours unit auto', async () => {
    const auto = withOverrides(ML_100K, {});
    const json = JSON.parse(JSON.stringify({ ...auto })) as SpecJson;
    json.timestamp.unit = 'auto';
    json.checks.minTimestamp = '1990-01-01';
    const autoSpec = loadMappingSpec(json, 'auto.json');
    const { output, report } = await run(
      autoSpec,
      '1\t1\t1\t881250949\n1\t2\t1\t881250949000\n1\t3\t1\t1900000000\n',
      [],
      1,
    );
    assert.equal(output, 'USER_ID,ITEM_ID,TIMESTAMP\n1,1,881250949\n1,2,881250949\n');
    assert.deepEqual(report.firstRejects, [
      {
        line: 3,
        reason:
          'timestamp out of range: 1900000000 s is after 2025-01-02 (now + 86400 s); is the unit right? (timestamp.unit auto)',
      },
    ]);
  });
});

describe('runEtl report', () => {
  it('counts duplicates, users, items, time range and training minimums', async () => {
    const input = HEADER + hetrecRows(1200) + '1\t100\t0.5\t1162160236000\n' + '1\t100\t5\t1162160236000\n';
    const { report } = await run(HETREC, input);
    assert.equal(report.rowsRead, 1202);
    assert.equal(report.duplicatesCollapsed, 2);
    assert.equal(report.rowsWritten, 1200);
    assert.equal(report.distinctUsers, 30);
    assert.equal(report.distinctItems, 1200);
    assert.equal(report.usersWithAtLeast2Interactions, 30);
    assert.equal(report.minTimestamp, 1162160236);
    assert.equal(report.maxTimestamp, 1162160236 + 1199);
    assert.equal(report.meetsTrainingMinimums, true);
    const few = (await run(HETREC, HEADER + hetrecRows(40, 40))).report;
    assert.equal(few.meetsTrainingMinimums, false);
    assert.equal(
      few.trainingMinimumsNote,
      '40 interactions, Personalize needs at least 1000; 0 users with at least 2 interactions, Personalize needs at least 25',
    );
  });

  it('is deterministic', async () => {
    const input = HEADER + hetrecRows(3000) + '75\t3\t1\tabc\n';
    const a = await run(HETREC, input, [777]);
    const b = await run(HETREC, input, [13]);
    assert.deepEqual(a, b);
  });
});

describe('runEtl direct scanner (unquoted blocks)', () => {
  it('matches the general path: duplicates across paths, leading zeros, quoting, CR inside a field', async () => {
    const input =
      HEADER +
      '1\t100\t5\t1162160236000\n' + // the first data row takes the general path
      '2\t7\t1\t01162160236000\r\n' + // leading zero: the number, not the digits
      '3\ta,b\t1\t1162160236000\n' + // needs quoting
      '4\tx\ry\t1\t1162160236000\n' + // CR inside a field: quoted
      '\r\n' +
      '1\t100\t4\t1162160236000\n' + // duplicate of the first row (direct path)
      '2\t7\t1\t1162160236999\n'; // duplicate after ms -> s
    const expected =
      'USER_ID,ITEM_ID,TIMESTAMP\n1,100,1162160236\n2,7,1162160236\n3,"a,b",1162160236\n4,"x\ry",1162160236\n';
    for (const sizes of [[], [1], [7]]) {
      const { output, report } = await run(HETREC, input, sizes);
      assert.equal(output, expected);
      assert.equal(report.duplicatesCollapsed, 2);
      assert.equal(report.blankLines, 1);
      assert.equal(report.rowsRead, 6);
      assert.equal(report.distinctItems, 4);
    }
  });
});
