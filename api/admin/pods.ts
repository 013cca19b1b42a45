// Pod status of one instance or of all instances a page at a time (optionally of one organization),
// as the old broker offered: phase, readiness, node, and per container its state and restarts.
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL, instanceSelector, isValidLabelValue } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import type { AdminDeps } from './deps.js';
import { readClusters, type ClusterNotRead } from './cluster-reads.js';
import { clusterOf } from './instances.js';
import { listedNamespaces } from './namespaces.js';
import { ADMIN_PAGE, type PageRequest } from './paging.js';

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

/** Instance ids per label selector of a pods list: a few KB of URL, a handful of requests a page. */
const IDS_PER_SELECTOR = 100;

export interface PodsPage extends PodsView {
  /** Where the next page of instances starts; absent on the last page. */
  continue?: string;
}

/**
 * The pods of one page of instances (of one organization), on every cluster they are recorded on:
 * the page of their records, then per cluster and namespace a pods list per hundred of them,
 * selected by their ids. Paged by instance, not by pod, so that an instance's pods are all on one
 * page, and the continue token is the one `/admin/instances` gives. A page may hold no pod (its
 * instances have none) and still be followed by others.
 */
export async function podsPage(deps: AdminDeps, page: PageRequest & { org?: string | undefined } = {}): Promise<PodsPage> {
  const { records, continue: next } = await deps.records.scanInstancesPage({ ...page, limit: page.limit ?? ADMIN_PAGE.default });
  // An instance's pods count on the cluster it is recorded on only.
  const clusters = [...new Set(records.map((r) => clusterOf(deps, r)))];
  const { items, clustersNotRead } = await readClusters(deps, clusters, async (kube, cluster) => {
    const here = records.filter((r) => clusterOf(deps, r) === cluster);
    // Namespace by namespace under the `context` strategy: there each instance's pods are in its own.
    const of = (ns: string) => (deps.settings.recordedNamespaces ? here.filter((r) => r.namespace === ns) : here);
    const lists = await Promise.all(
      listedNamespaces(deps, cluster, here).flatMap((ns) =>
        // An id that is no label value labels no pod (and would make the selector invalid).
        chunks(
          of(ns)
            .map((r) => r.instanceId)
            .filter(isValidLabelValue),
          IDS_PER_SELECTOR,
        ).map((ids) =>
          kube.list<Pod>('v1', 'Pod', ns || undefined, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${INSTANCE_ID_LABEL} in (${ids.join(',')})` }),
        ),
      ),
    );
    return lists.flatMap((list) => list.items.map((p) => podStatus(p, cluster)));
  });
  const pods = items.sort((a, b) => a.instanceId.localeCompare(b.instanceId) || a.pod.localeCompare(b.pod));
  return { pods, clustersNotRead, ...(next ? { continue: next } : {}) };
}

function chunks<T>(list: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));
}
