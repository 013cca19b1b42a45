// Every plan change the shipped catalog allows, end to end on the local stack, checked against
// what service-catalog/README.md ("Plan updates") promises: the workload is updated in place,
// objects the new plan does not have are deleted, the PVC appears with `persistent` and goes
// with `small`, a parameter update keeps it, and the instance's Secret (the credentials) and the
// bindings' credentials stay the same. The changes the catalog refuses are refused.
import { afterAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import { loadCatalog } from '../../catalog/load.js';
import type { KubernetesObject, ServiceOffering } from '../../catalog/types.js';
import { SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { brokerForFile } from './helpers/broker.js';
import { MANAGED_KINDS } from './helpers/faults.js';
import { playBindJobs } from './helpers/watch.js';
import { kubeApi, suffix } from './helpers/stack.js';

const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
const serviceNamed = (name: string) => catalog.services.find((s) => s.name === name)!;
const planOf = (service: ServiceOffering, name: string) => service.plans.find((p) => p.name === name)!;

const brokerOf = brokerForFile();
const kube = kubeApi();
afterAll(() => kube.close());

type Objects = Map<string, { uid: string; data?: Record<string, string> }>;

/**
 * The instance's objects that templates make (`Kind/name` to uid), and what a StatefulSet makes
 * from its volumeClaimTemplates; not Pods and ReplicaSets, which their owners replace. Objects
 * being deleted (a PVC held by its protection finalizer until its pod is gone) do not count.
 */
async function objectsOf(instanceId: string): Promise<Objects> {
  const kinds = MANAGED_KINDS.filter(([, k]) => k !== 'Pod' && k !== 'ReplicaSet');
  const lists = await Promise.all(
    kinds.map(([v, k]) =>
      kube.list<KubernetesObject & { data?: Record<string, string> }>(v, k, brokerOf().config.INSTANCE_NAMESPACE, {
        labelSelector: instanceSelector(instanceId),
      }),
    ),
  );
  const found: Objects = new Map();
  lists.forEach((l, i) => {
    for (const o of l.items) {
      if (o.metadata.deletionTimestamp) continue;
      found.set(`${kinds[i]![1]}/${o.metadata.name}`, { uid: o.metadata.uid as string, ...(o.data ? { data: o.data } : {}) });
    }
  });
  return found;
}

const namesOf = (objects: Objects, kind: string) => [...objects.keys()].filter((k) => k.startsWith(`${kind}/`)).sort();

async function succeeded(id: string, res: { status: number; body: any }) {
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await brokerOf().osb.waitForOperation(id, res.body.operation, 300_000)).body).toEqual({ state: 'succeeded' });
}

async function provisioned(service: ServiceOffering, planName: string): Promise<string> {
  const id = `plan-upd-${service.name}-${suffix()}`;
  await succeeded(
    id,
    await brokerOf().osb.provision(id, { service_id: service.id, plan_id: planOf(service, planName).id, organization_guid: 'o', space_guid: 's' }),
  );
  return id;
}

/** Moves the instance to `planName`; answers what GET then reports. */
async function changePlan(service: ServiceOffering, id: string, planName: string, parameters?: Record<string, unknown>) {
  const plan = planOf(service, planName);
  await succeeded(id, await brokerOf().osb.update(id, { service_id: service.id, plan_id: plan.id, ...(parameters ? { parameters } : {}) }));
  const fetched = await brokerOf().osb.request('GET', `/v2/service_instances/${id}`);
  expect(fetched.body.plan_id).toBe(plan.id);
  return fetched.body as { plan_id: string; parameters: Record<string, unknown> };
}

/** The same Secret object with the same values: what "credentials unchanged" means for the instance. */
function expectSameSecrets(before: Objects, after: Objects) {
  const secrets = namesOf(before, 'Secret');
  expect(secrets.length).toBeGreaterThan(0);
  expect(namesOf(after, 'Secret')).toEqual(secrets);
  for (const s of secrets) expect(after.get(s), s).toEqual(before.get(s));
}

async function deprovision(service: ServiceOffering, id: string) {
  const res = await brokerOf().osb.deprovision(id, service.id, service.plans[0]!.id);
  expect(res.status).toBe(202);
  expect((await brokerOf().osb.waitForOperation(id, res.body.operation, 300_000)).status).toBe(410);
}

