// The admin routes of offerings added at runtime, over an in-memory store: status codes, bodies,
// and that GET /v2/catalog follows every change. The real store and two replicas:
// test/integration/offerings.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/load.js';
import type { Catalog } from '../catalog/types.js';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import type { InstanceRecord, RecordStore } from '../platform/kube/records.js';
import { dynamicServiceId } from '../catalog/offerings/dynamic-service.js';
import { LiveCatalog } from '../platform/kube/live-catalog.js';
import type { OfferingStore, StoredOffering } from '../platform/kube/offering-store.js';
import { MONGO_DYNAMIC_SERVICE, templateFolder } from '../catalog/offerings/testing.js';
import { createLogger } from '../platform/observability/logger.js';
import { createApp } from './app.js';
import { FakeBroker } from './fake-broker.js';

const ADMIN = { username: 'admin', password: 'admin-password' };
const AUTH = { username: 'platform', password: 'platform-password' };
const basic = (u: { username: string; password: string }) => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString('base64')}`;

/** The store's contract in memory: create refuses existing, replace checks the version. */
class MemoryStore {
  readonly items = new Map<string, StoredOffering>();
  private version = 0;
  list() {
    return Promise.resolve({ offerings: [...this.items.values()] });
  }
  get(id: string) {
    return Promise.resolve(this.items.get(id));
  }
  create(o: StoredOffering) {
    if (this.items.has(o.serviceId)) return Promise.resolve(false);
    this.items.set(o.serviceId, { ...o, resourceVersion: String(++this.version) });
    return Promise.resolve(true);
  }
  replace(o: StoredOffering, rv: string) {
    if (this.items.get(o.serviceId)?.resourceVersion !== rv) return Promise.resolve(false);
    this.items.set(o.serviceId, { ...o, resourceVersion: String(++this.version) });
    return Promise.resolve(true);
  }
  delete(id: string) {
    return Promise.resolve(this.items.delete(id));
  }
}

let base: Catalog;
beforeAll(async () => {
  base = (await loadCatalog(SHIPPED_CATALOG_DIR)).catalog;
});

function setup(instances: Partial<InstanceRecord>[] = []) {
  const store = new MemoryStore();
  const catalog = new LiveCatalog(base, store as unknown as OfferingStore, createLogger('silent'));
  const records = { instancesWhere: (keep: (r: Partial<InstanceRecord>) => boolean) => Promise.resolve(instances.filter(keep)) } as unknown as RecordStore;
  const app = createApp({
    broker: new FakeBroker(),
    catalog,
    logger: createLogger('silent'),
    auth: AUTH,
    maxBodyBytes: 1024 * 1024,
    pollIntervalSeconds: 5,
    admin: ADMIN,
    offerings: { catalog, store: store as unknown as OfferingStore, records, provisionsInFlight: () => Promise.resolve([]) },
  });
  const call = async (method: string, path: string, body?: unknown, user = ADMIN) => {
    const res = await app.request(path, {
      method,
      headers: { Authorization: basic(user), 'X-Broker-API-Version': '2.17', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const catalogNames = async () => ((await call('GET', '/v2/catalog', undefined, AUTH)).body.services as { name: string }[]).map((s) => s.name);
  return { store, catalog, call, catalogNames };
}

const SERVICE_ID = '3f0c1d9e-0000-4000-8000-00000000aaaa';
const PLAN_ID = '3f0c1d9e-0000-4000-8000-00000000bbbb';

describe('/admin/offerings', () => {
  it('adds a template folder: 201, stored, in GET /v2/catalog; identical again: 200 unchanged', async () => {
    const { store, call, catalogNames } = setup();
    const before = await catalogNames();
    const added = await call('PUT', '/admin/offerings', { files: templateFolder(SERVICE_ID, PLAN_ID, 'kv') });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ result: 'created', offering: { id: SERVICE_ID, name: 'kv', plans: [{ id: PLAN_ID, name: 'small' }], source: 'files' } });
    expect(store.items.has(SERVICE_ID)).toBe(true);
    expect(await catalogNames()).toEqual([...before, 'kv']);
    const again = await call('PUT', '/admin/offerings', { files: templateFolder(SERVICE_ID, PLAN_ID, 'kv') });
    expect(again).toMatchObject({ status: 200, body: { result: 'unchanged' } });
    expect((await call('GET', '/admin/offerings')).body.offerings.map((o: any) => o.id)).toEqual([SERVICE_ID]);
  });

  it('adds the old dynamicservice body with ids derived from its names', async () => {
    const { call, catalogNames } = setup();
    const added = await call('PUT', '/admin/offerings', MONGO_DYNAMIC_SERVICE);
    expect(added.status).toBe(201);
    expect(added.body.offering).toMatchObject({ id: dynamicServiceId('dynamic-mongo'), name: 'dynamic-mongo', source: 'dynamicservice' });
    expect(await catalogNames()).toContain('dynamic-mongo');
  });

  it('updates an offering that keeps its plan ids; refuses one that drops a plan (409), nothing changed', async () => {
    const { store, call } = setup();
    await call('PUT', '/admin/offerings', { files: templateFolder(SERVICE_ID, PLAN_ID, 'kv') });
    const changed = templateFolder(SERVICE_ID, PLAN_ID, 'kv');
    changed['service.json'] = { ...(changed['service.json'] as object), description: 'a new text' };
    const updated = await call('PUT', '/admin/offerings', { files: changed });
    expect(updated).toMatchObject({ status: 200, body: { result: 'updated', offering: { description: 'a new text' } } });
    const stored = store.items.get(SERVICE_ID);
    const dropped = await call('PUT', '/admin/offerings', { files: templateFolder(SERVICE_ID, 'another-plan-id', 'kv') });
    expect(dropped.status).toBe(409);
    expect(dropped.body).toMatchObject({ error: 'Conflict', problems: [{ file: 'small/plan.json', field: 'id' }] });
    expect(dropped.body.description).toContain(`plan small (${PLAN_ID})`);
    expect(store.items.get(SERVICE_ID)).toBe(stored);
  });

  it('refuses ids and names of the file catalog (409) and invalid folders (400), storing nothing', async () => {
    const { store, call } = setup();
    const redis = base.services.find((s) => s.name === 'redis')!;
    const taken = await call('PUT', '/admin/offerings', { files: templateFolder(redis.id, redis.plans[0]!.id, 'redis') });
    expect(taken.status).toBe(409);
    expect(taken.body.problems.map((p: any) => `${p.file} ${p.field}`)).toEqual(['service.json id', 'service.json name', 'small/plan.json id']);
    expect(taken.body.description).toContain('the file catalog');
    const invalid = await call('PUT', '/admin/offerings', { files: { ...templateFolder(SERVICE_ID, PLAN_ID, 'kv'), 'small/plan.json': { id: PLAN_ID } } });
    expect(invalid.status).toBe(400);
    expect(invalid.body).toMatchObject({
      error: 'BadRequest',
      problems: [
        { file: 'small/plan.json', field: 'name' },
        { file: 'small/plan.json', field: 'description' },
      ],
    });
    const missing = await call('PUT', '/admin/offerings', { dynamicService: { serviceName: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body.description).toMatch(/planName.*containers/);
    expect((await call('PUT', '/admin/offerings', { something: 1 })).status).toBe(400);
    expect(store.items.size).toBe(0);
  });

  it('removes an offering without instances; refuses one with live instances (409) and unknown ids (404)', async () => {
    const live = setup([{ instanceId: 'i-1', serviceId: SERVICE_ID }]);
    await live.call('PUT', '/admin/offerings', { files: templateFolder(SERVICE_ID, PLAN_ID, 'kv') });
    const refused = await live.call('DELETE', `/admin/offerings/${SERVICE_ID}`);
    expect(refused.status).toBe(409);
    expect(refused.body.description).toContain('1 live instance or provision in progress (i-1): deprovision them first');
    expect(await live.catalogNames()).toContain('kv');

    const { store, call, catalogNames } = setup();
    await call('PUT', '/admin/offerings', { files: templateFolder(SERVICE_ID, PLAN_ID, 'kv') });
    const removed = await call('DELETE', `/admin/offerings/${SERVICE_ID}`);
    expect(removed).toMatchObject({ status: 200, body: { removed: { id: SERVICE_ID } } });
    expect(store.items.size).toBe(0);
    expect(await catalogNames()).not.toContain('kv');
    expect((await call('DELETE', `/admin/offerings/${SERVICE_ID}`)).status).toBe(404);
    expect((await call('DELETE', `/admin/offerings/${base.services[0]!.id}`)).status).toBe(409);
  });

  it('needs the admin credentials', async () => {
    const { call } = setup();
    expect((await call('GET', '/admin/offerings', undefined, AUTH)).status).toBe(401);
  });
});
