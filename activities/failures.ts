// Decides, where an error is caught, whether Temporal should retry it: Kubernetes outages,
// throttling and conflicts are retried with backoff; rejected objects, forbidden requests
// and bad templates fail at once with a message a person can act on.
import { ApplicationFailure } from '@temporalio/activity';
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
