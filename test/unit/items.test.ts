// Items specs and the catalogue → Personalize Items CSV conversion (src/etl/items.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fromEngineError, MlpipeError } from '../../src/lib/cli/errors.js';
import {
  convertItems,
  itemsFieldsOf,
  ITEMS_SPEC_DIR,
  loadItemsSpec,
  parseItemsSpec,
  type ItemsField,
} from '../../src/etl/items.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const dirs = { projectDir: '/nonexistent', packageRoot: ROOT };

/** The Items schema of templates/personalize.yaml, as Personalize stores it. */
const SCHEMA_FIELDS: ItemsField[] = itemsFieldsOf(
  JSON.stringify({
    type: 'record',
    name: 'Items',
    fields: [
      { name: 'ITEM_ID', type: 'string' },
      { name: 'TITLE', type: ['null', 'string'] },
      { name: 'GENRES', type: ['null', 'string'], categorical: true },
      { name: 'YEAR', type: ['null', 'int'] },
      { name: 'CREATION_TIMESTAMP', type: ['null', 'long'] },
    ],
  }),
);

function errorOf(fn: () => unknown): MlpipeError {
  try {
    fn();
  } catch (error) {
    // The engine throws its own error; the CLI reports it as this MlpipeError.
    const reported = fromEngineError(error);
    assert.ok(reported instanceof MlpipeError, String(error));
    return reported;
  }
  assert.fail('expected an error');
}

describe('items specs', () => {
  it('every shipped spec parses', async () => {
    const files = readdirSync(path.join(ROOT, ITEMS_SPEC_DIR)).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 2);
    for (const file of files) {
      const { spec } = await loadItemsSpec(file.replace(/\.json$/, ''), dirs);
      assert.equal(`${spec.name}.json`, file);
    }
  });

  it('names the file and field of a bad spec', () => {
    const bad = JSON.stringify({
      specVersion: 1,
      kind: 'items',
      name: 'x',
      source: { format: 'csv', separator: ',', quote: '"', header: true, encoding: 'utf-16' },
      mappings: [{ from: 'id', to: 'ITEM_ID' }],
    });
    assert.match(errorOf(() => parseItemsSpec(bad, 'x.json')).message, /^x\.json: source\.encoding: /);
    const noId = bad.replace('utf-16', 'utf-8').replace('ITEM_ID', 'TITLE');
    assert.match(errorOf(() => parseItemsSpec(noId, 'x.json')).message, /no mapping to ITEM_ID/);
    const lower = bad.replace('utf-16', 'utf-8').replace('ITEM_ID', 'item_id');
    assert.match(
      errorOf(() => parseItemsSpec(lower, 'x.json')).message,
      /mappings\.0\.to: must be an upper-case Personalize field name/,
    );
  });

  it('says where it looked for an unknown spec', async () => {
    await assert.rejects(loadItemsSpec('nope', dirs), /No items spec "nope" \(looked for .*nope\.json/);
  });
});

