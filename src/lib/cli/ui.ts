/**
 * Terminal presentation: spinners, progress bars, tables, prompts and number formatting.
 * The only module that knows about ora, inquirer and TTYs. Rich output goes to stderr and only
 * when stderr is a TTY, CI is unset, TERM is not dumb and --json is off; otherwise plain lines
 * (or nothing under --json). stdout is left to results.
 */
import os from 'node:os';
import path from 'node:path';
import type { Ora } from 'ora';

export interface UiOptions {
  json: boolean;
  stderr?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

export type UiMode = 'rich' | 'plain' | 'silent';

export function uiMode({ json, stderr = process.stderr, env = process.env }: UiOptions): UiMode {
  if (json) return 'silent';
  const tty = stderr.isTTY === true;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  if (tty && !ci && env.TERM !== 'dumb') return 'rich';
  return 'plain';
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

/** A rate for a status line: `850`, `12.5k`, `1.2M`. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(1)}M`;
  if (perSecond >= 1e4) return `${Math.round(perSecond / 1e3)}k`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)}k`;
  return String(Math.round(perSecond));
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * The width to lay a line out for. A terminal that reports no width (a pty of 0 columns, as
 * `script` without a size, some CI runners and `docker -t` give) or a stream that is not a
 * terminal counts as 80 columns, as gh and the AWS CLI assume.
 */
export const DEFAULT_WIDTH = 80;
export function terminalWidth(
  stream: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const columns = stream.isTTY === true ? stream.columns : undefined;
  if (typeof columns === 'number' && Number.isFinite(columns) && columns > 0) return columns;
  // Output to a file or pipe: COLUMNS says how wide, as for ls and gh.
  const fromEnv = Number(env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_WIDTH;
}

/**
 * `head` followed by `items` separated by ", ", broken into lines of at most `width` columns
 * between items (never inside one), later lines indented by two spaces: a list the terminal would
 * otherwise wrap in the middle of a word.
 */
export function wrapList(head: string, items: string[], width: number, end = ''): string {
  const lines: string[] = [];
  let line = head;
  let fresh = true; // nothing after the head or indent yet
  items.forEach((item, index) => {
    const piece = `${item}${index === items.length - 1 ? end : ','}`;
    const joined = fresh ? `${line}${piece}` : `${line} ${piece}`;
    if (joined.length > width && (!fresh || line.trim() !== '')) {
      lines.push(line.trimEnd());
      line = `  ${piece}`;
    } else line = joined;
    fresh = false;
  });
  lines.push(line);
  return lines.join('\n');
}

/**
 * `text` broken between words into lines of at most `width` columns, each line after the first
 * starting with `indent`; a word longer than a line (an ARN, a path) stays whole on a line of its
 * own, so it can still be copied.
 */
export function wrapWords(text: string, width: number, indent = ''): string {
  const lines: string[] = [];
  const lead = /^\s*/.exec(text)?.[0] ?? ''; // the first line keeps its own indentation
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const prefix = lines.length === 0 ? lead : indent;
    const joined = line === '' ? `${prefix}${word}` : `${line} ${word}`;
    if ([...joined].length > width && line !== '') {
      lines.push(line);
      line = `${indent}${word}`;
    } else line = joined;
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines.join('\n');
}

/**
 * Makes a TTY that reports 0 columns report 80 (or COLUMNS). ora and oclif divide by the width to count the
 * lines they must redraw; with 0 they count infinitely many and flood the terminal. A resize
 * event sets the real width again.
 */
export function normaliseTerminalWidth(stream: NodeJS.WriteStream): void {
  if (stream.isTTY === true && !(stream.columns > 0)) stream.columns = terminalWidth(stream);
}

/** Cuts `text` to `width` display columns, ending in "…" when something was cut. */
export function truncate(text: string, width: number, where: 'end' | 'middle' | 'start' = 'end'): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, Math.max(0, width)).join('');
  if (where === 'start') return `…${chars.slice(chars.length - (width - 1)).join('')}`;
  if (where === 'middle') {
    const head = Math.ceil((width - 1) / 2);
    return `${chars.slice(0, head).join('')}…${chars.slice(chars.length - (width - 1 - head)).join('')}`;
  }
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** A status line that updates in place on a TTY, or prints each distinct status once otherwise. */
export interface Spinner {
  update(text: string): void;
  /** Prints a line above the spinner (or as a plain line). */
  print(line: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  stop(): void;
}

/**
 * Spinners drawing now. A prompt stops them first (a spinner redrawing its line would erase the
 * question), and an interrupt stops them before the process says why it ends.
 */
const drawing = new Set<{ stop(): void }>();

/** Stops every spinner that is drawing (before a prompt or on Ctrl-C); later updates redraw nothing. */
export function stopSpinners(): void {
  for (const spinner of [...drawing]) spinner.stop();
}

/** Registers something else that redraws the terminal (a live view), to be stopped with the spinners. */
export function trackDrawing(handle: { stop(): void }): () => void {
  drawing.add(handle);
  return () => drawing.delete(handle);
}

export async function startSpinner(text: string, options: UiOptions): Promise<Spinner> {
  const mode = uiMode(options);
  const stderr = options.stderr ?? process.stderr;
  if (mode === 'rich') {
    const { default: ora } = await import('ora');
    normaliseTerminalWidth(stderr);
    // One frame is one line: the glyph and a space, then the text cut to what is left.
    const fit = (t: string): string => truncate(t, terminalWidth(stderr) - 3);
    // discardStdin off: ora's stdin discarder puts the terminal in raw mode, which turns Ctrl-C into
    // a byte it swallows instead of the SIGINT the CLI acts on.
    const spinner: Ora = ora({ text: fit(text), stream: stderr, discardStdin: false }).start();
    let stopped = false;
    const handle = {
      stop: () => {
        if (stopped) return;
        stopped = true;
        drawing.delete(handle);
        spinner.stop();
      },
    };
    drawing.add(handle);
    const end = (finish: () => void): void => {
      if (stopped) return;
      stopped = true;
      drawing.delete(handle);
      finish();
    };
    return {
      update: (t) => {
        if (!stopped) spinner.text = fit(t);
      },
      print: (line) => {
        if (stopped) {
          stderr.write(`${line}\n`);
          return;
        }
        spinner.clear();
        stderr.write(`${line}\n`);
        spinner.render();
      },
      succeed: (t) => {
        if (stopped) stderr.write(`✔ ${t}\n`);
        else end(() => spinner.succeed(t));
      },
      fail: (t) => {
        if (stopped) stderr.write(`✖ ${t}\n`);
        else end(() => spinner.fail(t));
      },
      stop: handle.stop,
    };
  }
  // Without a TTY a line is printed when the status changes, not when only the trailing
  // elapsed time "(12s)" does, so logs get one line per state.
  let last = '';
  const key = (t: string): string => t.replace(/\s*\(\d[^()]*\)$/, '');
  const line = (t: string): void => {
    if (mode === 'plain' && key(t) !== last) stderr.write(`${t}\n`);
    last = key(t);
  };
  // The final line, unless it is the line just printed (a spinner started at its final status).
  const final = (t: string): void => {
    if (mode === 'plain' && key(t) !== last) stderr.write(`${t}\n`);
    last = key(t);
  };
  line(text);
  const print = (t: string): void => {
    if (mode === 'plain') stderr.write(`${t}\n`);
  };
  return { update: line, print, succeed: final, fail: final, stop: () => undefined };
}

/** Progress in bytes or rows: a redrawn bar with rate on a TTY, a line per quarter otherwise. */
export interface ProgressBar {
  update(done: number): void;
  finish(): void;
}

export function startProgressBar(
  label: string,
  total: number,
  options: UiOptions,
  unit: 'bytes' | 'rows' = 'bytes',
): ProgressBar {
  const amount = (n: number): string => (unit === 'bytes' ? formatBytes(n) : formatCount(Math.round(n)));
  const mode = uiMode(options);
  const stderr = options.stderr ?? process.stderr;
  const started = Date.now();
  let lastQuarter = -1;
  let lastDraw = 0;
  const render = (done: number): string => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const elapsed = Math.max(1, Date.now() - started);
    const rate = (done / elapsed) * 1000;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    return `${label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${amount(done)}/${amount(total)} ${amount(rate)}${unit === 'rows' ? ' rows' : ''}/s`;
  };
  return {
    update(done) {
      if (mode === 'rich') {
        const now = Date.now();
        if (now - lastDraw < 80 && done < total) return;
        lastDraw = now;
        normaliseTerminalWidth(stderr);
        stderr.write(`\r\x1b[2K${truncate(render(done), terminalWidth(stderr) - 1)}`);
      } else if (mode === 'plain') {
        const quarter = total > 0 ? Math.floor((done / total) * 4) : 4;
        if (quarter > lastQuarter) {
          lastQuarter = quarter;
          stderr.write(`${render(done)}\n`);
        }
      }
    },
    finish() {
      if (mode === 'rich') stderr.write(`\r\x1b[2K`);
    },
  };
}

/** A table cell: text, a number (right-aligned) or nothing (shown as "-"). */
export type Cell = string | number | null | undefined;

/**
 * How a column may give way when the table is wider than the terminal:
 * - `text` is cut at the end, `name` in the middle (names that differ at the end), `path` at the start;
 * - `id` is shortened the way git shortens hashes: to the shortest prefix (at least 7 characters
 *   after a `xx_` kind prefix) that keeps the ids in the table distinct;
 * - `time` (an ISO timestamp) is shown in UTC when there is room, else relative ("5m ago").
 */
export type ColumnKind = 'text' | 'name' | 'path' | 'id' | 'time' | 'number';

export interface Column {
  key: string;
  header: string;
  kind?: ColumnKind;
  /** Secondary columns are dropped when the table does not fit, highest `drop` first. */
  drop?: number;
}

export interface TableOptions {
  /** Columns to fit in [default: the width of stdout, 80 when it is not a terminal or reports none]. */
  width?: number;
  /** "Now" for relative times. */
  now?: Date;
}

const GAP = 2;
const MIN_ID = 7;

/** Shortest prefix length (≥ 7 significant characters) that keeps every id distinct. */
function shortIdLength(ids: string[]): number {
  const distinct = [...new Set(ids)];
  const kind = distinct[0]?.match(/^[A-Za-z]+_/)?.[0].length ?? 0;
  const longest = Math.max(0, ...distinct.map((id) => id.length));
  for (let length = kind + MIN_ID; length < longest; length++)
    if (new Set(distinct.map((id) => id.slice(0, length))).size === distinct.length) return length;
  return longest;
}

/** "just now", "42s ago", "5m ago", "3h ago", "2d ago"; the date after 30 days. */
export function relativeTime(iso: string, now: Date = new Date()): string {
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const s = Math.round(ms / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  if (s < 30 * 86_400) return `${Math.floor(s / 86_400)}d ago`;
  return iso.slice(0, 10);
}

/**
 * A path as a person reads it in a one-line notice: relative to the cwd when it lies inside it
 * (`.mlpipe/local`), else under `~` when it lies in the home folder, else whole. Never cut: a path
 * that is shown must be one that can be typed.
 */
export function displayPath(p: string, cwd: string = process.cwd(), home: string = os.homedir()): string {
  const absolute = path.resolve(cwd, p);
  const inside = (root: string): string | undefined => {
    const rel = path.relative(root, absolute);
    return rel !== '' && rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel) ? rel : undefined;
  };
  const fromCwd = inside(cwd);
  if (fromCwd !== undefined) return fromCwd;
  if (absolute === cwd) return '.';
  const fromHome = home === '' || home === path.sep ? undefined : inside(home);
  if (fromHome !== undefined) return `~${path.sep}${fromHome}`;
  return absolute;
}

/** ISO timestamp → "2026-01-31 12:34:56" (UTC). */
export function utcTime(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19);
}

/**
 * A left-aligned text table (numbers right-aligned) that fits the terminal: at full width every
 * value is whole; narrower, times become relative, ids shorten, secondary columns go, and long
 * text is cut with "…". `--json` output never goes through here, so it keeps every value whole.
 */
export function renderTable(
  rows: Array<Record<string, Cell>>,
  columns: Column[],
  options: TableOptions = {},
): string {
  const width = options.width ?? terminalWidth(process.stdout);
  const now = options.now ?? new Date();
  const raw = (v: Cell): string => (v === null || v === undefined || v === '' ? '-' : String(v));
  let shown = columns.map((column) => ({ ...column, relative: false, shortId: 0 }));
  type Shown = (typeof shown)[number];
  const text = (column: Shown, v: Cell): string => {
    if (v === null || v === undefined || v === '') return '-';
    if (column.kind === 'time' && typeof v === 'string')
      return column.relative ? relativeTime(v, now) : utcTime(v);
    if (column.kind === 'id' && column.shortId > 0) return String(v).slice(0, column.shortId);
    return raw(v);
  };
  const header = (column: Shown): string =>
    column.kind === 'time' && !column.relative ? `${column.header} (UTC)` : column.header;
  const natural = (column: Shown): number =>
    Math.max(header(column).length, ...rows.map((r) => [...text(column, r[column.key])].length));
  const total = (list: Shown[]): number =>
    list.reduce((sum, c) => sum + natural(c), 0) + GAP * Math.max(0, list.length - 1);

  // Give way step by step until the table fits: relative times, short ids, then fewer columns.
  if (total(shown) > width) for (const c of shown) if (c.kind === 'time') c.relative = true;
  if (total(shown) > width)
    for (const c of shown)
      if (c.kind === 'id') c.shortId = shortIdLength(rows.map((r) => raw(r[c.key])).filter((v) => v !== '-'));
  const droppable = shown.filter((c) => c.drop !== undefined).sort((a, b) => b.drop! - a.drop!);
  for (const column of droppable) {
    if (total(shown) <= width) break;
    shown = shown.filter((c) => c !== column);
  }
  // Still too wide: cut the widest cuttable column, one character at a time.
  const widths = shown.map(natural);
  const cuttable = (c: Shown): boolean =>
    c.kind === undefined || c.kind === 'text' || c.kind === 'name' || c.kind === 'path';
  let over = widths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, shown.length - 1) - width;
  while (over > 0) {
    let widest = -1;
    for (let i = 0; i < shown.length; i++)
      if (cuttable(shown[i]!) && widths[i]! > Math.max(8, header(shown[i]!).length))
        if (widest === -1 || widths[i]! > widths[widest]!) widest = i;
    if (widest === -1) break;
    widths[widest]!--;
    over--;
  }
  const cut = (column: Shown, value: string, w: number): string =>
    truncate(value, w, column.kind === 'name' ? 'middle' : column.kind === 'path' ? 'start' : 'end');
  const line = (cells: Array<{ value: string; numeric: boolean }>): string =>
    cells
      .map((cell, i) => {
        const value = cut(shown[i]!, cell.value, widths[i]!);
        return cell.numeric ? value.padStart(widths[i]!) : value.padEnd(widths[i]!);
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [
    line(shown.map((c) => ({ value: header(c), numeric: false }))),
    widths.map((w) => '─'.repeat(w)).join(' '.repeat(GAP)),
    ...rows.map((r) =>
      line(shown.map((c) => ({ value: text(c, r[c.key]), numeric: typeof r[c.key] === 'number' }))),
    ),
  ].join('\n');
}

/** True when a person can answer a prompt: stdin and stdout are TTYs and --json is off. */
export function canPrompt(json: boolean): boolean {
  return !json && process.stdin.isTTY === true && process.stdout.isTTY === true;
}

export async function confirm(message: string, defaultValue = false): Promise<boolean> {
  const { confirm: ask } = await import('@inquirer/prompts');
  stopSpinners();
  return ask({ message, default: defaultValue });
}

/** Text and choice questions (inquirer's input/select), for commands that ask for several values. */
export interface Prompter {
  input(question: {
    message: string;
    default: string;
    validate: (value: string) => true | string;
  }): Promise<string>;
  select<T extends string>(question: {
    message: string;
    default: T;
    choices: Array<{ value: T; name: string; description: string }>;
  }): Promise<T>;
}

/** inquirer's input/select, loaded only when someone is at the keyboard. */
export async function inquirerPrompter(): Promise<Prompter> {
  const { input, select } = await import('@inquirer/prompts');
  return {
    input: (question) => {
      stopSpinners();
      return input(question);
    },
    select: (question) => {
      stopSpinners();
      return select(question);
    },
  };
}

/** inquirer's search prompt over `choices` (matching what is typed anywhere in a choice, at most 20 shown). */
export async function searchPrompt(message: string, choices: readonly string[]): Promise<string> {
  const { search } = await import('@inquirer/prompts');
  stopSpinners();
  return search({
    message,
    pageSize: 10,
    source: (term) => {
      const wanted = (term ?? '').trim().toLowerCase();
      // What was typed exactly first, then what starts with it, then what holds it anywhere.
      const rank = (c: string): number => {
        const lower = c.toLowerCase();
        return lower === wanted ? 0 : lower.startsWith(wanted) ? 1 : 2;
      };
      const matches =
        wanted === ''
          ? choices
          : choices.filter((c) => c.toLowerCase().includes(wanted)).sort((a, b) => rank(a) - rank(b));
      return matches.slice(0, 20).map((value) => ({ value, name: value }));
    },
  });
}
