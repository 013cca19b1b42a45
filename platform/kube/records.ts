// Durable records of instances and bindings: one Secret each in the broker's namespace, so
// they outlive worker restarts and Temporal's history retention, and a binding's credentials
// sit where Kubernetes keeps secrets. Written by activities, read by the API.
import { createHash } from 'node:crypto';
import type { KubernetesObject, Randoms } from '../../catalog/types.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import type { KubeApi } from './api.js';
import { KubeApiError } from './errors.js';

export const FIELD_MANAGER = 'kubernetes-broker';
export const RECORD_LABEL = 'kubernetes-broker.io/record';
export const RECORD_INSTANCE_LABEL = 'kubernetes-broker.io/instance-id';
export const RECORD_BINDING_LABEL = 'kubernetes-broker.io/binding-id';

export type InstanceState = 'provisioning' | 'ready' | 'updating' | 'deprovisioning';

export interface InstanceRecord {
  instanceId: string;
  serviceId: string;
  planId: string;
  parameters: Record<string, unknown>;
  /** The OSB `context` object of the last provision or update. */
  context: Record<string, unknown>;
  org: string;
  space: string;
  /** Namespace of the instance's objects. */
  namespace: string;
  /** The namespace was made for this instance (per-instance strategy) and goes with it. */
  ownsNamespace: boolean;
  /**
   * The target cluster its objects are on, chosen at provision (platform/config/clusters.ts). Absent in
   * records written before several clusters existed: the default cluster.
   */
  cluster?: string;
  state: InstanceState;
  /**
   * Every kind of object applied for the instance over all the plans it ran, and its hooks' Jobs
   * and Pods; written before the objects are. What its deprovision deletes (platform/kube/owned-kinds.ts).
   * Absent in records written before it was kept: every kind the broker knows.
   */
  kinds?: { apiVersion: string; kind: string }[];
  /** What the instance ran before the update in flight: the rollback target. */
  previous?: { planId: string; parameters: Record<string, unknown> };
  maintenanceInfo?: { version: string };
  createdAt: string;
  updatedAt: string;
}

export interface BindingRecord {
  bindingId: string;
  instanceId: string;
  serviceId: string;
  planId: string;
  parameters: Record<string, unknown>;
  bindResource?: Record<string, unknown>;
  context: Record<string, unknown>;
  /** OSB endpoints: the hosts and ports the credentials point to. Not secret. */
  endpoints?: { host: string; ports: string[] }[];
  createdAt: string;
}

export type Credentials = Record<string, unknown>;

interface Secret extends KubernetesObject {
  type?: string;
  data?: Record<string, string>;
}

/** A Secret name for an id: readable when the id is a DNS label already, hashed otherwise. */
export function recordName(kind: 'instance' | 'binding', id: string): string {
  const readable = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(id);
  return `kb-${kind}-${readable ? id : createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
const decode = <T>(data: Record<string, string> | undefined, key: string): T => {
  const raw = data?.[key];
  if (raw === undefined) throw new Error(`record is missing ${key}`);
  return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as T;
};

export interface StoredInstance {
  record: InstanceRecord;
  randoms: Randoms;
}

export class RecordStore {
  constructor(
    private readonly kube: KubeApi,
    readonly namespace: string,
  ) {}

  // ---- instances ------------------------------------------------------------------------

  async getInstance(instanceId: string): Promise<StoredInstance | undefined> {
    const secret = await this.read(recordName('instance', instanceId));
    if (!secret || secret.metadata.labels?.[RECORD_INSTANCE_LABEL] !== instanceId) return undefined;
    return { record: decode(secret.data, 'record'), randoms: decode(secret.data, 'randoms') };
  }

  /** Creates the record; when it exists already (a retried activity), returns the stored one. */
  async createInstance(record: InstanceRecord, randoms: Randoms): Promise<StoredInstance> {
    const secret = this.secret('instance', record.instanceId, { [RECORD_INSTANCE_LABEL]: record.instanceId }, {
      record: encode(record),
      randoms: encode(randoms),
    });
    try {
      await this.kube.create(secret, { fieldManager: FIELD_MANAGER });
      return { record, randoms };
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      const existing = await this.getInstance(record.instanceId);
      if (!existing) throw err;
      return existing;
    }
  }

  /** Read-modify-write with optimistic concurrency; returns the new record. */
  async updateInstance(instanceId: string, change: (r: InstanceRecord) => InstanceRecord): Promise<InstanceRecord> {
    for (;;) {
      const secret = await this.read(recordName('instance', instanceId));
      if (!secret) throw new Error(`instance ${instanceId} has no record`);
      const updated = { ...change(decode<InstanceRecord>(secret.data, 'record')), updatedAt: new Date().toISOString() };
      secret.data = { ...secret.data, record: encode(updated) };
      try {
        await this.kube.replace(secret, { fieldManager: FIELD_MANAGER });
        return updated;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      }
    }
  }

  async deleteInstance(instanceId: string): Promise<void> {
    await this.kube.delete('v1', 'Secret', this.namespace, recordName('instance', instanceId));
  }

  async listInstances(): Promise<InstanceRecord[]> {
    const list = await this.kube.list<Secret>('v1', 'Secret', this.namespace, { labelSelector: `${RECORD_LABEL}=instance` });
    return list.items.map((s) => decode<InstanceRecord>(s.data, 'record'));
  }

  // ---- bindings -------------------------------------------------------------------------

  async getBinding(bindingId: string): Promise<{ record: BindingRecord; credentials: Credentials } | undefined> {
    const secret = await this.read(recordName('binding', bindingId));
    if (!secret || secret.metadata.labels?.[RECORD_BINDING_LABEL] !== bindingId) return undefined;
    return { record: decode(secret.data, 'record'), credentials: decode(secret.data, 'credentials') };
  }

  /** Stores a binding and its credentials; idempotent for a retried activity. */
  async createBinding(record: BindingRecord, credentials: Credentials): Promise<void> {
    const labels = { [RECORD_INSTANCE_LABEL]: record.instanceId, [RECORD_BINDING_LABEL]: record.bindingId };
    const secret = this.secret('binding', record.bindingId, labels, { record: encode(record), credentials: encode(credentials) });
    try {
      await this.kube.create(secret, { fieldManager: FIELD_MANAGER });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  }

  async deleteBinding(bindingId: string): Promise<boolean> {
    return this.kube.delete('v1', 'Secret', this.namespace, recordName('binding', bindingId));
  }

  async listBindings(instanceId?: string): Promise<BindingRecord[]> {
    const selector = `${RECORD_LABEL}=binding${instanceId ? `,${RECORD_INSTANCE_LABEL}=${instanceId}` : ''}`;
    const list = await this.kube.list<Secret>('v1', 'Secret', this.namespace, { labelSelector: selector });
    return list.items.map((s) => decode<BindingRecord>(s.data, 'record'));
  }

  // ---- helpers --------------------------------------------------------------------------

  private async read(name: string): Promise<Secret | undefined> {
    return this.kube.get<Secret>('v1', 'Secret', this.namespace, name);
  }

  private secret(kind: 'instance' | 'binding', id: string, labels: Record<string, string>, data: Record<string, string>): Secret {
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: `kubernetes-broker.io/${kind}`,
      metadata: {
        name: recordName(kind, id),
        namespace: this.namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RECORD_LABEL]: kind, ...labels },
      },
      data,
    };
  }
}
