// Deleting an instance's objects: everything labelled with the instance, of every kind applied
// for it (over all the plans it ran, platform/kube/owned-kinds.ts) and every kind Kubernetes made
// for those (ReplicaSets, Pods, PVCs of StatefulSets), then waiting, with watches, until they are gone.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { BINDING_ID_LABEL, HOOK_LABEL, instanceSelector } from '../catalog/labels.js';
import type { KubernetesObject } from '../catalog/types.js';
import type { KubeApi, WatchEventType } from '../platform/kube/api.js';
import { KubeApiError } from '../platform/kube/errors.js';
import type { ObjectRef } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import { byDeadline, clusterClient, NON_RETRYABLE, step } from './failures.js';
import {
  kindsToListFirst,
  kindsToRelist,
  kindsToSweep,
  listingGenerations,
  makesObjects,
  sweepRounds,
  sweptKinds,
  unionKinds,
  type FoundKind,
  type KindRef,
} from '../platform/kube/owned-kinds.js';
import { finishableDeletions, inForegroundDeletion } from '../platform/kube/foreground-deletion.js';
import { ownsNamespace } from '../platform/kube/namespace-ownership.js';
import { refKey, refOf } from './refs.js';
import { createVerifier } from './verify.js';

/**
 * How long one watch for deletions runs before the objects are listed again: a safety net for a
 * watch that stalls without ending. A watch ends earlier by itself when everything listed is
 * deleted or something new appears.
 */
const WATCH_CAP_MS = 60_000;
/** The wait heartbeats this often while it watches (its heartbeat timeout is 15 s). */
const HEARTBEAT_MS = 10_000;

/** Where an instance's objects are: its namespace on its cluster (absent: the default cluster). */
interface InstancePlace {
  instanceId: string;
  namespace: string;
  cluster?: string;
}

