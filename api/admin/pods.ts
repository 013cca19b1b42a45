// Pod status of one instance or of all instances (optionally of one organization), as the old
// broker offered: phase, readiness, node, and per container its state and restarts.
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL, instanceSelector } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import type { AdminDeps } from './deps.js';
import { readClusters, type ClusterNotRead } from './cluster-reads.js';
import { clusterOf } from './instances.js';
import { listedNamespaces } from './namespaces.js';

export interface PodStatus {
  instanceId: string;
  cluster: string;
  namespace: string;
  pod: string;
  phase: string;
  ready: boolean;
  node?: string;
  podIP?: string;
  containers: { name: string; ready: boolean; restarts: number; state: string }[];
}

/** The fields of a Pod's status (as the API server sends it) that the answer reports. */
interface PodStatusFields {
  phase?: string;
  podIP?: string;
  conditions?: { type: string; status: string }[];
  /** `state` has one key, the state's name: running, waiting or terminated. */
  containerStatuses?: { name: string; ready?: boolean; restartCount?: number; state?: Record<string, unknown> }[];
}

type Pod = KubernetesObject & { spec?: { nodeName?: string }; status?: PodStatusFields };

function podStatus(p: Pod, cluster: string): PodStatus {
  const s = p.status ?? {};
  return {
    instanceId: p.metadata.labels?.[INSTANCE_ID_LABEL] ?? '',
    cluster,
    namespace: p.metadata.namespace ?? '',
    pod: p.metadata.name,
    phase: s.phase ?? 'Pending',
    ready: (s.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
    ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}),
    ...(s.podIP ? { podIP: s.podIP } : {}),
    containers: (s.containerStatuses ?? []).map((c) => ({
      name: c.name,
      ready: Boolean(c.ready),
      restarts: c.restartCount ?? 0,
      state: Object.keys(c.state ?? {})[0] ?? 'unknown',
    })),
  };
}

/** Pods, and the clusters that could not be read (their pods are missing). */
export interface PodsView {
  pods: PodStatus[];
  clustersNotRead: ClusterNotRead[];
}

export async function instancePods(deps: AdminDeps, instanceId: string): Promise<PodsView | undefined> {
  const stored = await deps.records.getInstance(instanceId);
  if (!stored) return undefined;
  const r = stored.record;
  const { items, clustersNotRead } = await readClusters(deps, [clusterOf(deps, r)], async (kube, cluster) =>
    (await kube.list<Pod>('v1', 'Pod', r.namespace, { labelSelector: instanceSelector(instanceId) })).items.map((p) => podStatus(p, cluster)),
  );
  return { pods: items, clustersNotRead };
}

/** Pods of every instance, or of the instances of one organization, on every cluster that can be read. */
export async function allPods(deps: AdminDeps, org?: string): Promise<PodsView> {
  const records = await deps.records.listInstances();
  // An instance's pods count on the cluster it is recorded on only.
  const wanted = new Set(records.filter((r) => !org || r.org === org).map((r) => `${clusterOf(deps, r)}/${r.instanceId}`));
  const { items, clustersNotRead } = await readClusters(deps, deps.clusters.names, async (kube, cluster) => {
    const lists = await Promise.all(
      listedNamespaces(deps, cluster, records).map((ns) =>
        kube.list<Pod>('v1', 'Pod', ns || undefined, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }),
      ),
    );
    return lists.flatMap((list) => list.items.map((p) => podStatus(p, cluster)));
  });
  const pods = items
    .filter((p) => wanted.has(`${p.cluster}/${p.instanceId}`))
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId) || a.pod.localeCompare(b.pod));
  return { pods, clustersNotRead };
}
