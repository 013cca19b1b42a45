// Where the admin views list instance objects on each cluster. The rights the deployment docs
// prescribe decide it: the fixed namespace only; every namespace for per-instance namespaces (the
// overlay binds the API cluster-wide); under the `context` strategy, RoleBindings in each namespace
// platforms use and nothing cluster-wide, so there the views list namespace by namespace: the
// fixed one and every namespace an instance record names on that cluster.
import type { InstanceRecord } from '../../platform/kube/records.js';
import type { AdminDeps } from './deps.js';

/** '' lists every namespace at once. */
export const ALL_NAMESPACES = '';

/** Where an instance record says its objects are: all `listedNamespaces` needs of it. */
export type Placement = Pick<InstanceRecord, 'cluster' | 'namespace'>;

export function listedNamespaces(deps: AdminDeps, cluster: string, records: Placement[]): string[] {
  const { instanceNamespaces, recordedNamespaces } = deps.settings;
  if (!recordedNamespaces) return instanceNamespaces;
  const recorded = records.filter((r) => (r.cluster ?? deps.clusters.defaultName) === cluster).map((r) => r.namespace);
  return [...new Set([...instanceNamespaces, ...recorded])].sort();
}

/**
 * What `listedNamespaces` needs of every record, for a view of all instances: under the `context`
 * strategy each distinct cluster and namespace the records name, read a page of records at a time
 * so that only those are kept; under the others nothing, as their namespaces are fixed.
 */
export async function recordedPlacements(deps: AdminDeps): Promise<Placement[]> {
  if (!deps.settings.recordedNamespaces) return [];
  const seen = new Map<string, Placement>();
  for await (const { records } of deps.records.scanInstancePages(deps.settings.listPageSize)) {
    for (const r of records) {
      const cluster = r.cluster ?? deps.clusters.defaultName;
      seen.set(`${cluster}/${r.namespace}`, { cluster, namespace: r.namespace });
    }
  }
  return [...seen.values()];
}
