// The in-memory delimited-text reader shared by Personalize imports and the items conversion.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { forEachCsvRecord, UnterminatedQuoteError, type CsvOptions } from '../../src/etl/csv.js';

function read(text: string, options?: CsvOptions): [number, string[]][] {
  const out: [number, string[]][] = [];
  forEachCsvRecord(text, (values, line) => out.push([line, values]), options);
  return out;
}

describe('forEachCsvRecord', () => {
  it('reads LF, CRLF and bare-CR line ends, a BOM, and skips blank lines, with line numbers', () => {
    const expected: [number, string[]][] = [
      [1, ['a', 'b']],
      [3, ['1', '']],
      [4, ['', '2']],
    ];
    assert.deepEqual(read('\ufeffa,b\n\n1,\n,2\n'), expected);
    assert.deepEqual(read('a,b\r\n\r\n1,\r\n,2'), expected);
    assert.deepEqual(read('a,b\r\r1,\r,2\r'), expected);
  });

  it('honours quotes: separators, doubled quotes and line breaks inside, lines counted', () => {
    assert.deepEqual(read('id,title\n1,"Crocodile ""Dundee"", the"\n2,"two\nlines"\n3,x\n'), [
      [1, ['id', 'title']],
      [2, ['1', 'Crocodile "Dundee", the']],
      [3, ['2', 'two\nlines']],
      [5, ['3', 'x']],
    ]);
  });

  it('takes other separators and no quoting', () => {
    assert.deepEqual(read('1::2::"3"\n', { separator: '::', quote: null }), [[1, ['1', '2', '"3"']]]);
    assert.deepEqual(read('a\t"b\tc"\n', { separator: '\t' }), [[1, ['a', 'b\tc']]]);
    assert.deepEqual(read("a|'b|c'\n", { separator: '|', quote: "'" }), [[1, ['a', 'b|c']]]);
  });

  it('names the line of a quote that never closes', () => {
    assert.throws(
      () => read('a,b\n1,2\n3,"open\n4,5\n'),
      (error: unknown) => error instanceof UnterminatedQuoteError && error.line === 3,
    );
  });
});
