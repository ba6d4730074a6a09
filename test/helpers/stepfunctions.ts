/** Step Functions helpers shared by tests: waiting for an execution to end, and its history. */
import assert from 'node:assert/strict';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';

export const SFN_ROLE = 'arn:aws:iam::000000000000:role/mlpipe-stepfunctions';

/** Polls DescribeExecution until the execution has ended (a bound only against hangs). */
export async function waitExecution(
  sfn: SFNClient,
  executionArn: string,
  bound = 5 * 60_000,
): Promise<DescribeExecutionCommandOutput> {
  const until = Date.now() + bound;
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    if (Date.now() > until) assert.fail(`${executionArn} still RUNNING`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls until `check` holds for the execution's history (e.g. a state has been entered). */
export async function waitHistory(
  sfn: SFNClient,
  executionArn: string,
  check: (events: HistoryEvent[]) => boolean,
  bound = 5 * 60_000,
): Promise<HistoryEvent[]> {
  const until = Date.now() + bound;
  for (;;) {
    const events = await history(sfn, executionArn);
    if (check(events)) return events;
    if (Date.now() > until) assert.fail(`${executionArn}: the history never got there`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The whole history, every page. */
export async function history(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...page.events!);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return events;
}
