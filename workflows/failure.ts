// Turning what went wrong into the description a platform shows its user.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, upsertMemo, isCancellation } from '@temporalio/workflow';
import type { OperationFailure } from './types.js';

/** The innermost message of a failure chain: the one that says what actually happened. */
const AT_DEADLINE =
  " (still so when the operation's deadline passed: check that this Kubernetes API server is reachable from the broker's worker and not overloaded, then retry the operation)";

export function rootMessage(err: unknown): string {
  if (isCancellation(err)) return 'cancelled';
  let e: unknown = err;
  // Temporal stopped retrying because the next attempt would come after the step's deadline: the
  // last attempt's failure comes back as it is, and says nothing of the deadline or what to do.
  let retriesTimedOut = false;
  while (e instanceof ActivityFailure && e.cause) {
    retriesTimedOut ||= e.retryState === 'TIMEOUT';
    e = e.cause;
  }
  if (e instanceof TimeoutFailure) {
    // Retried until the deadline: the cause is its last attempt's failure, which says what went wrong.
    if (e.cause) return `${rootMessage(e.cause)}${AT_DEADLINE}`;
    return `a step timed out (${e.timeoutType ?? 'timeout'}); is the Kubernetes API server reachable?`;
  }
  if (e instanceof Error) return retriesTimedOut && !e.message.includes("operation's deadline") ? `${e.message}${AT_DEADLINE}` : e.message;
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
