// Requests as real platforms and clients send them, each accepted with what it means: the Go
// client generated from the OSB project's swagger.yaml (v2.17), whose structs send
// `maintenance_info: {}` and empty objects; Kubernetes Service Catalog's go-open-service-broker-client
// (Kubernetes profile context, top-level org and space set to the cluster and namespace); Cloud
// Foundry's Cloud Controller (CF profile context, maintenance_info with a description); clients
// that serialize every field, sending null for those left unset; and accepts_incomplete spelled
// `True` (the way .NET and Python print booleans). Against a FakeBroker: what the broker is handed.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/load.js';
import { baseCatalog, deployment, removeCatalog, writeCatalog } from '../catalog/testing.js';
import type { Catalog } from '../catalog/types.js';
import { createApp } from './app.js';
import { FakeBroker } from './fake-broker.js';

const AUTH = { username: 'platform', password: 'a-long-password' };
const SERVICE = 'db-service-id';
const PLAN = 'db-small-id';
const OTHER_PLAN = 'db-large-id';

let catalogDir: string;
let catalog: Catalog;
beforeAll(async () => {
  const plan = (id: string, name: string) => ({ id, name, description: name, free: true, plan_updateable: true, maintenance_info: { version: '1.0.0' } });
  catalogDir = writeCatalog(
    baseCatalog({
      'db/small/plan.json': plan(PLAN, 'small'),
      'db/large/plan.json': plan(OTHER_PLAN, 'large'),
      'db/large/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
    }),
  );
  catalog = (await loadCatalog(catalogDir)).catalog;
});
afterAll(() => removeCatalog(catalogDir));

async function send(method: string, path: string, body: unknown) {
  const broker = new FakeBroker();
  broker.willReturn('provision', { status: 'accepted', operation: 'op' });
  broker.willReturn('update', { status: 'accepted', operation: 'op' });
  broker.willReturn('bind', { status: 'created', credentials: { uri: 'x' }, parameters: {} });
  const app = createApp({ broker, catalog, logger: pino({ level: 'silent' }), auth: AUTH, maxBodyBytes: 65536, pollIntervalSeconds: 5 });
  const res = await app.request(path, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`,
      'X-Broker-API-Version': '2.17',
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, broker };
}

const INSTANCE = '/v2/service_instances/0f2b4a1e-6c3d-4e5f-8a9b-0c1d2e3f4a5b';
const BINDING = `${INSTANCE}/service_bindings/7a1c2d3e-4f50-4617-8293-a4b5c6d7e8f9`;

describe('provision', () => {
  it('the swagger-generated Go client: empty context, parameters and maintenance_info (none asked for)', async () => {
    const res = await send('PUT', `${INSTANCE}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: PLAN,
      context: {},
      organization_guid: 'org-guid',
      space_guid: 'space-guid',
      parameters: {},
      maintenance_info: {},
    });
    expect(res.status).toBe(202);
    const req = res.broker.onlyCall('provision');
    expect(req).toMatchObject({ context: {}, org: 'org-guid', space: 'space-guid', acceptsIncomplete: true });
    expect(req).not.toHaveProperty('maintenanceInfo');
  });

  it('Kubernetes Service Catalog: the Kubernetes profile context, the cluster id and namespace uid as org and space', async () => {
    const context = { platform: 'kubernetes', namespace: 'team-a', clusterid: 'c-1', instance_name: 'db', instance_annotations: {} };
    const res = await send('PUT', `${INSTANCE}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: PLAN,
      organization_guid: 'c-1',
      space_guid: 'ns-uid-1',
      context,
    });
    expect(res.status).toBe(202);
    expect(res.broker.onlyCall('provision')).toMatchObject({ context, org: 'c-1', space: 'ns-uid-1' });
  });

  it("Cloud Foundry: the CF profile context, and the plan's maintenance_info with its description", async () => {
    const context = {
      platform: 'cloudfoundry',
      organization_guid: 'org-guid',
      organization_name: 'org',
      space_guid: 'space-guid',
      space_name: 'dev',
      instance_name: 'db',
      organization_annotations: {},
      space_annotations: {},
      instance_annotations: {},
    };
    const res = await send('PUT', `${INSTANCE}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: PLAN,
      organization_guid: 'org-guid',
      space_guid: 'space-guid',
      context,
      maintenance_info: { version: '1.0.0', description: 'the current release' },
    });
    expect(res.status).toBe(202);
    expect(res.broker.onlyCall('provision')).toMatchObject({ context, org: 'org-guid', maintenanceInfo: { version: '1.0.0' } });
  });

  it('a client that sends null for every field it leaves unset', async () => {
    const res = await send('PUT', `${INSTANCE}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: PLAN,
      organization_guid: 'org-guid',
      space_guid: 'space-guid',
      context: null,
      parameters: null,
      maintenance_info: null,
    });
    expect(res.status).toBe(202);
    const req = res.broker.onlyCall('provision');
    expect(req).toMatchObject({ context: {}, parameters: {} });
    expect(req).not.toHaveProperty('maintenanceInfo');
  });

  it('maintenance_info naming a version the plan does not have is still 422 MaintenanceInfoConflict, even among empty fields', async () => {
    const res = await send('PUT', `${INSTANCE}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: PLAN,
      organization_guid: 'o',
      space_guid: 's',
      context: {},
      parameters: {},
      maintenance_info: { version: '0.9.0' },
    });
    expect(res.status).toBe(422);
    expect(res.body['error']).toBe('MaintenanceInfoConflict');
    expect(res.broker.calls).toEqual([]);
  });

  it.each(['True', 'TRUE'])('accepts_incomplete=%s is true', async (value) => {
    const res = await send('PUT', `${INSTANCE}?accepts_incomplete=${value}`, { service_id: SERVICE, plan_id: PLAN, organization_guid: 'o', space_guid: 's' });
    expect(res.status).toBe(202);
    expect(res.broker.onlyCall('provision').acceptsIncomplete).toBe(true);
  });
});

