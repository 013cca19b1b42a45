// Requests as real clients send them, through the real broker on the local stack: the Go client
// generated from the OSB project's swagger.yaml (v2.17), whose structs send empty objects and
// `maintenance_info: {}`; a client that sends null for every field it leaves unset; and Cloud
// Foundry renaming an instance (an update with only a new context), which the record keeps and
// fetch returns. api/client-requests.test.ts checks the same bodies against the HTTP layer alone.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RecordStore } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';

let broker: RunningBroker;
const kube = kubeApi();
beforeAll(async () => {
  broker = await startBroker({ CATALOG_DIR: CATALOG });
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

const put = (path: string, body: unknown) => broker.osb.request('PUT', path, body);
const fetchInstance = async (id: string) => (await broker.osb.request('GET', `/v2/service_instances/${id}`)).body;

/** An accepted operation that succeeds. */
async function succeeded(id: string, res: { status: number; body: any }) {
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await broker.osb.waitForOperation(id, res.body.operation)).body).toEqual({ state: 'succeeded' });
}

async function deprovisioned(id: string) {
  const res = await broker.osb.deprovision(id, SERVICE, READY);
  expect((await broker.osb.waitForOperation(id, res.body.operation)).status).toBe(410);
}

it('the swagger-generated Go client provisions, updates, binds and fetches with the empty objects it always sends', async () => {
  const id = `goclient-${suffix()}`;
  const provision = {
    service_id: SERVICE,
    plan_id: READY,
    context: {},
    organization_guid: 'org-go',
    space_guid: 'space-go',
    parameters: {},
    maintenance_info: {},
  };
  await succeeded(id, await put(`/v2/service_instances/${id}?accepts_incomplete=true`, provision));
  const update = {
    context: {},
    service_id: SERVICE,
    plan_id: READY,
    parameters: { replicas: 2 },
    previous_values: { service_id: SERVICE, plan_id: READY, organization_id: 'org-go', space_id: 'space-go', maintenance_info: {} },
    maintenance_info: {},
  };
  await succeeded(id, await broker.osb.request('PATCH', `/v2/service_instances/${id}?accepts_incomplete=true`, update));
  expect(await fetchInstance(id)).toMatchObject({ plan_id: READY, parameters: { replicas: 2, greeting: 'hello' } });

  const binding = `b-${suffix()}`;
  const bind = await put(`/v2/service_instances/${id}/service_bindings/${binding}`, {
    context: {},
    service_id: SERVICE,
    plan_id: READY,
    bind_resource: {},
    parameters: {},
  });
  expect(bind.status, JSON.stringify(bind.body)).toBe(201);
  expect(bind.body.credentials).toBeTypeOf('object');
  expect((await broker.osb.unbind(id, binding, SERVICE, READY)).status).toBe(200);
  await deprovisioned(id);
});

it('a client that sends null for the fields it leaves unset provisions and updates', async () => {
  const id = `nulls-${suffix()}`;
  const unset = { context: null, parameters: null, maintenance_info: null };
  await succeeded(
    id,
    await put(`/v2/service_instances/${id}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: READY,
      organization_guid: 'o',
      space_guid: 's',
      ...unset,
    }),
  );
  // Nothing named but the service: nothing to change.
  const same = await broker.osb.request('PATCH', `/v2/service_instances/${id}?accepts_incomplete=true`, {
    service_id: SERVICE,
    plan_id: null,
    previous_values: null,
    ...unset,
  });
  expect(same.status, JSON.stringify(same.body)).toBe(200);
  await deprovisioned(id);
});

it('an update with only a new context (Cloud Foundry renaming the instance) is recorded, and fetch returns it; the same again changes nothing', async () => {
  const id = `rename-${suffix()}`;
  const context = { platform: 'cloudfoundry', organization_guid: 'org-cf', space_guid: 'space-cf', instance_name: 'db' };
  await succeeded(id, await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY, organization_guid: 'org-cf', space_guid: 'space-cf', context }));
  expect((await fetchInstance(id)).context).toEqual(context);

  const renamed = { ...context, instance_name: 'db-renamed' };
  const rename = {
    service_id: SERVICE,
    plan_id: READY,
    context: renamed,
    previous_values: { service_id: SERVICE, plan_id: READY, organization_id: 'org-cf', space_id: 'space-cf' },
  };
  await succeeded(id, await broker.osb.update(id, rename));
  expect(await fetchInstance(id)).toMatchObject({ plan_id: READY, parameters: { replicas: 1, greeting: 'hello' }, context: renamed });
  const stored = await new RecordStore(kube, broker.config.BROKER_NAMESPACE).getInstance(id);
  expect(stored?.record.context).toEqual(renamed);

  // The same context again, or none, is no change: 200 at once, no operation.
  expect(await broker.osb.update(id, rename)).toMatchObject({ status: 200, body: {} });
  expect(await broker.osb.update(id, { service_id: SERVICE, context: {}, maintenance_info: {} })).toMatchObject({ status: 200, body: {} });
  expect((await fetchInstance(id)).context).toEqual(renamed);
  await deprovisioned(id);
});
