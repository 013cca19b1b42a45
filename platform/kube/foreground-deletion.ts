// Finishing a foreground deletion without waiting for the garbage collector. A deprovision deletes
// workloads in the foreground so that their controllers see them being deleted, and make nothing
// more, before they disappear. Once what they made is gone, all that is left is the collector
// noticing it and removing their `foregroundDeletion` finalizer, one hop per generation
// (Pods gone -> ReplicaSet -> Deployment): at 100 deprovisions at once, about 11 s of the 16 s
// their wait took. A delete in the background of an object in foreground deletion drops that
// finalizer and removes the object at once: the wait does it itself.
import type { KubernetesObject } from '../../catalog/types.js';
import { kindsMadeBy, type KindRef } from './owned-kinds.js';

const FOREGROUND_FINALIZER = 'foregroundDeletion';

/**
 * Workloads whose objects carry the instance's label (their Pod template's labels), so that a list
 * by that label sees all of them. Not a CronJob: the renderer labels its Jobs' Pod template, not
 * the Jobs (`jobTemplate.metadata`), so its Jobs are invisible to the wait: the collector finishes it.
 */
const CHILDREN_LABELLED = new Set(['Deployment', 'ReplicaSet', 'ReplicationController', 'StatefulSet', 'DaemonSet', 'Job']);

/** A workload in foreground deletion that waits for nothing but the garbage collector's finalizer. */
export function inForegroundDeletion(kind: KindRef, o: Pick<KubernetesObject, 'metadata'>): boolean {
  const finalizers = (o.metadata.finalizers as string[] | undefined) ?? [];
  return CHILDREN_LABELLED.has(kind.kind) && Boolean(o.metadata.deletionTimestamp) && finalizers.every((f) => f === FOREGROUND_FINALIZER);
}

/**
 * Of the objects an instance still has (`remaining`, listed owners first, with `listed`: every
 * kind that listing looked at), the workloads in foreground deletion that may be removed now:
 * every kind their controllers make was listed after them and has nothing left but workloads
 * removed with them (a Deployment whose ReplicaSets are finished in the same step). Their
 * controllers saw them being deleted for as long as what they made took to go, and anything they
 * made meanwhile would have been listed here.
 */
export function finishableDeletions(
  remaining: { kind: KindRef; objects: KubernetesObject[] }[],
  listed: KindRef[],
): { kind: KindRef; object: KubernetesObject }[] {
  const listedKinds = new Set(listed.map((k) => k.kind));
  const left = new Map<string, KubernetesObject[]>();
  for (const l of remaining) left.set(l.kind.kind, [...(left.get(l.kind.kind) ?? []), ...l.objects]);
  const candidates = remaining.flatMap((l) => l.objects.filter((o) => inForegroundDeletion(l.kind, o)).map((object) => ({ kind: l.kind, object })));
  const finished = new Set<KubernetesObject>();
  // Children first: kinds make no cycle, so each pass finishes at least one generation or stops.
  for (let changed = true; changed;) {
    changed = false;
    for (const c of candidates) {
      if (finished.has(c.object)) continue;
      const childrenGone = kindsMadeBy(c.kind).every((child) => listedKinds.has(child) && (left.get(child) ?? []).every((o) => finished.has(o)));
      if (childrenGone) {
        finished.add(c.object);
        changed = true;
      }
    }
  }
  return candidates.filter((c) => finished.has(c.object));
}
