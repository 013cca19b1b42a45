// Reading several clusters for one view: a cluster that cannot be read (unreachable, refusing the
// broker's identity, no longer configured) is named in the answer with the reason, and the view
// shows what the others hold instead of failing as a whole.
import type { KubeApi } from '../../platform/kube/api.js';
import type { AdminDeps } from './deps.js';

export interface ClusterNotRead {
  cluster: string;
  /** What went wrong, as the Kubernetes client said it: the operator's lead. */
  problem: string;
}

export interface ClusterReads<T> {
  items: T[];
  /** Empty when every cluster was read; otherwise what is missing from `items`. */
  clustersNotRead: ClusterNotRead[];
}

/** `read` on each named cluster at once; their items together, and the clusters whose read failed. */
export async function readClusters<T>(deps: AdminDeps, clusters: string[], read: (kube: KubeApi, cluster: string) => Promise<T[]>): Promise<ClusterReads<T>> {
  const results = await Promise.all(
    clusters.map(async (cluster): Promise<ClusterReads<T>> => {
      try {
        return { items: await read(deps.clusters.get(cluster), cluster), clustersNotRead: [] };
      } catch (err) {
        return { items: [], clustersNotRead: [{ cluster, problem: (err as Error).message }] };
      }
    }),
  );
  return { items: results.flatMap((r) => r.items), clustersNotRead: results.flatMap((r) => r.clustersNotRead) };
}
