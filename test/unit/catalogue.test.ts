// Titles and years from the three MovieLens catalogue layouts, Latin-1 decoded correctly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCatalogue, splitTitleYear } from '../../src/lib/recs/catalogue.js';

describe('item catalogue', () => {
  it('splits a title from its year', () => {
    assert.deepEqual(splitTitleYear('Toy Story (1995)'), { title: 'Toy Story', year: 1995 });
    assert.deepEqual(splitTitleYear('City of Lost Children, The (Cité des enfants perdus, La) (1995) '), {
      title: 'City of Lost Children, The (Cité des enfants perdus, La)',
      year: 1995,
    });
    assert.deepEqual(splitTitleYear('Babylon 5'), { title: 'Babylon 5', year: null });
    assert.deepEqual(splitTitleYear('Fawlty Towers (1975-1979)'), { title: 'Fawlty Towers', year: 1975 });
  });

  it("reads hetrec's movies.dat (TAB, header, Latin-1, \\N)", () => {
    const file = Buffer.concat([
      Buffer.from('id\ttitle\timdbID\tspanishTitle\timdbPictureURL\tyear\n'),
      Buffer.from('1\tToy story\t0114709\tToy story (juguetes)\thttp://x\t1995\n', 'latin1'),
      Buffer.from('29\tLa cité des enfants perdus\t0112682\tLa ciudad\thttp://x\t\\N\n', 'latin1'),
    ]);
    const catalogue = parseCatalogue(file, 'hetrec-movies.dat');
    assert.deepEqual(catalogue.get('1'), { title: 'Toy story', year: 1995 });
    assert.deepEqual(catalogue.get('29'), { title: 'La cité des enfants perdus', year: null });
    assert.equal(file.includes(Buffer.from([0xe9])), true, 'é is one Latin-1 byte in the file');
  });

  it("reads MovieLens' movies.csv (quoted CSV, UTF-8, year in the title)", () => {
    const file = Buffer.from(
      'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n' +
        '29,"City of Lost Children, The (Cité des enfants perdus, La) (1995)",Drama\n',
      'utf8',
    );
    const catalogue = parseCatalogue(file, 'movielens-movies.csv');
    assert.deepEqual(catalogue.get('1'), { title: 'Toy Story', year: 1995 });
    assert.deepEqual(catalogue.get('29'), {
      title: 'City of Lost Children, The (Cité des enfants perdus, La)',
      year: 1995,
    });
  });

  it("reads ml-100k's u.item (pipe-separated, no header, Latin-1)", () => {
    const file = Buffer.from(
      '1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1\n' +
        '1300|Jérôme (1998)|01-Jan-1998||http://x|0|0|0|1\n' +
        '267|unknown||||1|0|0|0\n',
      'latin1',
    );
    const catalogue = parseCatalogue(file, 'ml-100k-u.item');
    assert.deepEqual(catalogue.get('1'), { title: 'Toy Story', year: 1995 });
    assert.deepEqual(catalogue.get('1300'), { title: 'Jérôme', year: 1998 });
    assert.deepEqual(catalogue.get('267'), { title: 'unknown', year: null });
  });
});