describe.concurrent('plan changes of the shipped catalog', () => {
  for (const name of ['redis', 'postgresql', 'mariadb', 'mongodb']) {
    it(`${name}: small to persistent (a PVC appears), a parameter update keeps it, back to small (it is deleted); workload and credentials stay`, async () => {
      const service = serviceNamed(name);
      const id = await provisioned(service, 'small');
      const binding = `b-${id}`;
      // KWOK runs no container: the test writes the Secret the plan's bind hook pod would.
      const bindJobs = playBindJobs(kube, planOf(service, 'small'), brokerOf().config.INSTANCE_NAMESPACE, id);
      const bind = await brokerOf()
        .osb.bind(id, binding, { service_id: service.id, plan_id: planOf(service, 'small').id })
        .finally(() => bindJobs.stop());
      expect(bind.status, JSON.stringify(bind.body)).toBe(201);
      const small = await objectsOf(id);
      expect(namesOf(small, 'PersistentVolumeClaim')).toEqual([]);
      const [deployment] = namesOf(small, 'Deployment');
      expect(deployment).toBeDefined();

      const onPersistent = await changePlan(service, id, 'persistent');
      expect(onPersistent.parameters['storage']).toBe('1Gi'); // the target plan's default
      const persistent = await objectsOf(id);
      const claims = namesOf(persistent, 'PersistentVolumeClaim');
      expect(claims).toHaveLength(1);
      expect(persistent.get(deployment!)?.uid, 'the Deployment is updated in place').toBe(small.get(deployment!)?.uid);
      expectSameSecrets(small, persistent);

      // A parameter update on the same plan keeps the volume (and its data): the same PVC object.
      const memory = planOf(service, 'persistent').schemas?.service_instance?.update?.parameters as { properties: { memory: { enum: string[] } } };
      const other = memory.properties.memory.enum.find((m) => m !== onPersistent.parameters['memory'])!;
      await succeeded(id, await brokerOf().osb.update(id, { service_id: service.id, parameters: { memory: other } }));
      const resized = await objectsOf(id);
      expect(resized.get(claims[0]!)?.uid, 'the PVC survives a parameter update').toBe(persistent.get(claims[0]!)?.uid);

      const onSmall = await changePlan(service, id, 'small');
      expect(onSmall.parameters).not.toHaveProperty('storage'); // small does not declare it
      expect(onSmall.parameters['memory']).toBe(other);
      const back = await objectsOf(id);
      expect(namesOf(back, 'PersistentVolumeClaim'), 'the PVC is pruned').toEqual([]);
      expect([...back.keys()].sort()).toEqual([...small.keys()].sort());
      expect(back.get(deployment!)?.uid).toBe(small.get(deployment!)?.uid);
      expectSameSecrets(small, back);

      const fetched = await brokerOf().osb.request('GET', `/v2/service_instances/${id}/service_bindings/${binding}`);
      expect(fetched.body.credentials).toEqual(bind.body.credentials);
      await deprovision(service, id);
    }, 600_000);
  }

  it('rabbitmq: small to persistent (a PVC appears); small to cluster (the StatefulSet replaces the Deployment); credentials stay', async () => {
    const service = serviceNamed('rabbitmq');
    const toPersistent = await provisioned(service, 'small');
    const toCluster = await provisioned(service, 'small');
    const before = { persistent: await objectsOf(toPersistent), cluster: await objectsOf(toCluster) };

    await changePlan(service, toPersistent, 'persistent');
    const persistent = await objectsOf(toPersistent);
    expect(namesOf(persistent, 'PersistentVolumeClaim')).toHaveLength(1);
    const [deployment] = namesOf(before.persistent, 'Deployment');
    expect(persistent.get(deployment!)?.uid).toBe(before.persistent.get(deployment!)?.uid);
    expectSameSecrets(before.persistent, persistent);

    const onCluster = await changePlan(service, toCluster, 'cluster');
    expect(onCluster.parameters['replicas']).toBe(3);
    const cluster = await objectsOf(toCluster);
    expect(namesOf(cluster, 'Deployment'), 'the Deployment is pruned').toEqual([]);
    expect(namesOf(cluster, 'StatefulSet')).toHaveLength(1);
    expect(namesOf(cluster, 'PodDisruptionBudget')).toHaveLength(1);
    // One PVC per node, made by the StatefulSet: not pruned as objects the plan "no longer has".
    expect(namesOf(cluster, 'PersistentVolumeClaim')).toHaveLength(3);
    expectSameSecrets(before.cluster, cluster);

    // Neither persistent nor cluster may change plan (plan_updateable: false): 422, nothing starts.
    for (const [id, to] of [
      [toPersistent, 'small'],
      [toCluster, 'persistent'],
    ] as const) {
      const refused = await brokerOf().osb.update(id, { service_id: service.id, plan_id: planOf(service, to).id });
      expect(refused.status).toBe(422);
      expect(refused.body.description).toMatch(/plan_updateable/);
    }
    expect(namesOf(await objectsOf(toCluster), 'PersistentVolumeClaim')).toHaveLength(3);
    await Promise.all([deprovision(service, toPersistent), deprovision(service, toCluster)]);
  }, 600_000);
});