export function createDeleteActivities(deps: ActivityDeps) {
  const { clusters, catalog, settings } = deps;
  const verify = createVerifier(deps);
  // Offerings added at runtime may bring kinds: the catalog as it is now, cached per version.
  let swept = { of: catalog.osbCatalog, kinds: sweptKinds(catalog, settings.perInstanceNamespaces) };
  const currentKinds = () => {
    if (swept.of !== catalog.osbCatalog) swept = { of: catalog.osbCatalog, kinds: sweptKinds(catalog, settings.perInstanceNamespaces) };
    return swept.kinds;
  };

  /** Lists the instance's objects of every kind the cluster serves (or of `only`). */
  async function listInstanceObjects(kube: KubeApi, instanceId: string, namespace: string, only: KindRef[] = currentKinds()) {
    const lists = await Promise.all(
      only.map(async (k) => {
        try {
          const list = await kube.list(k.apiVersion, k.kind, namespace, { labelSelector: instanceSelector(instanceId) });
          return {
            kind: k,
            objects: list.items.map((o) => ({ ...o, apiVersion: k.apiVersion, kind: k.kind })),
            resourceVersion: list.metadata.resourceVersion,
          };
        } catch (err) {
          if (err instanceof KubeApiError && err.status === 404) return { kind: k, objects: [] as KubernetesObject[], resourceVersion: undefined };
          throw err;
        }
      }),
    );
    return lists.filter((l) => l.objects.length > 0);
  }

  /**
   * Lists the kinds owners first (listingGenerations), each generation after the one before: what
   * is left. Empty: nothing is left, and every kind was looked at after every kind that could make
   * it was seen empty. (Children are listed while their owners are there too: an owner in
   * foreground deletion is finished once they are gone, foreground-deletion.ts.)
   */
  async function listOwnersFirst(kube: KubeApi, instanceId: string, namespace: string, kinds: KindRef[]) {
    const remaining: Awaited<ReturnType<typeof listInstanceObjects>> = [];
    for (const generation of listingGenerations(kinds)) remaining.push(...(await listInstanceObjects(kube, instanceId, namespace, generation)));
    return remaining;
  }

  /**
   * waitInstanceGone's loop: list owners first; finish the foreground deletions whose objects are
   * gone, or delete what is new and watch what is being deleted.
   */
  async function waitGone(input: InstancePlace & { deadline: number; found?: FoundKind[] }): Promise<void> {
    const ctx = Context.current();
    const kube = clusterClient(clusters, input.cluster, input.instanceId);
    // Only the kinds that had objects (not those removed at once) and what their controllers
    // make; then only the kinds still there and what their controllers make (the 13 empty lists
    // per deprovision were most of its requests).
    // A kind of a plan since removed from the catalog may be among those found.
    const kinds = unionKinds(currentKinds(), input.found ?? []);
    let listed = input.found ? kindsToListFirst(kinds, input.found) : kinds;
    const finished = new Set<string>();
    for (;;) {
      const only = listed;
      const remaining = await step(`list the objects of instance ${input.instanceId}`, () => listOwnersFirst(kube, input.instanceId, input.namespace, only));
      if (remaining.length === 0) return;
      listed = kindsToRelist(
        kinds,
        remaining.map((l) => l.kind),
      );
      const left = remaining.flatMap((l) => l.objects);
      const progress = { remaining: left.slice(0, 10).map((o) => refKey(refOf(o))) };
      ctx.heartbeat(progress);
      if (Date.now() >= input.deadline) {
        throw ApplicationFailure.nonRetryable(
          `objects of instance ${input.instanceId} are still there: ${left.slice(0, 10).map(stuckReason).join('; ')}`,
          NON_RETRYABLE.notGone,
        );
      }
      // Each once: one still there after (should the API server not remove it) is left to the collector, watched.
      const notFinished = (f: { object: KubernetesObject }) => !finished.has(f.object.metadata.uid as string);
      let finishable = finishableDeletions(remaining, only).filter(notFinished);
      if (finishable.length === 0) {
        // Something new, not yet being deleted (a controller made it): delete its kind again.
        const fresh = remaining.filter((l) => l.objects.some((o) => !o.metadata.deletionTimestamp));
        await step('delete leftovers', () => Promise.all(fresh.map((l) => deleteKind(kube, l.kind, input.namespace, input.instanceId))));
        const awaited = blocking(remaining);
        const allGone = await untilDeleted(kube, remaining, awaited, input.namespace, instanceSelector(input.instanceId), {
          timeoutMs: Math.min(WATCH_CAP_MS, input.deadline - Date.now()),
          cancelled: ctx.cancellationSignal,
          heartbeat: () => ctx.heartbeat(progress),
        });
        // The watch saw what blocked them go and nothing new come: as good as a list, one pass less.
        if (allGone) finishable = finishableDeletions(without(remaining, awaited), only).filter(notFinished);
      }
      if (finishable.length > 0) {
        for (const f of finishable) finished.add(f.object.metadata.uid as string);
        await step('remove the workloads whose objects are gone', () => Promise.all(finishable.map((f) => finishDeletion(kube, f.kind, f.object))));
      }
    }
  }

  return {
    /**
     * Asks Kubernetes to delete everything labelled with the instance: one request per kind it
     * may own (`kinds`: what its record says was applied for it; absent: every kind).
     * Returns the kinds it found objects of, and which of those are gone already, for waitInstanceGone.
     */
    async deleteInstanceObjects(input: InstancePlace & { kinds?: KindRef[] }): Promise<FoundKind[]> {
      await verify.objects(input, ['provision', 'deprovision']);
      const kube = clusterClient(clusters, input.cluster, input.instanceId);
      const found: FoundKind[] = [];
      for (const round of sweepRounds(kindsToSweep(currentKinds(), input.kinds))) {
        const results = await step(`delete the objects of instance ${input.instanceId}`, () =>
          Promise.all(round.map((k) => deleteKind(kube, k, input.namespace, input.instanceId))),
        );
        round.forEach((k, i) => {
          if (results[i] !== 'none') found.push(results[i] === 'gone' ? { ...k, gone: true } : k);
        });
      }
      return found;
    },

    /**
     * Waits until no object of the instance is left; deletes again what reappears. `found`: the
     * kinds deleteInstanceObjects found objects of (absent in older histories: every kind).
     */
    async waitInstanceGone(input: InstancePlace & { deadline: number; found?: FoundKind[] }): Promise<void> {
      await verify.objects(input, ['provision', 'deprovision']);
      return byDeadline(input.deadline, () => waitGone(input));
    },

    /** After an update: deletes the instance's objects that the applied plan no longer has. */
    async pruneInstanceObjects(input: InstancePlace & { keep: ObjectRef[] }): Promise<number> {
      await verify.objects(input, ['update']);
      const kube = clusterClient(clusters, input.cluster, input.instanceId);
      const keep = new Set(input.keep.map(refKey));
      const lists = await step('list the objects of the instance', () => listInstanceObjects(kube, input.instanceId, input.namespace));
      // Objects with an owner (ReplicaSets, Pods, ...) go with their owner; lifecycle hook Jobs
      // and what bind hooks wrote belong to no plan's templates and stay.
      const stale = lists
        .flatMap((l) => l.objects)
        .filter((o) => o.kind !== 'Namespace' && !keep.has(refKey(refOf(o))) && !(o.metadata.ownerReferences as unknown[] | undefined)?.length)
        .filter((o) => !o.metadata.labels?.[HOOK_LABEL] && !o.metadata.labels?.[BINDING_ID_LABEL]);
      // Each the object listed (its uid), not whatever has its name by then.
      await step('delete objects the plan no longer has', () =>
        Promise.all(stale.map((o) => kube.delete(o.apiVersion, o.kind, o.metadata.namespace, o.metadata.name, o.metadata.uid as string | undefined))),
      );
      return stale.length;
    },
  };
}

