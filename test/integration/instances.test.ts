// The instance lifecycle and every OSB status-code rule of DESIGN.md, against the real broker
// (worker + API) on the local stack, with a test catalog whose plans are ready, never ready, or
// stuck (never ready, long deadline: an operation that stays in progress).
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import { recordName, RecordStore } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const NEVER_READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0102';
const STUCK = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0103';
const EXTRA_KINDS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0113';

let broker: RunningBroker;
const kube = kubeApi();
const newId = () => `inst-${suffix()}-${suffix()}`;
const provisionBody = (plan = READY, parameters: Record<string, unknown> = {}) => ({
  service_id: SERVICE,
  plan_id: plan,
  organization_guid: 'org-1',
  space_guid: 'space-1',
  context: { platform: 'cloudfoundry', organization_guid: 'org-1', space_guid: 'space-1' },
  parameters,
});

beforeAll(async () => {
  // The long poll's bound: a fast provision's first poll must see it finish within it, also on a
  // loaded CI machine (at the default 5 s it did not once, at load 15); a stuck one's poll is held
  // this long.
  broker = await startBroker({ CATALOG_DIR: CATALOG, LAST_OPERATION_WAIT: '20' });
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

/** Everything labelled with the instance, across the kinds a plan makes or Kubernetes derives. */
async function objectsOf(instanceId: string) {
  const ns = broker.config.INSTANCE_NAMESPACE;
  const kinds: [string, string][] = [
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'ReplicaSet'],
    ['v1', 'Pod'],
    ['v1', 'Service'],
    ['v1', 'Secret'],
    ['v1', 'ConfigMap'],
  ];
  const lists = await Promise.all(kinds.map(([v, k]) => kube.list(v, k, ns, { labelSelector: instanceSelector(instanceId) })));
  return lists.flatMap((l, i) => l.items.map((o) => `${kinds[i]![1]}/${o.metadata.name}`));
}

const record = (instanceId: string) => kube.get('v1', 'Secret', broker.config.BROKER_NAMESPACE, recordName('instance', instanceId));
/** The kinds the instance's record lists (what its deprovision deletes). */
const recordedKinds = async (instanceId: string) =>
  (await new RecordStore(kube, broker.config.BROKER_NAMESPACE).getInstance(instanceId))?.record.kinds?.map((k) => `${k.apiVersion}/${k.kind}`).sort();

async function provisioned(instanceId: string, plan = READY, parameters: Record<string, unknown> = {}) {
  const res = await broker.osb.provision(instanceId, provisionBody(plan, parameters));
  expect(res.status).toBe(202);
  const done = await broker.osb.waitForOperation(instanceId, res.body.operation);
  expect(done.body).toEqual({ state: 'succeeded' });
  return res.body.operation as string;
}

async function deprovisioned(instanceId: string, plan = READY) {
  const res = await broker.osb.deprovision(instanceId, SERVICE, plan);
  expect(res.status).toBe(202);
  const done = await broker.osb.waitForOperation(instanceId, res.body.operation);
  expect(done.status).toBe(410);
}

describe('instance lifecycle', () => {
  it('provisions, fetches, updates and deprovisions an instance, leaving nothing behind', async () => {
    const id = newId();
    const operation = await provisioned(id, READY, { replicas: 2 });
    expect(operation).toMatch(/^provision-[0-9a-f]{8}$/);

    const fetched = await broker.osb.request('GET', `/v2/service_instances/${id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ service_id: SERVICE, plan_id: READY, parameters: { replicas: 2, greeting: 'hello' } });

    const pods = await kube.list<any>('v1', 'Pod', broker.config.INSTANCE_NAMESPACE, { labelSelector: instanceSelector(id) });
    expect(pods.items).toHaveLength(2);
    expect(pods.items.every((p) => p.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'True'))).toBe(true);

    const update = await broker.osb.update(id, { service_id: SERVICE, parameters: { replicas: 3 } });
    expect(update.status).toBe(202);
    expect((await broker.osb.waitForOperation(id, update.body.operation)).body).toEqual({ state: 'succeeded' });
    const after = await broker.osb.request('GET', `/v2/service_instances/${id}`);
    expect(after.body.parameters).toEqual({ replicas: 3, greeting: 'hello' });
    const deployment = await kube.list<any>('apps/v1', 'Deployment', broker.config.INSTANCE_NAMESPACE, { labelSelector: instanceSelector(id) });
    expect(deployment.items[0].spec.replicas).toBe(3);
    expect(deployment.items[0].status.readyReplicas).toBe(3);

    await deprovisioned(id);
    expect(await objectsOf(id)).toEqual([]);
    expect(await record(id)).toBeUndefined();
  });

  it('records the kinds it applies before applying them, also on an update to a plan with more, and its deprovision deletes them all', async () => {
    const id = newId();
    await provisioned(id, READY);
    // The plan's kinds, and the isolating NetworkPolicy the worker applies with every instance.
    expect(await recordedKinds(id)).toEqual(['apps/v1/Deployment', 'networking.k8s.io/v1/NetworkPolicy', 'v1/Secret', 'v1/Service']);

    const update = await broker.osb.update(id, { service_id: SERVICE, plan_id: EXTRA_KINDS });
    expect(update.status).toBe(202);
    expect((await broker.osb.waitForOperation(id, update.body.operation)).body).toEqual({ state: 'succeeded' });
    expect(await recordedKinds(id)).toEqual(['apps/v1/Deployment', 'networking.k8s.io/v1/NetworkPolicy', 'v1/ConfigMap', 'v1/Secret', 'v1/Service']);
    expect((await objectsOf(id)).filter((o) => o.startsWith('ConfigMap/'))).toHaveLength(1);

    await deprovisioned(id, EXTRA_KINDS);
    expect(await objectsOf(id)).toEqual([]);
    expect(await record(id)).toBeUndefined();
  });

  it('fails a plan whose pods never become ready at its deadline, says why, and deletes everything it created', async () => {
    const id = newId();
    const res = await broker.osb.provision(id, provisionBody(NEVER_READY));
    expect(res.status).toBe(202);
    const done = await broker.osb.waitForOperation(id, res.body.operation);
    expect(done.body.state).toBe('failed');
    expect(done.body.description).toMatch(/not ready within its deadline/);
    expect(done.body.description).toMatch(/Deployment .*-web: 0\/1 replicas available/);
    expect(done.body.description).toMatch(/container web not ready/);
    expect(done.body.description).toMatch(/Everything it created was deleted/);
    expect(await objectsOf(id)).toEqual([]);
    expect(await record(id)).toBeUndefined();
    // A later DELETE of the failed instance succeeds (410: nothing is left to delete).
    expect((await broker.osb.deprovision(id, SERVICE, NEVER_READY)).status).toBe(410);
  });

  it('stops a provision when a DELETE arrives, and deletes what it had created (OSB MUST)', async () => {
    const id = newId();
    const res = await broker.osb.provision(id, provisionBody(STUCK));
    expect(res.status).toBe(202);
    await eventually('objects applied', async () => ((await objectsOf(id)).some((o) => o.startsWith('Pod/')) ? true : undefined));

    const del = await broker.osb.deprovision(id, SERVICE, STUCK);
    expect(del.status).toBe(202);
    expect(del.body.operation).toMatch(/^deprovision-/);
    // The interrupted provision reports failed; the deprovision ends in 410.
    const gone = await broker.osb.waitForOperation(id, del.body.operation);
    expect(gone.status).toBe(410);
    expect((await broker.osb.lastOperation(id, res.body.operation)).body).toMatchObject({ state: 'failed' });
    expect(await objectsOf(id)).toEqual([]);
    expect(await record(id)).toBeUndefined();
  });
});

describe('OSB status codes', () => {
  const catalogReq = (headers: Record<string, string>) => broker.osb.request('GET', '/v2/catalog', undefined, headers);

  it('412 without X-Broker-API-Version', async () => {
    const res = await fetch(`${broker.url}/v2/catalog`, { headers: { Authorization: `Basic ${Buffer.from('platform:test-password').toString('base64')}` } });
    expect(res.status).toBe(412);
    expect(await res.json()).toMatchObject({ error: 'PreconditionFailed', description: expect.stringContaining('2.17') });
  });

  it('412 for a version below 2.13 or not 2.x', async () => {
    for (const v of ['2.12', '3.0', '1.0', 'two']) expect((await catalogReq({ 'X-Broker-API-Version': v })).status).toBe(412);
    expect((await catalogReq({ 'X-Broker-API-Version': '2.13' })).status).toBe(200);
  });

  it('401 without credentials and with wrong ones', async () => {
    expect((await fetch(`${broker.url}/v2/catalog`, { headers: { 'X-Broker-API-Version': '2.17' } })).status).toBe(401);
    const wrong = await catalogReq({ Authorization: `Basic ${Buffer.from('platform:nope').toString('base64')}` });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: 'Unauthorized' });
  });

  it('400 for malformed JSON, missing ids, unknown ids and parameters that fail the schema', async () => {
    const id = newId();
    const put = (body: unknown) => broker.osb.request('PUT', `/v2/service_instances/${id}?accepts_incomplete=true`, body);
    for (const [body, pattern] of [
      ['{"service_id": ', /not valid JSON/],
      [{ plan_id: READY }, /service_id/],
      [{ service_id: SERVICE }, /plan_id/],
      [{ ...provisionBody(), service_id: 'nope' }, /service_id nope is not in the catalog/],
      [{ ...provisionBody(), plan_id: 'nope' }, /plan_id nope is not a plan/],
      [{ ...provisionBody(), organization_guid: undefined }, /organization_guid is required/],
      [{ ...provisionBody(), space_guid: '' }, /space_guid must not be empty/],
      [provisionBody(READY, { replicas: 9 }), /replicas/],
      [provisionBody(READY, { unknown: 1 }), /unknown/],
    ] as const) {
      const res = await put(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.description).toMatch(pattern);
    }
    expect((await broker.osb.request('PUT', '/v2/service_instances/bad%20id?accepts_incomplete=true', provisionBody())).status).toBe(400);
    expect(await record(id)).toBeUndefined();
  });

  it('422 AsyncRequired without accepts_incomplete=true', async () => {
    const res = await broker.osb.provision(newId(), provisionBody(), false);
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('AsyncRequired');
  });

  it('422 MaintenanceInfoConflict for an outdated maintenance_info', async () => {
    const res = await broker.osb.provision(newId(), { ...provisionBody(), maintenance_info: { version: '0.9.0' } });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('MaintenanceInfoConflict');
  });

  it('last_operation right after the 202 answers when a young operation finishes (a bounded long poll), a stuck one when the wait ends', async () => {
    // Cloud Foundry polls once right after the 202, then every Retry-After: the first poll of a
    // fast provision already reads `succeeded` (without the wait it reads `in progress`).
    const id = newId();
    const res = await broker.osb.provision(id, provisionBody(READY));
    expect(res.status).toBe(202);
    const first = await broker.osb.lastOperation(id, res.body.operation);
    expect(first.body).toEqual({ state: 'succeeded' });
    expect(first.headers.get('Retry-After')).toBeNull();
    await deprovisioned(id);

    // A stuck operation: the wait ends when it is LAST_OPERATION_WAIT old, then `in progress`
    // with Retry-After; once older, polls answer without waiting for it.
    const stuck = newId();
    const put = await broker.osb.provision(stuck, provisionBody(STUCK));
    const held = await broker.osb.lastOperation(stuck, put.body.operation);
    expect(held.body.state).toBe('in progress');
    expect(held.headers.get('Retry-After')).toBe('1');
    await deprovisioned(stuck, STUCK);
  });

  it('identical PUT while in progress: 202 with the same operation; conflicting: 409; PATCH meanwhile: 422 ConcurrencyError; GET: 404', async () => {
    const id = newId();
    const first = await broker.osb.provision(id, provisionBody(STUCK));
    expect(first.status).toBe(202);
    const again = await broker.osb.provision(id, provisionBody(STUCK));
    expect(again.status).toBe(202);
    expect(again.body.operation).toBe(first.body.operation);
    expect((await broker.osb.provision(id, provisionBody(STUCK, { replicas: 2 }))).status).toBe(409);
    const patch = await broker.osb.update(id, { service_id: SERVICE, parameters: { replicas: 2 } });
    expect(patch.status).toBe(422);
    expect(patch.body.error).toBe('ConcurrencyError');
    expect((await broker.osb.request('GET', `/v2/service_instances/${id}`)).status).toBe(404);
    const inProgress = await broker.osb.lastOperation(id, first.body.operation);
    expect(inProgress.body.state).toBe('in progress');
    expect(inProgress.headers.get('Retry-After')).toBe('1');
    await deprovisioned(id, STUCK);
  });

  it('identical PUT after success: 200; conflicting: 409', async () => {
    const id = newId();
    await provisioned(id);
    const same = await broker.osb.provision(id, provisionBody());
    expect(same.status).toBe(200);
    expect(same.body).toEqual({});
    expect((await broker.osb.provision(id, provisionBody(READY, { greeting: 'other' }))).status).toBe(409);
    expect((await broker.osb.provision(id, provisionBody(STUCK))).status).toBe(409);
    await deprovisioned(id);
  });

  it('410 for DELETE of an unknown instance, 404 for last_operation of an unknown instance', async () => {
    const id = newId();
    const del = await broker.osb.deprovision(id, SERVICE, READY);
    expect(del.status).toBe(410);
    expect(del.body).toEqual({});
    expect((await broker.osb.lastOperation(id)).status).toBe(404);
  });

  it('DELETE naming a service the catalog does not serve: 400 when there is no instance, deprovisions one that exists', async () => {
    const missing = await broker.osb.deprovision(newId(), 'no-such-service', READY);
    expect(missing.status).toBe(400);
    expect(missing.body.description).toMatch(/service_id no-such-service is not in the catalog/);
    // An instance whose offering left the catalog (removed at runtime meanwhile) is still deleted.
    const id = newId();
    const put = await broker.osb.provision(id, provisionBody(READY));
    expect((await broker.osb.waitForOperation(id, put.body.operation)).body.state).toBe('succeeded');
    const del = await broker.osb.deprovision(id, 'no-such-service', READY);
    expect(del.status).toBe(202);
    expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
    expect(await objectsOf(id)).toEqual([]);
  });

  it('410 for last_operation after an asynchronous delete; last_operation of the earlier provision still answers', async () => {
    const id = newId();
    const provision = await provisioned(id);
    await deprovisioned(id);
    expect((await broker.osb.lastOperation(id)).status).toBe(410);
    expect((await broker.osb.lastOperation(id, provision)).body).toEqual({ state: 'succeeded' });
  });

  it('keeps an idle connection open past the Retry-After platforms poll by (Node would close it at 5 s)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reusedSocket: boolean }>((resolve, reject) => {
        const req = http.get(`${broker.url}/v2/catalog`, { agent, headers: broker.osb.headers }, (res) => {
          res.resume().on('end', () => resolve({ status: res.statusCode!, reusedSocket: req.reusedSocket }));
        });
        req.on('error', reject);
      });
    try {
      expect(await get()).toEqual({ status: 200, reusedSocket: false });
      await new Promise((r) => setTimeout(r, 6_000));
      expect(await get()).toEqual({ status: 200, reusedSocket: true });
    } finally {
      agent.destroy();
    }
  });

  it('echoes X-Broker-API-Request-Identity', async () => {
    const res = await catalogReq({ 'X-Broker-API-Request-Identity': 'req-123' });
    expect(res.headers.get('X-Broker-API-Request-Identity')).toBe('req-123');
  });

  it('serves every OSB catalog field', async () => {
    const res = await catalogReq({});
    expect(res.status).toBe(200);
    const service = res.body.services[0];
    expect(service).toMatchObject({ id: SERVICE, name: 'testapp', bindable: true, plan_updateable: true, instances_retrievable: true });
    expect(service.plans.map((p: any) => p.name).sort()).toEqual([
      'extra-kinds',
      'hook-bind-fails',
      'hook-create-fails',
      'hook-create-stuck',
      'hook-delete-fails',
      'hook-unbind-fails',
      'hooks',
      'invalid',
      'never-ready',
      'ready',
      'short',
      'slow',
      'stuck',
    ]);
    expect(service.plans.find((p: any) => p.id === READY)).toMatchObject({
      maximum_polling_duration: 120,
      maintenance_info: { version: '1.0.0' },
      binding_rotatable: true,
    });
  });
});
