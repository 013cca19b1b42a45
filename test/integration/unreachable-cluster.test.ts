// Every operation ends by its deadline, also when its cluster stops answering: a provision, a
// bind with a bind hook and a deprovision on a cluster whose API server answers 503 to everything
// (a server of this test; the shared stack is not touched) end `failed` within their plan's
// maximum_polling_duration (plus the compensation's as much again), with a description that names
// the cluster and says what to do, instead of staying `in progress` while Temporal retries.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RecordStore } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const HOOKS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0107';
/** Plan short: its deadline is 15 s. */
const SHORT = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0106';
/** The deadline of the hooks plan in this test's copy of the catalog. */
const DEADLINE_S = 20;
/** What an operation may take: its deadline, the compensation's as much again, retries' backoff and polling. */
const ENDS_WITHIN_MS = (2 * DEADLINE_S + 40) * 1000;

const id = suffix();
const ORG = `org-flaky-${id}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-unreachable-'));
let down: http.Server;
let broker: RunningBroker;
let shared: Record<string, string>;

/** The fixture catalog with the hooks plan's deadline shortened. */
function shortCatalog(): string {
  const catalog = path.join(dir, 'catalog');
  fs.cpSync(FIXTURES, catalog, { recursive: true });
  const planFile = path.join(catalog, 'testapp/hooks/plan.json');
  const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(planFile, JSON.stringify({ ...plan, maximum_polling_duration: DEADLINE_S }));
  return catalog;
}

/** A clusters file: cluster `flaky` (the stack's cluster b, or the server that answers 503), ORG routed to it. */
function clustersFile(kubeconfig: string): string {
  const file = path.join(dir, `clusters-${path.basename(kubeconfig)}.yaml`);
  fs.writeFileSync(
    file,
    ['clusters:', '  - name: flaky', `    kubeconfig: ${kubeconfig}`, 'routing:', `  - organization: ${ORG}`, '    cluster: flaky', ''].join('\n'),
  );
  return file;
}

function downKubeconfig(port: number): string {
  const file = path.join(dir, 'down.kubeconfig');
  fs.writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: down, cluster: { server: "http://127.0.0.1:' + port + '", insecure-skip-tls-verify: true } }]',
      'users: [{ name: broker, user: { token: not-a-secret } }]',
      'contexts: [{ name: down, context: { cluster: down, user: broker } }]',
      'current-context: down',
      '',
    ].join('\n'),
  );
  return file;
}

const catalog = shortCatalog();
const instance = `flaky-${id}`;
const kept = `kept-${id}`;

beforeAll(async () => {
  down = http.createServer((req, res) => {
    req.resume();
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'ServiceUnavailable', message: 'the test cluster is down', code: 503 }),
    );
  });
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));

  // The instance is made while cluster flaky works (it is cluster b), then the cluster goes down.
  broker = await startBroker({ CATALOG_DIR: catalog, CLUSTERS_FILE: clustersFile(stackEnv()['BROKER_KUBECONFIG_B']!) });
  shared = {
    BROKER_NAMESPACE: broker.config.BROKER_NAMESPACE,
    INSTANCE_NAMESPACE: broker.config.INSTANCE_NAMESPACE,
    TEMPORAL_TASK_QUEUE: broker.config.TEMPORAL_TASK_QUEUE,
    CODEC_KEYS: broker.config.CODEC_KEYS!,
  };
  const res = await broker.osb.provision(instance, { service_id: SERVICE, plan_id: HOOKS, organization_guid: ORG, space_guid: 'space' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await broker.osb.waitForOperation(instance, res.body.operation, 120_000)).body).toEqual({ state: 'succeeded' });
  // A binding of the instance, for the unbind below (its record as a bind writes it: a real bind
  // needs the hook Job to run, which this cluster's kwok does not do).
  const kube = kubeApi();
  await new RecordStore(kube, broker.config.BROKER_NAMESPACE).createBinding(
    { bindingId: kept, instanceId: instance, serviceId: SERVICE, planId: HOOKS, parameters: {}, context: {}, createdAt: new Date().toISOString() },
    { password: 'not-a-secret' },
  );
  kube.close();
  await broker.stop();
  broker = await startBroker({ CATALOG_DIR: catalog, CLUSTERS_FILE: clustersFile(downKubeconfig((down.address() as AddressInfo).port)), ...shared });
}, 240_000);

afterAll(async () => {
  // Cluster flaky works again: remove what the test made there.
  await broker?.stop();
  broker = await startBroker({ CATALOG_DIR: catalog, CLUSTERS_FILE: clustersFile(stackEnv()['BROKER_KUBECONFIG_B']!), ...shared });
  for (const i of [instance, `flaky-new-${id}`]) {
    const res = await broker.osb.deprovision(i, SERVICE, HOOKS);
    if (res.status === 202) await broker.osb.waitForOperation(i, res.body.operation, 120_000);
  }
  await broker.stop();
  await new Promise((resolve) => down.close(resolve));
}, 240_000);

/** The description names the cluster and says what to do. */
function expectActionable(description: string) {
  expect(description).toMatch(/cluster flaky/);
  expect(description).toMatch(/503 ServiceUnavailable/);
  expect(description).toMatch(/reachable|again|retry/);
}

/** Polls until the operation ends; it must end by `ENDS_WITHIN_MS`. */
async function ended(poll: () => Promise<{ status: number; body: any }>): Promise<{ state: string; description: string }> {
  const start = Date.now();
  for (;;) {
    const res = await poll();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    if (res.body.state !== 'in progress') return res.body;
    if (Date.now() - start > ENDS_WITHIN_MS) throw new Error(`still in progress after ${ENDS_WITHIN_MS} ms: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

