/**
 * EventBridge schedule expressions: `rate(value unit)` and AWS's six-field
 * `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, in UTC, and the next time each falls
 * due. Cron fields take `,` `-` `*` `/`; day-of-month and day-of-week take `?` (exactly one of the
 * two must be `?`), day-of-month `L`, `LW` and `<day>W`, day-of-week `L`, `<day>L` and
 * `<day>#<n>`; months are 1-12 or JAN-DEC, days of the week 1-7 (1 = Sunday) or SUN-SAT, years
 * 1970-2199. A bad expression is an error naming what is wrong in it.
 */

export class ScheduleError extends Error {}

export type Schedule =
  | { kind: 'rate'; everyMs: number }
  | {
      kind: 'cron';
      minutes: Set<number>;
      hours: Set<number>;
      months: Set<number>;
      years: Set<number>;
      /** Whether a day matches the day-of-month / day-of-week fields (one of them is `?`). */
      day: (date: Date) => boolean;
    };

const RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function parseRate(body: string): Schedule {
  const match = /^\s*(\d+)\s+([a-z]+)\s*$/.exec(body);
  if (match === null)
    throw new ScheduleError(`rate(${body}): write rate(<value> <unit>), e.g. rate(5 minutes).`);
  const value = Number(match[1]);
  const unit = match[2]!;
  if (value < 1) throw new ScheduleError(`rate(${body}): the value must be a positive whole number.`);
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
  const perUnit = RATE_UNITS[singular];
  if (perUnit === undefined)
    throw new ScheduleError(`rate(${body}): the unit must be minute(s), hour(s) or day(s).`);
  if ((value === 1) !== (unit === singular))
    throw new ScheduleError(
      `rate(${body}): use the singular unit for 1 (rate(1 ${singular})) and the plural for more (rate(${value === 1 ? 2 : value} ${singular}s)).`,
    );
  return { kind: 'rate', everyMs: value * perUnit };
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'Minutes', min: 0, max: 59 },
  { name: 'Hours', min: 0, max: 23 },
  { name: 'Day-of-month', min: 1, max: 31 },
  { name: 'Month', min: 1, max: 12, names: MONTHS },
  { name: 'Day-of-week', min: 1, max: 7, names: WEEKDAYS },
  { name: 'Year', min: 1970, max: 2199 },
];

function fieldValue(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= spec.min && value <= spec.max))
    throw new ScheduleError(
      `${spec.name} field: '${text}' is not a value from ${spec.min} to ${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : ''}.`,
    );
  return value;
}

