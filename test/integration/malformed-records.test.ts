// One instance record Secret that does not decode (edited by hand, written by a broken tool) must
// not break what lists records: quota checks, the admin views, orphans and offering removal answer
// as before, the operator sees the bad record by name, and its instance's objects are never called
// orphans.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MONGO_DYNAMIC_SERVICE } from '../../catalog/offerings/testing.js';
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { FIELD_MANAGER, RECORD_INSTANCE_LABEL, RECORD_LABEL } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const ADMIN = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;

const kube = kubeApi();
const id = suffix();
const ORG = `org-mal-${id}`;
const BROKEN = `broken-${id}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-malformed-'));
let broker: RunningBroker;

const admin = (method: string, p: string, body?: unknown) =>
  fetch(`${broker.url}/admin${p}`, {
    method,
    headers: { Authorization: ADMIN, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

beforeAll(async () => {
  // A quota, so that every provision of ORG lists the instance records.
  const clusters = path.join(dir, 'clusters.yaml');
  fs.writeFileSync(clusters, ['quotas:', `  - organization: ${ORG}`, '    maxInstances: 5', ''].join('\n'));
  broker = await startBroker({ CATALOG_DIR: CATALOG, CLUSTERS_FILE: clusters, ADMIN_USER: 'admin', ADMIN_PASS: 'admin-password' });
  const ns = broker.config.BROKER_NAMESPACE;
  await kube.create(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `kb-instance-${BROKEN}`,
        namespace: ns,
        labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [RECORD_LABEL]: 'instance', [RECORD_INSTANCE_LABEL]: BROKEN },
      },
      data: { record: Buffer.from('{"instanceId": "broken", truncated').toString('base64') },
    },
    { fieldManager: FIELD_MANAGER },
  );
  // An object of the broken record's instance, as its provision left it.
  await kube.create(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `x${BROKEN}`, namespace: broker.config.INSTANCE_NAMESPACE, labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_ID_LABEL]: BROKEN } },
      data: {},
    },
    { fieldManager: FIELD_MANAGER },
  );
});

afterAll(async () => {
  await kube.delete('v1', 'ConfigMap', broker.config.INSTANCE_NAMESPACE, `x${BROKEN}`).catch(() => false);
  await kube.delete('v1', 'Secret', broker.config.BROKER_NAMESPACE, `kb-instance-${BROKEN}`).catch(() => false);
  await broker?.stop();
  kube.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a malformed instance record', () => {
  it('does not fail a provision whose organization has a quota', async () => {
    const instance = `mal-${id}`;
    const res = await broker.osb.provision(instance, { service_id: SERVICE, plan_id: READY, organization_guid: ORG, space_guid: 'space' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await broker.osb.waitForOperation(instance, res.body.operation)).body).toEqual({ state: 'succeeded' });
    const gone = await broker.osb.deprovision(instance, SERVICE, READY);
    expect((await broker.osb.waitForOperation(instance, gone.body.operation)).status).toBe(410);
  });

  it('is listed by the admin view as unreadable, by name, beside the readable ones', async () => {
    const res = await admin('GET', '/instances');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const row = res.body.instances.find((i: any) => i.instanceId === BROKEN);
    expect(row).toMatchObject({ state: 'unreadable', problem: expect.stringContaining(`kb-instance-${BROKEN}`) });
  });

  it("leaves pods, orphans and offering removal answering; its instance's objects are no orphans", async () => {
    expect((await admin('GET', '/pods')).status).toBe(200);
    const orphans = await admin('GET', '/orphans');
    expect(orphans.status, JSON.stringify(orphans.body)).toBe(200);
    expect(orphans.body.orphans.filter((o: any) => o.instanceId === BROKEN)).toEqual([]);
    // Removing an offering lists the instance records to refuse while it has instances.
    const added = await admin('PUT', '/offerings', MONGO_DYNAMIC_SERVICE);
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const removed = await admin('DELETE', `/offerings/${added.body.offering.id}`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
  });
});
