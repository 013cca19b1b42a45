// Durable records of instances and bindings: one Secret each in the broker's namespace, so
// they outlive worker restarts and Temporal's history retention, and a binding's credentials
// sit where Kubernetes keeps secrets. Written by activities, read by the API.
import { createHash } from 'node:crypto';
import type { KubernetesObject, NameScheme, Randoms } from '../../catalog/types.js';
import { MANAGED_BY, MANAGED_BY_LABEL, isValidLabelValue } from '../../catalog/labels.js';
import type { Logger } from '../observability/logger.js';
import type { KubeApi } from './api.js';
import { KubeApiError } from './errors.js';
import { INSTALLATION_LABEL } from './installation.js';
import { LabelledMarker } from './labelled-marker.js';
import type { InstanceCounts } from './instance-counts.js';

export const FIELD_MANAGER = 'kubernetes-broker';
export const RECORD_LABEL = 'kubernetes-broker.io/record';
export const RECORD_INSTANCE_LABEL = 'kubernetes-broker.io/instance-id';
export const RECORD_BINDING_LABEL = 'kubernetes-broker.io/binding-id';
/**
 * On instance records: the organization and the cluster, so that an organization's instances are
 * counted (quotas) from a label-selected list of metadata instead of every record's data.
 */
export const RECORD_ORG_LABEL = 'kubernetes-broker.io/org';
export const RECORD_CLUSTER_LABEL = 'kubernetes-broker.io/cluster';

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
   * The OSB operation token of the provision that made the record, then of the update under way
   * or last run: a retried step of that operation takes the record over, no other (activities/verify.ts).
   * Absent in records written before it was kept.
   */
  operation?: string;
  /**
   * Every kind of object applied for the instance over all the plans it ran, and its hooks' Jobs
   * and Pods; written before the objects are. What its deprovision deletes (platform/kube/owned-kinds.ts).
   * Absent in records written before it was kept: every kind the broker knows.
   */
  kinds?: { apiVersion: string; kind: string }[];
  /**
   * How its object names are made from its id (catalog/naming.ts), for its whole life. Absent in
   * records written before there was a choice: `legacy`.
   */
  nameScheme?: NameScheme;
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

/**
 * A label value that stands for one organization or cluster name: the name itself when it is a
 * valid label value (CF GUIDs are), else a hash of it, marked so that it cannot be read as a name.
 */
export function labelValueFor(name: string): string {
  return isValidLabelValue(name) && !name.startsWith('sha256.') ? name : `sha256.${createHash('sha256').update(name).digest('hex').slice(0, 48)}`;
}

/** The labels an instance record carries for what it is counted by (see RECORD_ORG_LABEL). */
function countingLabels(record: Pick<InstanceRecord, 'org' | 'cluster'>): Record<string, string> {
  return {
    [RECORD_ORG_LABEL]: labelValueFor(record.org ?? ''),
    // Cluster names are label values already (platform/config/clusters.ts).
    ...(record.cluster === undefined ? {} : { [RECORD_CLUSTER_LABEL]: record.cluster }),
  };
}

/** What a quota counts of one instance: its organization, and its cluster (absent: the default). */
export interface CountedInstance {
  org: string;
  cluster?: string;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
const decode = <T>(data: Record<string, string> | undefined, key: string): T => {
  const raw = data?.[key];
  if (raw === undefined) throw new Error(`record is missing ${key}`);
  return JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as T;
};

/**
 * A record Secret that does not decode (edited by hand, written by a broken tool...). Listings
 * skip it, so that one bad Secret does not fail every quota check and admin view, and operators
 * see it by name. Its labels still say whose it is: callers that would delete what has no record
 * (orphans) treat its instance as recorded.
 */
export interface UnreadableRecord {
  name: string;
  instanceId?: string;
  bindingId?: string;
  problem: string;
}

export interface RecordScan<T> {
  records: T[];
  unreadable: UnreadableRecord[];
}

/** The fields every reader relies on; a record without them is unreadable, not half-read. */
const REQUIRED_FIELDS = {
  instance: ['instanceId', 'serviceId', 'planId', 'namespace', 'state'],
  binding: ['bindingId', 'instanceId', 'serviceId', 'planId'],
} as const;

function decodeRecord<T>(kind: 'instance' | 'binding', secret: Secret): T {
  const record = decode<Record<string, unknown>>(secret.data, 'record');
  if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error('record is not a JSON object');
  const missing = REQUIRED_FIELDS[kind].filter((f) => typeof record[f] !== 'string');
  if (missing.length) throw new Error(`record lacks ${missing.join(', ')}`);
  return record as T;
}

/** An instance's record Secret being read ahead of an update (RecordStore.readAhead); opaque to callers. */
export type RecordReadAhead = Promise<Secret | undefined> & { readonly __readAhead: true };

export interface StoredInstance {
  record: InstanceRecord;
  randoms: Randoms;
}

export class RecordStore {
  /** Names of unreadable records already logged: each is logged once per process. */
  private readonly reported = new Set<string>();
  /** Whether the labelling pass has left no record unlabelled (platform/kube/labelled-marker.ts). */
  private readonly labelled: LabelledMarker;

