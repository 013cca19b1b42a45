// What activities need from the process that runs them; built once by the worker.
import { nameSchemeOf } from '../catalog/naming.js';
import type { NamespaceStrategy } from '../platform/kube/namespaces.js';
import type { Catalog, InstanceValues } from '../catalog/types.js';
import type { KubeClusters } from '../platform/kube/clusters.js';
import type { RecordStore, StoredInstance } from '../platform/kube/records.js';

export interface ActivitySettings {
  /** `$storage_class` of templates; '' for the cluster's default class. */
  storageClass: string;
  /** Credentials carry NodePort/LoadBalancer addresses instead of cluster DNS names. */
  externalAddresses: boolean;
  /** Host of NodePort Services when externalAddresses is on. */
  externalHost?: string | undefined;
  /** Per-instance namespaces are in use: deprovision also sweeps Namespaces. */
  perInstanceNamespaces: boolean;
  /** Where instances' objects go (broker/namespaces.ts): an input naming another namespace is refused. */
  namespaceStrategy: NamespaceStrategy;
  /** The fixed strategy's namespace (and the context strategy's when the context names none). */
  instanceNamespace: string;
  /** This broker's identity, labelled on every object it makes (platform/kube/installation.ts). */
  installation: string;
  /** Apply each instance's isolating NetworkPolicy (platform/kube/instance-network-policy.ts). */
  instanceNetworkPolicies: boolean;
}

export interface ActivityDeps {
  /** The target clusters; an activity uses the one the instance is recorded on. */
  clusters: KubeClusters;
  /** Records live in the default cluster. */
  records: RecordStore;
  catalog: Catalog;
  settings: ActivitySettings;
}

/** What a stored instance gives its templates (objects, hooks, credentials mappings). */
export function instanceValues(
  { record, randoms }: StoredInstance,
  settings: ActivitySettings,
  overrides: Partial<Pick<InstanceValues, 'parameters' | 'bindingId'>> = {},
): InstanceValues {
  return {
    instanceId: record.instanceId,
    org: record.org,
    space: record.space,
    namespace: record.namespace,
    storageClass: settings.storageClass,
    parameters: record.parameters,
    randoms,
    nameScheme: nameSchemeOf(record),
    ...overrides,
  };
}
