// Reads what a binding's credentials are made of from the running instance: the environment
// of its containers (secretKeyRef and configMapKeyRef resolved) and the host names and ports
// of all its Services.
import { ApplicationFailure } from '@temporalio/activity';
import { HOOK_LABEL, instanceSelector } from '../catalog/labels.js';
import type { InstanceFacts, KubernetesObject, Plan, ServiceFacts } from '../catalog/types.js';
import type { KubeApi } from '../platform/kube/api.js';
import type { InstanceRecord } from '../platform/kube/records.js';
import type { ActivitySettings } from './deps.js';
import { NON_RETRYABLE } from './failures.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface EnvFrom {
  prefix?: string;
  secretRef?: { name: string; optional?: boolean };
  configMapRef?: { name: string; optional?: boolean };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: EnvFrom[];
  ports?: { name?: string; containerPort: number }[];
}
interface DataObject extends KubernetesObject {
  data?: Record<string, string>;
}
interface ServiceObject extends KubernetesObject {
  spec?: { type?: string; ports?: { name?: string; port: number; targetPort?: number | string; nodePort?: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

const WORKLOADS: Record<string, string> = {
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  ReplicationController: 'v1',
  Job: 'batch/v1',
  Pod: 'v1',
};

function containersOf(o: KubernetesObject): Container[] {
  const spec = (o as { spec?: { template?: { spec?: { containers?: Container[] } }; containers?: Container[] } }).spec;
  return (o.kind === 'Pod' ? spec?.containers : spec?.template?.spec?.containers) ?? [];
}

export async function readInstanceFacts(kube: KubeApi, record: InstanceRecord, plan: Plan, settings: ActivitySettings): Promise<InstanceFacts> {
  const selector = instanceSelector(record.instanceId);
  const ns = record.namespace;
  // Only the workload kinds this plan has: one list request each. Lifecycle hook Jobs are no
  // part of what the instance runs.
  const kinds = [...new Set(plan.templates.map((t) => t.kind).filter((k) => k in WORKLOADS))];
  const workloadSelector = `${selector},!${HOOK_LABEL}`;
  const workloads = (
    await Promise.all(
      kinds.map(async (k) => (await kube.list(WORKLOADS[k]!, k, ns, { labelSelector: workloadSelector })).items.map((o) => ({ ...o, kind: k }))),
    )
  ).flat();
  workloads.sort((a, b) => kinds.indexOf(a.kind) - kinds.indexOf(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
  const containers = workloads.flatMap(containersOf);

  const cache = new Map<string, Promise<DataObject | undefined>>();
  const read = (kind: 'Secret' | 'ConfigMap', name: string) => {
    const key = `${kind}/${name}`;
    if (!cache.has(key)) cache.set(key, kube.get<DataObject>('v1', kind, ns, name));
    return cache.get(key)!;
  };
  const value = async (kind: 'Secret' | 'ConfigMap', ref: { name: string; key: string; optional?: boolean }, envName: string) => {
    const obj = await read(kind, ref.name);
    const raw = obj?.data?.[ref.key];
    if (raw === undefined) {
      if (ref.optional) return undefined;
      throw ApplicationFailure.nonRetryable(
        `env ${envName} of instance ${record.instanceId} refers to ${kind} ${ns}/${ref.name} key ${ref.key}, which does not exist`,
        NON_RETRYABLE.invalidInput,
      );
    }
    return kind === 'Secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  };

  // The first container that defines a name wins, in the plan's order of workloads.
  const env: Record<string, string> = {};
  const set = (name: string, v: string | undefined) => {
    if (v !== undefined && !(name in env)) env[name] = v;
  };
  for (const c of containers) {
    for (const from of c.envFrom ?? []) {
      const ref = from.secretRef ?? from.configMapRef;
      if (!ref) continue;
      const obj = await read(from.secretRef ? 'Secret' : 'ConfigMap', ref.name);
      for (const [k, raw] of Object.entries(obj?.data ?? {})) {
        set(`${from.prefix ?? ''}${k}`, from.secretRef ? Buffer.from(raw, 'base64').toString('utf8') : raw);
      }
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) set(e.name, e.value);
      else if (e.valueFrom?.secretKeyRef) set(e.name, await value('Secret', e.valueFrom.secretKeyRef, e.name));
      else if (e.valueFrom?.configMapKeyRef) set(e.name, await value('ConfigMap', e.valueFrom.configMapKeyRef, e.name));
    }
  }

  const namedPorts = new Map<string, number>();
  for (const c of containers) for (const p of c.ports ?? []) if (p.name && !namedPorts.has(p.name)) namedPorts.set(p.name, p.containerPort);

  const services = (await kube.list<ServiceObject>('v1', 'Service', ns, { labelSelector: selector })).items;
  services.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  return { env, services: services.map((s) => serviceFacts(s, ns, namedPorts, settings)) };
}

function serviceFacts(s: ServiceObject, ns: string, namedPorts: Map<string, number>, settings: ActivitySettings): ServiceFacts {
  const type = s.spec?.type ?? 'ClusterIP';
  const external = settings.externalAddresses && (type === 'NodePort' || type === 'LoadBalancer');
  let hostname = `${s.metadata.name}.${ns}.svc.cluster.local`;
  if (external && type === 'LoadBalancer') {
    const ingress = s.status?.loadBalancer?.ingress?.[0];
    const address = ingress?.hostname ?? ingress?.ip;
    if (!address) throw new Error(`Service ${ns}/${s.metadata.name} has no load balancer address yet`);
    hostname = address;
  } else if (external) {
    // A node port with the cluster's DNS name reaches nothing: without the nodes' address, say what to set.
    if (!settings.externalHost) {
      throw ApplicationFailure.nonRetryable(
        `Service ${ns}/${s.metadata.name} is a NodePort and EXTERNAL_ADDRESSES is on, but EXTERNAL_HOST is not set: set it to the nodes' address that apps reach (or turn EXTERNAL_ADDRESSES off)`,
        NON_RETRYABLE.invalidInput,
      );
    }
    hostname = settings.externalHost;
  }
  const ports = (s.spec?.ports ?? []).map((p) => {
    const target = p.targetPort ?? p.port;
    return {
      ...(p.name ? { name: p.name } : {}),
      port: external && type === 'NodePort' && p.nodePort ? p.nodePort : p.port,
      targetPort: typeof target === 'number' ? target : (namedPorts.get(target) ?? Number(target)),
    };
  });
  return { name: s.metadata.name, hostname, ports };
}
