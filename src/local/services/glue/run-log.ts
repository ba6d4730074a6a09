/**
 * A Glue run's log in CloudWatch Logs, where AWS Glue writes it: every line to the run's stream
 * (named by the run id) in `/aws-glue/jobs/output`, errors also to `/aws-glue/jobs/error`. Written
 * through the Logs service's own operations (CreateLogGroup, CreateLogStream, PutLogEvents), in
 * order, batched while a put is on its way; `flush()` resolves once every line is stored.
 */
import { AwsError } from '../../core/errors.js';
import type { Invoke } from '../../core/service.js';

export const OUTPUT_LOG_GROUP = '/aws-glue/jobs/output';
export const ERROR_LOG_GROUP = '/aws-glue/jobs/error';

interface Pending {
  group: string;
  timestamp: number;
  message: string;
}

function alreadyExists(error: unknown): boolean {
  return error instanceof AwsError && error.code === 'ResourceAlreadyExistsException';
}

export class RunLog {
  private pending: Pending[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly streams = new Set<string>();

  constructor(
    private readonly invoke: Invoke,
    readonly runId: string,
    private readonly onFailure: (line: string) => void,
    /** Event timestamps (epoch ms): the stack's clock. */
    private readonly now: () => number,
  ) {}

  /** A line of the run's output. */
  info(message: string): void {
    this.add(OUTPUT_LOG_GROUP, message);
  }

  /** A line of the run's error log. */
  error(message: string): void {
    this.add(ERROR_LOG_GROUP, message);
  }

  /** Resolves once every line added so far is stored. */
  async flush(): Promise<void> {
    for (;;) {
      const writing = this.writing;
      await writing;
      if (writing === this.writing && this.pending.length === 0) return;
    }
  }

  private add(group: string, message: string): void {
    this.pending.push({ group, timestamp: this.now(), message });
    if (this.pending.length === 1) this.writing = this.writing.then(() => this.write());
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      for (const group of [OUTPUT_LOG_GROUP, ERROR_LOG_GROUP]) {
        const events = batch.filter((e) => e.group === group);
        if (events.length === 0) continue;
        await this.ensureStream(group);
        await this.invoke('logs', 'PutLogEvents', {
          logGroupName: group,
          logStreamName: this.runId,
          logEvents: events.map(({ timestamp, message }) => ({ timestamp, message })),
        });
      }
    } catch (error) {
      this.onFailure(
        `writing the log of run ${this.runId} failed: ${(error as Error)?.message ?? String(error)}`,
      );
    }
  }

  private async ensureStream(group: string): Promise<void> {
    if (this.streams.has(group)) return;
    await this.invoke('logs', 'CreateLogGroup', { logGroupName: group }).catch((error: unknown) => {
      if (!alreadyExists(error)) throw error;
    });
    await this.invoke('logs', 'CreateLogStream', { logGroupName: group, logStreamName: this.runId }).catch(
      (error: unknown) => {
        if (!alreadyExists(error)) throw error;
      },
    );
    this.streams.add(group);
  }
}
