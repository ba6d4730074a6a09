/**
 * The lines of a batch inference job, as Personalize reads and writes them: an input line (JSON
 * Lines, `{"userId":"75"}` or `{"itemId":"2571"}`, optionally more members) read into what to
 * recommend for, and an output line in AWS's exact shape —
 * `{"input":{…},"output":{"recommendedItems":[…],"scores":[…]},"error":null}`, compact JSON, the
 * input echoed as given, scores rounded to 7 decimal places the way AWS prints them (no exponent),
 * no `scores` member where the recipe gives none — or, for a line that cannot be answered, the
 * same record with `"output":null` and the reason in `error` (a line that is not JSON is echoed
 * as a string). Pure: no I/O.
 */

/** What an input line asks for: a user's recommendations, or items similar to an item. */
export type BatchQuery =
  | { kind: 'user'; userId: string; input: Record<string, unknown> }
  | { kind: 'item'; itemId: string; input: Record<string, unknown> };

/** An input line that cannot be answered: what the output line echoes, and why. */
export interface BatchLineError {
  kind: 'error';
  /** The parsed object, or the raw line when it is not a JSON object. */
  input: unknown;
  error: string;
}

/** Longest ID Personalize accepts (USER_ID, ITEM_ID). */
const MAX_ID_LENGTH = 256;

function idMember(
  input: Record<string, unknown>,
  name: 'userId' | 'itemId',
): string | BatchLineError | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH)
    return {
      kind: 'error',
      input,
      error: `${name} must be a string of 1 to ${MAX_ID_LENGTH} characters.`,
    };
  return value;
}

/**
 * Reads one input line (without its line break). `wants` is what the solution version's recipe
 * answers: `user` (USER_PERSONALIZATION recipes, Popularity-Count) needs `userId`; `item`
 * (RELATED_ITEMS, aws-similar-items) needs `itemId`.
 */
export function readBatchLine(
  line: string,
  lineNumber: number,
  wants: 'user' | 'item',
): BatchQuery | BatchLineError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return {
      kind: 'error',
      input: line,
      error: `Line ${lineNumber} is not valid JSON: each line must be one JSON object such as {"${wants === 'user' ? 'userId' : 'itemId'}":"75"}.`,
    };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return {
      kind: 'error',
      input: parsed,
      error: `Line ${lineNumber} is not a JSON object: each line must be one object such as {"${wants === 'user' ? 'userId' : 'itemId'}":"75"}.`,
    };
  const input = parsed as Record<string, unknown>;
  const userId = idMember(input, 'userId');
  if (typeof userId === 'object') return userId;
  const itemId = idMember(input, 'itemId');
  if (typeof itemId === 'object') return itemId;
  if (wants === 'user') {
    if (userId === undefined)
      return {
        kind: 'error',
        input,
        error: `Line ${lineNumber} has no userId: this solution version's recipe recommends items for users ({"userId":"75"}); items similar to an item come from an aws-similar-items solution version.`,
      };
    return { kind: 'user', userId, input };
  }
  if (itemId === undefined)
    return {
      kind: 'error',
      input,
      error: `Line ${lineNumber} has no itemId: an aws-similar-items solution version recommends items similar to an item ({"itemId":"2571"}).`,
    };
  return { kind: 'item', itemId, input };
}

/**
 * A score as AWS prints it: rounded to 7 decimal places, trailing zeros dropped, never in
 * exponent notation (0.0152238, 0.006394, 0.00341).
 */
export function formatScore(score: number): string {
  if (!Number.isFinite(score)) throw new RangeError(`Score ${score} is not a finite number`);
  const fixed = score.toFixed(7);
  const trimmed = fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
  return trimmed === '-0' ? '0' : trimmed;
}

/** An answered line. */
export function formatRecommendationLine(
  input: unknown,
  recommendedItems: readonly string[],
  scores: readonly number[] | undefined,
): string {
  const items = JSON.stringify(recommendedItems);
  const output =
    scores === undefined
      ? `{"recommendedItems":${items}}`
      : `{"recommendedItems":${items},"scores":[${scores.map(formatScore).join(',')}]}`;
  return `{"input":${JSON.stringify(input)},"output":${output},"error":null}`;
}

/** A line that could not be answered (the job goes on). */
export function formatErrorLine(error: BatchLineError): string {
  return `{"input":${JSON.stringify(error.input)},"output":null,"error":${JSON.stringify(error.error)}}`;
}
