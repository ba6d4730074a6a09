/**
 * AWS status lifecycles of long-running resources, as the jobs layer drives them: each service names
 * its own spelling of the phases (Glue's STARTING/RUNNING/SUCCEEDED, Personalize's CREATE PENDING/
 * CREATE IN_PROGRESS/ACTIVE, a batch job's PENDING/IN PROGRESS, an execution's RUNNING/ABORTED), and
 * `interruptedOutcome` says what a record a restart found in flight becomes.
 */

export interface Lifecycle<S extends string> {
  /** Accepted, not started yet (waiting for a slot, or the instant before it starts). */
  readonly pending: S;
  readonly running: S;
  readonly succeeded: S;
  readonly failed: S;
  /** Stop requested, the work winding down (Glue STOPPING, Personalize CREATE STOPPING). */
  readonly stopping?: S;
  /** Ended by a stop (Glue STOPPED, Personalize CREATE STOPPED, Step Functions ABORTED). */
  readonly stopped?: S;
  /** Ended by the job's own time limit (Glue TIMEOUT, Step Functions TIMED_OUT). */
  readonly timedOut?: S;
}

/** Statuses in which a job is in flight (counts against quotas, cannot be deleted). */
export function inFlightStatuses<S extends string>(lifecycle: Lifecycle<S>): ReadonlySet<S> {
  const set = new Set<S>([lifecycle.pending, lifecycle.running]);
  if (lifecycle.stopping !== undefined) set.add(lifecycle.stopping);
  return set;
}

/**
 * What a record found in flight when the stack starts becomes: stopping → stopped (the stop was
 * asked for and the work is gone), pending or running → failed with `reason`. Undefined when the
 * record had ended.
 */
export function interruptedOutcome<S extends string>(
  lifecycle: Lifecycle<S>,
  status: S,
  reason: string,
): { status: S; failureReason?: string } | undefined {
  if (lifecycle.stopping !== undefined && status === lifecycle.stopping)
    return { status: lifecycle.stopped ?? lifecycle.failed };
  if (status === lifecycle.pending || status === lifecycle.running)
    return { status: lifecycle.failed, failureReason: reason };
  return undefined;
}
