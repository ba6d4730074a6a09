/**
 * An ETL run's log, read from CloudWatch Logs on both targets: Glue writes a run's output to the
 * stream named by its run id in `/aws-glue/jobs/output` (and errors to `/aws-glue/jobs/error`), on
 * AWS and in the local stack alike. Reads the stream from its start with GetLogEvents, following
 * `nextForwardToken` until it comes back unchanged; `followEtlRunLog` keeps reading while the run
 * goes on and stops once it has ended and the last lines are in.
 */
import type { Clients } from '../cli/clients.js';
import type { Settings } from '../cli/config.js';
import { MlpipeError, translateAwsError } from '../cli/errors.js';
import {
  formatLogEvent,
  GLUE_OUTPUT_LOG_GROUP,
  readLogStream as readMore,
  type StreamCursor,
} from './log-stream.js';
import { ETL_TERMINAL_STATES, getEtlRun } from './runs.js';

export { formatLogEvent, GLUE_ERROR_LOG_GROUP, GLUE_OUTPUT_LOG_GROUP } from './log-stream.js';

function isMissing(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ResourceNotFoundException';
}

function noLog(runId: string, target: string): MlpipeError {
  return new MlpipeError(
    `There is no log for run ${runId} in CloudWatch Logs (${GLUE_OUTPUT_LOG_GROUP}, stream ${runId}).`,
    {
      code: 'NO_RUN_LOG',
      suggestions: [
        'List the runs: `mlpipe run-etl --list`.',
        ...(target === 'aws'
          ? ['A run that has just started may not have written its first lines yet; try again shortly.']
          : []),
      ],
    },
  );
}

/** The run's log lines so far. */
export async function readEtlRunLog(clients: Clients, _settings: Settings, runId: string): Promise<string[]> {
  try {
    return (await readMore(clients, runId, { nextToken: undefined })).map(formatLogEvent);
  } catch (error) {
    if (isMissing(error)) throw noLog(runId, clients.connection.target);
    throw translateAwsError(error, `Reading the log of run ${runId}`);
  }
}

/**
 * Prints (through `onLine`) the run's log as it grows until the run has ended and its last lines
 * are read. A stream that does not exist yet is waited for while the run goes on.
 */
export async function followEtlRunLog(
  clients: Clients,
  settings: Settings,
  runId: string,
  onLine: (line: string) => void,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const pollMs = options.pollMs ?? (clients.connection.target === 'local' ? 200 : 2000);
  const cursor: StreamCursor = { nextToken: undefined };
  for (;;) {
    // Whether the run had ended before this read: then this read gets its last lines.
    const ended = ETL_TERMINAL_STATES.has((await getEtlRun(clients, settings, runId)).state);
    try {
      for (const event of await readMore(clients, runId, cursor)) onLine(formatLogEvent(event));
    } catch (error) {
      if (!isMissing(error)) throw translateAwsError(error, `Reading the log of run ${runId}`);
      if (ended) throw noLog(runId, clients.connection.target);
    }
    if (ended || options.signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
