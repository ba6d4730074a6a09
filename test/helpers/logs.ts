/** Reading a Glue run's log from a test stack's CloudWatch Logs, as `mlpipe run-etl --logs` does. */
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { sdkConfig, type TestStack } from './local-stack.js';

/** The run's output log (`/aws-glue/jobs/output`, stream = run id) as lines, or undefined if absent. */
export async function readRunLog(
  stack: TestStack,
  runId: string,
  group = '/aws-glue/jobs/output',
): Promise<string | undefined> {
  const logs = new CloudWatchLogsClient(sdkConfig(stack));
  try {
    const lines: string[] = [];
    let token: string | undefined;
    for (;;) {
      const page = await logs.send(
        new GetLogEventsCommand({
          logGroupName: group,
          logStreamName: runId,
          startFromHead: true,
          nextToken: token,
        }),
      );
      for (const event of page.events ?? []) lines.push(event.message ?? '');
      if (page.nextForwardToken === token || (page.events ?? []).length === 0) break;
      token = page.nextForwardToken;
    }
    return lines.join('\n') + '\n';
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  } finally {
    logs.destroy();
  }
}
