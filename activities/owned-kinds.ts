// Which kinds of object an instance may own: what the sweep of a deprovision deletes and its
// wait lists. Every kind the catalog and Kubernetes could make is the safe answer (13 requests
// per sweep); the kinds the instance's record says were applied for it, and what their
// controllers make, is the narrow one (about 5), used when the record knows them (not for plans
// with lifecycle hooks, whose Jobs may make anything).
import { hookEventsOf } from '../catalog/hooks.js';
import type { Catalog, KubernetesObject, Plan } from '../catalog/types.js';

export interface KindRef {
  apiVersion: string;
  kind: string;
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
const LEAF_KINDS = new Set(['Pod', 'Service', 'Secret', 'ConfigMap', 'ServiceAccount', 'PersistentVolumeClaim', 'PodDisruptionBudget']);

const knownToMake = (k: KindRef) => LEAF_KINDS.has(k.kind) || k.kind in CHILD_KINDS;

/** `kinds` and what their controllers make; undefined when one of them may make anything. */
function withChildren(kinds: KindRef[]): KindRef[] | undefined {
  if (!kinds.every(knownToMake)) return undefined;
  return unionKinds(kinds, kinds.flatMap((k) => (CHILD_KINDS[k.kind] ?? []).map((child) => byKind.get(child)!)));
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
 * What a deprovision sweeps: the kinds the record says were applied for the instance and what
 * their controllers make; every kind (`all`) when the record does not say (written before it
 * did, or gone) or names a kind that may make anything.
 */
export function kindsToSweep(all: KindRef[], recorded: KindRef[] | undefined): KindRef[] {
  return (recorded && withChildren(recorded)) ?? unionKinds(all, recorded ?? []);
}

/**
 * The kinds an instance of the plan gets: its objects' (as rendered, or as its templates name
 * them). Undefined when the plan has lifecycle hooks: their Jobs run the catalog's own code,
 * which may leave labelled objects of any kind (a bind hook's Secret, ...), so such an instance's
 * deprovision sweeps every kind.
 */
export function kindsOfInstance(plan: Plan, objects: Pick<KubernetesObject, 'apiVersion' | 'kind'>[]): KindRef[] | undefined {
  return hookEventsOf(plan).length > 0 ? undefined : unionKinds(objects);
}

/** Whether every kind of `needed` is in `recorded`. */
export function coversKinds(recorded: KindRef[], needed: KindRef[]): boolean {
  const have = new Set(recorded.map(keyOf));
  return needed.every((k) => have.has(keyOf(k)));
}