/** The values a field of `,` `-` `*` `/` takes. */
function parseValues(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    if (range === undefined || range === '' || part.split('/').length > 2)
      throw new ScheduleError(`${spec.name} field: '${part}' is not a value, range or increment.`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new ScheduleError(`${spec.name} field: the increment in '${part}' must be a positive number.`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [spec.min, spec.max];
    else if (range.includes('-')) {
      const [a, b] = range.split('-');
      from = fieldValue(a ?? '', spec);
      to = fieldValue(b ?? '', spec);
      if (to < from) throw new ScheduleError(`${spec.name} field: the range '${range}' runs backwards.`);
    } else {
      from = fieldValue(range, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function daysInMonth(date: Date): number {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

/** The weekday (Mon-Fri) nearest to `day` within the month, as AWS's `W` means it. */
function nearestWeekday(date: Date, day: number): number {
  const last = daysInMonth(date);
  const target = Math.min(day, last);
  const weekday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), target)).getUTCDay();
  if (weekday === 6) return target === 1 ? 3 : target - 1;
  if (weekday === 0) return target === last ? target - 2 : target + 1;
  return target;
}

function dayOfMonthMatcher(text: string): (date: Date) => boolean {
  const spec = FIELDS[2]!;
  if (text === 'L') return (d) => d.getUTCDate() === daysInMonth(d);
  if (text === 'LW') return (d) => d.getUTCDate() === nearestWeekday(d, daysInMonth(d));
  const w = /^(\d+)W$/.exec(text);
  if (w !== null) {
    const day = fieldValue(w[1]!, spec);
    return (d) => d.getUTCDate() === nearestWeekday(d, day);
  }
  const days = parseValues(text, spec);
  return (d) => days.has(d.getUTCDate());
}

function dayOfWeekMatcher(text: string): (date: Date) => boolean {
  const spec = FIELDS[4]!;
  const weekday = (d: Date): number => d.getUTCDay() + 1;
  if (text === 'L') return (d) => weekday(d) === 7;
  const last = /^(\w+)L$/.exec(text);
  if (last !== null) {
    const day = fieldValue(last[1]!, spec);
    return (d) => weekday(d) === day && d.getUTCDate() + 7 > daysInMonth(d);
  }
  const nth = /^(\w+)#(\d+)$/.exec(text);
  if (nth !== null) {
    const day = fieldValue(nth[1]!, spec);
    const n = Number(nth[2]);
    if (n < 1 || n > 5)
      throw new ScheduleError(`Day-of-week field: in '${text}', the week after # must be from 1 to 5.`);
    return (d) => weekday(d) === day && Math.ceil(d.getUTCDate() / 7) === n;
  }
  const days = parseValues(text, spec);
  return (d) => days.has(weekday(d));
}

function parseCron(body: string): Schedule {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6)
    throw new ScheduleError(
      `cron(${body}) has ${fields.length} field${fields.length === 1 ? '' : 's'}; EventBridge cron expressions have six: Minutes Hours Day-of-month Month Day-of-week Year, e.g. cron(0 12 * * ? *).`,
    );
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  for (const [i, text] of fields.entries())
    if (text === '?' && i !== 2 && i !== 4)
      throw new ScheduleError(`${FIELDS[i]!.name} field: ? is allowed only in Day-of-month and Day-of-week.`);
  if ((dom === '?') === (dow === '?'))
    throw new ScheduleError(
      `cron(${body}): give exactly one of Day-of-month and Day-of-week, and ? in the other (e.g. cron(0 12 * * ? *)).`,
    );
  return {
    kind: 'cron',
    minutes: parseValues(minutes, FIELDS[0]!),
    hours: parseValues(hours, FIELDS[1]!),
    months: parseValues(month, FIELDS[3]!),
    years: parseValues(year, FIELDS[5]!),
    day: dom === '?' ? dayOfWeekMatcher(dow) : dayOfMonthMatcher(dom),
  };
}

/** Reads a schedule expression; throws ScheduleError saying what is wrong. */
export function parseSchedule(expression: string): Schedule {
  const match = /^(rate|cron)\((.*)\)$/s.exec(expression.trim());
  if (match === null)
    throw new ScheduleError(
      `'${expression}' is neither rate(<value> <unit>) nor cron(<six fields>), e.g. rate(1 day) or cron(0 12 * * ? *).`,
    );
  return match[1] === 'rate' ? parseRate(match[2]!) : parseCron(match[2]!);
}

const DAY_MS = 86_400_000;

/**
 * The first time after `after` (epoch ms) that the schedule falls due, or undefined when it never
 * does again. Rates count whole intervals from `anchor` (when the rule was enabled).
 */
export function nextDue(schedule: Schedule, after: number, anchor: number): number | undefined {
  if (schedule.kind === 'rate') {
    const intervals = Math.floor((after - anchor) / schedule.everyMs) + 1;
    return anchor + Math.max(1, intervals) * schedule.everyMs;
  }
  const start = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  const lastYear = Math.max(...schedule.years);
  const hours = [...schedule.hours].sort((a, b) => a - b);
  const minutes = [...schedule.minutes].sort((a, b) => a - b);
  let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
  for (;;) {
    const date = new Date(day);
    const year = date.getUTCFullYear();
    if (year > lastYear) return undefined;
    if (!schedule.years.has(year)) {
      day = Date.UTC(year + 1, 0, 1);
      continue;
    }
    if (!schedule.months.has(date.getUTCMonth() + 1)) {
      day = Date.UTC(year, date.getUTCMonth() + 1, 1);
      continue;
    }
    if (schedule.day(date))
      for (const hour of hours)
        for (const minute of minutes) {
          const at = day + hour * 3_600_000 + minute * 60_000;
          if (at >= start.getTime()) return at;
        }
    day += DAY_MS;
  }
}
