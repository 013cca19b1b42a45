// EXTERNAL_ADDRESSES on the local stack: credentials carry EXTERNAL_HOST and the node port of a
// NodePort Service, the address of a LoadBalancer Service (set here in its status, as a cloud's
// controller would), and still the cluster DNS name of a ClusterIP Service. A NodePort without
// EXTERNAL_HOST fails the bind, saying what to set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import { baseCatalog, removeCatalog, service, writeCatalog } from '../../catalog/testing.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, suffix } from './helpers/stack.js';

const SERVICE = 'db-service-id';
const PLANS = { clusterIp: 'db-small-id', nodePort: 'db-nodeport-id', loadBalancer: 'db-lb-id' };
const NODE_ADDRESS = '203.0.113.7';
const LB_ADDRESS = '198.51.100.9';

/** The base catalog's plan `small` (a Service on 5432), and two more whose Service is of another type. */
function catalogFiles() {
  const files = baseCatalog();
  for (const [folder, id, type] of [
    ['nodeport', PLANS.nodePort, 'NodePort'],
    ['lb', PLANS.loadBalancer, 'LoadBalancer'],
  ] as const) {
    for (const [name, content] of Object.entries(files)) {
      if (name.startsWith('db/small/')) files[name.replace('db/small/', `db/${folder}/`)] = content;
    }
    files[`db/${folder}/plan.json`] = { id, name: folder, description: `a ${type} Service`, free: true };
    const svc = service('$idx_and_short_serviceid', [{ port: 5432 }]) as { spec: Record<string, unknown> };
    files[`db/${folder}/k8s/service.json`] = { ...svc, spec: { ...svc.spec, type } };
  }
  return files;
}

const kube = kubeApi();
let catalogDir: string;
beforeAll(() => {
  catalogDir = writeCatalog(catalogFiles());
});
afterAll(() => {
  removeCatalog(catalogDir);
  kube.close();
});

/** The instances made, each with its broker and plan: deprovisioned when the file ends. */
const made: [RunningBroker, string, string][] = [];

/** Provisions an instance of `plan` and returns it with its Service (as the API server made it). */
async function provisioned(broker: RunningBroker, plan: string) {
  const id = `ext-${suffix()}`;
  made.push([broker, id, plan]);
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: plan });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await broker.osb.waitForOperation(id, res.body.operation)).body).toEqual({ state: 'succeeded' });
  const services = await kube.list<any>('v1', 'Service', broker.config.INSTANCE_NAMESPACE, { labelSelector: instanceSelector(id) });
  expect(services.items).toHaveLength(1);
  return { id, svc: services.items[0] };
}

const bind = (broker: RunningBroker, id: string, plan: string) => broker.osb.bind(id, `b-${suffix()}`, { service_id: SERVICE, plan_id: plan });

describe('EXTERNAL_ADDRESSES on, EXTERNAL_HOST set', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({ CATALOG_DIR: catalogDir, EXTERNAL_ADDRESSES: 'true', EXTERNAL_HOST: NODE_ADDRESS });
  });
  afterAll(async () => {
    await Promise.all(made.filter(([b]) => b === broker).map(([, id, plan]) => broker.osb.deprovision(id, SERVICE, plan)));
    await broker?.stop();
  });

  it('a NodePort Service: EXTERNAL_HOST and the node port the API server allocated', async () => {
    const { id, svc } = await provisioned(broker, PLANS.nodePort);
    const nodePort = svc.spec.ports[0].nodePort as number;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    const res = await bind(broker, id, PLANS.nodePort);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.credentials).toMatchObject({ hostname: NODE_ADDRESS, port: String(nodePort) });
    expect(res.body.credentials.uri).toContain(`@${NODE_ADDRESS}:${nodePort}/`);
  });

  it("a LoadBalancer Service: its load balancer's address and the Service's port", async () => {
    const { id, svc } = await provisioned(broker, PLANS.loadBalancer);
    const path = `/api/v1/namespaces/${svc.metadata.namespace}/services/${svc.metadata.name}/status`;
    await kube.request('PATCH', path, { body: { status: { loadBalancer: { ingress: [{ ip: LB_ADDRESS }] } } }, contentType: 'application/merge-patch+json' });
    const res = await bind(broker, id, PLANS.loadBalancer);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.credentials).toMatchObject({ hostname: LB_ADDRESS, port: '5432' });
  });

  it('a ClusterIP Service: still its cluster DNS name and port', async () => {
    const { id, svc } = await provisioned(broker, PLANS.clusterIp);
    const res = await bind(broker, id, PLANS.clusterIp);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.credentials).toMatchObject({ hostname: `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local`, port: '5432' });
  });
});

describe('EXTERNAL_ADDRESSES on, EXTERNAL_HOST not set', () => {
  let broker: RunningBroker;
  beforeAll(async () => {
    broker = await startBroker({ CATALOG_DIR: catalogDir, EXTERNAL_ADDRESSES: 'true' });
  });
  afterAll(async () => {
    await Promise.all(made.filter(([b]) => b === broker).map(([, id, plan]) => broker.osb.deprovision(id, SERVICE, plan)));
    await broker?.stop();
  });

  it('a NodePort Service: the bind fails saying to set EXTERNAL_HOST (a node port on the cluster DNS name reaches nothing)', async () => {
    const { id } = await provisioned(broker, PLANS.nodePort);
    const res = await bind(broker, id, PLANS.nodePort);
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.description).toMatch(/is a NodePort and EXTERNAL_ADDRESSES is on, but EXTERNAL_HOST is not set/);
  });
});
