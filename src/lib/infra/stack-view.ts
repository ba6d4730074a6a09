/**
 * How stack operations look in a terminal: a spinner with the stack's status and elapsed time,
 * the stack's events printed above it as they arrive, and outputs as a table. Shared by deploy
 * and destroy so both read the same.
 */
import type { StackEventLine } from './deploy.js';
import { formatDuration, renderTable, startSpinner, type Spinner, type UiOptions } from '../cli/ui.js';

export function formatStackEvent(event: StackEventLine): string {
  const reason = event.reason ? `  ${event.reason}` : '';
  return `  ${event.timestamp.slice(11, 19)}  ${event.status.padEnd(22)} ${event.type.padEnd(28)} ${event.logicalId}${reason}`;
}

export function renderOutputs(outputs: Record<string, string>): string {
  return renderTable(
    Object.entries(outputs).map(([key, value]) => ({ key, value })),
    [
      { key: 'key', header: 'OUTPUT' },
      { key: 'value', header: 'VALUE' },
    ],
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
  // Created once, on the first status: status callbacks may overlap while ora is being loaded.
  let spinnerStarting: Promise<Spinner> | undefined;
  let spinner: Spinner | undefined;
  return {
    onStatus: async (stack, status, elapsedMs) => {
      const text = `${stack}: ${status} (${formatDuration(elapsedMs)})`;
      spinnerStarting ??= startSpinner(text, uiOptions);
      spinner = await spinnerStarting;
      spinner.update(text);
    },
    onEvent: (event) => {
      const line = formatStackEvent(event);
      if (spinner !== undefined) spinner.print(line);
      else note(line);
    },
    stop: async () => {
      (await spinnerStarting)?.stop();
    },
  };
}
