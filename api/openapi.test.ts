// The OpenAPI document is generated from the routes: every OSB and admin route is in it, with
// its request schema and responses, and nothing is written by hand.
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/load.js';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import { createLogger } from '../platform/observability/logger.js';
import { createApp } from './app.js';
import { FakeBroker } from './fake-broker.js';

const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
const app = createApp({
  broker: new FakeBroker(),
  catalog,
  logger: createLogger('silent'),
  auth: { username: 'platform', password: 'platform-password' },
  maxBodyBytes: 1024,
  pollIntervalSeconds: 5,
  admin: { username: 'admin', password: 'admin-password' },
  adminDeps: {} as never, // routes are only described here, never called
  offerings: {} as never,
});

const basic = (user: string, pass: string) => ({ headers: { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } });
const PLATFORM = basic('platform', 'platform-password');

describe('GET /openapi.json', () => {
  it('answers the platform and the operator, nobody else', async () => {
    expect((await app.request('/openapi.json')).status).toBe(401);
    expect((await app.request('/openapi.json', basic('platform', 'wrong'))).status).toBe(401);
    expect((await app.request('/openapi.json', PLATFORM)).status).toBe(200);
    expect((await app.request('/openapi.json', basic('admin', 'admin-password'))).status).toBe(200);
  });

  it('documents every OSB and admin route that the app serves', async () => {
    const res = await app.request('/openapi.json', PLATFORM);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, any>> };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const served = app.routes
      .filter((r) => r.method !== 'ALL' && /^\/(v2|admin)\//.test(r.path))
      .map((r) => `${r.method} ${r.path.replace(/:([a-z_]+)/g, '{$1}')}`);
    expect(documented).toEqual([...new Set(served)].sort());
  });

  it('carries request schemas, responses and security from the route definitions', async () => {
    const doc = (await (await app.request('/openapi.json', PLATFORM)).json()) as any;
    const put = doc.paths['/v2/service_instances/{instance_id}'].put;
    expect(put.requestBody.content['application/json'].schema.required).toEqual(['service_id', 'plan_id', 'organization_guid', 'space_guid']);
    expect(Object.keys(put.responses).sort()).toEqual(['200', '202', '400', '401', '409', '412', '422']);
    expect(put.security).toEqual([{ platform: [] }]);
    expect(doc.paths['/admin/orphans'].delete.security).toEqual([{ admin: [] }]);
    expect(doc.components.securitySchemes.platform).toMatchObject({ type: 'http', scheme: 'basic' });
  });
});
