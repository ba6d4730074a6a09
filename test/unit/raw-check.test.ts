// Recognising raw interactions files before upload, and refusing everything else with a clear message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectInteractionsFormat, NotInteractionsError } from '../../src/lib/data/raw-check.js';

describe('detectInteractionsFormat', () => {
  it('recognises hetrec2011 (TAB, header)', () => {
    const f = detectInteractionsFormat(
      'userID\tmovieID\trating\ttimestamp\n75\t3\t1\t1162160236000\n',
      'x.dat',
    );
    assert.deepEqual(f, {
      separator: '\t',
      separatorName: 'TAB',
      hasHeader: true,
      columns: ['userID', 'movieID', 'rating', 'timestamp'],
    });
  });

  it('recognises MovieLens ratings.csv with a BOM and CRLF', () => {
    const f = detectInteractionsFormat(
      '\uFEFFuserId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n',
      'ratings.csv',
    );
    assert.equal(f.separator, ',');
    assert.equal(f.hasHeader, true);
  });

  it('recognises headerless ml-100k u.data and ml-1m ratings.dat', () => {
    assert.equal(
      detectInteractionsFormat('196\t242\t3\t881250949\n186\t302\t3\t891717742\n', 'u.data').hasHeader,
      false,
    );
    const ml1m = detectInteractionsFormat('1::1193::5::978300760\n1::661::3::978302109\n', 'ratings.dat');
    assert.equal(ml1m.separator, '::');
    assert.equal(ml1m.hasHeader, false);
  });

  it('refuses a movies file, naming the file, the first line and what was expected', () => {
    assert.throws(
      () =>
        detectInteractionsFormat(
          'id\ttitle\timdbID\tspanishTitle\n1\tToy story\t0114709\tToy story\n',
          'data/movies.dat',
        ),
      (error: unknown) =>
        error instanceof NotInteractionsError &&
        error.message.startsWith(
          'data/movies.dat does not look like interactions data: its first line `id<TAB>title<TAB>imdbID<TAB>spanishTitle` has no user or item column.',
        ) &&
        error.message.includes('userID<TAB>movieID<TAB>rating<TAB>timestamp'),
    );
  });

  it('refuses binary data, ragged numeric rows and user/item pairs without any event column', () => {
    assert.throws(
      () => detectInteractionsFormat('PK\u0003\u0004\u0000\u0000', 'x.zip'),
      /x\.zip is a binary file/,
    );
    assert.throws(
      () => detectInteractionsFormat('1\t2\t3\n1\t2\n', 'r.tsv'),
      /do not all have 3 numeric TAB-separated fields/,
    );
    assert.throws(
      () => detectInteractionsFormat('user,item\n1,2\n', 'pairs.csv'),
      /no rating or timestamp column/,
    );
    assert.throws(() => detectInteractionsFormat('\n\n', 'blank.txt'), /blank\.txt has no lines/);
  });
});
