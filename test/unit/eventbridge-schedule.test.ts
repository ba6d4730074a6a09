// EventBridge schedule expressions: rate() and six-field cron() read as AWS reads them (UTC), when
// each next falls due, and the messages for expressions AWS refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextDue, parseSchedule, ScheduleError } from '../../src/local/services/eventbridge/schedule.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** The next `count` due times after `from`. */
function dues(expression: string, from: string, count: number): (string | undefined)[] {
  const schedule = parseSchedule(expression);
  const out: (string | undefined)[] = [];
  let cursor = at(from);
  for (let i = 0; i < count; i++) {
    const due = nextDue(schedule, cursor, at(from));
    out.push(iso(due));
    if (due === undefined) break;
    cursor = due;
  }
  return out;
}

describe('EventBridge schedule expressions', () => {
  it('counts rates in whole intervals from when the rule was enabled', () => {
    assert.deepEqual(dues('rate(5 minutes)', '2026-01-01T00:00:30Z', 2), [
      '2026-01-01T00:05:30.000Z',
      '2026-01-01T00:10:30.000Z',
    ]);
    assert.deepEqual(dues('rate(1 day)', '2026-01-01T08:00:00Z', 1), ['2026-01-02T08:00:00.000Z']);
    assert.deepEqual(dues('rate(1 hour)', '2026-01-01T08:00:00Z', 1), ['2026-01-01T09:00:00.000Z']);
  });

  it('walks six-field cron expressions in UTC', () => {
    assert.deepEqual(dues('cron(0 12 * * ? *)', '2026-03-01T12:00:00Z', 2), [
      '2026-03-02T12:00:00.000Z',
      '2026-03-03T12:00:00.000Z',
    ]);
    // Every 15 minutes, 8-17 on weekdays (2026-03-06 is a Friday).
    assert.deepEqual(dues('cron(0/15 8-17 ? * MON-FRI *)', '2026-03-06T17:40:00Z', 2), [
      '2026-03-06T17:45:00.000Z',
      '2026-03-09T08:00:00.000Z',
    ]);
    // Last day of the month, the last Friday, the second Tuesday, the weekday nearest the 15th.
    assert.deepEqual(dues('cron(0 0 L * ? *)', '2026-02-10T00:00:00Z', 2), [
      '2026-02-28T00:00:00.000Z',
      '2026-03-31T00:00:00.000Z',
    ]);
    assert.deepEqual(dues('cron(30 6 ? * 6L *)', '2026-03-01T00:00:00Z', 1), ['2026-03-27T06:30:00.000Z']);
    assert.deepEqual(dues('cron(0 9 ? * TUE#2 *)', '2026-03-01T00:00:00Z', 1), ['2026-03-10T09:00:00.000Z']);
    // 2026-08-15 is a Saturday: the nearest weekday is Friday the 14th.
    assert.deepEqual(dues('cron(0 9 15W * ? *)', '2026-08-01T00:00:00Z', 1), ['2026-08-14T09:00:00.000Z']);
    // Named months and a year list; past its last year a schedule never falls due again.
    assert.deepEqual(dues('cron(0 0 1 JAN,JUL ? 2026-2027)', '2026-06-30T00:00:00Z', 4), [
      '2026-07-01T00:00:00.000Z',
      '2027-01-01T00:00:00.000Z',
      '2027-07-01T00:00:00.000Z',
      undefined,
    ]);
  });

  it('refuses what AWS refuses, saying what is wrong', () => {
    const refused = (expression: string, message: RegExp) =>
      assert.throws(
        () => parseSchedule(expression),
        (error: unknown) => {
          assert.ok(error instanceof ScheduleError);
          assert.match(error.message, message);
          return true;
        },
      );
    refused('cron(0 12 * * *)', /has 5 fields; EventBridge cron expressions have six/);
    refused('cron(0 12 * * * *)', /give exactly one of Day-of-month and Day-of-week, and \? in the other/);
    refused('cron(0 12 1 * 2 *)', /give exactly one of Day-of-month and Day-of-week/);
    refused('cron(61 12 * * ? *)', /Minutes field: '61' is not a value from 0 to 59/);
    refused('cron(0 12 * FOO ? *)', /Month field: 'FOO' is not a value from 1 to 12 or JAN-DEC/);
    refused('cron(0 ? * * ? *)', /Hours field: \? is allowed only in Day-of-month and Day-of-week/);
    refused('cron(0 12 ? * MON#6 *)', /the week after # must be from 1 to 5/);
    refused('cron(0 12 * * ? 1969)', /Year field: '1969' is not a value from 1970 to 2199/);
    refused('rate(1 minutes)', /use the singular unit for 1/);
    refused('rate(5 minute)', /use the singular unit for 1 .* and the plural for more/);
    refused('rate(0 minutes)', /positive whole number/);
    refused('rate(5 weeks)', /the unit must be minute\(s\), hour\(s\) or day\(s\)/);
    refused('every 5 minutes', /is neither rate\(<value> <unit>\) nor cron\(<six fields>\)/);
  });
});
