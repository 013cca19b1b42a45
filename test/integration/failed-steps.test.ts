// Steps that fail for real: a template the API server rejects, a quota that refuses an object,
// a deletion blocked by a finalizer. Each ends in `failed` with a description a person can act
// on, compensation leaves nothing behind, a later DELETE succeeds, and the broker does not
// hammer the API server while failing.
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { brokerRequests, orphans } from './helpers/faults.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const INVALID = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0105';
const SHORT = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0106';

let broker: RunningBroker;
const kube = kubeApi();
beforeAll(async () => {
  broker = await startBroker({ CATALOG_DIR: CATALOG });
});
afterEach(async () => {
  expect(await orphans(kube, broker.config.INSTANCE_NAMESPACE, broker.config.BROKER_NAMESPACE)).toEqual([]);
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

const instanceObjects = async (id: string) =>
  (
    await Promise.all(
      (
        [
          ['v1', 'Secret'],
          ['apps/v1', 'Deployment'],
          ['v1', 'Service'],
          ['v1', 'Pod'],
        ] as const
      ).map(([v, k]) => kube.list(v, k, broker.config.INSTANCE_NAMESPACE, { labelSelector: instanceSelector(id) })),
    )
  ).flatMap((l) => l.items.map((o) => o.metadata.name));

async function provisionFails(id: string, plan: string) {
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: plan });
  expect(res.status).toBe(202);
  const done = await broker.osb.waitForOperation(id, res.body.operation);
  expect(done.body.state).toBe('failed');
  expect(await instanceObjects(id)).toEqual([]);
  expect((await broker.osb.deprovision(id, SERVICE, plan)).status).toBe(410);
  return done.body.description as string;
}

describe('failed steps', () => {
  it('a template the API server rejects: failed, naming the object and the reason; what was applied before is deleted; few requests', async () => {
    const id = `rej-${suffix()}`;
    const since = new Date();
    const description = await provisionFails(id, INVALID);
    expect(description).toMatch(/Service .*-web/);
    expect(description).toMatch(/99999/);
    expect(description).toMatch(/Everything it created was deleted/);
    // Not retried: a handful of requests for apply, compensation and records, not a storm.
    const { count, byVerb } = brokerRequests(since);
    console.log(`requests to the API server for a rejected provision and its compensation: ${count}`, byVerb);
    expect(count).toBeLessThan(60);
  });

  it('a quota that refuses an object: failed with the quota named; nothing left', async () => {
    const ns = broker.config.INSTANCE_NAMESPACE;
    await kube.apply(
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-services', namespace: ns }, spec: { hard: { services: '0' } } },
      { fieldManager: 'test' },
    );
    try {
      await eventually('quota status', async () => ((await kube.get<any>('v1', 'ResourceQuota', ns, 'no-services'))?.status?.hard ? true : undefined));
      const description = await provisionFails(`quota-${suffix()}`, READY);
      expect(description).toMatch(/exceeded quota: no-services/);
      expect(description).toMatch(/ResourceQuota/);
    } finally {
      await kube.delete('v1', 'ResourceQuota', ns, 'no-services');
    }
  });

  it('a deletion blocked by a finalizer: deprovision fails naming it; once removed, a DELETE succeeds cleanly', async () => {
    const id = `fin-${suffix()}`;
    const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: SHORT });
    expect((await broker.osb.waitForOperation(id, res.body.operation)).body.state).toBe('succeeded');
    const ns = broker.config.INSTANCE_NAMESPACE;
    const secret = (await kube.list('v1', 'Secret', ns, { labelSelector: instanceSelector(id) })).items[0]!;
    const patch = { apiVersion: 'v1', kind: 'Secret', metadata: { name: secret.metadata.name, namespace: ns, finalizers: ['example.com/block'] } };
    await kube.apply(patch, { fieldManager: 'blocker' });

    const del = await broker.osb.deprovision(id, SERVICE, SHORT);
    const failed = await broker.osb.waitForOperation(id, del.body.operation);
    expect(failed.body.state).toBe('failed');
    expect(failed.body.description).toMatch(new RegExp(`Secret ${ns}/${secret.metadata.name} waits for finalizers example.com/block`));
    expect(failed.body.instance_usable).toBe(false);

    await kube.apply({ ...patch, metadata: { ...patch.metadata, finalizers: [] } }, { fieldManager: 'blocker' });
    const again = await broker.osb.deprovision(id, SERVICE, SHORT);
    expect(again.status).toBe(202);
    expect((await broker.osb.waitForOperation(id, again.body.operation)).status).toBe(410);
    expect(await instanceObjects(id)).toEqual([]);
  });
});
