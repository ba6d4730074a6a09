/**
 * Ctrl-C for a CLI process. One SIGINT handler, installed by the base command: the first Ctrl-C
 * aborts what the command is waiting on (a job's status, an upload), which then says what goes on
 * and how to re-attach, and the command exits 130; with nothing to abort, or on a second Ctrl-C,
 * the process exits 130 at once. Jobs keep running where the service keeps running them (Glue
 * runs, Personalize imports, CloudFormation stack operations): only the waiting stops.
 */
import { ExitCode, MlpipeError } from './errors.js';
import { stopSpinners } from './ui.js';

let controller = new AbortController();
let holders = 0;
let installed: (() => void) | undefined;

/** The error a wait or an upload ends with when the user presses Ctrl-C. */
export function interruptedError(message: string, suggestions: string[] = []): MlpipeError {
  return new MlpipeError(message, { exit: ExitCode.interrupted, code: 'INTERRUPTED', suggestions });
}

/** Aborted on Ctrl-C. */
export function interruptSignal(): AbortSignal {
  return controller.signal;
}

/**
 * Runs `work` as something Ctrl-C stops: while it runs, the first Ctrl-C aborts `interruptSignal()`
 * instead of ending the process, so `work` can clean up (abort an upload) and say how to go on.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  holders++;
  try {
    return await work(controller.signal);
  } finally {
    holders--;
  }
}

/**
 * Installs the SIGINT handler (once per process). `report` says that the command was interrupted
 * (on stderr, or as a JSON error) before the process exits 130.
 */
export function installInterruptHandler(
  report: (error: MlpipeError) => void = (error) => process.stderr.write(`\n${error.message}\n`),
): void {
  if (installed !== undefined) return;
  installed = () => {
    if (holders > 0 && !controller.signal.aborted) {
      controller.abort();
      return;
    }
    stopSpinners();
    report(interruptedError('Interrupted.'));
    process.exit(ExitCode.interrupted);
  };
  process.on('SIGINT', installed);
}

/** Removes the handler and forgets an interrupt (tests run several commands in one process). */
export function resetInterrupts(): void {
  if (installed !== undefined) process.off('SIGINT', installed);
  installed = undefined;
  controller = new AbortController();
  holders = 0;
}
