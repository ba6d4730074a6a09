/** CloudFormation helpers shared by the tests that drive stacks with the real SDK client. */
import assert from 'node:assert/strict';
import {
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type CloudFormationClient,
  type Stack,
  type StackEvent,
} from '@aws-sdk/client-cloudformation';

export async function describeStack(cfn: CloudFormationClient, name: string): Promise<Stack> {
  return (await cfn.send(new DescribeStacksCommand({ StackName: name }))).Stacks![0]!;
}

/** The stack's events, oldest first. */
export async function stackEvents(cfn: CloudFormationClient, name: string): Promise<StackEvent[]> {
  const events: StackEvent[] = [];
  let token: string | undefined;
  do {
    const page = await cfn.send(new DescribeStackEventsCommand({ StackName: name, NextToken: token }));
    events.push(...(page.StackEvents ?? []));
    token = page.NextToken;
  } while (token);
  return events.reverse();
}

/** Polls until the stack's status no longer ends in _IN_PROGRESS (REVIEW_IN_PROGRESS aside). */
export async function settledStack(cfn: CloudFormationClient, name: string): Promise<Stack> {
  for (let i = 0; i < 500; i++) {
    const current = await describeStack(cfn, name);
    const status = current.StackStatus ?? '';
    if (!status.endsWith('_IN_PROGRESS') || status === 'REVIEW_IN_PROGRESS') return current;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`stack ${name} did not settle`);
}
