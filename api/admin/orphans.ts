// Objects labelled as managed by the broker whose instance has no record (a crash before the
// broker's own cleanup existed, a record deleted by hand...), and binding records whose instance
// is gone. Listed, and deleted on request.
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { sweptKinds } from '../../platform/kube/owned-kinds.js';
import { KubeApiError } from '../../platform/kube/errors.js';
import { readClusters, type ClusterNotRead } from './cluster-reads.js';
import type { AdminDeps } from './deps.js';
import { listedNamespaces } from './namespaces.js';

export interface Orphan {
  /** The cluster it is on. */
  cluster: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The instance it belongs to, which has no record. */
  instanceId: string;
}

/** Orphans, and the clusters that could not be read (their orphans are missing). */
export interface OrphansView {
  orphans: Orphan[];
  clustersNotRead: ClusterNotRead[];
}

export async function findOrphans(deps: AdminDeps): Promise<OrphansView> {
  const { records, unreadable } = await deps.records.scanInstances();
  // An object whose instance has a record is never an orphan, whatever cluster it is seen on: two
  // configured clusters may be one API server (in-cluster and a kubeconfig of the same cluster),
  // and deleting "copies" there would delete live instances. A record that does not decode is
  // still a record: its instance's objects are not orphans.
  const live = new Set([...records.map((r) => r.instanceId), ...unreadable.flatMap((u) => (u.instanceId ? [u.instanceId] : []))]);
  const kinds = sweptKinds(deps.catalog, deps.settings.perInstanceNamespaces);
  const { items: found, clustersNotRead } = await readClusters(deps, deps.clusters.names, async (kube, cluster) => {
    const inCluster: Orphan[] = [];
    for (const ns of listedNamespaces(deps, cluster, records)) {
      const lists = await Promise.all(
        kinds.map(async (k) => {
          try {
            const namespace = k.kind === 'Namespace' ? undefined : ns || undefined;
            return {
              k,
              items: (await kube.list(k.apiVersion, k.kind, namespace, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${INSTANCE_ID_LABEL}` })).items,
            };
          } catch (err) {
            if (err instanceof KubeApiError && err.status === 404) return { k, items: [] };
            throw err;
          }
        }),
      );
      for (const { k, items } of lists) {
        for (const o of items) {
          const instanceId = o.metadata.labels?.[INSTANCE_ID_LABEL] ?? '';
          // Owned objects (Pods of a ReplicaSet...) go with their owner: list the owner only.
          if (live.has(instanceId) || (o.metadata.ownerReferences as unknown[] | undefined)?.length) continue;
          inCluster.push({
            cluster,
            apiVersion: k.apiVersion,
            kind: k.kind,
            ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
            name: o.metadata.name,
            instanceId,
          });
        }
      }
    }
    return inCluster;
  });
  for (const b of await deps.records.listBindings()) {
    if (!live.has(b.instanceId))
      found.push({
        cluster: deps.clusters.defaultName,
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: deps.records.namespace,
        name: `binding ${b.bindingId}`,
        instanceId: b.instanceId,
      });
  }
  // The same object is found once per namespace pass when listing cluster-wide kinds.
  return { orphans: [...new Map(found.map((o) => [`${o.cluster}/${o.kind}/${o.namespace ?? ''}/${o.name}`, o])).values()], clustersNotRead };
}

export async function deleteOrphans(deps: AdminDeps, orphans: Orphan[]): Promise<number> {
  let deleted = 0;
  for (const o of orphans) {
    const ok = o.name.startsWith('binding ')
      ? await deps.records.deleteBinding(o.name.slice('binding '.length))
      : await deps.clusters.get(o.cluster).delete(o.apiVersion, o.kind, o.namespace, o.name);
    if (ok) deleted++;
  }
  return deleted;
}
