// Decides, where an error is caught, whether Temporal should retry it: Kubernetes outages,
// throttling and conflicts are retried with backoff; rejected objects, forbidden requests
// and bad templates fail at once with a message a person can act on.
import { ApplicationFailure } from '@temporalio/activity';
import { KubeApiError, KubeUnavailableError } from '../kube/errors.js';

export const NON_RETRYABLE = {
  rejected: 'KubernetesRejected',
  conflict: 'ObjectConflict',
  invalidInput: 'InvalidInput',
  notReady: 'NotReady',
  notGone: 'NotGone',
  missingInstance: 'InstanceMissing',
  /** A lifecycle hook Job failed or did not finish by its deadline. */
  hookFailed: 'HookFailed',
} as const;

/** Wraps an error of step `what` into the failure Temporal should see. */
export function toActivityFailure(err: unknown, what: string): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof KubeUnavailableError) return ApplicationFailure.retryable(`${what}: ${err.message}`, 'KubernetesUnavailable');
  if (err instanceof KubeApiError) {
    if (err.transient) return ApplicationFailure.retryable(`${what}: ${err.message}`, 'KubernetesBusy');
    const hint = err.status === 403 ? ' (check the broker\'s RBAC rights and the namespace\'s ResourceQuota)' : '';
    return ApplicationFailure.nonRetryable(`${what}: Kubernetes refused: ${err.message}${hint}`, NON_RETRYABLE.rejected);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** Runs a step, converting its errors with toActivityFailure. */
export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toActivityFailure(err, what);
  }
}
