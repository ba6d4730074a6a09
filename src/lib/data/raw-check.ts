/**
 * Recognises raw interactions files before they are uploaded: hetrec2011 `.dat` (TAB, header),
 * MovieLens `ratings.csv` (comma, header), ml-100k `u.data` (TAB, no header) and ml-1m
 * `ratings.dat` (`::`, no header). Refuses anything else — a movies file, a binary file, an
 * unrelated CSV — with a message that says what was found and what was expected.
 */

export interface InteractionsFormat {
  separator: string;
  separatorName: string;
  hasHeader: boolean;
  columns: string[];
}

const SEPARATORS: Array<[string, string]> = [
  ['\t', 'TAB'],
  ['::', '"::"'],
  [',', 'comma'],
  ['|', '"|"'],
  [';', 'semicolon'],
];

const USER_COLUMN = /^(user_?id|userid|user|uid|visitorid|customer_?id|user_id)$/i;
const ITEM_COLUMN = /^(movie_?id|item_?id|itemid|movieid|item|movie|product_?id|content_?id)$/i;
const EVENT_COLUMN = /^(rating|timestamp|time|ts|event_?type|event_?value|date|datetime|score)$/i;

export class NotInteractionsError extends Error {}

/** Looks at the first lines of a file (as text) and says how its interactions are laid out. */
export function detectInteractionsFormat(head: string, fileLabel: string): InteractionsFormat {
  if (head.includes('\u0000')) {
    throw new NotInteractionsError(`${fileLabel} is a binary file, not interactions data.`);
  }
  const lines = head
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
  const first = lines[0];
  if (first === undefined) throw new NotInteractionsError(`${fileLabel} has no lines.`);
  const [separator, separatorName] =
    SEPARATORS.find(([sep]) => first.includes(sep)) ?? (['\t', 'TAB'] as [string, string]);
  const columns = first.split(separator).map((c) => c.trim().replace(/^"|"$/g, ''));
  const expected =
    'Expected a header naming a user and an item column, such as `userID<TAB>movieID<TAB>rating<TAB>timestamp` ' +
    '(hetrec2011) or `userId,movieId,rating,timestamp` (MovieLens CSV), or headerless numeric rows like ml-100k `u.data`.';
  const isNumericRow = (cols: string[]): boolean =>
    cols.length >= 3 && cols.every((c) => /^-?\d+(\.\d+)?$/.test(c));
  if (isNumericRow(columns)) {
    const sample = lines.slice(0, 20).map((line) => line.split(separator).map((c) => c.trim()));
    if (sample.every((cols) => isNumericRow(cols) && cols.length === columns.length)) {
      return { separator, separatorName, hasHeader: false, columns: columns.map((_, i) => `column${i + 1}`) };
    }
    throw new NotInteractionsError(
      `${fileLabel} starts with numeric rows but its first lines do not all have ${columns.length} numeric ${separatorName}-separated fields. ${expected}`,
    );
  }
  const hasUser = columns.some((c) => USER_COLUMN.test(c));
  const hasItem = columns.some((c) => ITEM_COLUMN.test(c));
  const hasEvent = columns.some((c) => EVENT_COLUMN.test(c));
  if (!hasUser || !hasItem || columns.length < 2) {
    const shown = first.length > 120 ? `${first.slice(0, 117)}...` : first;
    const missing = !hasUser && !hasItem ? 'user or item column' : !hasUser ? 'user column' : 'item column';
    throw new NotInteractionsError(
      `${fileLabel} does not look like interactions data: its first line \`${shown.replace(/\t/g, '<TAB>')}\` has no ${missing}. ${expected}`,
    );
  }
  if (!hasEvent && columns.length < 3) {
    throw new NotInteractionsError(
      `${fileLabel} has user and item columns but no rating or timestamp column (header: ${columns.join(', ')}). ${expected}`,
    );
  }
  return { separator, separatorName, hasHeader: true, columns };
}
