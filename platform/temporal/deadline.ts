// A Temporal call bounded by a deadline (`connection.withDeadline`) that ran out. gRPC reports
// DEADLINE_EXCEEDED, but a call cut while the client was between attempts of its own retry
// comes back CANCELLED ("Call cancelled") instead: seen on a bind's bounded wait for a slow
// workflow, which then answered 422 with that message. Both mean "not within the time".
import { isGrpcCancelledError, isGrpcDeadlineError } from '@temporalio/client';

/** Whether `err` is a call bounded by `deadline` (ms since the epoch) running out of time. */
export function ranOutOfTime(err: unknown, deadline: number): boolean {
  return isGrpcDeadlineError(err) || (isGrpcCancelledError(err) && Date.now() >= deadline);
}
