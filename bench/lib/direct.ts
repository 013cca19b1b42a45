// The physical limit the broker is measured against: the same rendered objects applied directly
// with the same Kubernetes client (server-side apply, kinds in creation order, objects of one kind
// in parallel, as activities/apply-objects.ts does), and the same readiness (platform/kube/readiness.ts)
// waited for with watches, one per workload kind. No Temporal, no records, no OSB.
import { readiness } from '../../platform/kube/readiness.js';
import { validateRequestParameters } from '../../broker/request-parameters.js';
import { instanceSelector } from '../../catalog/labels.js';
import { generateRandoms } from '../../catalog/randoms.js';
import { renderPlan } from '../../catalog/render.js';
import type { KubernetesObject, Plan, ServiceOffering } from '../../catalog/types.js';
import { KubeApi } from '../../platform/kube/api.js';
import { loadKubeConfig } from '../../platform/kube/connect.js';
import { stackEnv } from './common.js';

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'DaemonSet', 'Job', 'Pod']);

/** A client with the broker's own identity (user kubernetes-broker), as the broker's processes use. */
export function brokerKube(): KubeApi {
  return new KubeApi(loadKubeConfig({ KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']! }));
}

/** The admin's client, for set-up and clean-up (not in the broker's audit trail). */
export function adminKube(): KubeApi {
  return new KubeApi(loadKubeConfig({ KUBECONFIG: stackEnv()['KUBECONFIG']! }));
}

export async function ensureNamespace(kube: KubeApi, name: string): Promise<void> {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, { fieldManager: 'kb-bench' });
}

/** Deletes namespaces and waits (bounded) until they are gone. */
export async function deleteNamespaces(kube: KubeApi, names: string[], timeoutMs = 300_000): Promise<void> {
  await Promise.all(names.map((n) => kube.delete('v1', 'Namespace', undefined, n).catch(() => undefined)));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const left = await Promise.all(names.map((n) => kube.get('v1', 'Namespace', undefined, n).catch(() => undefined)));
    if (left.every((l) => !l)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The objects the broker would apply for one instance of a plan (default parameters). */
export function renderInstance(service: ServiceOffering, plan: Plan, instanceId: string, namespace: string): KubernetesObject[] {
  return renderPlan(service, plan, {
    instanceId,
    org: 'bench-org',
    space: 'bench-space',
    namespace,
    storageClass: 'standard',
    parameters: validateRequestParameters(plan, 'provision', {}),
    randoms: generateRandoms(),
  });
}

/** Applies like applyInstanceObjects: kinds in order, objects of one kind in parallel. */
export async function applyObjects(kube: KubeApi, objects: KubernetesObject[], instanceId: string): Promise<void> {
  const groups: KubernetesObject[][] = [];
  for (const o of objects) {
    const last = groups.at(-1);
    if (last && last[0]!.kind === o.kind) last.push(o);
    else groups.push([o]);
  }
  for (const g of groups) {
    await Promise.all(g.map((o) => kube.apply(o, { fieldManager: `kubernetes-broker/${instanceId}`, force: false })));
  }
}

const key = (kind: string, o: KubernetesObject) => `${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/**
 * Watches `kinds` in `namespace` (objects matching `selector`) until `done(objects)` holds, where
 * objects maps kind/ns/name to the latest object. One watch per kind; restarted if the server ends it.
 */
export async function watchUntil(
  kube: KubeApi,
  namespace: string,
  selector: string,
  kinds: { apiVersion: string; kind: string }[],
  done: (objects: Map<string, KubernetesObject>, synced: boolean) => boolean,
  timeoutMs: number,
): Promise<void> {
  const objects = new Map<string, KubernetesObject>();
  const abort = new AbortController();
  const synced = new Set<string>();
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => (resolveDone = r));
  const check = () => {
    if (done(objects, synced.size === kinds.length)) resolveDone();
  };
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const watchers = kinds.map(async (k) => {
    while (!abort.signal.aborted) {
      try {
        // A list first: an empty set must count as synced (a watch on nothing sends no event).
        const list = await kube.list(k.apiVersion, k.kind, namespace, { labelSelector: selector });
        for (const o of list.items) objects.set(key(k.kind, o), { ...o, kind: k.kind });
        synced.add(k.kind);
        check();
        await kube.watch(
          k.apiVersion,
          k.kind,
          namespace,
          { labelSelector: selector, resourceVersion: list.metadata.resourceVersion, timeoutSeconds: 300 },
          (type, o) => {
            if (type === 'BOOKMARK') return;
            if (type === 'DELETED') objects.delete(key(k.kind, o));
            else objects.set(key(k.kind, o), { ...o, kind: k.kind });
            check();
          },
          abort.signal,
        );
      } catch {
        if (abort.signal.aborted) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  });
  try {
    await Promise.race([finished, Promise.all(watchers).then(() => Promise.reject(new Error(`not done within ${timeoutMs / 1000} s`)))]);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** Waits until every workload among `objects` is ready (platform/kube/readiness.ts), watching one kind per request. */
export async function waitReady(kube: KubeApi, namespace: string, selector: string, objects: KubernetesObject[], timeoutMs = 600_000): Promise<void> {
  const workloads = objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
  if (workloads.length === 0) return;
  const wanted = workloads.map((o) => key(o.kind, o));
  const kinds = [...new Map(workloads.map((o) => [o.kind, { apiVersion: o.apiVersion, kind: o.kind }])).values()];
  await watchUntil(kube, namespace, selector, kinds, (seen) => wanted.every((k) => seen.has(k) && readiness(seen.get(k)!).ready), timeoutMs);
}

/** Provision the physical-limit way; returns milliseconds from the first request to ready. */
export async function directProvision(kube: KubeApi, objects: KubernetesObject[], instanceId: string, namespace: string): Promise<number> {
  const t0 = performance.now();
  await applyObjects(kube, objects, instanceId);
  await waitReady(kube, namespace, instanceSelector(instanceId), objects);
  return performance.now() - t0;
}

/** What deleting an instance leaves until it is gone: its kinds and the ones controllers made. */
export function goneKinds(objects: KubernetesObject[]): { apiVersion: string; kind: string }[] {
  const kinds = new Map(objects.map((o) => [o.kind, { apiVersion: o.apiVersion, kind: o.kind }]));
  kinds.set('Pod', { apiVersion: 'v1', kind: 'Pod' });
  if (kinds.has('Deployment')) kinds.set('ReplicaSet', { apiVersion: 'apps/v1', kind: 'ReplicaSet' });
  if (kinds.has('StatefulSet')) kinds.set('PersistentVolumeClaim', { apiVersion: 'v1', kind: 'PersistentVolumeClaim' });
  return [...kinds.values()];
}

/** Deletes by label, one request per kind the instance has, and waits until nothing is left. */
export async function directDeprovision(kube: KubeApi, objects: KubernetesObject[], instanceId: string, namespace: string): Promise<number> {
  const t0 = performance.now();
  const selector = instanceSelector(instanceId);
  const kinds = goneKinds(objects);
  await Promise.all(kinds.map((k) => kube.deleteCollection(k.apiVersion, k.kind, namespace, selector)));
  await watchUntil(kube, namespace, selector, kinds, (seen, synced) => synced && seen.size === 0, 600_000);
  return performance.now() - t0;
}
