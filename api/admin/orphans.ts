// Objects this installation made whose instance has no record (a crash before the broker's own
// cleanup existed, a record deleted by hand...), and binding records whose instance is gone.
// Listed, and deleted on request. What makes an object this installation's is its installation
// label (platform/kube/installation.ts), never "no record here": another broker on the cluster
// has records of its own, and its objects are live. Objects without the label are listed as
// kept and never deleted.
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import type { KubeApi } from '../../platform/kube/api.js';
import { INSTALLATION_LABEL, installationSelector } from '../../platform/kube/installation.js';
import type { KindRef } from '../../platform/kube/owned-kinds.js';
import { KubeApiError } from '../../platform/kube/errors.js';
import { readClusters, type ClusterNotRead } from './cluster-reads.js';
import type { AdminDeps } from './deps.js';
import { orphanKinds } from './listed-kinds.js';
import { listedNamespaces, recordedPlacements } from './namespaces.js';

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

/** An object that looks orphaned but is not deleted, and why. */
export interface KeptObject extends Orphan {
  reason: 'younger than ORPHAN_MIN_AGE' | 'no installation label: made before installations were labelled, or by another broker';
}

export interface OrphanSurvey {
  orphans: Orphan[];
  kept: KeptObject[];
  /** Empty when every cluster was read; otherwise those whose orphans are missing here, and why. */
  clustersNotRead: ClusterNotRead[];
}

/** The orphans this installation may delete. */
export async function findOrphans(deps: AdminDeps): Promise<Orphan[]> {
  return (await surveyOrphans(deps)).orphans;
}

/**
 * Reads a page at a time and keeps only what it reports: the ids of the recorded instances (from
 * metadata-only pages, no one's data), and of the labelled objects on each cluster (metadata-only
 * pages too) only the orphans and the kept ones. Memory follows a page and the ids, not the
 * registry or the objects.
 */
export async function surveyOrphans(deps: AdminDeps): Promise<OrphanSurvey> {
  const pageSize = deps.settings.listPageSize;
  // An object whose instance has a record is never an orphan, whatever cluster it is seen on: two
  // configured clusters may be one API server (in-cluster and a kubeconfig of the same cluster),
  // and deleting "copies" there would delete live instances. A record that does not decode is
  // still a record (its label names its instance): its instance's objects are not orphans.
  const live = await deps.records.recordedInstanceIds(pageSize);
  const placements = await recordedPlacements(deps);
  const kinds = orphanKinds(deps);
  const { installation } = deps.settings;
  const ours = `${MANAGED_BY_LABEL}=${MANAGED_BY},${INSTANCE_ID_LABEL},${installationSelector(installation)}`;
  const unlabelled = `${MANAGED_BY_LABEL}=${MANAGED_BY},${INSTANCE_ID_LABEL},!${INSTALLATION_LABEL}`;
  const young = youngerThan(deps.settings.orphanMinAgeSeconds);
  const { items, clustersNotRead } = await readClusters(deps, deps.clusters.names, async (kube, cluster) => {
    const inCluster: ({ orphan: Orphan } | { kept: KeptObject })[] = [];
    for (const ns of listedNamespaces(deps, cluster, placements)) {
      const candidates = (selector: string, take: (listed: Listed) => void) =>
        Promise.all(kinds.map((k) => eachListed(kube, { k, ns, labelSelector: selector, limit: pageSize }, take)));
      const orphan = ({ k, o }: Listed): Orphan | undefined => {
        const instanceId = o.metadata.labels?.[INSTANCE_ID_LABEL] ?? '';
        // Owned objects (Pods of a ReplicaSet...) go with their owner: list the owner only.
        if (live.has(instanceId) || (o.metadata.ownerReferences as unknown[] | undefined)?.length) return undefined;
        return {
          cluster,
          apiVersion: k.apiVersion,
          kind: k.kind,
          ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
          name: o.metadata.name,
          instanceId,
        };
      };
      await candidates(ours, (listed) => {
        const found = orphan(listed);
        if (found && young(listed.o.metadata.creationTimestamp)) inCluster.push({ kept: { ...found, reason: 'younger than ORPHAN_MIN_AGE' } });
        else if (found) inCluster.push({ orphan: found });
      });
      // Unlabelled objects are only looked for in the broker's own namespaces: cluster-wide (the
      // per-instance strategy) they are as likely another broker's as this one's.
      if (ns)
        await candidates(unlabelled, (listed) => {
          const found = orphan(listed);
          if (found) inCluster.push({ kept: { ...found, reason: 'no installation label: made before installations were labelled, or by another broker' } });
        });
    }
    return inCluster;
  });
  const survey: OrphanSurvey = {
    orphans: items.flatMap((i) => ('orphan' in i ? [i.orphan] : [])),
    kept: items.flatMap((i) => ('kept' in i ? [i.kept] : [])),
    clustersNotRead,
  };
  for (const b of await deps.records.bindingsOfGoneInstances((id) => live.has(id), pageSize)) {
    const found = {
      cluster: deps.clusters.defaultName,
      apiVersion: 'v1',
      kind: 'Secret',
      namespace: deps.records.namespace,
      name: `binding ${b.bindingId}`,
      instanceId: b.instanceId,
    };
    if (young(b.createdAt)) survey.kept.push({ ...found, reason: 'younger than ORPHAN_MIN_AGE' });
    else survey.orphans.push(found);
  }
  // The same object is found once per namespace pass when listing cluster-wide kinds.
  const once = <T extends Orphan>(list: T[]) => [...new Map(list.map((o) => [`${o.cluster}/${o.kind}/${o.namespace ?? ''}/${o.name}`, o])).values()];
  return { orphans: once(survey.orphans), kept: once(survey.kept), clustersNotRead };
}

