// Every plan of the shipped catalog, end to end through the real broker on the local stack:
// provision, fetch, see Ready pods, update, bind (credentials hold the instance's real host and
// port, and the password of the instance or, for plans with a bind hook, the binding's own),
// fetch the binding, unbind, bind again, deprovision with the binding live, and nothing is left.
// KWOK runs no container: for plans with a bind hook the test writes the Secret the bind Job
// would write; binding-users.test.ts runs those Jobs' scripts against real servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINDING_ID_LABEL, instanceSelector } from '../../catalog/labels.js';
import { loadCatalog } from '../../catalog/load.js';
import type { KubernetesObject, Plan, ServiceOffering } from '../../catalog/types.js';
import { SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { RECORD_INSTANCE_LABEL, RECORD_LABEL } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, suffix } from './helpers/stack.js';
import { playBindJobs } from './helpers/watch.js';
import { MANAGED_KINDS } from './helpers/faults.js';

const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
const plans = catalog.services.flatMap((service) => service.plans.map((plan) => ({ service, plan })));

let broker: RunningBroker;
const kube = kubeApi();

beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

async function leftovers(instanceId: string): Promise<string[]> {
  const ns = broker.config.INSTANCE_NAMESPACE;
  const lists = await Promise.all(MANAGED_KINDS.map(([v, k]) => kube.list(v, k, ns, { labelSelector: instanceSelector(instanceId) })));
  const records = await kube.list('v1', 'Secret', broker.config.BROKER_NAMESPACE, { labelSelector: `${RECORD_INSTANCE_LABEL}=${instanceId}` });
  return [
    ...lists.flatMap((l, i) => l.items.map((o) => `${MANAGED_KINDS[i]![1]}/${o.metadata.name}`)),
    ...records.items.map((r) => `record/${r.metadata.name}`),
  ];
}

/** Another allowed value of the `memory` parameter: every shipped plan has one. */
function otherMemory(plan: Plan, current: unknown): string {
  const schema = plan.schemas?.service_instance?.update?.parameters as { properties?: { memory?: { enum?: string[] } } } | undefined;
  const values = schema?.properties?.memory?.enum ?? [];
  const other = values.find((v) => v !== current);
  if (!other) throw new Error(`plan ${plan.name} has no other memory value`);
  return other;
}

