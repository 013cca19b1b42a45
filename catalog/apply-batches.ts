// Which of an instance's objects may be applied together. Objects come in creation order
// (catalog/kinds.ts); one round trip per kind costs a provision 7 sequential requests for the
// redis plans, seconds when 100 provisions load one API server, and the provision's workflow task
// keeps its slot meanwhile. Only what must exist before something else is waited for.
import type { KubernetesObject } from './types.js';
import { isWorkloadKind } from './kinds.js';

/**
 * Kinds that need nothing else to exist when they are created, and that nothing but a workload
 * needs at its creation: consecutive ones go in one batch. A Role is one (a RoleBinding waits for
 * it: the API server checks the rights it grants), a RoleBinding is not. Anything not listed here
 * (namespaces, custom resources and their definitions, quotas, limit ranges, bindings, ...) keeps
 * a step of its own, in creation order.
 */
const INDEPENDENT_KINDS = new Set(['NetworkPolicy', 'ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Role', 'PodDisruptionBudget']);

/** Whether objects of `kind` can join a batch of objects of `batchKinds`. */
function joins(batchKinds: Set<string>, kind: string): boolean {
  if (batchKinds.has(kind)) return true;
  const all = [...batchKinds];
  // Accounts, secrets, config, claims, roles, isolation: together, before anything that uses them.
  if (INDEPENDENT_KINDS.has(kind) && all.every((k) => INDEPENDENT_KINDS.has(k))) return true;
  // Workloads after each other; Services (created after the workloads) with them: a Service
  // selects pods whenever they come, and no workload waits for one.
  return (isWorkloadKind(kind) || kind === 'Service') && all.every((k) => isWorkloadKind(k) || k === 'Service');
}

/**
 * The objects in batches to apply one after the other, each batch's objects at once. The order
 * of the objects is kept: a batch holds consecutive objects only.
 */
export function applyBatches(objects: KubernetesObject[]): KubernetesObject[][] {
  const batches: { kinds: Set<string>; objects: KubernetesObject[] }[] = [];
  for (const o of objects) {
    const last = batches.at(-1);
    if (last && joins(last.kinds, o.kind)) {
      last.kinds.add(o.kind);
      last.objects.push(o);
    } else batches.push({ kinds: new Set([o.kind]), objects: [o] });
  }
  return batches.map((b) => b.objects);
}