export interface OrphansDeleted {
  deleted: number;
  /** What the broker's identity may not delete (the API's, under the per-instance overlay: namespaces), and how to. */
  refused: string[];
}

/**
 * Deletes the orphans found, each only if its instance still has no record: one recorded since
 * the listing (a provision just accepted) is live.
 */
export async function deleteOrphans(deps: AdminDeps, orphans: Orphan[]): Promise<OrphansDeleted> {
  const result: OrphansDeleted = { deleted: 0, refused: [] };
  for (const o of orphans) {
    if (await deps.records.hasInstanceRecord(o.instanceId)) continue;
    try {
      const ok = o.name.startsWith('binding ') ? await deps.records.deleteBinding(o.name.slice('binding '.length)) : await deleteIfStillOrphan(deps, o);
      if (ok) result.deleted++;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 403)) throw err;
      const what = `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
      result.refused.push(
        `${what} on cluster ${o.cluster}: this identity may not delete it; run \`kubernetes-broker orphans --delete\` with a kubeconfig that may, or delete it with kubectl`,
      );
    }
  }
  return result;
}

/**
 * Reads the object again and deletes that very one (its uid), only if it still is this
 * installation's, of that instance, and old enough: not one made again under its name since.
 * Read by listing (the API may list and delete instance objects, not get them).
 */
async function deleteIfStillOrphan(deps: AdminDeps, o: Orphan): Promise<boolean> {
  const kube = deps.clusters.get(o.cluster);
  const selector = `${INSTANCE_ID_LABEL}=${o.instanceId},${installationSelector(deps.settings.installation)}`;
  const [now] = (await kube.list(o.apiVersion, o.kind, o.namespace, { labelSelector: selector, fieldSelector: `metadata.name=${o.name}` })).items;
  if (!now) return false;
  if (youngerThan(deps.settings.orphanMinAgeSeconds)(now.metadata.creationTimestamp)) return false;
  try {
    return await kube.delete(o.apiVersion, o.kind, o.namespace, o.name, now.metadata.uid as string | undefined);
  } catch (err) {
    // 409: the uid precondition failed, another object has the name now.
    if (err instanceof KubeApiError && err.status === 409) return false;
    throw err;
  }
}

/** Whether a creation time is less than `seconds` ago; an unknown one counts as young. */
function youngerThan(seconds: number): (created: unknown) => boolean {
  const limit = Date.now() - seconds * 1000;
  return (created) => {
    const at = typeof created === 'string' ? Date.parse(created) : NaN;
    return Number.isNaN(at) || at > limit;
  };
}

interface Listed {
  k: KindRef;
  o: KubernetesObject;
}

/**
 * Hands each object of a kind the selector matches to `take`, from metadata-only pages (the survey
 * needs labels, owners and age, never data). A kind the cluster does not serve has none.
 */
async function eachListed(
  kube: KubeApi,
  { k, ns, labelSelector, limit }: { k: KindRef; ns: string; labelSelector: string; limit: number | undefined },
  take: (listed: Listed) => void,
): Promise<void> {
  const namespace = k.kind === 'Namespace' ? undefined : ns || undefined;
  try {
    for await (const page of kube.pages(k.apiVersion, k.kind, namespace, { labelSelector, metadataOnly: true, limit })) for (const o of page) take({ k, o });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return;
    throw err;
  }
}
