// An update that starts from a record read ahead of it (the wait that marks an instance ready
// reads the record while the workloads start): one write when the record is unchanged, and never
// a write over a change made after the read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Randoms } from '../../catalog/types.js';
import type { KubeApi } from '../../platform/kube/api.js';
import { FIELD_MANAGER, RecordStore, type InstanceRecord } from '../../platform/kube/records.js';
import { testRecord } from './helpers/records.js';
import { kubeApi, suffix } from './helpers/stack.js';

const kube = kubeApi();
const NAMESPACE = `kb-read-ahead-${suffix()}`;
const NO_RANDOMS = {} as Randoms;

/** The kube client, counting the calls of each method. */
function counting(api: KubeApi): { api: KubeApi; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(api, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(name)] = (calls[String(name)] ?? 0) + 1;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { api: proxy, calls };
}

/** A record as a provision's first step writes it. */
const record = (instanceId: string): InstanceRecord => ({ ...testRecord(instanceId, 'org'), state: 'provisioning' });

const plain = new RecordStore(kube, NAMESPACE);

beforeAll(async () => {
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }, { fieldManager: FIELD_MANAGER });
});

afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, NAMESPACE).catch(() => false);
  kube.close();
});

describe('an update from a record read ahead', () => {
  it('is one write when the record did not change since the read', async () => {
    await plain.createInstance(record('same'), NO_RANDOMS);
    const { api, calls } = counting(kube);
    const records = new RecordStore(api, NAMESPACE);
    const readAhead = records.readAhead('same');
    await readAhead;
    expect(calls).toEqual({ get: 1 });
    await records.updateInstance('same', (r) => ({ ...r, state: 'ready' }), readAhead);
    expect(calls).toEqual({ get: 1, replace: 1 });
    expect((await plain.getInstance('same'))?.record.state).toBe('ready');
  });

  it('reads the record again when it changed after the read, and keeps that change', async () => {
    await plain.createInstance(record('changed'), NO_RANDOMS);
    const readAhead = plain.readAhead('changed');
    await readAhead;
    await plain.updateInstance('changed', (r) => ({ ...r, kinds: [{ apiVersion: 'v1', kind: 'ConfigMap' }] }));
    await plain.updateInstance('changed', (r) => ({ ...r, state: 'ready' }), readAhead);
    expect((await plain.getInstance('changed'))?.record).toMatchObject({ state: 'ready', kinds: [{ apiVersion: 'v1', kind: 'ConfigMap' }] });
  });

  it('reads the record again when the read ahead found none yet', async () => {
    const readAhead = plain.readAhead('later');
    await readAhead;
    await plain.createInstance(record('later'), NO_RANDOMS);
    await plain.updateInstance('later', (r) => ({ ...r, state: 'ready' }), readAhead);
    expect((await plain.getInstance('later'))?.record.state).toBe('ready');
  });
});
