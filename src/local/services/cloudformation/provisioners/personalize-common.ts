/**
 * What the `AWS::Personalize::*` provisioners share: the Personalize service from the context,
 * the wait for a resource to stabilize (AWS's handlers return only once a dataset group or
 * dataset is ACTIVE, failing the resource on CREATE FAILED), and "already gone" detection.
 */
import { AwsError } from '../../../core/errors.js';
import type { PersonalizeService } from '../../personalize/operations.js';
import { invalidProperty, ProvisionError, type ProvisionContext } from './types.js';

/** Between status reads: the local service activates groups and datasets in ~40 ms. */
export const POLL_INTERVAL_MS = 20;
/** How long a handler waits for a resource to stabilize before failing it. */
export const STABILIZE_TIMEOUT_MS = 60_000;

export function personalizeOf(ctx: ProvisionContext): PersonalizeService {
  if (ctx.services.personalize === undefined)
    throw invalidProperty('The local stack has no Personalize service to create resources in.');
  return ctx.services.personalize;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
    await sleep(POLL_INTERVAL_MS);
  }
}
