// PATCH gets PUT's trial render: an update whose parameters the plan's templates cannot take is
// a 400 at once, no workflow started, instead of a 202 and a failed update later. Through the
// Hono app and TemporalBroker (the update's checks need the instance's record), over the fake
// Temporal client and in-memory records of broker/testing.ts.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { loadCatalog } from '../catalog/load.js';
import { baseCatalog, deployment, removeCatalog, writeCatalog } from '../catalog/testing.js';
import type { Catalog } from '../catalog/types.js';
import { instanceRecord, temporalBrokerOverFakes } from '../broker/testing.js';

const AUTH = { username: 'platform', password: 'a-long-password' };
const BASIC = `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`;

let dir: string;
let catalog: Catalog;

beforeAll(async () => {
  // small places `note` (which its schema does not type) in an annotation; large also needs `size`, which has no default.
  const annotated = (annotations: Record<string, string>) => {
    const template = deployment('$idx_and_short_serviceid');
    (template['metadata'] as Record<string, unknown>)['annotations'] = annotations;
    return template;
  };
  const plan = (id: string, name: string, properties: Record<string, unknown>) => ({
    id,
    name,
    description: name,
    free: true,
    plan_updateable: true,
    schemas: { service_instance: { create: { parameters: { type: 'object', properties } } } },
  });
  dir = writeCatalog(
    baseCatalog({
      'db/small/plan.json': plan('db-small-id', 'small', { note: { default: 'hello' } }),
      'db/small/k8s/deployment.json': annotated({ note: '$param_note' }),
      'db/large/plan.json': plan('db-large-id', 'large', { note: { default: 'hello' }, size: { type: 'string' } }),
      'db/large/k8s/deployment.json': annotated({ note: '$param_note', size: '$param_size' }),
    }),
  );
  catalog = (await loadCatalog(dir)).catalog;
});
afterAll(() => removeCatalog(dir));

async function patch(body: Record<string, unknown>) {
  const { broker, starts } = temporalBrokerOverFakes(catalog, { instance: { ...instanceRecord, parameters: { note: 'hello' } } });
  const app = createApp({ broker, catalog, logger: pino({ level: 'silent' }), auth: AUTH, maxBodyBytes: 4096, pollIntervalSeconds: 5 });
  const res = await app.request(`/v2/service_instances/${instanceRecord.instanceId}?accepts_incomplete=true`, {
    method: 'PATCH',
    headers: { Authorization: BASIC, 'X-Broker-API-Version': '2.17', 'Content-Type': 'application/json' },
    body: JSON.stringify({ service_id: 'db-service-id', ...body }),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; description: string }, starts };
}

describe('PATCH: the trial render', () => {
  it('an update the templates can take starts (202)', async () => {
    const res = await patch({ parameters: { note: 'bye' } });
    expect(res.status).toBe(202);
    expect(res.starts.map((s) => s.workflowType)).toEqual(['updateInstance']);
  });

  it.each([
    ['a parameter a template cannot place', { parameters: { note: { nested: true } } }, 'only strings, numbers and booleans can be placed in templates'],
    ['a plan change leaving a parameter the new plan needs unset', { plan_id: 'db-large-id' }, '$param_size has no value'],
  ])('%s: 400 at once, no update started', async (_name, body, says) => {
    const res = await patch(body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining('cannot be rendered with these parameters') });
    expect(res.body.description).toContain(says);
    expect(res.starts).toEqual([]);
  });
});
