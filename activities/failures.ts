// Decides, where an error is caught, whether Temporal should retry it: Kubernetes outages,
// throttling and conflicts are retried with backoff; rejected objects, forbidden requests
// and bad templates fail at once with a message a person can act on.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { KubeApi } from '../platform/kube/api.js';
import { UnknownClusterError, type KubeClusters } from '../platform/kube/clusters.js';
import { KubeApiError, KubeUnavailableError } from '../platform/kube/errors.js';

export const NON_RETRYABLE = {
  rejected: 'KubernetesRejected',
  conflict: 'ObjectConflict',
  invalidInput: 'InvalidInput',
  notReady: 'NotReady',
  notGone: 'NotGone',
  missingInstance: 'InstanceMissing',
  /** A lifecycle hook Job failed or did not finish by its deadline. */
  hookFailed: 'HookFailed',
  /** The instance is recorded on a cluster this worker has no configuration for. */
  unknownCluster: 'UnknownCluster',
  /** The input does not match what the broker recorded and configured (activities/verify.ts). */
  refused: 'InputRefused',
  /** Kubernetes stayed unreachable, throttling or failing until the operation's deadline. */
  unavailableUntilDeadline: 'KubernetesUnavailableUntilDeadline',
} as const;

/** Wraps an error of step `what` into the failure Temporal should see. */
export function toActivityFailure(err: unknown, what: string): Error {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof KubeUnavailableError) return ApplicationFailure.retryable(`${what}: ${err.message}`, 'KubernetesUnavailable');
  if (err instanceof KubeApiError) {
    if (err.transient) return ApplicationFailure.retryable(`${what}: ${err.message}`, 'KubernetesBusy');
    const hint = err.status === 403 ? " (check the broker's RBAC rights and the namespace's ResourceQuota)" : '';
    return ApplicationFailure.nonRetryable(`${what}: Kubernetes refused: ${err.message}${hint}`, NON_RETRYABLE.rejected);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Runs a step, converting its errors with toActivityFailure. A failure Temporal would retry
 * ends the activity instead when the next attempt would come after its schedule-to-close
 * timeout (the operation's deadline, workflows/activity-options.ts `within`): Temporal's own
 * timeout would say only that a step timed out, not what failed nor where.
 */
export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const failure = toActivityFailure(err, what);
    return Promise.reject(retryable(failure) && Date.now() + nextRetryMs() >= stepDeadline() ? givenUp(failure) : failure);
  }
}

/**
 * Runs an activity that knows its operation's deadline (epoch ms). A failure Temporal would
 * retry (the API server unreachable, throttling, 5xx) still comes back after the deadline: then
 * it ends the operation instead, saying what to do, so that an unreachable cluster cannot keep
 * an operation in progress for ever (each attempt failed before it reached its own deadline check).
 */
export async function byDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const failure = toActivityFailure(err, 'talk to Kubernetes');
    throw retryable(failure) && Date.now() >= deadline ? givenUp(failure) : failure;
  }
}

const retryable = (failure: Error) => !(failure instanceof ApplicationFailure && failure.nonRetryable);

/** The failure that ends an operation at its deadline: what failed (naming the API server and cluster), and what to do. */
function givenUp(failure: Error): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `${failure.message}; still so at the operation's deadline: check that this Kubernetes API server is reachable from the broker's worker and not overloaded, then retry the operation`,
    NON_RETRYABLE.unavailableUntilDeadline,
  );
}

/** When this activity's schedule-to-close timeout ends its retries (epoch ms; Infinity outside an activity or without one). */
function stepDeadline(): number {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return Infinity;
  }
  return info.scheduleToCloseTimeoutMs > 0 ? info.scheduledTimestampMs + info.scheduleToCloseTimeoutMs : Infinity;
}

/** The longest wait before the next attempt: the backoff of kubernetesStep's retry policy (1 s doubling, at most 20 s). */
function nextRetryMs(): number {
  let attempt = 1;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    // outside an activity: the first attempt's
  }
  return Math.min(1000 * 2 ** (attempt - 1), 20_000);
}

/** The client of an instance's cluster; a cluster the worker does not know fails for good. */
export function clusterClient(clusters: KubeClusters, cluster: string | undefined, instanceId: string): KubeApi {
  try {
    return clusters.get(cluster);
  } catch (err) {
    if (err instanceof UnknownClusterError) {
      throw ApplicationFailure.nonRetryable(`instance ${instanceId}: ${err.message}`, NON_RETRYABLE.unknownCluster);
    }
    throw err;
  }
}
