/**
 * What every Personalize resource record shares: the creation order (`seq`, which also makes the
 * List* page tokens), the timestamps, name checks, the not-found error, the wire view of a record
 * (ISO strings → Dates, undefined members left out) and List* pagination with AWS's errors.
 */
import { Buffer } from 'node:buffer';
import { AwsError } from '../../core/errors.js';
import { invalid, type Input } from '../../core/json-input.js';

export interface Base {
  seq: number;
  creationDateTime: string;
  lastUpdatedDateTime: string;
}

export function notFound(arn: string): AwsError {
  return new AwsError('ResourceNotFoundException', `Could not find resource with ARN ${arn}`);
}

export function checkName(value: string, member: string): void {
  if (value.length > 63 || !/^[a-zA-Z0-9][a-zA-Z0-9\-_]*$/.test(value))
    throw invalid(
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9][a-zA-Z0-9\\-_]* and have length between 1 and 63`,
    );
}

export function dates<T extends Base>(
  record: T,
): Omit<T, 'seq' | 'creationDateTime' | 'lastUpdatedDateTime'> & {
  creationDateTime: Date;
  lastUpdatedDateTime: Date;
} {
  const { seq: _seq, creationDateTime, lastUpdatedDateTime, ...rest } = record;
  return {
    ...rest,
    creationDateTime: new Date(creationDateTime),
    lastUpdatedDateTime: new Date(lastUpdatedDateTime),
  };
}

export function pick<T extends object, K extends keyof T>(record: T, keys: K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) if (record[k] !== undefined) out[k] = record[k];
  return out;
}

/**
 * One page of `records` (already in listing order) after the token's seq. Errors are the ones every
 * List operation declares or the common ones: a bad token is InvalidNextTokenException, a
 * maxResults outside the model's 1–100 a ValidationException (List*Groups/Schemas declare no
 * InvalidInputException).
 */
export function paginate<T extends Base>(records: T[], input: Input): { page: T[]; nextToken?: string } {
  const max = input.maxResults;
  if (max !== undefined && max !== null) {
    if (typeof max !== 'number' || !Number.isInteger(max))
      throw new AwsError('SerializationException', 'maxResults must be an integer.');
    if (max < 1 || max > 100)
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value ${max < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
      );
  }
  const limit = typeof max === 'number' ? max : 100;
  const token = input.nextToken;
  let start = 0;
  if (token !== undefined && token !== null && token !== '') {
    if (typeof token !== 'string')
      throw new AwsError('SerializationException', 'nextToken must be a string.');
    const seq = /^[A-Za-z0-9_-]{1,64}$/.test(token)
      ? Number(Buffer.from(token, 'base64url').toString('utf8'))
      : Number.NaN;
    if (!Number.isInteger(seq)) throw new AwsError('InvalidNextTokenException', 'The token is not valid.');
    start = records.findIndex((r) => r.seq < seq);
    if (start < 0) start = records.length;
  }
  const page = records.slice(start, start + limit);
  const more = start + limit < records.length;
  return more
    ? { page, nextToken: Buffer.from(String(page[page.length - 1]!.seq), 'utf8').toString('base64url') }
    : { page };
}

/** Newest first, as Personalize lists. */
export function newestFirst<T extends Base>(records: Iterable<T>): T[] {
  return [...records].sort((a, b) => b.seq - a.seq);
}