  constructor(
    private readonly kube: KubeApi,
    readonly namespace: string,
    private readonly logger?: Logger,
    /** Labelled on the records it writes (platform/kube/installation.ts); the worker's is the one that writes. */
    private readonly installation?: string,
    /** The API's count of the labelled records (quotas configured): while synced, quotas list nothing. */
    private readonly counts?: InstanceCounts,
  ) {
    this.labelled = new LabelledMarker(kube, namespace);
  }

  // ---- instances ------------------------------------------------------------------------

  async getInstance(instanceId: string): Promise<StoredInstance | undefined> {
    const secret = await this.read(recordName('instance', instanceId));
    if (!secret || secret.metadata.labels?.[RECORD_INSTANCE_LABEL] !== instanceId) return undefined;
    return { record: decode(secret.data, 'record'), randoms: decode(secret.data, 'randoms') };
  }

  /** Creates the record; when it exists already (a retried activity), returns the stored one. */
  async createInstance(record: InstanceRecord, randoms: Randoms): Promise<StoredInstance> {
    const secret = this.secret(
      'instance',
      record.instanceId,
      { [RECORD_INSTANCE_LABEL]: record.instanceId, ...countingLabels(record) },
      {
        record: encode(record),
        randoms: encode(randoms),
      },
    );
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

  /**
   * Starts reading an instance's record now, for an update that comes later (updateInstance's
   * `readAhead`): that update then costs one request when it is due, not two. Never rejects: a
   * failed read is read again by the update.
   */
  readAhead(instanceId: string): RecordReadAhead {
    return this.read(recordName('instance', instanceId)).catch(() => undefined) as RecordReadAhead;
  }

  /**
   * Read-modify-write with optimistic concurrency; returns the new record. `readAhead`: a read
   * made earlier, written over only if the record is still at that version (else it is read afresh).
   */
  async updateInstance(instanceId: string, change: (r: InstanceRecord) => InstanceRecord, readAhead?: RecordReadAhead): Promise<InstanceRecord> {
    let earlier: Promise<Secret | undefined> | undefined = readAhead;
    for (;;) {
      // A record the early read did not find (or could not read) is asked about again.
      const secret = (earlier && (await earlier)) || (await this.read(recordName('instance', instanceId)));
      earlier = undefined;
      if (!secret) throw new Error(`instance ${instanceId} has no record`);
      const updated = { ...change(decode<InstanceRecord>(secret.data, 'record')), updatedAt: new Date().toISOString() };
      secret.data = { ...secret.data, record: encode(updated) };
      // A record written before the counting and installation labels gets them on its next write.
      secret.metadata.labels = { ...secret.metadata.labels, ...countingLabels(updated), ...this.installationLabel() };
      try {
        await this.kube.replace(secret, { fieldManager: FIELD_MANAGER });
        return updated;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      }
    }
  }

  /**
   * Whether the instance has a record Secret, readable or not: what would delete the objects of an
   * instance without one (orphans) asks this just before it deletes.
   */
  async hasInstanceRecord(instanceId: string): Promise<boolean> {
    return (await this.read(recordName('instance', instanceId))) !== undefined;
  }

  async deleteInstance(instanceId: string): Promise<void> {
    await this.kube.delete('v1', 'Secret', this.namespace, recordName('instance', instanceId));
  }

  /** Every readable instance record; unreadable ones are skipped (and logged once each). */
  async listInstances(): Promise<InstanceRecord[]> {
    return (await this.scanInstances()).records;
  }

  /** Every instance record, and the record Secrets that do not decode. */
  async scanInstances(): Promise<RecordScan<InstanceRecord>> {
    return this.scan('instance', `${RECORD_LABEL}=instance`);
  }

  /**
   * The instances of one organization, for its quota, without reading anyone's data: from the
   * API's count (instance-counts.ts) while it is synced, else a metadata-only list selected by the
   * organization label. Records written before that label existed (until the worker's labelling
   * pass or their next write labels them) are read and counted too, so that no instance escapes
   * its quota; once a recent pass says none is left (labelled-marker.ts), that second list is skipped.
   */
  async countedInstances(org: string): Promise<CountedInstance[]> {
    const orgValue = labelValueFor(org);
    const counted = this.counts?.counted(org, orgValue) ?? (await this.listCounted(org, orgValue));
    if (await this.labelled.allLabelled()) return counted;
    const unlabelled = await this.scan<InstanceRecord>('instance', `${RECORD_LABEL}=instance,!${RECORD_ORG_LABEL}`);
    for (const r of unlabelled.records) if (r.org === org) counted.push({ org, ...(r.cluster === undefined ? {} : { cluster: r.cluster }) });
    return counted;
  }

  /** The labelled records of one organization, from a label-selected list of their metadata. */
  private async listCounted(org: string, orgValue: string): Promise<CountedInstance[]> {
    const labelled = await this.kube.listAll<KubernetesObject>('v1', 'Secret', this.namespace, {
      labelSelector: `${RECORD_LABEL}=instance,${RECORD_ORG_LABEL}=${orgValue}`,
      metadataOnly: true,
    });
    return labelled.map((s) => {
      const cluster = s.metadata.labels?.[RECORD_CLUSTER_LABEL];
      return { org, ...(cluster === undefined ? {} : { cluster }) };
    });
  }

  /**
   * The labelling pass, then the marker stamped with when it began: every record that existed
   * then is labelled (or unreadable, which quotas skip anyway). The worker runs it at start and
   * every LABELLING_INTERVAL_MS; a pass that fails stamps nothing. Returns how many it labelled.
   */
  async labelAndStamp(): Promise<number> {
    const since = new Date();
    const labelled = await this.labelUnlabelledInstances();
    await this.labelled.stamp(since);
    return labelled;
  }

  /**
   * Gives the counting labels to instance records written before they existed; returns how many
   * it labelled. Idempotent, and safe beside other writers (a merge patch of labels only; a
   * record deleted meanwhile is skipped).
   */
  async labelUnlabelledInstances(): Promise<number> {
    let labelled = 0;
    for await (const page of this.kube.pages<Secret>('v1', 'Secret', this.namespace, { labelSelector: `${RECORD_LABEL}=instance,!${RECORD_ORG_LABEL}` })) {
      for (const secret of page) {
        let record: InstanceRecord;
        try {
          record = decodeRecord<InstanceRecord>('instance', secret);
        } catch {
          continue; // unreadable: listings report it; nothing to label it by
        }
        try {
          await this.kube.mergePatch('v1', 'Secret', this.namespace, secret.metadata.name, {
            metadata: { labels: { ...countingLabels(record), ...this.installationLabel() } },
          });
          labelled++;
        } catch (err) {
          if (!(err instanceof KubeApiError && err.status === 404)) throw err;
        }
      }
    }
    return labelled;
  }

  /**
   * One page of instance records (of one organization: selected by its label, which the worker's
   * start-up pass gives every record), in the order of their Secrets' names: for listings whose
   * memory must not grow with the registry. `continue` is absent on the last page.
   */
  async scanInstancesPage(page: {
    limit: number;
    continue?: string | undefined;
    org?: string | undefined;
  }): Promise<RecordScan<InstanceRecord> & { continue?: string }> {
    const { org, ...query } = page;
    const labelSelector = `${RECORD_LABEL}=instance${org === undefined ? '' : `,${RECORD_ORG_LABEL}=${labelValueFor(org)}`}`;
    const { items, continue: next } = await this.kube.listPage<Secret>('v1', 'Secret', this.namespace, { labelSelector, ...query });
    const scan = this.decodeAll<InstanceRecord>('instance', items);
    // A hashed label value stands for its name only with near certainty: the record says.
    if (org !== undefined) scan.records = scan.records.filter((r) => r.org === org);
    return { ...scan, ...(next ? { continue: next } : {}) };
  }

  /**
   * Every instance record a page at a time, decoded: for readers that keep only a little of each
   * (a few fields, the records of one plan), so that memory follows the page, not the registry.
   */
  async *scanInstancePages(limit?: number): AsyncGenerator<RecordScan<InstanceRecord>> {
    for await (const page of this.kube.pages<Secret>('v1', 'Secret', this.namespace, { labelSelector: `${RECORD_LABEL}=instance`, limit }))
      yield this.decodeAll<InstanceRecord>('instance', page);
  }

  /** The readable instance records `keep` selects, read a page at a time (see `scanInstancePages`). */
  async instancesWhere(keep: (r: InstanceRecord) => boolean): Promise<InstanceRecord[]> {
    const kept: InstanceRecord[] = [];
    for await (const page of this.scanInstancePages()) kept.push(...page.records.filter(keep));
    return kept;
  }

  /**
   * The id of every instance that has a record Secret, readable or not (its instance label), from
   * metadata-only pages: what would delete the objects of an instance without a record (orphans)
   * needs, without reading anyone's data.
   */
  async recordedInstanceIds(limit?: number): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const page of this.kube.pages('v1', 'Secret', this.namespace, { labelSelector: `${RECORD_LABEL}=instance`, metadataOnly: true, limit })) {
      for (const s of page) {
        const id = s.metadata.labels?.[RECORD_INSTANCE_LABEL];
        if (id !== undefined) ids.add(id);
      }
    }
    return ids;
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

