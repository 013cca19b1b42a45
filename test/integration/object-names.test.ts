// Object names on the local stack: ids the old naming confused (a shared 15-character head, one
// GUID in two cases) provision side by side with objects of their own, and an instance recorded
// before naming schemes (its record without `nameScheme`, its objects under the old names) keeps
// working through update, bind and deprovision.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import { loadCatalog } from '../../catalog/load.js';
import { CURRENT_NAME_SCHEME, shortServiceId } from '../../catalog/naming.js';
import { generateRandoms } from '../../catalog/randoms.js';
import { renderPlan } from '../../catalog/render.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { fieldManagerFor } from '../../activities/apply-objects.js';
import { RecordStore } from '../../platform/kube/records.js';
import { brokerForFile } from './helpers/broker.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';

const broker = brokerForFile({ CATALOG_DIR: CATALOG });
const kube = kubeApi();
afterAll(() => kube.close());
const ns = () => broker().config.INSTANCE_NAMESPACE;

type Obj = KubernetesObject & { spec?: any; status?: any };
const KINDS: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
  ['v1', 'Secret'],
];

/** `Kind/name` of the instance's objects (found by its label), sorted. */
async function objectsOf(instanceId: string): Promise<string[]> {
  const lists = await Promise.all(KINDS.map(([v, k]) => kube.list(v, k, ns(), { labelSelector: instanceSelector(instanceId) })));
  return lists.flatMap((l, i) => l.items.map((o) => `${KINDS[i]![1]}/${o.metadata.name}`)).sort();
}

async function provision(instanceId: string) {
  const res = await broker().osb.provision(instanceId, { service_id: SERVICE, plan_id: READY, organization_guid: 'org-1', space_guid: 'space-1' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return (await broker().osb.waitForOperation(instanceId, res.body.operation)).body;
}

async function deprovision(instanceId: string) {
  const res = await broker().osb.deprovision(instanceId, SERVICE, READY);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await broker().osb.waitForOperation(instanceId, res.body.operation)).status).toBe(410);
  await eventually(`nothing of ${instanceId} is left`, async () => ((await objectsOf(instanceId)).length === 0 ? true : undefined), 30_000);
}

describe('object names', () => {
  it.each([
    // Fixed ids: the example of the issue. Each test broker has its own namespaces.
    ['ids with one 15-character head', 'test-instance-0001', 'test-instance-0002'],
    ['one GUID in upper and lower case', randomUUID().toUpperCase(), undefined],
  ])('%s: both provision, each with objects of its own', async (_what, a, given) => {
    const b = given ?? a.toLowerCase();
    expect(shortServiceId(a, 'legacy')).toBe(shortServiceId(b, 'legacy'));
    const [doneA, doneB] = await Promise.all([provision(a), provision(b)]);
    expect(doneA).toEqual({ state: 'succeeded' });
    expect(doneB).toEqual({ state: 'succeeded' });
    const [objectsA, objectsB] = await Promise.all([objectsOf(a), objectsOf(b)]);
    for (const [id, objects] of [
      [a, objectsA],
      [b, objectsB],
    ] as const) {
      const short = shortServiceId(id, CURRENT_NAME_SCHEME);
      expect(objects).toEqual([`Deployment/${short}0-web`, `Secret/${short}-testapp`, `Service/${short}0-web`]);
    }
    expect(objectsA.filter((o) => objectsB.includes(o))).toEqual([]);
    // Each binds to its own Service.
    for (const id of [a, b]) {
      const bound = await broker().osb.bind(id, `b-${suffix()}`, { service_id: SERVICE, plan_id: READY });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
      expect(bound.body.credentials.hostname).toBe(`${shortServiceId(id, CURRENT_NAME_SCHEME)}0-web.${ns()}.svc.cluster.local`);
    }
    // Deprovisioning one leaves the other whole.
    await deprovision(a);
    expect(await objectsOf(b)).toEqual(objectsB);
    await deprovision(b);
  });

  it('an instance recorded before naming schemes keeps its old names through update, bind and deprovision', async () => {
    const id = `legacy-${suffix()}-${suffix()}`;
    const oldShort = shortServiceId(id, 'legacy');
    // What the broker did before: a record without nameScheme, objects under the old names.
    const { catalog } = await loadCatalog(CATALOG);
    const service = catalog.services.find((s) => s.id === SERVICE)!;
    const plan = service.plans.find((p) => p.id === READY)!;
    const randoms = generateRandoms();
    const parameters = { replicas: 1, greeting: 'hello' };
    const now = new Date().toISOString();
    await new RecordStore(kube, broker().config.BROKER_NAMESPACE).createInstance(
      {
        instanceId: id,
        serviceId: SERVICE,
        planId: READY,
        parameters,
        context: {},
        org: 'org-1',
        space: 'space-1',
        namespace: ns(),
        ownsNamespace: false,
        state: 'ready',
        createdAt: now,
        updatedAt: now,
      },
      randoms,
    );
    const values = { instanceId: id, org: 'org-1', space: 'space-1', namespace: ns(), storageClass: 'standard', parameters, randoms };
    for (const object of renderPlan(service, plan, values)) await kube.apply(object, { fieldManager: fieldManagerFor(id), force: false });
    const before = await objectsOf(id);
    expect(before).toEqual([`Deployment/${oldShort}0-web`, `Secret/${oldShort}-testapp`, `Service/${oldShort}0-web`]);
    const deploymentUid = (await kube.get('apps/v1', 'Deployment', ns(), `${oldShort}0-web`))!.metadata.uid;

    // Update: the same objects, changed in place; nothing under new names.
    const update = await broker().osb.update(id, { service_id: SERVICE, plan_id: READY, parameters: { greeting: 'bonjour' } });
    expect(update.status, JSON.stringify(update.body)).toBe(202);
    expect((await broker().osb.waitForOperation(id, update.body.operation)).body).toEqual({ state: 'succeeded' });
    expect(await objectsOf(id)).toEqual(before);
    const deployment = (await kube.get<Obj>('apps/v1', 'Deployment', ns(), `${oldShort}0-web`))!;
    expect(deployment.metadata.uid).toBe(deploymentUid);
    expect(deployment.spec.template.spec.containers[0].env).toContainEqual({ name: 'GREETING', value: 'bonjour' });

    // Bind: the credentials name the old Service and carry the recorded password.
    const bound = await broker().osb.bind(id, `b-${suffix()}`, { service_id: SERVICE, plan_id: READY });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    expect(bound.body.credentials).toMatchObject({ hostname: `${oldShort}0-web.${ns()}.svc.cluster.local`, username: 'app', password: randoms.random1 });

    await deprovision(id);
  });
});
