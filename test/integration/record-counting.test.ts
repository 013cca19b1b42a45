// Quotas count one organization's instances from a label-selected list of record metadata, not
// from every record's data; records written before the labels existed still count, and the
// worker's labelling pass labels them; once a recent pass says none is left, a quota lists only the
// labelled ones. The API keeps the labelled counts from a watch of the records' metadata: while it
// is synced a quota check lists nothing; before its first list and after a lost watch it lists.
// Record listings page through the API server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import {
  FIELD_MANAGER,
  RECORD_CLUSTER_LABEL,
  RECORD_INSTANCE_LABEL,
  RECORD_LABEL,
  RECORD_ORG_LABEL,
  RecordStore,
  labelValueFor,
  recordName,
  type InstanceRecord,
} from '../../platform/kube/records.js';
import type { Randoms } from '../../catalog/types.js';
import { checkQuota } from '../../broker/quota.js';
import { SINGLE_CLUSTER, DEFAULT_CLUSTER } from '../../platform/config/clusters.js';
import type { KubeApi } from '../../platform/kube/api.js';
import { LABELLED_STALE_MS, LabelledMarker } from '../../platform/kube/labelled-marker.js';
import { testRecord } from './helpers/records.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';
import { InstanceCounts } from '../../platform/kube/instance-counts.js';
import { createLogger } from '../../platform/observability/logger.js';

const kube = kubeApi();
const id = suffix();
// A namespace of this test's own: counts are exact whatever else runs on the stack.
const NAMESPACE = `kb-counting-${id}`;
const records = new RecordStore(kube, NAMESPACE);
const ORG = `org-${id}`;
const OTHER_ORG = `other-${id}`;
const NO_RANDOMS = {} as Randoms;
const ODD_ORG = `An Org / ${id} with a name no label can hold`;

const record = testRecord;

/** A record as brokers before the counting labels wrote it. */
async function createUnlabelled(r: InstanceRecord, namespace = NAMESPACE) {
  await kube.create(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: recordName('instance', r.instanceId),
        namespace,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RECORD_LABEL]: 'instance', [RECORD_INSTANCE_LABEL]: r.instanceId },
      },
      data: { record: Buffer.from(JSON.stringify(r)).toString('base64'), randoms: Buffer.from('{}').toString('base64') },
    },
    { fieldManager: FIELD_MANAGER },
  );
}

const labelsOf = async (instanceId: string) => (await kube.get('v1', 'Secret', NAMESPACE, recordName('instance', instanceId)))?.metadata.labels ?? {};

beforeAll(async () => {
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }, { fieldManager: FIELD_MANAGER });
  await records.createInstance(record('a1', ORG), NO_RANDOMS);
  await records.createInstance(record('a2', ORG, 'b'), NO_RANDOMS);
  await records.createInstance(record('o1', OTHER_ORG), NO_RANDOMS);
  await records.createInstance(record('x1', ODD_ORG), NO_RANDOMS);
  await createUnlabelled(record('old1', ORG, 'b'));
  await createUnlabelled(record('old2', OTHER_ORG));
});

afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, NAMESPACE).catch(() => false);
  await kube.delete('v1', 'Namespace', undefined, MARKED).catch(() => false);
  await kube.delete('v1', 'Namespace', undefined, WATCHED).catch(() => false);
  kube.close();
});