  /** Every readable binding record (of one instance); unreadable ones are skipped (and logged once each). */
  async listBindings(instanceId?: string): Promise<BindingRecord[]> {
    return (await this.scanBindings(instanceId)).records;
  }

  /** Every binding record (of one instance), and the record Secrets that do not decode. */
  async scanBindings(instanceId?: string): Promise<RecordScan<BindingRecord>> {
    return this.scan('binding', `${RECORD_LABEL}=binding${instanceId ? `,${RECORD_INSTANCE_LABEL}=${instanceId}` : ''}`);
  }

  /**
   * The readable binding records whose instance `isLive` denies: the labels of every binding read a
   * metadata-only page at a time, and only those whose instance label is not live read and decoded,
   * so that the orphans survey holds no one else's credentials.
   */
  async bindingsOfGoneInstances(isLive: (instanceId: string) => boolean, limit?: number): Promise<BindingRecord[]> {
    const found: BindingRecord[] = [];
    for await (const page of this.kube.pages('v1', 'Secret', this.namespace, { labelSelector: `${RECORD_LABEL}=binding`, metadataOnly: true, limit })) {
      for (const s of page) {
        const instanceId = s.metadata.labels?.[RECORD_INSTANCE_LABEL];
        if (instanceId !== undefined && isLive(instanceId)) continue;
        const secret = await this.read(s.metadata.name);
        if (!secret) continue; // deleted since the page was listed
        found.push(...this.decodeAll<BindingRecord>('binding', [secret]).records.filter((b) => !isLive(b.instanceId)));
      }
    }
    return found;
  }

