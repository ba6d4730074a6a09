/**
 * What the `AWS::Personalize::*` provisioners share: Personalize's operations through the service
 * registry,
 * the wait for a resource to stabilize (AWS's handlers return only once a dataset group or
 * dataset is ACTIVE, failing the resource on CREATE FAILED), and "already gone" detection.
 */
import { AwsError } from '../../../core/errors.js';
import type { PersonalizeService } from '../../personalize/dataset-resources.js';
import type { SolutionResources } from '../../personalize/solutions.js';
import { ProvisionError, serviceCall, type ProvisionContext } from './types.js';

/** Between status reads, in AWS time (CloudFormation's handlers poll every few seconds). */
export const POLL_INTERVAL_MS = 5_000;
/** How long a handler waits for a resource to stabilize before failing it. */
export const STABILIZE_TIMEOUT_MS = 60_000;

/** The Personalize operations provisioners call (typed as the service's own API). */
export type PersonalizeCalls = Pick<
  PersonalizeService,
  | 'createDatasetGroup'
  | 'describeDatasetGroup'
  | 'deleteDatasetGroup'
  | 'createSchema'
  | 'deleteSchema'
  | 'createDataset'
  | 'describeDataset'
  | 'deleteDataset'
  | 'createDatasetImportJob'
> &
  Pick<SolutionResources, 'createSolution' | 'describeSolution' | 'deleteSolution'>;

/** Personalize's operations, called through the service registry by their AWS names. */
export function personalizeOf(ctx: ProvisionContext): PersonalizeCalls {
  const call = (operation: string) => serviceCall(ctx, 'personalize', 'Personalize', operation);
  return {
    createDatasetGroup: call('CreateDatasetGroup') as PersonalizeCalls['createDatasetGroup'],
    describeDatasetGroup: call('DescribeDatasetGroup') as PersonalizeCalls['describeDatasetGroup'],
    deleteDatasetGroup: call('DeleteDatasetGroup') as PersonalizeCalls['deleteDatasetGroup'],
    createSchema: call('CreateSchema') as PersonalizeCalls['createSchema'],
    deleteSchema: call('DeleteSchema') as PersonalizeCalls['deleteSchema'],
    createDataset: call('CreateDataset') as PersonalizeCalls['createDataset'],
    describeDataset: call('DescribeDataset') as PersonalizeCalls['describeDataset'],
    deleteDataset: call('DeleteDataset') as PersonalizeCalls['deleteDataset'],
    createDatasetImportJob: call('CreateDatasetImportJob') as PersonalizeCalls['createDatasetImportJob'],
    createSolution: call('CreateSolution') as PersonalizeCalls['createSolution'],
    describeSolution: call('DescribeSolution') as PersonalizeCalls['describeSolution'],
    deleteSolution: call('DeleteSolution') as PersonalizeCalls['deleteSolution'],
  };
}

/** Waits `awsMs` on the stack's clock (scaled), or that long in real time without one. */
export function sleep(ctx: ProvisionContext, awsMs: number): Promise<void> {
  const clock = ctx.services.clock;
  if (clock !== undefined) return clock.sleep(awsMs);
  return new Promise((resolve) => setTimeout(resolve, awsMs / 1000));
}

export function isNotFound(error: unknown): boolean {
  return error instanceof AwsError && error.code === 'ResourceNotFoundException';
}

/** The status members every Describe* of a lifecycle resource returns. */
export interface StatusView {
  status?: string;
  failureReason?: string;
}

/**
 * Polls `read` until the resource is ACTIVE. CREATE FAILED fails the resource with the service's
 * failureReason as the message; not ACTIVE within `timeoutMs` fails it (HandlerErrorCode
 * NotStabilized, as CloudFormation words a stabilization timeout).
 * Errors thrown by `read` (a service error) propagate for the caller to map.
 */
export async function waitUntilActive(
  ctx: ProvisionContext,
  what: string,
  read: () => Promise<StatusView>,
  timeoutMs = STABILIZE_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, failureReason } = await read();
    if (status === 'ACTIVE') return;
    if (status === 'CREATE FAILED')
      throw new ProvisionError(failureReason ?? `${what} is in CREATE FAILED state.`, 'NotStabilized');
    if (Date.now() >= deadline)
      throw new ProvisionError(
        `${what} did not become ACTIVE within ${timeoutMs / 1000} seconds (status ${status ?? 'unknown'}).`,
        'NotStabilized',
      );
    await sleep(ctx, POLL_INTERVAL_MS);
  }
}