it('a provision on the unreachable cluster fails by its deadline, naming the cluster', async () => {
  const fresh = `flaky-new-${id}`;
  const res = await broker.osb.provision(fresh, { service_id: SERVICE, plan_id: HOOKS, organization_guid: ORG, space_guid: 'space' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const last = await ended(() => broker.osb.lastOperation(fresh, res.body.operation));
  expect(last.state, last.description).toBe('failed');
  expectActionable(last.description);
}, 180_000);

it('a bind with a bind hook on the unreachable cluster fails by its deadline, naming the cluster', async () => {
  const binding = `b-${id}`;
  const res = await broker.osb.bind(instance, binding, { service_id: SERVICE, plan_id: HOOKS }, true);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const operation = encodeURIComponent(res.body.operation);
  const last = await ended(() =>
    broker.osb.request('GET', `/v2/service_instances/${instance}/service_bindings/${binding}/last_operation?operation=${operation}`),
  );
  expect(last.state, last.description).toBe('failed');
  expectActionable(last.description);
}, 180_000);

it('an update on the unreachable cluster fails by its deadline, naming the cluster; nothing changed', async () => {
  const res = await broker.osb.update(instance, { service_id: SERVICE, plan_id: SHORT });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const last = await ended(() => broker.osb.lastOperation(instance, res.body.operation));
  expect(last.state, last.description).toBe('failed');
  expectActionable(last.description);
  expect(last.description).toMatch(/Nothing was changed; it is usable/);
}, 180_000);

it('an unbind on the unreachable cluster fails by its deadline, naming the cluster', async () => {
  const start = Date.now();
  const res = await broker.osb.unbind(instance, kept, SERVICE, HOOKS);
  // Ended within the API's synchronous wait (SYNC_BIND_TIMEOUT): the failure is the answer.
  if (res.status === 422) {
    expect(Date.now() - start).toBeLessThan(ENDS_WITHIN_MS);
    return expectActionable(res.body.description);
  }
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const operation = encodeURIComponent(res.body.operation);
  const last = await ended(() => broker.osb.request('GET', `/v2/service_instances/${instance}/service_bindings/${kept}/last_operation?operation=${operation}`));
  expect(last.state, last.description).toBe('failed');
  expectActionable(last.description);
}, 180_000);

it('a deprovision on the unreachable cluster fails by its deadline, naming the cluster', async () => {
  const res = await broker.osb.deprovision(instance, SERVICE, HOOKS);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const last = await ended(() => broker.osb.lastOperation(instance, res.body.operation));
  expect(last.state, last.description).toBe('failed');
  expectActionable(last.description);
}, 180_000);