  // ---- helpers --------------------------------------------------------------------------

  private async scan<T>(kind: 'instance' | 'binding', labelSelector: string): Promise<RecordScan<T>> {
    return this.decodeAll<T>(kind, await this.kube.listAll<Secret>('v1', 'Secret', this.namespace, { labelSelector }));
  }

  private decodeAll<T>(kind: 'instance' | 'binding', secrets: Secret[]): RecordScan<T> {
    const scan: RecordScan<T> = { records: [], unreadable: [] };
    for (const secret of secrets) {
      try {
        scan.records.push(decodeRecord<T>(kind, secret));
      } catch (err) {
        const labels = secret.metadata.labels ?? {};
        const bad: UnreadableRecord = {
          name: secret.metadata.name,
          ...(labels[RECORD_INSTANCE_LABEL] ? { instanceId: labels[RECORD_INSTANCE_LABEL] } : {}),
          ...(labels[RECORD_BINDING_LABEL] ? { bindingId: labels[RECORD_BINDING_LABEL] } : {}),
          problem: (err as Error).message,
        };
        scan.unreadable.push(bad);
        this.report(bad);
      }
    }
    return scan;
  }

  private report(bad: UnreadableRecord): void {
    if (this.reported.has(bad.name)) return;
    this.reported.add(bad.name);
    this.logger?.warn(
      { secret: `${this.namespace}/${bad.name}`, problem: bad.problem },
      'an instance or binding record does not decode and is skipped by listings; repair or delete the Secret',
    );
  }

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
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RECORD_LABEL]: kind, ...this.installationLabel(), ...labels },
      },
      data,
    };
  }

  private installationLabel(): Record<string, string> {
    return this.installation ? { [INSTALLATION_LABEL]: this.installation } : {};
  }
}