/**
 * Deletes the kind's objects labelled with the instance. `none`: there were none; `gone`: all were
 * removed at once; `left`: some may still be there (finalizers, a Pod's graceful deletion, or
 * the answer does not say).
 */
async function deleteKind(kube: KubeApi, k: KindRef, namespace: string, instanceId: string): Promise<'none' | 'gone' | 'left'> {
  try {
    // Cluster-scoped kinds (Namespace) ignore the namespace.
    const deleted = await kube.deleteCollection(k.apiVersion, k.kind, namespace, instanceSelector(instanceId), makesObjects(k) ? 'Foreground' : 'Background');
    if (deleted === undefined) return 'left';
    if (deleted.length === 0) return 'none';
    return deleted.every((o) => removedAtOnce(k.kind, o)) ? 'gone' : 'left';
  } catch (err) {
    // A kind the cluster does not serve (a CRD never installed) has nothing to delete.
    if (err instanceof KubeApiError && err.status === 404) return 'none';
    // Some kinds (Namespaces) have no deletecollection: list them and delete one by one, each
    // the object listed (its uid). A namespace only when the broker made it for this instance:
    // the selector says so, and the ownership check does again, as it does before any apply.
    if (err instanceof KubeApiError && err.status === 405) {
      const list = await kube.list(k.apiVersion, k.kind, namespace, { labelSelector: instanceSelector(instanceId) });
      const ours = list.items.filter((o) => k.kind !== 'Namespace' || ownsNamespace(o, instanceId));
      await Promise.all(ours.map((o) => kube.delete(k.apiVersion, k.kind, o.metadata.namespace, o.metadata.name, o.metadata.uid as string | undefined)));
      return ours.length > 0 ? 'left' : 'none';
    }
    throw err;
  }
}

/**
 * Removes a workload in foreground deletion whose objects are gone: a delete in the background
 * drops the garbage collector's finalizer. Only the object listed (its uid): one made since under
 * its name (409) is left to the next list.
 */
async function finishDeletion(kube: KubeApi, k: KindRef, o: KubernetesObject): Promise<void> {
  try {
    await kube.delete(k.apiVersion, k.kind, o.metadata.namespace, o.metadata.name, o.metadata.uid as string | undefined);
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 409)) throw err;
  }
}

/**
 * What the wait watches for: the objects that are not workloads in foreground deletion (those are
 * finished once these are gone); all of them when there are no others.
 */
export function blocking<L extends { kind: KindRef; objects: KubernetesObject[] }>(remaining: L[]): L[] {
  const others = remaining.map((l) => ({ ...l, objects: l.objects.filter((o) => !inForegroundDeletion(l.kind, o)) })).filter((l) => l.objects.length > 0);
  return others.length > 0 ? others : remaining;
}

