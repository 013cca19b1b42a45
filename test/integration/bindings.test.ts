// Binding rules of the OSB spec and DESIGN.md, against the real broker on the local stack, and
// the old format's clustered credentials (node_template.json, uri_cluster_template).
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordName } from '../../platform/kube/records.js';
import { OLD_FORMAT_CATALOG_DIR, SEED_CATALOG_DIR, SEED_CATALOG_PRESENT, SEED_SKIP_NOTE } from '../seed-catalog.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const STUCK = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0103';

const kube = kubeApi();
afterAll(() => kube.close());

async function provision(broker: RunningBroker, id: string, serviceId: string, planId: string) {
  const res = await broker.osb.provision(id, { service_id: serviceId, plan_id: planId, organization_guid: 'org', space_guid: 'space' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.operation as string;
}

describe('bindings', () => {
  let broker: RunningBroker;
  let instance: string;
  const bind = (bindingId: string, body: Record<string, unknown> = {}) =>
    broker.osb.bind(instance, bindingId, { service_id: SERVICE, plan_id: READY, ...body });
  const bindingSecret = (bindingId: string) => kube.get('v1', 'Secret', broker.config.BROKER_NAMESPACE, recordName('binding', bindingId));

  beforeAll(async () => {
    broker = await startBroker({ CATALOG_DIR: CATALOG });
    instance = `bind-${suffix()}`;
    const op = await provision(broker, instance, SERVICE, READY);
    expect((await broker.osb.waitForOperation(instance, op)).body.state).toBe('succeeded');
  });
  afterAll(async () => {
    await broker.osb.deprovision(instance, SERVICE, READY);
    await broker?.stop();
  });

  it('creates credentials from the instance (201), stores them in a Secret, and returns them again (200, GET)', async () => {
    const id = `b-${suffix()}`;
    const created = await bind(id, { parameters: {}, bind_resource: { app_guid: 'app' }, context: { platform: 'cloudfoundry' } });
    expect(created.status).toBe(201);
    expect(created.body.credentials).toMatchObject({ username: 'app', port: '80' });
    expect(created.body.credentials.password).toMatch(/^[A-Za-z0-9]{10}$/);
    expect(created.body.credentials.uri).toBe(`http://app:${created.body.credentials.password}@${created.body.credentials.hostname}:80/`);
    expect(await bindingSecret(id)).toMatchObject({ type: 'kubernetes-broker.io/binding' });
    const again = await bind(id, { parameters: {}, bind_resource: { app_guid: 'app' } });
    expect(again.status).toBe(200);
    expect(again.body.credentials).toEqual(created.body.credentials);
    const fetched = await broker.osb.request('GET', `/v2/service_instances/${instance}/service_bindings/${id}`);
    expect(fetched.body.credentials).toEqual(created.body.credentials);
  });

  it('409 for the same binding id with other attributes', async () => {
    const id = `b-${suffix()}`;
    expect((await bind(id, { bind_resource: { app_guid: 'app-1' } })).status).toBe(201);
    expect((await bind(id, { bind_resource: { app_guid: 'app-2' } })).status).toBe(409);
  });

  it('410 for unbinding an unknown binding; 404 for fetching one; 400 without service_id and plan_id', async () => {
    expect((await broker.osb.unbind(instance, 'nobody', SERVICE, READY)).status).toBe(410);
    expect((await broker.osb.request('GET', `/v2/service_instances/${instance}/service_bindings/nobody`)).status).toBe(404);
    expect((await broker.osb.request('DELETE', `/v2/service_instances/${instance}/service_bindings/nobody`)).status).toBe(400);
  });

  it("unbind deletes the binding's Secret: the credentials are revoked", async () => {
    const id = `b-${suffix()}`;
    expect((await bind(id)).status).toBe(201);
    expect((await broker.osb.unbind(instance, id, SERVICE, READY)).status).toBe(200);
    expect(await bindingSecret(id)).toBeUndefined();
    expect((await broker.osb.unbind(instance, id, SERVICE, READY)).status).toBe(410);
  });

  it('rotates a binding: the successor inherits the parameters; both stay valid until each is deleted', async () => {
    const first = `b-${suffix()}`;
    const second = `b-${suffix()}`;
    expect((await bind(first)).status).toBe(201);
    const rotated = await bind(second, { predecessor_binding_id: first });
    expect(rotated.status).toBe(201);
    expect((await broker.osb.request('GET', `/v2/service_instances/${instance}/service_bindings/${first}`)).status).toBe(200);
    expect((await broker.osb.unbind(instance, first, SERVICE, READY)).status).toBe(200);
    expect((await broker.osb.request('GET', `/v2/service_instances/${instance}/service_bindings/${second}`)).status).toBe(200);
    expect((await bind(`b-${suffix()}`, { predecessor_binding_id: 'unknown' })).status).toBe(400);
  });

  it('422 ConcurrencyError when binding an instance that is still being provisioned; 404 for an unknown instance', async () => {
    const busy = `bind-${suffix()}`;
    await provision(broker, busy, SERVICE, STUCK);
    const res = await broker.osb.bind(busy, `b-${suffix()}`, { service_id: SERVICE, plan_id: STUCK });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('ConcurrencyError');
    const gone = await broker.osb.deprovision(busy, SERVICE, STUCK);
    expect((await broker.osb.waitForOperation(busy, gone.body.operation)).status).toBe(410);
    expect((await broker.osb.bind('no-such-instance', `b-${suffix()}`, { service_id: SERVICE, plan_id: READY })).status).toBe(404);
  });

  it('binding last_operation: succeeded for a finished bind', async () => {
    const id = `b-${suffix()}`;
    expect((await bind(id)).status).toBe(201);
    const res = await broker.osb.request('GET', `/v2/service_instances/${instance}/service_bindings/${id}/last_operation`);
    expect(res.body).toEqual({ state: 'succeeded' });
  });
});

// Clustered plans of the old format: the repository's fixture always, the seed catalog where it is.
const CLUSTERED = [
  {
    name: 'old-format fixture',
    dir: OLD_FORMAT_CATALOG_DIR,
    present: true,
    note: '',
    service: 'sqldb-multinode',
    nodes: 'members',
    port: 5500,
    scheme: 'sql:multi',
  },
  {
    name: 'seed catalog',
    dir: SEED_CATALOG_DIR,
    present: SEED_CATALOG_PRESENT,
    note: SEED_SKIP_NOTE,
    service: 'mysql56-multinode',
    nodes: 'nodes',
    port: 3306,
    scheme: 'mysql:loadbalance',
  },
];

for (const c of CLUSTERED) {
  describe.skipIf(!c.present)(`${c.name} clustered credentials${c.note}`, () => {
    let broker: RunningBroker;
    beforeAll(async () => {
      broker = await startBroker({ CATALOG_DIR: c.dir });
    });
    afterAll(async () => broker?.stop());

    it(`${c.service} clustered: $nodes and $uri carry every node's host and port`, async () => {
      const catalog = (await broker.osb.request('GET', '/v2/catalog')).body;
      const offering = catalog.services.find((s: any) => s.name === c.service);
      const plan = offering.plans.find((p: any) => p.name === 'clustered');
      const id = `seed-${suffix()}`;
      const op = await provision(broker, id, offering.id, plan.id);
      expect((await broker.osb.waitForOperation(id, op)).body).toEqual({ state: 'succeeded' });

      const bound = await broker.osb.bind(id, `b-${suffix()}`, { service_id: offering.id, plan_id: plan.id });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
      const { credentials } = bound.body;
      const nodes = credentials[c.nodes];
      const ns = broker.config.INSTANCE_NAMESPACE;
      const services = (await kube.list('v1', 'Service', ns, { labelSelector: `service_id=${id}` })).items.map((s) => s.metadata.name).sort();
      expect(services).toHaveLength(3);
      expect(nodes.map((n: any) => n.host).sort()).toEqual(services.map((s) => `${s}.${ns}.svc.cluster.local`));
      expect(nodes.every((n: any) => n.ports[`${c.port}/tcp`] === String(c.port))).toBe(true);
      const hosts = services.map((s) => `${s}.${ns}.svc.cluster.local:${c.port}`);
      // Both uri_cluster_templates name a $env_ variable no container defines (the seed's
      // MYSQL_USERNAME for MYSQL_USER, the fixture's SQL_USERNAME for SQL_USER): the loader warns
      // and the user part stays empty, as in the old broker.
      expect(credentials.uri).toMatch(new RegExp(`^${c.scheme}://:${credentials.password}@`));
      for (const h of hosts) expect(credentials.uri).toContain(h);
      expect(credentials.password).toMatch(/^[A-Za-z0-9]{10}$/);

      const del = await broker.osb.deprovision(id, offering.id, plan.id);
      expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
    });
  });
}
