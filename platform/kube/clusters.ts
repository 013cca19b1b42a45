// The Kubernetes clients of every target cluster, built once at start-up from the clusters
// configuration (platform/config/clusters.ts). The default cluster is the broker's home: its records live
// there. Activities pick the client of the cluster an instance was recorded on.
import { KubeConfig } from '@kubernetes/client-node';
import type { ClustersConfig, ClusterTarget } from '../config/clusters.js';
import { KubeApi } from './api.js';
import { loadKubeConfig, type KubeSettings } from './connect.js';

export class UnknownClusterError extends Error {
  override readonly name = 'UnknownClusterError';
}

function kubeConfigOf(target: ClusterTarget, env: KubeSettings): KubeConfig {
  try {
    switch (target.source) {
      case 'env':
        return loadKubeConfig(env);
      case 'in-cluster': {
        const kc = new KubeConfig();
        kc.loadFromCluster();
        return kc;
      }
      case 'kubeconfig': {
        const kc = new KubeConfig();
        kc.loadFromFile(target.kubeconfig);
        if (target.context) {
          if (!kc.getContextObject(target.context)) {
            const known =
              kc
                .getContexts()
                .map((c) => c.name)
                .join(', ') || 'none';
            throw new Error(`context "${target.context}" is not in ${target.kubeconfig} (contexts: ${known})`);
          }
          kc.setCurrentContext(target.context);
        }
        return kc;
      }
    }
  } catch (err) {
    throw new Error(`cluster ${target.name}: ${(err as Error).message}`, { cause: err });
  }
}

export class KubeClusters {
  private constructor(
    private readonly apis: ReadonlyMap<string, KubeApi>,
    /** The default cluster: where unrouted instances go and where records live. */
    readonly defaultName: string,
  ) {}

  static connect(config: ClustersConfig, env: KubeSettings): KubeClusters {
    const apis = new Map<string, KubeApi>();
    for (const target of config.clusters) {
      const kc = kubeConfigOf(target, env);
      try {
        apis.set(target.name, new KubeApi(kc, target.name));
      } catch (err) {
        throw new Error(`cluster ${target.name}: ${(err as Error).message}`, { cause: err });
      }
    }
    return new KubeClusters(apis, config.defaultCluster);
  }

  get names(): string[] {
    return [...this.apis.keys()];
  }

  /** The default cluster's client. */
  get home(): KubeApi {
    return this.get(this.defaultName);
  }

  has(name: string | undefined): boolean {
    return this.apis.has(name ?? this.defaultName);
  }

  /** The client of a cluster; no name (a record from before clusters existed): the default. */
  get(name: string | undefined): KubeApi {
    const api = this.apis.get(name ?? this.defaultName);
    if (!api) throw new UnknownClusterError(`cluster ${name} is not configured (clusters: ${this.names.join(', ')}); add it to CLUSTERS_FILE again`);
    return api;
  }

  /** Every cluster with its client. */
  entries(): [string, KubeApi][] {
    return [...this.apis.entries()];
  }

  close(): void {
    for (const api of this.apis.values()) api.close();
  }
}
