// The one table of Kubernetes kinds the catalog knows: which file-name prefix implies which kind
// (the old broker's convention), in which order objects are created, which kinds run pods and
// which are cluster-scoped. Everybody else asks here instead of listing kinds again.

/** File-name prefixes of the old catalog layout, for files whose object has no `kind`. Longest first. */
const FILE_PREFIX_KINDS: ReadonlyArray<readonly [prefix: string, kind: string]> = [
  ['persistentvolumeclaim', 'PersistentVolumeClaim'],
  ['replicationcontroller', 'ReplicationController'],
  ['serviceaccount', 'ServiceAccount'],
  ['statefulset', 'StatefulSet'],
  ['deployment', 'Deployment'],
  ['configmap', 'ConfigMap'],
  ['account', 'ServiceAccount'],
  ['service', 'Service'],
  ['secret', 'Secret'],
  ['job', 'Job'],
];

/** The kind a file name implies (`service-master.json` => Service), or undefined. */
export function kindFromFileName(fileName: string): string | undefined {
  const base = fileName.toLowerCase();
  return FILE_PREFIX_KINDS.find(([prefix]) => base.startsWith(prefix))?.[1];
}

/** apiVersion assumed for a prefix-implied kind whose object names none. */
export const DEFAULT_API_VERSIONS: Readonly<Record<string, string>> = {
  PersistentVolumeClaim: 'v1',
  ReplicationController: 'v1',
  ServiceAccount: 'v1',
  StatefulSet: 'apps/v1',
  Deployment: 'apps/v1',
  ConfigMap: 'v1',
  Service: 'v1',
  Secret: 'v1',
  Job: 'batch/v1',
};

/**
 * Kinds that run pods, in creation order. A plan needs at least one; their pod templates get the
 * instance labels. What a workload references (accounts, secrets, config, claims) is created first.
 */
export const WORKLOAD_KINDS: readonly string[] = ['StatefulSet', 'Deployment', 'ReplicaSet', 'DaemonSet', 'ReplicationController', 'Job', 'Pod'];

/** Kinds with a pod template at `spec.template`. (Pod is its own pod; CronJob nests one level deeper.) */
export const POD_TEMPLATE_KINDS: readonly string[] = WORKLOAD_KINDS.filter((k) => k !== 'Pod');

/** Where an object of a kind keeps its pod template, if it has one (a Pod has none: it is one). */
export function podTemplatePath(kind: string): readonly string[] | undefined {
  if (POD_TEMPLATE_KINDS.includes(kind)) return ['spec', 'template'];
  if (kind === 'CronJob') return ['spec', 'jobTemplate', 'spec', 'template'];
  return undefined;
}

/** Kinds without a namespace; the renderer leaves their `metadata.namespace` unset. */
export const CLUSTER_SCOPED_KINDS: readonly string[] = [
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'CustomResourceDefinition',
  'PriorityClass',
];

/** Kinds whose objects Kubernetes itself defines (as opposed to custom resources). */
const BUILTIN_KINDS = new Set<string>([
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'PersistentVolumeClaim',
  'Service',
  'Role',
  'RoleBinding',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'Ingress',
  'CronJob',
  'LimitRange',
  'ResourceQuota',
  'Endpoints',
  'EndpointSlice',
  ...WORKLOAD_KINDS,
  ...CLUSTER_SCOPED_KINDS,
]);

/** Custom resources may create Services or pods the templates do not show (an operator's CRs). */
export function isBuiltinKind(kind: string): boolean {
  return BUILTIN_KINDS.has(kind);
}

// Creation order: accounts, secrets, config, claims, everything else, workloads, then Services.
const RANK_BEFORE: Readonly<Record<string, number>> = {
  ServiceAccount: 0,
  Secret: 1,
  ConfigMap: 2,
  PersistentVolumeClaim: 3,
};
const OTHER_RANK = 4;
const WORKLOAD_RANK = 5;
const SERVICE_RANK = WORKLOAD_RANK + WORKLOAD_KINDS.length;

/** Position of a kind in creation order (deletion runs the reverse). Unknown kinds share one rank. */
export function creationRank(kind: string): number {
  const before = RANK_BEFORE[kind];
  if (before !== undefined) return before;
  const workload = WORKLOAD_KINDS.indexOf(kind);
  if (workload >= 0) return WORKLOAD_RANK + workload;
  return kind === 'Service' ? SERVICE_RANK : OTHER_RANK;
}

export function isWorkloadKind(kind: string): boolean {
  return WORKLOAD_KINDS.includes(kind);
}

export function isClusterScopedKind(kind: string): boolean {
  return CLUSTER_SCOPED_KINDS.includes(kind);
}
