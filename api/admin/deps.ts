// What the operator tools need: the same clients as the broker, plus where the Temporal UI is.
import type { Client } from '@temporalio/client';
import type { Catalog } from '../../catalog/types.js';
import type { KubeClusters } from '../../platform/kube/clusters.js';
import type { RecordStore } from '../../platform/kube/records.js';

export interface AdminDeps {
  client: Client;
  /** Every target cluster; an instance's objects are on the one its record names. */
  clusters: KubeClusters;
  records: RecordStore;
  catalog: Catalog;
  settings: {
    temporalNamespace: string;
    temporalUiUrl?: string | undefined;
    /** Namespaces that may hold instance objects: the fixed one, or all ('' = cluster-wide). */
    instanceNamespaces: string[];
    /**
     * Also every namespace an instance record names (the `context` strategy, whose documented rights
     * are per namespace): listed one by one, never cluster-wide (api/admin/namespaces.ts).
     */
    recordedNamespaces: boolean;
    perInstanceNamespaces: boolean;
    /** This broker's identity (platform/kube/installation.ts): orphans are only what carries it. */
    installation: string;
    /** Objects younger than this are never orphans (they may be an operation's, being made). */
    orphanMinAgeSeconds: number;
    /**
     * Objects per page when a view reads a whole collection (records, the objects orphans are
     * looked for among); unset: the Kubernetes client's (platform/kube/api.ts LIST_PAGE_SIZE).
     */
    listPageSize?: number;
    /** Where the broker's workflows run: an upgrade is started there. */
    taskQueue: string;
    /** An update's deadline when its plan sets no maximum_polling_duration. */
    defaultTimeoutSeconds: number;
  };
}