describe('convertItems', () => {
  it('converts hetrec movies.dat (Latin-1, \\N) to UTF-8 CSV in schema order', async () => {
    const { spec } = await loadItemsSpec('hetrec2011-movies', dirs);
    const header = ['id', 'title', 'imdbID', 'spanishTitle', 'imdbPictureURL', 'year'].join('\t');
    const text = `${header}\n1\tCafé, "Noir"\t1\tx\tu\t1995\n2\tUntitled\t2\ty\tv\t\\N\n`;
    const out = convertItems(Buffer.from(text, 'latin1'), 'movies.dat', spec, SCHEMA_FIELDS);
    assert.equal(
      out.csv,
      'ITEM_ID,TITLE,GENRES,YEAR,CREATION_TIMESTAMP\n1,"Café, ""Noir""",,1995,788918400\n2,Untitled,,,\n',
    );
    assert.equal(out.rows, 2);
    assert.deepEqual(out.nulls, { ITEM_ID: 0, TITLE: 0, GENRES: 2, YEAR: 1, CREATION_TIMESTAMP: 1 });
  });

  it("joins hetrec's movie_genres.dat into GENRES ('|'-separated, each genre once, file order)", async () => {
    const { spec } = await loadItemsSpec('hetrec2011-movies', dirs);
    const header = ['id', 'title', 'imdbID', 'spanishTitle', 'imdbPictureURL', 'year'].join('\t');
    const movies = `${header}\n1\tA\t1\tx\tu\t1995\n2\tB\t2\ty\tv\t1996\n3\tC\t3\tz\tw\t1997\n`;
    const genres = 'movieID\tgenre\n1\tDrama\n2\tComedy\n1\tRomance\n1\tDrama\n';
    const out = convertItems(Buffer.from(movies, 'latin1'), 'movies.dat', spec, SCHEMA_FIELDS, {
      'movie_genres.dat': Buffer.from(genres, 'latin1'),
    });
    assert.equal(
      out.csv,
      'ITEM_ID,TITLE,GENRES,YEAR,CREATION_TIMESTAMP\n' +
        '1,A,Drama|Romance,1995,788918400\n2,B,Comedy,1996,820454400\n3,C,,1997,852076800\n',
    );
    assert.equal(out.nulls.GENRES, 1);
    assert.throws(
      () =>
        convertItems(Buffer.from(movies, 'latin1'), 'movies.dat', spec, SCHEMA_FIELDS, {
          'movie_genres.dat': Buffer.from('movie\tkind\n1\tDrama\n', 'latin1'),
        }),
      /movie_genres\.dat line 1: the header lacks movieID or genre \(it has movie, kind\)/,
    );
  });

  it('converts MovieLens movies.csv: quoted titles, year from the title, no genres as null', async () => {
    const { spec } = await loadItemsSpec('ml-latest-small-movies', dirs);
    const text =
      '\ufeffmovieId,title,genres\r\n1,Toy Story (1995),Adventure|Animation\r\n' +
      '11,"American President, The (1995)",Comedy|Drama|Romance\r\n99,Unknown,(no genres listed)\r\n';
    const out = convertItems(Buffer.from(text, 'utf8'), 'movies.csv', spec, SCHEMA_FIELDS);
    assert.equal(
      out.csv,
      'ITEM_ID,TITLE,GENRES,YEAR,CREATION_TIMESTAMP\n' +
        '1,Toy Story,Adventure|Animation,1995,788918400\n' +
        '11,"American President, The",Comedy|Drama|Romance,1995,788918400\n' +
        '99,Unknown,,,\n',
    );
  });

  it('refuses bad lines with file and line numbers, and writes nothing', async () => {
    const { spec } = await loadItemsSpec('ml-latest-small-movies', dirs);
    const text =
      'movieId,title,genres\n1,A (1990),Drama\n2,B\n1,C (1991),Drama\n4,E,' +
      `${'x'.repeat(1001)}\n` +
      // An unterminated quote runs to the end of the file, as in RFC 4180.
      '3,"D (1992),Drama\n5,F,Drama\n';
    const error = errorOf(() => convertItems(Buffer.from(text), 'movies.csv', spec, SCHEMA_FIELDS));
    assert.equal(error.code, 'ITEMS_INVALID');
    assert.match(error.message, /^movies\.csv: 4 line\(s\) cannot become items:/);
    assert.match(error.message, /movies\.csv line 3: 2 fields, but the header has 3/);
    assert.match(error.message, /movies\.csv line 4: ITEM_ID 1 repeats the item on line 2/);
    assert.match(
      error.message,
      /movies\.csv line 6: a quoted field starts here and never closes, so the rest of the file would be one value$/,
    );
    assert.match(
      error.message,
      /line 5: GENRES is a categorical value of 1001 characters; Personalize allows at most 1000/,
    );
  });

  it("refuses a file whose header lacks the spec's columns, and a spec that does not fit the schema", async () => {
    const { spec } = await loadItemsSpec('hetrec2011-movies', dirs);
    const header = errorOf(() =>
      convertItems(Buffer.from('movieId,title\n1,a\n'), 'm.csv', spec, SCHEMA_FIELDS),
    );
    assert.equal(header.code, 'ITEMS_HEADER');
    assert.match(
      header.message,
      /^m\.csv line 1: the header lacks id, title, year \(it has movieId,title\)\./,
    );
    const narrow = SCHEMA_FIELDS.filter((f) => f.name !== 'YEAR');
    assert.match(
      errorOf(() => convertItems(Buffer.from('id\ttitle\tyear\n1\ta\t1990\n'), 'm.dat', spec, narrow))
        .message,
      /maps year to YEAR, which the Items dataset's schema does not have/,
    );
    const strict = [
      ...SCHEMA_FIELDS,
      { name: 'PRICE', type: 'float', nullable: false, categorical: false } as ItemsField,
    ];
    assert.match(
      errorOf(() => convertItems(Buffer.from('id\ttitle\tyear\n1\ta\t1990\n'), 'm.dat', spec, strict))
        .message,
      /The Items schema's field PRICE \(float\) cannot be null, but items spec hetrec2011-movies has no mapping to it\./,
    );
  });

  it('refuses a value of the wrong type and an empty non-nullable field', async () => {
    const { spec } = await loadItemsSpec('hetrec2011-movies', dirs);
    const fields = SCHEMA_FIELDS.map((f) => (f.name === 'TITLE' ? { ...f, nullable: false } : f));
    const spec2 = {
      ...spec,
      mappings: spec.mappings.map((m) => (m.to === 'YEAR' ? { ...m, transform: 'none' as const } : m)),
    };
    const error = errorOf(() =>
      convertItems(Buffer.from('id\ttitle\tyear\n1\t\\N\t1990\n2\tb\tsoon\n'), 'm.dat', spec2, fields),
    );
    assert.match(
      error.message,
      /m\.dat line 2: TITLE is empty \(column title\), and the Items schema does not allow null for it/,
    );
    assert.match(error.message, /m\.dat line 3: YEAR must be an integer \(int\), got "soon"/);
  });

  it("matches the sample generator's movies.dat", () => {
    // The generator writes hetrec's 21 columns; the shipped spec must read its header.
    const spec = parseItemsSpec(
      readFileSync(path.join(ROOT, ITEMS_SPEC_DIR, 'hetrec2011-movies.json'), 'utf8'),
      'hetrec2011-movies.json',
    );
    assert.deepEqual(spec.source.columns, ['id', 'title', 'year']);
  });
});

describe('defaultItemsSpec', () => {
  it('picks the spec by the catalogue file name', async () => {
    const { defaultItemsSpec } = await import('../../src/lib/personalize/imports.js');
    assert.equal(defaultItemsSpec('s3://lake/raw/movies.dat'), 'hetrec2011-movies');
    assert.equal(defaultItemsSpec('/home/me/ml-latest-small/movies.csv'), 'ml-latest-small-movies');
    assert.equal(defaultItemsSpec('catalogue.CSV'), 'ml-latest-small-movies');
    assert.equal(defaultItemsSpec('items.tsv'), 'hetrec2011-movies');
  });
});
