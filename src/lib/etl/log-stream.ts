/**
 * Reading a Glue run's CloudWatch Logs stream (`/aws-glue/jobs/output`, stream = run id, on AWS and
 * in the local stack alike) from a cursor, and the run's progress as it reports it there: the
 * local stack's ETL logs `Progress: N rows read` as it goes; the PySpark job logs its totals.
 */
import type { OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type { Clients } from '../cli/clients.js';

export const GLUE_OUTPUT_LOG_GROUP = '/aws-glue/jobs/output';
export const GLUE_ERROR_LOG_GROUP = '/aws-glue/jobs/error';

/** One line as printed: the event's time (ISO 8601) and message. */
export function formatLogEvent(event: OutputLogEvent): string {
  const time = event.timestamp === undefined ? '' : `${new Date(event.timestamp).toISOString()} `;
  return `${time}${(event.message ?? '').replace(/\n$/, '')}`;
}

export interface StreamCursor {
  nextToken: string | undefined;
}

/** Reads the stream's events after `cursor` (from its start the first time); advances the cursor. */
export async function readLogStream(
  clients: Clients,
  runId: string,
  cursor: StreamCursor,
  group = GLUE_OUTPUT_LOG_GROUP,
): Promise<OutputLogEvent[]> {
  const logs = await clients.logs();
  const { GetLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  const events: OutputLogEvent[] = [];
  for (;;) {
    const page = await logs.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: runId,
        startFromHead: true,
        ...(cursor.nextToken === undefined ? {} : { nextToken: cursor.nextToken }),
      }),
    );
    events.push(...(page.events ?? []));
    // The same forward token again means the end of the stream (for now).
    const done = page.nextForwardToken === undefined || page.nextForwardToken === cursor.nextToken;
    cursor.nextToken = page.nextForwardToken ?? cursor.nextToken;
    if (done || (page.events ?? []).length === 0) return events;
  }
}

/** Rows an ETL run has read so far, from its `Progress: N rows read` log lines. */
export interface EtlProgress {
  rowsRead: number;
  /** Rows per second since the run started, when the run's start time is known. */
  rowsPerSecond: number | undefined;
}

const PROGRESS_LINE = /Progress: (\d+) rows read/;

/**
 * A reader of a run's progress: each call reads the log lines written since the last one and
 * returns the latest progress (or the last known one). A stream not there yet is no progress.
 */
export function etlProgressReader(
  clients: Clients,
  runId: string,
): (startedOn: Date | undefined) => Promise<EtlProgress | undefined> {
  const cursor: StreamCursor = { nextToken: undefined };
  let last: EtlProgress | undefined;
  return async (startedOn) => {
    let events: OutputLogEvent[];
    try {
      events = await readLogStream(clients, runId, cursor);
    } catch (error) {
      if ((error as { name?: string })?.name === 'ResourceNotFoundException') return last;
      throw error;
    }
    for (const event of events) {
      const match = PROGRESS_LINE.exec(event.message ?? '');
      if (match === null) continue;
      const rowsRead = Number(match[1]);
      const seconds =
        startedOn === undefined || event.timestamp === undefined
          ? undefined
          : (event.timestamp - startedOn.getTime()) / 1000;
      last = {
        rowsRead,
        rowsPerSecond: seconds !== undefined && seconds > 0 ? rowsRead / seconds : undefined,
      };
    }
    return last;
  };
}