describe('instance records', () => {
  it('carry their organization and cluster as labels; a name no label can hold is hashed', async () => {
    expect(await labelsOf('a2')).toMatchObject({ [RECORD_ORG_LABEL]: ORG, [RECORD_CLUSTER_LABEL]: 'b' });
    expect((await labelsOf('a1'))[RECORD_CLUSTER_LABEL]).toBeUndefined();
    expect((await labelsOf('x1'))[RECORD_ORG_LABEL]).toBe(labelValueFor(ODD_ORG));
    expect(labelValueFor(ODD_ORG)).toMatch(/^sha256\.[0-9a-f]{48}$/);
  });

  it("are counted per organization, the unlabelled ones of older brokers too, and no one else's", async () => {
    const counted = await records.countedInstances(ORG);
    expect(counted).toHaveLength(3);
    expect(counted.filter((c) => c.cluster === 'b')).toHaveLength(2);
    expect(await records.countedInstances(ODD_ORG)).toEqual([{ org: ODD_ORG }]);
    expect(await records.countedInstances(`nobody-${id}`)).toEqual([]);
  });

  it('get their labels from the start-up pass, once, and are still counted once', async () => {
    expect(await records.labelUnlabelledInstances()).toBe(2);
    expect(await labelsOf('old1')).toMatchObject({ [RECORD_ORG_LABEL]: ORG, [RECORD_CLUSTER_LABEL]: 'b' });
    expect(await records.labelUnlabelledInstances()).toBe(0);
    expect(await records.countedInstances(ORG)).toHaveLength(3);
    expect(await records.countedInstances(OTHER_ORG)).toHaveLength(2);
  });

  it('get their labels on their next write when they had none', async () => {
    await createUnlabelled(record('old3', OTHER_ORG, 'b'));
    await records.updateInstance('old3', (r) => ({ ...r, state: 'updating' }));
    expect(await labelsOf('old3')).toMatchObject({ [RECORD_ORG_LABEL]: OTHER_ORG, [RECORD_CLUSTER_LABEL]: 'b' });
  });
});

describe('listing', () => {
  it('pages through the API server, and a metadata-only page carries no data', async () => {
    const pages: { name: string; data?: unknown }[][] = [];
    for await (const page of kube.pages<{ apiVersion: string; kind: string; metadata: { name: string }; data?: unknown }>('v1', 'Secret', NAMESPACE, {
      labelSelector: `${RECORD_LABEL}=instance`,
      limit: 2,
      metadataOnly: true,
    })) {
      pages.push(page.map((s) => ({ name: s.metadata.name, data: s.data })));
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 2, 1]);
    expect(pages.flat().every((s) => s.data === undefined)).toBe(true);
    expect((await records.listInstances()).map((r) => r.instanceId).sort()).toEqual(['a1', 'a2', 'o1', 'old1', 'old2', 'old3', 'x1']);
  });
});

// A namespace of its own: its marker and its counts are this test's alone.
const MARKED = `kb-counting-marked-${id}`;

/** The real client against the real API server, counting the requests a quota check makes. */
function countingKube(): { kube: KubeApi; calls: Record<string, number>; reset: () => void } {
  const calls: Record<string, number> = {};
  const counted = new Proxy(kube, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || !['listAll', 'listPage', 'pages', 'list', 'get'].includes(String(prop))) return value;
      return (...args: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kube: counted, calls, reset: () => Object.keys(calls).forEach((k) => delete calls[k]) };
}

/** What a provision's quota check in a fresh API replica reads: its requests, and whether it refused. */
async function quotaCheck(maxInstances: number) {
  const api = countingKube();
  const config = { ...SINGLE_CLUSTER, quotas: [{ organization: ORG, maxInstances }] };
  const refused = await checkQuota(config, new RecordStore(api.kube, MARKED), ORG, DEFAULT_CLUSTER).then(
    () => false,
    (err: { status?: number }) => err.status === 422,
  );
  return { refused, lists: api.calls.listAll ?? 0, calls: api.calls };
}