/**
 * Whether a `deletecollection` removed this object of `kind` outright. Its answer holds each
 * object as it was before the delete (items carry no kind): one with finalizers stays until they
 * are done, a Pod until its kubelet (KWOK here) confirms the graceful deletion, a workload
 * (deleted in the foreground) until what it made is gone, one already being deleted until that ends.
 */
export function removedAtOnce(kind: string, o: Pick<KubernetesObject, 'metadata'>): boolean {
  if (kind === 'Pod' || makesObjects({ kind })) return false;
  return !o.metadata.deletionTimestamp && !(o.metadata.finalizers as unknown[] | undefined)?.length;
}

/**
 * What a watch event means to the wait for deletions. `left`: the objects listed and not yet seen
 * deleted (updated here). List again when all of them are gone, or when something new appeared
 * that is not being deleted (a controller made it after the deletes).
 */
export function afterDeletionEvent(left: Set<string>, type: WatchEventType, key: string, beingDeleted: boolean): 'wait' | 'list again' {
  if (type === 'DELETED') {
    left.delete(key);
    return left.size === 0 ? 'list again' : 'wait';
  }
  if (type === 'BOOKMARK' || left.has(key) || beingDeleted) return 'wait';
  return 'list again';
}

/** `remaining` without the objects of `gone` (lists of the same kinds). */
export function without<L extends { objects: KubernetesObject[] }>(remaining: L[], gone: { objects: KubernetesObject[] }[]): L[] {
  const keys = new Set(gone.flatMap((l) => l.objects.map((o) => o.metadata.uid ?? refKey(refOf(o)))));
  return remaining.map((l) => ({ ...l, objects: l.objects.filter((o) => !keys.has(o.metadata.uid ?? refKey(refOf(o)))) })).filter((l) => l.objects.length > 0);
}

/**
 * Watches the kinds that still have objects until those of `awaited` are all deleted, something
 * new of them appears (a controller made it: the caller deletes it), or the time is up.
 * Heartbeats meanwhile. True: all of `awaited` were seen deleted, and nothing new.
 */
async function untilDeleted(
  kube: KubeApi,
  remaining: { kind: KindRef; objects: KubernetesObject[]; resourceVersion: string | undefined }[],
  awaited: { objects: KubernetesObject[] }[],
  namespace: string,
  labelSelector: string,
  { timeoutMs, cancelled, heartbeat }: { timeoutMs: number; cancelled: AbortSignal; heartbeat: () => void },
): Promise<boolean> {
  const abort = new AbortController();
  const onCancel = () => abort.abort();
  cancelled.addEventListener('abort', onCancel, { once: true });
  const left = new Set(awaited.flatMap((l) => l.objects.map((o) => refKey(refOf(o)))));
  let somethingNew = false;
  const timer = setTimeout(() => abort.abort(), Math.max(0, timeoutMs));
  const beat = setInterval(heartbeat, HEARTBEAT_MS);
  try {
    await Promise.race(
      remaining.map((l) =>
        kube
          .watch(
            l.kind.apiVersion,
            l.kind.kind,
            namespace,
            { labelSelector, ...(l.resourceVersion ? { resourceVersion: l.resourceVersion } : {}), timeoutSeconds: Math.ceil(timeoutMs / 1000) },
            (type, obj) => {
              const key = refKey({ kind: l.kind.kind, name: obj.metadata.name, namespace: obj.metadata.namespace });
              if (afterDeletionEvent(left, type, key, Boolean(obj.metadata.deletionTimestamp)) === 'wait') return;
              if (left.size > 0 || type !== 'DELETED') somethingNew = true;
              abort.abort();
            },
            abort.signal,
          )
          // Any end of a watch (expired resourceVersion, API server gone) sends us back to listing.
          .catch(() => undefined),
      ),
    );
    return left.size === 0 && !somethingNew;
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
    cancelled.removeEventListener('abort', onCancel);
    abort.abort();
  }
}

function stuckReason(o: KubernetesObject): string {
  const finalizers = (o.metadata.finalizers as string[] | undefined) ?? [];
  const what = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
  if (finalizers.length)
    return `${what} waits for finalizers ${finalizers.join(', ')} (remove them when their controller is gone: kubectl patch --type=merge -p '{"metadata":{"finalizers":null}}')`;
  return `${what} is being deleted`;
}
