// Turning what went wrong into the description a platform shows its user.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, upsertMemo, isCancellation } from '@temporalio/workflow';
import type { OperationFailure } from './types.js';

/** The innermost message of a failure chain: the one that says what actually happened. */
export function rootMessage(err: unknown): string {
  if (isCancellation(err)) return 'cancelled';
  let e: unknown = err;
  while (e instanceof ActivityFailure && e.cause) e = e.cause;
  if (e instanceof TimeoutFailure) {
    // Retried until the deadline: the cause is its last attempt's failure, which says what went wrong.
    if (e.cause)
      return `${rootMessage(e.cause)} (still so when the operation's deadline passed: check that this Kubernetes API server is reachable from the broker's worker and not overloaded, then retry the operation)`;
    return `a step timed out (${e.timeoutType ?? 'timeout'}); is the Kubernetes API server reachable?`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * The failure type of an activity's own failure (activities/failures.ts NON_RETRYABLE), through the
 * chain Temporal wraps it in; undefined for anything else.
 */
export function failureType(err: unknown): string | undefined {
  let e: unknown = err;
  while ((e instanceof ActivityFailure || e instanceof TimeoutFailure) && e.cause) e = e.cause;
  return e instanceof ApplicationFailure ? (e.type ?? undefined) : undefined;
}

/** activities/failures.ts NON_RETRYABLE.unknownCluster (that module is not workflow code). */
export const UNKNOWN_CLUSTER = 'UnknownCluster';

/** Records the failure in the memo (read by last_operation) and returns the error to throw. */
export function operationFailed(failure: OperationFailure): ApplicationFailure {
  upsertMemo({ failure });
  return ApplicationFailure.create({ message: failure.description, type: 'OperationFailed', nonRetryable: true, details: [failure] });
}
