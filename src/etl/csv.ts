/**
 * A small, fast delimited-text reader for whole files already in memory: RFC 4180 quoting (a field
 * that starts with the quote character, doubled quotes inside), LF, CRLF or bare-CR line ends, a
 * leading BOM, blank lines skipped, and the 1-based line each record starts on, for messages that
 * name it. Lines without a quote character (the common case) are split with indexOf. Used where a
 * whole file is checked record by record: Personalize imports in the local stack and the items
 * conversion. (The streaming ETL engine reads chunk by chunk with papaparse instead.)
 */

export interface CsvOptions {
  /** Field separator, 1-4 characters (default ','). */
  separator?: string;
  /** Quote character, or null when fields are never quoted (default '"'). */
  quote?: string | null;
}

/** A quoted field that never closes: the rest of the file would be one value. */
export class UnterminatedQuoteError extends Error {
  constructor(readonly line: number) {
    super(`a quoted field that starts on line ${line} has no closing quote`);
    this.name = 'UnterminatedQuoteError';
  }
}

/** Calls `onRecord` with each record's values and the line it starts on. */
export function forEachCsvRecord(
  text: string,
  onRecord: (values: string[], line: number) => void,
  options: CsvOptions = {},
): void {
  const sep = options.separator ?? ',';
  const quote = options.quote === undefined ? '"' : options.quote;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  // Where the next '\n', quote and '\r' are (n when none), so each is searched for once per
  // occurrence (a file with bare-CR line ends has no '\n' at all).
  let nextNl = -1;
  let nextQuote = quote === null ? n : -1;
  let nextCr = -1;
  while (i < n) {
    if (nextNl < i) {
      nextNl = text.indexOf('\n', i);
      if (nextNl < 0) nextNl = n;
    }
    const end = nextNl;
    if (nextQuote < i) {
      nextQuote = text.indexOf(quote!, i);
      if (nextQuote < 0) nextQuote = n;
    }
    if (nextCr < i) {
      nextCr = text.indexOf('\r', i);
      if (nextCr < 0) nextCr = n;
    }
    const lineEnd = end > i && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (nextQuote >= end && nextCr >= lineEnd) {
      const start = line;
      const from = i;
      line++;
      i = end + 1;
      if (lineEnd === from) continue;
      const values: string[] = [];
      let p = from;
      for (;;) {
        const at = text.indexOf(sep, p);
        if (at < 0 || at >= lineEnd) {
          values.push(text.slice(p, lineEnd));
          break;
        }
        values.push(text.slice(p, at));
        p = at + sep.length;
      }
      onRecord(values, start);
      continue;
    }
    const start = line;
    const values: string[] = [];
    let field = '';
    let quoted = false;
    for (;;) {
      if (i >= n) {
        if (quoted) throw new UnterminatedQuoteError(start);
        values.push(field);
        break;
      }
      const c = text[i]!;
      if (quoted) {
        if (c === quote) {
          if (text[i + 1] === quote) {
            field += quote;
            i += 2;
          } else {
            quoted = false;
            i++;
          }
        } else {
          if (c === '\n') line++;
          field += c;
          i++;
        }
      } else if (c === quote && field === '') {
        quoted = true;
        i++;
      } else if (text.startsWith(sep, i)) {
        values.push(field);
        field = '';
        i += sep.length;
      } else if (c === '\n' || c === '\r') {
        values.push(field);
        i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
        line++;
        break;
      } else {
        field += c;
        i++;
      }
    }
    if (values.length === 1 && values[0] === '') continue;
    onRecord(values, start);
  }
}
