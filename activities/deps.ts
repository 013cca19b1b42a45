// What activities need from the process that runs them; built once by the worker.
import type { Catalog } from '../catalog/types.js';
import type { KubeClusters } from '../kube/clusters.js';
import type { RecordStore } from '../kube/records.js';

export interface ActivitySettings {
  /** `$storage_class` of templates; '' for the cluster's default class. */
  storageClass: string;
  /** Credentials carry NodePort/LoadBalancer addresses instead of cluster DNS names. */
  externalAddresses: boolean;
  /** Host of NodePort Services when externalAddresses is on. */
  externalHost?: string | undefined;
  /** Per-instance namespaces are in use: deprovision also sweeps Namespaces. */
  perInstanceNamespaces: boolean;
}

export interface ActivityDeps {
  /** The target clusters; an activity uses the one the instance is recorded on. */
  clusters: KubeClusters;
  /** Records live in the default cluster. */
  records: RecordStore;
  catalog: Catalog;
  settings: ActivitySettings;
}