describe('the labelling marker', () => {
  const worker = new RecordStore(kube, MARKED);

  beforeAll(async () => {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: MARKED } }, { fieldManager: FIELD_MANAGER });
    await worker.createInstance(record('m1', ORG), NO_RANDOMS);
    await createUnlabelled(record('m-old1', ORG), MARKED);
  });

  it('before any pass: an unlabelled record of an older broker counts toward the quota (a second list reads it)', async () => {
    expect(await quotaCheck(2)).toMatchObject({ refused: true, lists: 2 });
    expect(await quotaCheck(3)).toMatchObject({ refused: false, lists: 2 });
  });

  it('after a pass: the quota lists the labelled records alone, reads the marker once, and still counts every one', async () => {
    expect(await worker.labelAndStamp()).toBe(1);
    const api = countingKube();
    const store = new RecordStore(api.kube, MARKED);
    expect(await store.countedInstances(ORG)).toHaveLength(2);
    expect(api.calls).toEqual({ listAll: 1, get: 1 });
    expect(await store.countedInstances(ORG)).toHaveLength(2);
    expect(api.calls).toEqual({ listAll: 2, get: 1 }); // the marker is cached
    expect(await quotaCheck(2)).toMatchObject({ refused: true, lists: 1 });
  });

  it('counts a record an older broker writes after the pass (a rolling upgrade) from the next pass on, in one list', async () => {
    await createUnlabelled(record('m-old2', ORG), MARKED);
    expect(await worker.labelAndStamp()).toBe(1);
    expect(await quotaCheck(3)).toMatchObject({ refused: true, lists: 1 });
  });

  it('reads the unlabelled records again when the last pass is too old (no labelling worker runs)', async () => {
    await new LabelledMarker(kube, MARKED).stamp(new Date(Date.now() - LABELLED_STALE_MS - 1000));
    await createUnlabelled(record('m-old3', ORG), MARKED);
    expect(await quotaCheck(4)).toMatchObject({ refused: true, lists: 2 });
    expect(await quotaCheck(5)).toMatchObject({ refused: false, lists: 2 });
  });
});

// A namespace of its own: what the count watches is this test's alone.
const WATCHED = `kb-counting-watched-${id}`;

/**
 * The real client for the count's list and watch, with two handles on them: `hold` keeps lists
 * from completing until `release` (the count is not synced meanwhile), `loseWatch` breaks the
 * watch under way as a lost connection does. `seen` counts the pages listed and the watch events,
 * and the events that carried a Secret's data.
 */
function controlledKube() {
  let gate = Promise.resolve();
  let release = () => {};
  const watches: (() => void)[] = [];
  const seen = { pages: 0, events: 0, withData: 0 };
  const controlled = new Proxy(kube, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      const method = value as (...a: unknown[]) => Promise<unknown>;
      if (prop === 'listPage')
        return async (...args: unknown[]) => {
          await gate;
          seen.pages++;
          return method.apply(target, args);
        };
      if (prop === 'watch')
        return (...args: unknown[]) =>
          new Promise((resolve, reject) => {
            const outer = args[5] as AbortSignal;
            const inner = new AbortController();
            outer.addEventListener('abort', () => inner.abort(), { once: true });
            watches.push(() => {
              inner.abort();
              reject(new Error('connection reset (test)'));
            });
            const onEvent = args[4] as (type: string, object: { data?: unknown }) => void;
            const counted = (type: string, object: { data?: unknown }) => {
              seen.events++;
              if (object.data !== undefined) seen.withData++;
              onEvent(type, object);
            };
            method.apply(target, [...args.slice(0, 4), counted, inner.signal]).then(resolve, reject);
          });
      return value;
    },
  });
  return {
    kube: controlled,
    seen,
    hold: () => {
      gate = new Promise<void>((r) => (release = r));
    },
    release: () => release(),
    loseWatch: () => watches.splice(0).forEach((lose) => lose()),
  };
}