/** Every value of the instance's Secrets, decoded: the passwords credentials must carry. */
async function secretValues(instanceId: string): Promise<string[]> {
  const secrets = await kube.list<KubernetesObject & { data?: Record<string, string> }>('v1', 'Secret', broker.config.INSTANCE_NAMESPACE, {
    labelSelector: instanceSelector(instanceId),
  });
  return secrets.items.flatMap((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')));
}

/** The instance's own Secrets' values (not those a bind hook wrote for a binding). */
const instanceSecretValues = async (instanceId: string) => {
  const secrets = await kube.list<KubernetesObject & { data?: Record<string, string> }>('v1', 'Secret', broker.config.INSTANCE_NAMESPACE, {
    labelSelector: `${instanceSelector(instanceId)},!${BINDING_ID_LABEL}`,
  });
  return secrets.items.flatMap((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, 'base64').toString('utf8')));
};

async function lifecycle(service: ServiceOffering, plan: Plan) {
  const id = `shipped-${suffix()}`;
  const bindJobs = plan.hooks?.onBindInstance ? playBindJobs(kube, plan, broker.config.INSTANCE_NAMESPACE, id) : undefined;
  try {
    await lifecycleOf(id, service, plan, bindJobs?.passwords);
  } finally {
    await bindJobs?.stop();
  }
}

async function lifecycleOf(id: string, service: ServiceOffering, plan: Plan, hookPasswords: Map<string, string> | undefined) {
  const ns = broker.config.INSTANCE_NAMESPACE;
  const osb = broker.osb;

  const provision = await osb.provision(id, { service_id: service.id, plan_id: plan.id, organization_guid: 'o', space_guid: 's' });
  expect(provision.status, JSON.stringify(provision.body)).toBe(202);
  expect((await osb.waitForOperation(id, provision.body.operation)).body).toEqual({ state: 'succeeded' });

  const fetched = await osb.request('GET', `/v2/service_instances/${id}`);
  expect(fetched.status).toBe(200);
  expect(fetched.body).toMatchObject({ service_id: service.id, plan_id: plan.id });
  const pods = await kube.list<any>('v1', 'Pod', ns, { labelSelector: instanceSelector(id) });
  expect(pods.items.length).toBeGreaterThan(0);
  for (const p of pods.items) expect(p.status.conditions.find((c: any) => c.type === 'Ready')?.status, p.metadata.name).toBe('True');

  const memory = otherMemory(plan, fetched.body.parameters.memory);
  const update = await osb.update(id, { service_id: service.id, parameters: { memory } });
  expect(update.status, JSON.stringify(update.body)).toBe(202);
  expect((await osb.waitForOperation(id, update.body.operation)).body).toEqual({ state: 'succeeded' });
  expect((await osb.request('GET', `/v2/service_instances/${id}`)).body.parameters.memory).toBe(memory);

  // Bind: the credentials are the running instance's, with the instance's password or, where
  // the plan has a bind hook, the binding's own and none of the instance's.
  const bindBody = { service_id: service.id, plan_id: plan.id, bind_resource: { app_guid: 'app-1' } };
  const bind = await osb.bind(id, 'b1-' + id, bindBody);
  expect(bind.status, JSON.stringify(bind.body)).toBe(201);
  const credentials = bind.body.credentials;
  const services = (await kube.list('v1', 'Service', ns, { labelSelector: instanceSelector(id) })).items.map(
    (s) => `${s.metadata.name}.${ns}.svc.cluster.local`,
  );
  expect(services).toContain(credentials.hostname);
  if (hookPasswords) {
    expect(credentials.password).toBe(hookPasswords.get('b1-' + id));
    expect(await instanceSecretValues(id)).not.toContain(credentials.password);
  } else {
    expect(await secretValues(id)).toContain(credentials.password);
  }
  const uri = new URL(credentials.uri);
  expect(uri.hostname).toBe(credentials.hostname);
  expect(uri.port).toBe(String(credentials.port));
  expect(decodeURIComponent(uri.password)).toBe(credentials.password);
  expect(bind.body.endpoints.some((e: any) => e.host === credentials.hostname)).toBe(true);

  const again = await osb.bind(id, 'b1-' + id, bindBody);
  expect(again.status).toBe(200);
  expect(again.body.credentials).toEqual(credentials);
  const got = await osb.request('GET', `/v2/service_instances/${id}/service_bindings/b1-${id}`);
  expect(got.status).toBe(200);
  expect(got.body.credentials).toEqual(credentials);

  expect((await osb.unbind(id, 'b1-' + id, service.id, plan.id)).status).toBe(200);
  expect((await osb.request('GET', `/v2/service_instances/${id}/service_bindings/b1-${id}`)).status).toBe(404);
  const bindings = await kube.list('v1', 'Secret', broker.config.BROKER_NAMESPACE, { labelSelector: `${RECORD_LABEL}=binding,${RECORD_INSTANCE_LABEL}=${id}` });
  expect(bindings.items).toEqual([]);

  // Deprovision with a live binding: it goes too.
  expect((await osb.bind(id, 'b2-' + id, bindBody)).status).toBe(201);
  const deprovision = await osb.deprovision(id, service.id, plan.id);
  expect(deprovision.status).toBe(202);
  expect((await osb.waitForOperation(id, deprovision.body.operation)).status).toBe(410);
  expect(await leftovers(id)).toEqual([]);
}

describe.concurrent('shipped catalog', () => {
  it('has the promised services', () => {
    expect(catalog.services.map((s) => s.name).sort()).toEqual(['mariadb', 'mongodb', 'postgresql', 'rabbitmq', 'redis']);
  });
  for (const { service, plan } of plans) {
    it(`${service.name}/${plan.name}: provision, update, bind, unbind, deprovision`, () => lifecycle(service, plan), 180_000);
  }
});
