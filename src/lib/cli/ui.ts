/**
 * Terminal presentation: spinners, progress bars, tables, prompts and number formatting.
 * The only module that knows about ora, inquirer and TTYs. Rich output goes to stderr and only
 * when stderr is a TTY, CI is unset, TERM is not dumb and --json is off; otherwise plain lines
 * (or nothing under --json). stdout is left to results.
 */
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

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
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

export async function startSpinner(text: string, options: UiOptions): Promise<Spinner> {
  const mode = uiMode(options);
  const stderr = options.stderr ?? process.stderr;
  if (mode === 'rich') {
    const { default: ora } = await import('ora');
    const spinner: Ora = ora({ text, stream: stderr }).start();
    return {
      update: (t) => {
        spinner.text = t;
      },
      print: (line) => {
        spinner.clear();
        stderr.write(`${line}\n`);
        spinner.render();
      },
      succeed: (t) => {
        spinner.succeed(t);
      },
      fail: (t) => {
        spinner.fail(t);
      },
      stop: () => {
        spinner.stop();
      },
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
  const final = (t: string): void => {
    if (mode === 'plain') stderr.write(`${t}\n`);
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
        stderr.write(`\r\x1b[2K${render(done)}`);
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

/** A plain left-aligned text table (numbers right-aligned). */
export function renderTable(
  rows: Array<Record<string, string | number | null | undefined>>,
  columns: Array<{ key: string; header: string }>,
): string {
  const cell = (v: string | number | null | undefined): string =>
    v === null || v === undefined ? '-' : String(v);
  const widths = columns.map((c) => Math.max(c.header.length, ...rows.map((r) => cell(r[c.key]).length)));
  const fmt = (values: Array<string | number | null | undefined>): string =>
    values
      .map((v, i) => (typeof v === 'number' ? cell(v).padStart(widths[i]!) : cell(v).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const header = fmt(columns.map((c) => c.header));
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [header, rule, ...rows.map((r) => fmt(columns.map((c) => r[c.key])))].join('\n');
}

/** True when a person can answer a prompt: stdin and stdout are TTYs and --json is off. */
export function canPrompt(json: boolean): boolean {
  return !json && process.stdin.isTTY === true && process.stdout.isTTY === true;
}

export async function confirm(message: string, defaultValue = false): Promise<boolean> {
  const { confirm: ask } = await import('@inquirer/prompts');
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
    input: (question) => input(question),
    select: (question) => select(question),
  };
}
