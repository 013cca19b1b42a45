// Where the admin views list instance objects on each cluster. The rights the deployment docs
// prescribe decide it: the fixed namespace only; every namespace for per-instance namespaces (the
// overlay binds the API cluster-wide); under the `context` strategy, RoleBindings in each namespace
// platforms use and nothing cluster-wide, so there the views list namespace by namespace: the
// fixed one and every namespace an instance record names on that cluster.
import type { InstanceRecord } from '../../platform/kube/records.js';
import type { AdminDeps } from './deps.js';

/** '' lists every namespace at once. */
export const ALL_NAMESPACES = '';

export function listedNamespaces(deps: AdminDeps, cluster: string, records: InstanceRecord[]): string[] {
  const { instanceNamespaces, recordedNamespaces } = deps.settings;
  if (!recordedNamespaces) return instanceNamespaces;
  const recorded = records.filter((r) => (r.cluster ?? deps.clusters.defaultName) === cluster).map((r) => r.namespace);
  return [...new Set([...instanceNamespaces, ...recorded])].sort();
}