describe("the API's count, kept from a watch of the records' metadata", () => {
  const worker = new RecordStore(kube, WATCHED);
  const watched = controlledKube();
  const counts = new InstanceCounts(watched.kube, WATCHED, createLogger('silent'), 50);
  const api = countingKube();
  const store = new RecordStore(api.kube, WATCHED, undefined, undefined, counts);
  const countOf = async (org: string) => (await store.countedInstances(org)).length;
  const syncedAt = (n: number) => async () => (counts.synced && (await countOf(ORG)) === n) || undefined;
  /**
   * The requests since the last reset, but the marker's read: RecordStore reads it at most once a
   * minute, so whether one falls in a given test depends on how long the earlier ones took.
   */
  const requests = () => Object.fromEntries(Object.entries(api.calls).filter(([method]) => method !== 'get'));

  beforeAll(async () => {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: WATCHED } }, { fieldManager: FIELD_MANAGER });
    await worker.createInstance(record('w1', ORG), NO_RANDOMS);
    await worker.createInstance(record('w2', ORG, 'b'), NO_RANDOMS);
    await worker.createInstance(record('w3', OTHER_ORG), NO_RANDOMS);
    // Every record labelled: a synced count leaves the quota nothing to list.
    expect(await worker.labelAndStamp()).toBe(0);
  });

  afterAll(() => counts.close());

  it('before its first list has completed, a quota check lists, as without the count', async () => {
    watched.hold();
    counts.start();
    expect(counts.synced).toBe(false);
    expect(await countOf(ORG)).toBe(2);
    expect(requests()).toEqual({ listAll: 1 }); // the labelled records
    watched.release();
    await eventually('the count to be synced', () => counts.synced || undefined, 10_000);
  });

  it('synced: a quota check makes no request, and counts what the list counts', async () => {
    api.reset();
    const listed = await new RecordStore(kube, WATCHED).countedInstances(ORG);
    const fromWatch = await store.countedInstances(ORG);
    expect(fromWatch).toHaveLength(2);
    const byCluster = (c: { cluster?: string }[]) => c.map((i) => i.cluster ?? '').sort();
    expect(byCluster(fromWatch)).toEqual(byCluster(listed));
    expect(await store.countedInstances(OTHER_ORG)).toEqual([{ org: OTHER_ORG }]);
    const config = { ...SINGLE_CLUSTER, quotas: [{ organization: ORG, maxInstances: 2 }] };
    await expect(checkQuota(config, store, ORG, DEFAULT_CLUSTER)).rejects.toMatchObject({ status: 422 });
    await checkQuota({ ...config, quotas: [{ organization: ORG, maxInstances: 3 }] }, store, ORG, DEFAULT_CLUSTER);
    expect(requests()).toEqual({});
  });

  it('counts a record created afterwards once the watch has delivered it (metadata only), and no longer a deleted one', async () => {
    api.reset();
    const { pages, events } = watched.seen;
    await worker.createInstance(record('w4', ORG), NO_RANDOMS);
    await eventually('the new record to be counted', syncedAt(3), 10_000);
    await worker.deleteInstance('w1');
    await eventually('the deleted record to be no longer counted', syncedAt(2), 10_000);
    expect(requests()).toEqual({});
    // From the watch, not from a list again; and no event carried a record's data.
    expect(watched.seen.pages).toBe(pages);
    expect(watched.seen.events).toBeGreaterThanOrEqual(events + 2);
    expect(watched.seen.withData).toBe(0);
  });

  it('after a lost watch, a quota check lists until the count has listed again; then it counts what changed meanwhile', async () => {
    watched.hold();
    watched.loseWatch();
    await eventually('the count to be no longer synced', () => !counts.synced || undefined, 10_000);
    // Changed while no watch runs (w2 and w4 were counted): the list after it sees both changes.
    await worker.createInstance(record('w5', ORG, 'b'), NO_RANDOMS);
    await worker.deleteInstance('w4');
    api.reset();
    expect(await countOf(ORG)).toBe(2);
    expect(requests()).toEqual({ listAll: 1 });
    watched.release();
    await eventually('the count to be synced again', () => counts.synced || undefined, 10_000);
    api.reset();
    expect(await store.countedInstances(ORG)).toEqual([
      { org: ORG, cluster: 'b' },
      { org: ORG, cluster: 'b' },
    ]);
    expect(requests()).toEqual({});
  });
});
