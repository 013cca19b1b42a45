// Operators' view of instances: what the records say, what runs in Kubernetes and how ready it
// is, and the instance's workflows with links into the Temporal UI.
import { instanceSelector } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { readiness } from '../../platform/kube/readiness.js';
import type { InstanceRecord } from '../../platform/kube/records.js';
import { memoOf } from '../../broker/operation-state.js';
import { KubeApiError } from '../../platform/kube/errors.js';
import { readClusters, type ClusterNotRead } from './cluster-reads.js';
import type { AdminDeps } from './deps.js';
import { instanceKinds } from './listed-kinds.js';
import { ADMIN_PAGE, type PageRequest } from './paging.js';

export interface InstanceSummary {
  instanceId: string;
  service: string;
  plan: string;
  /** `unreadable`: its record Secret does not decode (`problem` says why); repair or delete it. */
  state: InstanceRecord['state'] | 'unreadable';
  problem?: string;
  namespace: string;
  /** The target cluster its objects are on. */
  cluster: string;
  org: string;
  space: string;
  createdAt: string;
}

function names(deps: AdminDeps, r: InstanceRecord) {
  const service = deps.catalog.findService(r.serviceId);
  return { service: service?.name ?? r.serviceId, plan: service?.plans.find((p) => p.id === r.planId)?.name ?? r.planId };
}

/** The recorded cluster; records from before several clusters existed: the default one. */
export const clusterOf = (deps: AdminDeps, r: InstanceRecord) => r.cluster ?? deps.clusters.defaultName;

/** What the list shows of a record, and the head of what `show` shows. */
const summaryOf = (deps: AdminDeps, r: InstanceRecord): InstanceSummary => ({
  instanceId: r.instanceId,
  ...names(deps, r),
  state: r.state,
  namespace: r.namespace,
  cluster: clusterOf(deps, r),
  org: r.org,
  space: r.space,
  createdAt: r.createdAt,
});

export interface InstancesPage {
  instances: InstanceSummary[];
  /** Where the next page starts; absent on the last page. */
  continue?: string;
}

/**
 * One page of the instances, in the order of their records' Secret names (readable ones by age
 * within the page, unreadable ones last): memory and answer size grow with the page, not with the
 * registry. `continue` comes from the previous page.
 */
export async function listInstances(deps: AdminDeps, page: PageRequest = {}): Promise<InstancesPage> {
  const { records, unreadable, continue: next } = await deps.records.scanInstancesPage({ limit: page.limit ?? ADMIN_PAGE.default, continue: page.continue });
  const readable = records.map((r) => summaryOf(deps, r)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  // Last, by the Secret's name when its label names no instance: what an operator must repair.
  const broken = unreadable.map((u): InstanceSummary => ({
    instanceId: u.instanceId ?? u.name,
    service: '-',
    plan: '-',
    state: 'unreadable',
    problem: `record Secret ${deps.records.namespace}/${u.name}: ${u.problem}`,
    namespace: '-',
    cluster: deps.clusters.defaultName,
    org: '-',
    space: '-',
    createdAt: '-',
  }));
  return { instances: [...readable, ...broken], ...(next ? { continue: next } : {}) };
}

export interface InstanceDetail extends InstanceSummary {
  parameters: Record<string, unknown>;
  objects: { kind: string; name: string; ready: boolean; detail: string }[];
  /** Its cluster, when it could not be read: `objects` is then empty, not the truth. */
  clustersNotRead: ClusterNotRead[];
  bindings: string[];
  workflows: { workflowId: string; runId: string; type: string; status: string; operation?: string; startTime: string; url?: string }[];
}

export async function showInstance(deps: AdminDeps, instanceId: string): Promise<InstanceDetail | undefined> {
  const stored = await deps.records.getInstance(instanceId);
  if (!stored) return undefined;
  const r = stored.record;
  const kinds = instanceKinds(deps);
  const { items: objects, clustersNotRead } = await readClusters(deps, [clusterOf(deps, r)], async (kube) => {
    const lists = await Promise.all(
      kinds.map(async (k) => {
        try {
          const list = await kube.list(k.apiVersion, k.kind, r.namespace, { labelSelector: instanceSelector(instanceId) });
          return list.items.map((o): KubernetesObject => ({ ...o, apiVersion: k.apiVersion, kind: k.kind }));
        } catch (err) {
          // A kind this cluster does not serve has no objects; anything else: the cluster is not read.
          if (err instanceof KubeApiError && err.status === 404) return [];
          throw err;
        }
      }),
    );
    return lists.flat().map((o) => ({ kind: o.kind, name: o.metadata.name, ...readiness(o) }));
  });
  const bindings = (await deps.records.listBindings(instanceId)).map((b) => b.bindingId);
  return {
    ...summaryOf(deps, r),
    parameters: r.parameters,
    objects: objects.map(({ kind, name, ready, detail }) => ({ kind, name, ready, detail })),
    clustersNotRead,
    bindings,
    workflows: await instanceWorkflows(deps, instanceId),
  };
}

/** The instance's workflows (and its bindings'), newest first, found by search attribute. */
export async function instanceWorkflows(deps: AdminDeps, instanceId: string, limit = 20): Promise<InstanceDetail['workflows']> {
  const found: InstanceDetail['workflows'] = [];
  const ui = deps.settings.temporalUiUrl?.replace(/\/$/, '');
  // Newest first is the visibility store's default order (ORDER BY is not supported everywhere).
  for await (const wf of deps.client.workflow.list({ query: `KbInstanceId = '${instanceId.replace(/'/g, "\\'")}'` })) {
    found.push({
      workflowId: wf.workflowId,
      runId: wf.runId,
      type: wf.type,
      status: wf.status.name,
      ...(memoOf(wf).operation ? { operation: memoOf(wf).operation! } : {}),
      startTime: wf.startTime.toISOString(),
      ...(ui ? { url: `${ui}/namespaces/${deps.settings.temporalNamespace}/workflows/${encodeURIComponent(wf.workflowId)}/${wf.runId}/history` } : {}),
    });
    if (found.length >= limit) break;
  }
  return found;
}
