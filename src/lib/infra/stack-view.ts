/**
 * How stack operations look in a terminal: a spinner with the stack's status and elapsed time,
 * the stack's events printed above it as they arrive, and outputs as a table. Shared by deploy
 * and destroy so both read the same.
 */
import type { StackEventLine } from './deploy.js';
import {
  formatDuration,
  renderTable,
  startSpinner,
  terminalWidth,
  wrapWords,
  type Spinner,
  type UiOptions,
} from '../cli/ui.js';

/** Below this width the resource type column is left out, for every event alike. */
const TYPE_COLUMN_MIN_WIDTH = 100;

/**
 * One stack event as the console lists it: time, status, resource type, logical id, reason. Below
 * 100 columns (80 off a terminal) the resource type is left out (the logical id names the
 * resource), and a reason that would pass the width goes below the event, wrapped between words.
 * Nothing is cut: a failure's reason is what the operator needs whole.
 */
export function formatStackEvent(
  event: StackEventLine,
  width: number = terminalWidth(process.stderr),
): string {
  const type = width >= TYPE_COLUMN_MIN_WIDTH ? `${event.type.padEnd(32)} ` : '';
  const line = `  ${event.timestamp.slice(11, 19)}  ${event.status.padEnd(22)} ${type}${event.logicalId}`;
  const reason = event.reason ?? '';
  if (reason === '') return line;
  if ([...line].length + 2 + [...reason].length <= width) return `${line}  ${reason}`;
  const indent = ' '.repeat(12);
  return `${line}\n${wrapWords(reason, Math.max(20, width - indent.length)).replace(/^/gm, indent)}`;
}

/** `arn:aws:cloudformation:…:stack/NAME/id` → NAME (a deleted stack is followed by its id). */
function stackLabel(stack: string): string {
  return /^arn:[^:]+:cloudformation:[^:]*:[^:]*:stack\/([^/]+)\//.exec(stack)?.[1] ?? stack;
}

export function renderOutputs(outputs: Record<string, string>): string {
  return renderTable(
    Object.entries(outputs).map(([key, value]) => ({ key, value })),
    [
      { key: 'key', header: 'OUTPUT' },
      { key: 'value', header: 'VALUE', kind: 'name' },
    ],
    { width: terminalWidth(process.stdout) - 2 },
  ).replace(/^/gm, '  ');
}

/** Progress callbacks for a stack operation; call `stop()` when it is over. */
export function stackProgress(
  uiOptions: UiOptions,
  note: (line: string) => void,
): {
  onStatus: (stack: string, status: string, elapsedMs: number) => Promise<void>;
  onEvent: (event: StackEventLine) => void;
  stop: () => Promise<void>;
} {
  // One spinner per stack, ended with that stack's final status, so each stack leaves one line and
  // no spinner is drawing while the next stack's change set is shown and confirmed. Created on
  // the stack's first status: status callbacks may overlap while ora is being loaded.
  let current: { stack: string; spinner: Promise<Spinner>; status: string; elapsedMs: number } | undefined;
  let shown: Spinner | undefined;
  const finish = async (): Promise<void> => {
    if (current === undefined) return;
    const { stack, spinner, status, elapsedMs } = current;
    current = undefined;
    shown = undefined;
    const line = `${stackLabel(stack)}: ${status} (${formatDuration(elapsedMs)})`;
    if (status.endsWith('_IN_PROGRESS')) (await spinner).stop();
    else if (/FAILED|ROLLBACK/.test(status)) (await spinner).fail(line);
    else (await spinner).succeed(line);
  };
  return {
    onStatus: async (stack, status, elapsedMs) => {
      if (current !== undefined && current.stack !== stack) await finish();
      const text = `${stackLabel(stack)}: ${status} (${formatDuration(elapsedMs)})`;
      current ??= { stack, spinner: startSpinner(text, uiOptions), status, elapsedMs };
      const mine = current;
      mine.status = status;
      mine.elapsedMs = elapsedMs;
      const spinner = await mine.spinner;
      if (current !== mine) return;
      shown = spinner;
      if (status.endsWith('_IN_PROGRESS')) spinner.update(text);
      else await finish();
    },
    onEvent: (event) => {
      const line = formatStackEvent(event);
      if (shown !== undefined) shown.print(line);
      else note(line);
    },
    stop: finish,
  };
}
