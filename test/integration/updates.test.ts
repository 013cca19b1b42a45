// Updates on the local stack with a catalog of their own (fixtures/updates-catalog): a failed
// update rolls back and leaves a usable instance; a plan with plan_updateable false refuses a
// plan change; maintenance_info is checked, recorded and reported. The maintenance_info of an
// instance left behind by a newer catalog is in upgrade-plan.test.ts.
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { brokerForFile } from './helpers/broker.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/updates-catalog', import.meta.url));
const SERVICE = 'b7e0c1d2-7a41-4a0e-9c55-0a11ce0d0001';
const CURRENT = 'b7e0c1d2-7a41-4a0e-9c55-0a11ce0d0101';
const NEVER_READY = 'b7e0c1d2-7a41-4a0e-9c55-0a11ce0d0102';
const FIXED = 'b7e0c1d2-7a41-4a0e-9c55-0a11ce0d0103';

const brokerOf = brokerForFile({ CATALOG_DIR: CATALOG });
const kube = kubeApi();
afterAll(() => kube.close());

type Pod = KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } };

async function provisioned(planId: string, prefix: string): Promise<string> {
  const id = `${prefix}-${suffix()}`;
  const res = await brokerOf().osb.provision(id, { service_id: SERVICE, plan_id: planId, organization_guid: 'o', space_guid: 's' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await brokerOf().osb.waitForOperation(id, res.body.operation)).body).toEqual({ state: 'succeeded' });
  return id;
}

const list = <T extends KubernetesObject>(kind: string, apiVersion: string, id: string) =>
  kube.list<T>(apiVersion, kind, brokerOf().config.INSTANCE_NAMESPACE, { labelSelector: instanceSelector(id) }).then((l) => l.items);

describe('a failed update', () => {
  it('rolls back to the old objects, ends failed with a description, and leaves the instance usable: bind works, a later update succeeds', async () => {
    const osb = brokerOf().osb;
    const id = await provisioned(CURRENT, 'upd-rollback');
    const before = (await list('Deployment', 'apps/v1', id))[0]!;

    // Plan never-ready: its pods never turn Ready, and it has a ConfigMap plan current has not.
    const update = await osb.update(id, { service_id: SERVICE, plan_id: NEVER_READY, parameters: { greeting: 'never' } });
    expect(update.status, JSON.stringify(update.body)).toBe(202);
    const done = await osb.waitForOperation(id, update.body.operation);
    expect(done.body.state).toBe('failed');
    expect(done.body.description).toMatch(/^update failed: .*not ready within its deadline/);
    expect(done.body.description).toMatch(/rolled back to its previous plan and parameters; it is usable\.$/);

    // The old objects are back: no ConfigMap, the old pod template and parameters, pods Ready.
    const fetched = await osb.request('GET', `/v2/service_instances/${id}`);
    expect(fetched.body).toMatchObject({ plan_id: CURRENT, parameters: { greeting: 'hello', replicas: 1 } });
    expect(await list('ConfigMap', 'v1', id)).toEqual([]);
    const after = (await list<KubernetesObject & { spec: any }>('Deployment', 'apps/v1', id))[0]!;
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec.template).toEqual((before as KubernetesObject & { spec: any }).spec.template);
    await eventually('only Ready pods of the old template', async () => {
      const pods = await list<Pod>('Pod', 'v1', id);
      const ready = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return pods.length === 1 && pods.every((p) => ready(p) && !p.metadata.labels?.['kwok.kubernetes-broker.io/never-ready']) ? true : undefined;
    });

    const bind = await osb.bind(id, `b-${id}`, { service_id: SERVICE, plan_id: CURRENT });
    expect(bind.status, JSON.stringify(bind.body)).toBe(201);
    const later = await osb.update(id, { service_id: SERVICE, parameters: { replicas: 2 } });
    expect(later.status, JSON.stringify(later.body)).toBe(202);
    expect((await osb.waitForOperation(id, later.body.operation)).body).toEqual({ state: 'succeeded' });
    expect((await osb.request('GET', `/v2/service_instances/${id}`)).body.parameters).toEqual({ greeting: 'hello', replicas: 2 });
  }, 180_000);
});

describe('plan_updateable and maintenance_info', () => {
  it('plan_updateable false: a plan change is a 422 naming it (OSB: the requested change is not supported), and starts nothing; a parameter update still works', async () => {
    const osb = brokerOf().osb;
    const id = await provisioned(FIXED, 'upd-fixed');
    const refused = await osb.update(id, { service_id: SERVICE, plan_id: CURRENT });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({
      error: 'UnprocessableEntity',
      description: 'plan fixed of service upgradable cannot be changed to another plan (its plan_updateable is false); only its parameters can be updated',
    });
    expect((await osb.lastOperation(id)).body).toEqual({ state: 'succeeded' }); // still the provision's
    const parameters = await osb.update(id, { service_id: SERVICE, parameters: { greeting: 'hi' } });
    expect(parameters.status, JSON.stringify(parameters.body)).toBe(202);
    expect((await osb.waitForOperation(id, parameters.body.operation)).body).toEqual({ state: 'succeeded' });
  });

  it("GET reports the plan's maintenance_info an instance was provisioned with, also when the request named none; another version is a 422 MaintenanceInfoConflict", async () => {
    const osb = brokerOf().osb;
    const id = await provisioned(CURRENT, 'upd-maint');
    expect((await osb.request('GET', `/v2/service_instances/${id}`)).body.maintenance_info).toEqual({ version: '1.0.0' });
    for (const body of [
      { service_id: SERVICE, maintenance_info: { version: '0.9.0' } },
      { service_id: SERVICE, plan_id: NEVER_READY, maintenance_info: { version: '2.0.0' } },
    ]) {
      const conflict = await osb.update(id, body);
      expect(conflict.status).toBe(422);
      expect(conflict.body).toMatchObject({ error: 'MaintenanceInfoConflict', description: expect.stringContaining('1.0.0') });
    }
    // The version the instance has already: nothing to do (OSB: 200 with an empty object).
    const same = await osb.update(id, { service_id: SERVICE, maintenance_info: { version: '1.0.0' } });
    expect(same.status).toBe(200);
    expect(same.body).toEqual({});
  });
});