describe('update', () => {
  it('the swagger-generated Go client: empty maintenance_info, previous_values with its deprecated fields and an empty maintenance_info', async () => {
    const res = await send('PATCH', `${INSTANCE}?accepts_incomplete=true`, {
      context: {},
      service_id: SERVICE,
      plan_id: OTHER_PLAN,
      parameters: {},
      previous_values: { service_id: SERVICE, plan_id: PLAN, organization_id: 'org-guid', space_id: 'space-guid', maintenance_info: {} },
      maintenance_info: {},
    });
    expect(res.status).toBe(202);
    const req = res.broker.onlyCall('update');
    expect(req.plan?.id).toBe(OTHER_PLAN);
    expect(req).not.toHaveProperty('maintenanceInfo');
  });

  it('Cloud Foundry renaming an instance: its current plan, the new context, previous_values', async () => {
    const context = { platform: 'cloudfoundry', organization_guid: 'org-guid', space_guid: 'space-guid', instance_name: 'db-renamed' };
    const res = await send('PATCH', `${INSTANCE}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: PLAN,
      context,
      previous_values: { plan_id: PLAN, service_id: SERVICE, organization_id: 'org-guid', space_id: 'space-guid', maintenance_info: { version: '1.0.0' } },
    });
    expect(res.status).toBe(202);
    const req = res.broker.onlyCall('update');
    expect(req).toMatchObject({ context });
    expect(req.plan?.id).toBe(PLAN);
    expect(req).not.toHaveProperty('parameters');
  });

  it('a client that sends null for every field it leaves unset: nothing but the service named, nothing to change', async () => {
    const res = await send('PATCH', `${INSTANCE}?accepts_incomplete=true`, {
      service_id: SERVICE,
      plan_id: null,
      parameters: null,
      context: null,
      previous_values: null,
      maintenance_info: null,
    });
    expect(res.status).toBe(202);
    const req = res.broker.onlyCall('update');
    expect(req).not.toHaveProperty('plan');
    expect(req).not.toHaveProperty('parameters');
    expect(req).not.toHaveProperty('maintenanceInfo');
  });
});

describe('bind', () => {
  it('Cloud Foundry binding an app: the deprecated app_guid and bind_resource both', async () => {
    const res = await send('PUT', BINDING, {
      service_id: SERVICE,
      plan_id: PLAN,
      app_guid: 'app-guid',
      bind_resource: { app_guid: 'app-guid', space_guid: 'space-guid' },
      context: { platform: 'cloudfoundry', organization_guid: 'org-guid', space_guid: 'space-guid' },
    });
    expect(res.status).toBe(201);
    expect(res.broker.onlyCall('bind')).toMatchObject({ bindResource: { app_guid: 'app-guid', space_guid: 'space-guid' } });
  });

  it('Cloud Foundry creating a service key: a bind_resource without an app', async () => {
    const res = await send('PUT', BINDING, {
      service_id: SERVICE,
      plan_id: PLAN,
      bind_resource: { credential_client_id: 'cc_service_key_client' },
      context: {},
    });
    expect(res.status).toBe(201);
    expect(res.broker.onlyCall('bind')).toMatchObject({ bindResource: { credential_client_id: 'cc_service_key_client' } });
  });

  it('a client that sends null for every field it leaves unset', async () => {
    const res = await send('PUT', BINDING, {
      service_id: SERVICE,
      plan_id: PLAN,
      app_guid: null,
      bind_resource: null,
      context: null,
      parameters: null,
      predecessor_binding_id: null,
    });
    expect(res.status).toBe(201);
    const req = res.broker.onlyCall('bind');
    expect(req).not.toHaveProperty('bindResource');
    expect(req).not.toHaveProperty('predecessorBindingId');
  });
});
