// The operator tools' dependencies from configuration, shared by the admin routes and the CLI.
import type { Client } from '@temporalio/client';
import type { AdminDeps } from '../api/admin/deps.js';
import { ALL_NAMESPACES } from '../api/admin/namespaces.js';
import type { Catalog } from '../catalog/types.js';
import type { Config } from '../platform/config/config.js';
import type { KubeClusters } from '../platform/kube/clusters.js';
import type { RecordStore } from '../platform/kube/records.js';
import { installationOf } from '../platform/kube/installation.js';

export function adminDepsFor(config: Config, clients: { client: Client; clusters: KubeClusters; records: RecordStore; catalog: Catalog }): AdminDeps {
  return {
    ...clients,
    settings: {
      temporalNamespace: config.TEMPORAL_NAMESPACE,
      temporalUiUrl: config.TEMPORAL_UI_URL,
      // Fixed namespace: only there. Per instance: anywhere (the overlay's ClusterRoleBindings).
      // From the platform's context: the fixed one and those the records name (RoleBindings there).
      instanceNamespaces: config.NAMESPACE_STRATEGY === 'per-instance' ? [ALL_NAMESPACES] : [config.INSTANCE_NAMESPACE],
      recordedNamespaces: config.NAMESPACE_STRATEGY === 'context',
      perInstanceNamespaces: config.NAMESPACE_STRATEGY === 'per-instance',
      installation: installationOf(config),
      orphanMinAgeSeconds: config.ORPHAN_MIN_AGE,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      defaultTimeoutSeconds: config.DEFAULT_OPERATION_TIMEOUT,
    },
  };
}
