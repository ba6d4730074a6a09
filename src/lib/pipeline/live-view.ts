/**
 * The live view of a pipeline execution: every state of the definition with ✓ / ✗ / a spinner,
 * its time, how often a polling loop visited it, and the resource it acts on with its status.
 * On a terminal (rich mode) the block redraws in place; otherwise a line is printed whenever a
 * state's status or detail changes; under --json nothing is drawn.
 */
import { formatDuration, terminalWidth, trackDrawing, truncate, uiMode, type UiOptions } from '../cli/ui.js';
import type { ExecutionView, StateView } from './executions.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;

function icon(state: StateView, frame: number): string {
  switch (state.status) {
    case 'succeeded':
      return '✓';
    case 'failed':
      return '✗';
    case 'running':
      return FRAMES[frame % FRAMES.length]!;
    default:
      return '·';
  }
}

/** The lines of the view for a terminal `width` columns wide (each line shorter than it). */
export function renderView(view: ExecutionView, width: number, frame = 0): string[] {
  const usable = Math.max(40, width) - 1;
  const nameWidth = Math.min(22, Math.max(...view.states.map((s) => s.name.length + visitsLabel(s).length)));
  const header = `${view.name} · ${view.status} · ${formatDuration(view.durationMs)}`;
  const lines = [truncate(header, usable)];
  for (const state of view.states) {
    const label = `${state.name}${visitsLabel(state)}`;
    const time = state.visits > 0 ? formatDuration(state.durationMs) : '';
    const left = `${icon(state, frame)} ${truncate(label, nameWidth).padEnd(nameWidth)}`;
    const detailWidth = usable - left.length - 1 - 8;
    const detail = detailWidth > 3 ? truncate(state.detail, detailWidth).padEnd(detailWidth) : '';
    lines.push(`${left} ${detail}${time.padStart(8)}`.trimEnd());
  }
  return lines;
}

function visitsLabel(state: StateView): string {
  return state.visits > 1 ? ` ×${state.visits}` : '';
}

export interface LiveView {
  update(view: ExecutionView): void;
  /** Draws the last view once more as it ends (no spinner) and stops redrawing. */
  finish(): void;
  stop(): void;
}

export function startLiveView(options: UiOptions): LiveView {
  const mode = uiMode(options);
  const stderr = options.stderr ?? process.stderr;
  if (mode === 'silent') return { update: () => undefined, finish: () => undefined, stop: () => undefined };
  if (mode === 'plain') {
    // A line per change of a state's status or detail (not of its time), as a log would want it.
    const said = new Map<string, string>();
    let header = '';
    const say = (view: ExecutionView): void => {
      const top = `${view.name}: ${view.status}`;
      if (header === '') stderr.write(`${top}\n`);
      for (const state of view.states) {
        // The tasks and where it failed; the polling loop's Wait and Choice states would repeat.
        if (state.status === 'pending' || (state.type !== 'Task' && state.type !== 'Fail')) continue;
        const key = `${state.status} ${state.detail}`;
        if (said.get(state.name) === key) continue;
        said.set(state.name, key);
        const time = state.status === 'running' ? '' : ` (${formatDuration(state.durationMs)})`;
        stderr.write(
          `${state.status === 'running' ? '…' : icon(state, 0)} ${state.name}${state.detail ? ` ${state.detail}` : ''}${time}\n`,
        );
      }
      if (top !== header && header !== '') stderr.write(`${top}\n`);
      header = top;
    };
    return { update: say, finish: () => undefined, stop: () => undefined };
  }

  let last: ExecutionView | undefined;
  let drawn = 0;
  let frame = 0;
  let stopped = false;
  const draw = (final: boolean): void => {
    if (last === undefined) return;
    const lines = renderView(last, terminalWidth(stderr), final ? 0 : frame);
    // Up to the first line drawn, clear to the end of the screen, draw again.
    const up = drawn > 0 ? `\x1b[${drawn}F` : '';
    stderr.write(`${up}\x1b[J${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(() => {
    frame++;
    draw(false);
  }, FRAME_MS);
  timer.unref();
  // The cursor would flicker over the block: hidden while drawing, shown again however it ends
  // (finish, an error, or Ctrl-C, which stops every drawing before the process says why it ends).
  stderr.write('\x1b[?25l');
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    untrack();
    stderr.write('\x1b[?25h');
  };
  const untrack = trackDrawing({ stop });
  return {
    update: (view) => {
      last = view;
      if (!stopped) draw(false);
    },
    finish: () => {
      if (stopped) return;
      draw(true);
      stop();
    },
    stop,
  };
}
