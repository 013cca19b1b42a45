// Which kinds of object an instance may own: what the sweep of a deprovision deletes and its
// wait lists. Every kind the catalog and Kubernetes could make is the safe answer (13 requests
// per sweep); the kinds the instance's record says were applied for it, and what their
// controllers make, is the narrow one (about 5), used when the record knows them (for plans with
// lifecycle hooks only when the plan's RBAC bounds what its Jobs can make: hook-kinds.ts).
import { hookEventsOf } from '../../catalog/hooks.js';
import type { Catalog, KubernetesObject, Plan } from '../../catalog/types.js';
import { kindsHooksMayMake } from './hook-kinds.js';

export interface KindRef {
  apiVersion: string;
  kind: string;
}

/**
 * A kind a deprovision's deletes found objects of. `gone`: every one of them was removed at
 * once (no finalizer, not a Pod, whose deletion is graceful), so none of them can be left.
 * (Absent in older histories: then the wait looks, as before.)
 */
export interface FoundKind extends KindRef {
  gone?: true;
}

/** Kinds Kubernetes creates on an instance's behalf, beside whatever its templates name. */
const ALWAYS_SWEPT: KindRef[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  { apiVersion: 'v1', kind: 'ReplicationController' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  // The isolating policy the worker applies with every instance (instance-network-policy.ts).
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
];
const byKind = new Map(ALWAYS_SWEPT.map((k) => [k.kind, k]));

const keyOf = (k: KindRef) => `${k.apiVersion}/${k.kind}`;

/** The kinds of all the lists, each once, in first-seen order. */
export function unionKinds(...lists: KindRef[][]): KindRef[] {
  const kinds = new Map<string, KindRef>();
  for (const k of lists.flat()) if (!kinds.has(keyOf(k))) kinds.set(keyOf(k), { apiVersion: k.apiVersion, kind: k.kind });
  return [...kinds.values()];
}

/** Every kind an instance may own: the catalog's, Kubernetes' own, Namespaces when per instance. */
export function sweptKinds(catalog: Catalog, perInstanceNamespaces: boolean): KindRef[] {
  const templates = catalog.services.flatMap((s) => s.plans.flatMap((p) => p.templates.map((t) => t.body)));
  return unionKinds(ALWAYS_SWEPT, templates, perInstanceNamespaces ? [{ apiVersion: 'v1', kind: 'Namespace' }] : []);
}

/**
 * Kinds whose controllers make labelled objects of other kinds (the pod template's labels are the
 * instance's).
 */
const CHILD_KINDS: Record<string, string[]> = {
  Deployment: ['ReplicaSet', 'Pod'],
  ReplicaSet: ['Pod'],
  ReplicationController: ['Pod'],
  StatefulSet: ['Pod', 'PersistentVolumeClaim'],
  DaemonSet: ['Pod'],
  Job: ['Pod'],
  CronJob: ['Job', 'Pod'],
};
/** Kinds that make nothing labelled with the instance. Any other kind (a CRD's) may make anything. */
const LEAF_KINDS = new Set([
  'Pod',
  'Service',
  'Secret',
  'ConfigMap',
  'ServiceAccount',
  'PersistentVolumeClaim',
  'PodDisruptionBudget',
  'NetworkPolicy',
  'Role',
  'RoleBinding',
]);

const knownToMake = (k: KindRef) => LEAF_KINDS.has(k.kind) || k.kind in CHILD_KINDS;

/** `kinds` and what their controllers make; undefined when one of them may make anything. */
function withChildren(kinds: KindRef[]): KindRef[] | undefined {
  if (!kinds.every(knownToMake)) return undefined;
  return unionKinds(
    kinds,
    kinds.flatMap((k) => (CHILD_KINDS[k.kind] ?? []).map((child) => byKind.get(child)!)),
  );
}

/**
 * Whether the kind's controller makes objects (Deployment, ReplicaSet, StatefulSet, Job, ...).
 * A deprovision deletes these in the foreground: each stays, being deleted, until what it made is
 * gone, and its controller makes nothing for an owner being deleted. Removed at once
 * (background), a ReplicaSet lived on in its controller's cache for a moment, and the controller
 * replaced the Pods the sweep deleted: a Pod outlived its deprovision. (The wait removes such an
 * owner itself once what it made is gone: foreground-deletion.ts.)
 */
export function makesObjects(k: Pick<KindRef, 'kind'>): boolean {
  return k.kind in CHILD_KINDS;
}

/** The kinds the kind's controller makes, labelled as the instance (none: it makes nothing known). */
export function kindsMadeBy(k: Pick<KindRef, 'kind'>): readonly string[] {
  return CHILD_KINDS[k.kind] ?? [];
}

/**
 * The kinds in the order the wait looks at them: first those that no kind among them makes, then
 * what those make, and so on (Deployments, then ReplicaSets, then Pods). A kind that may make
 * anything (a Namespace, a custom resource) comes before all the others. So a kind is looked at
 * only after every kind that could make it was seen empty: a child listed empty while its owner
 * still existed may be made again.
 */
export function listingGenerations(kinds: KindRef[]): KindRef[][] {
  const generations: KindRef[][] = [];
  let rest = kinds;
  const unknown = rest.filter((k) => !knownToMake(k));
  if (unknown.length > 0 && unknown.length < rest.length) {
    generations.push(unknown);
    rest = rest.filter((k) => knownToMake(k));
  }
  while (rest.length > 0) {
    const made = new Set(rest.flatMap((k) => CHILD_KINDS[k.kind] ?? []));
    const next = rest.filter((k) => !made.has(k.kind));
    // No kind makes itself, so each generation has one; the guard keeps a future cycle finite.
    if (next.length === 0) return [...generations, rest];
    generations.push(next);
    rest = rest.filter((k) => made.has(k.kind));
  }
  return generations;
}

/**
 * The kinds to list again after `left` were still there: those and what their controllers make.
 * After the first list everything labelled has been asked to be deleted, so a kind found empty
 * stays empty unless one of these is still there to make something.
 */
export function kindsToRelist(all: KindRef[], left: KindRef[]): KindRef[] {
  const wanted = withChildren(left);
  if (!wanted) return all;
  const names = new Set(wanted.map((k) => k.kind));
  return all.filter((k) => names.has(k.kind));
}

/**
 * The sweep in two rounds: first the kinds no swept kind makes (Deployments, StatefulSets,
 * Secrets, ...), then those their controllers make (ReplicaSets, Pods, claims). Deleted in one
 * round, a Deployment's controller often made a new ReplicaSet, and that one a new Pod, before it
 * saw its own deletion, and the wait had to delete and look again.
 */
export function sweepRounds(kinds: KindRef[]): KindRef[][] {
  const made = new Set(kinds.flatMap((k) => CHILD_KINDS[k.kind] ?? []));
  const rounds = [kinds.filter((k) => !made.has(k.kind)), kinds.filter((k) => made.has(k.kind))];
  return rounds.filter((r) => r.length > 0);
}

/**
 * The kinds the wait lists first, given what the deletes found: those and what their controllers
 * make, except a kind whose objects were all removed at once and that no kind found makes (a
 * Secret, a Service, a Deployment: nothing of it can be left, nor made again). A ReplicaSet
 * removed at once is listed still when a Deployment was found: its controller may have made a new
 * one before it saw its own deletion.
 */
export function kindsToListFirst(all: KindRef[], found: FoundKind[]): KindRef[] {
  const listed = kindsToRelist(all, found);
  if (!withChildren(found)) return listed;
  const made = new Set(found.flatMap((k) => CHILD_KINDS[k.kind] ?? []));
  const gone = new Set(found.filter((k) => k.gone && !made.has(k.kind)).map(keyOf));
  return listed.filter((k) => !gone.has(keyOf(k)));
}

/**
 * What a deprovision sweeps: the kinds the record says were applied for the instance and what
 * their controllers make; every kind (`all`) when the record does not say (written before it
 * did, or gone) or names a kind that may make anything.
 */
export function kindsToSweep(all: KindRef[], recorded: KindRef[] | undefined): KindRef[] {
  return (recorded && withChildren(recorded)) ?? unionKinds(all, recorded ?? []);
}

/**
 * The kinds an instance of the plan gets: its objects' (as rendered, or as its templates name
 * them), and what its lifecycle hooks may make. Their Jobs run the catalog's own code: unless the
 * plan's RBAC bounds what they can create, they may leave labelled objects of any kind, and the
 * answer is undefined (such an instance's deprovision sweeps every kind).
 */
export function kindsOfInstance(plan: Plan, objects: Pick<KubernetesObject, 'apiVersion' | 'kind'>[]): KindRef[] | undefined {
  if (hookEventsOf(plan).length === 0) return unionKinds(objects);
  const made = kindsHooksMayMake(plan);
  return made && unionKinds(objects, made);
}

/** Whether every kind of `needed` is in `recorded`. */
export function coversKinds(recorded: KindRef[], needed: KindRef[]): boolean {
  const have = new Set(recorded.map(keyOf));
  return needed.every((k) => have.has(keyOf(k)));
}
