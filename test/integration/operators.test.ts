// Operators' tools against the real broker: admin routes (instances, objects and readiness,
// workflows with Temporal UI links, pod status, retry of a failed operation, orphans), the same
// through the CLI, and the Prometheus metrics of the API and of the worker.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const ADMIN = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;

const kube = kubeApi();
let broker: RunningBroker;
let metricsPort: number;

const admin = (method: string, p: string) =>
  fetch(`${broker.url}/admin${p}`, { method, headers: { Authorization: ADMIN } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The CLI, from the sources, with the broker's configuration. */
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli/main.ts'), ...args], {
    env: {
      ...process.env,
      ...stackEnv(),
      KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
      CATALOG_DIR: CATALOG,
      BROKER_NAMESPACE: broker.config.BROKER_NAMESPACE,
      INSTANCE_NAMESPACE: broker.config.INSTANCE_NAMESPACE,
      CODEC_KEYS: broker.config.CODEC_KEYS!,
    },
    encoding: 'utf8',
    timeout: 90_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  metricsPort = await freePort();
  broker = await startBroker({
    CATALOG_DIR: CATALOG,
    ADMIN_USER: 'admin',
    ADMIN_PASS: 'admin-password',
    TEMPORAL_UI_URL: stackEnv()['TEMPORAL_UI_URL']!,
    WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
  });
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

describe('admin routes and CLI', () => {
  let id: string;
  beforeAll(async () => {
    id = `ops-${suffix()}`;
    const res = await broker.osb.provision(id, {
      service_id: SERVICE,
      plan_id: READY,
      organization_guid: 'org-ops',
      space_guid: 'space-ops',
      parameters: { replicas: 2 },
    });
    expect((await broker.osb.waitForOperation(id, res.body.operation)).body.state).toBe('succeeded');
  });

  it("need the admin credentials, not the platform's", async () => {
    const res = await fetch(`${broker.url}/admin/instances`, {
      headers: { Authorization: `Basic ${Buffer.from('platform:test-password').toString('base64')}` },
    });
    expect(res.status).toBe(401);
  });

  it('list instances and show one: its objects with readiness, its workflows with links into the Temporal UI', async () => {
    const list = await admin('GET', '/instances');
    expect(list.body.instances).toContainEqual(expect.objectContaining({ instanceId: id, service: 'testapp', plan: 'ready', state: 'ready', org: 'org-ops' }));
    const show = await admin('GET', `/instances/${id}`);
    expect(show.status).toBe(200);
    expect(show.body.objects).toContainEqual(expect.objectContaining({ kind: 'Deployment', ready: true }));
    expect(show.body.objects.filter((o: any) => o.kind === 'Pod')).toHaveLength(2);
    const provision = show.body.workflows.find((w: any) => w.type === 'provisionInstance');
    expect(provision).toMatchObject({ status: 'COMPLETED', workflowId: `instance:${id}` });
    expect(provision.url).toBe(
      `${stackEnv()['TEMPORAL_UI_URL']}/namespaces/default/workflows/${encodeURIComponent(`instance:${id}`)}/${provision.runId}/history`,
    );
    expect((await fetch(provision.url)).status).toBe(200);
    expect((await admin('GET', '/instances/nope')).status).toBe(404);
  });

  it('pod status of one instance and of all instances of an organization', async () => {
    const pods = await admin('GET', `/instances/${id}/pods`);
    expect(pods.body.pods).toHaveLength(2);
    expect(pods.body.pods[0]).toMatchObject({ instanceId: id, phase: 'Running', ready: true, containers: [{ name: 'web', ready: true, state: 'running' }] });
    const byOrg = await admin('GET', '/pods?org=org-ops');
    expect(byOrg.body.pods.map((p: any) => p.instanceId)).toEqual([id, id]);
    expect((await admin('GET', '/pods?org=other')).body.pods).toEqual([]);
  });

  it('the CLI lists and shows instances and pods', () => {
    const list = cli('instances', 'list');
    expect(list.stderr).toBe('');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+testapp\\s+ready\\s+ready`));
    const show = cli('instances', 'show', id, '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({ instanceId: id, state: 'ready' });
    const pods = cli('pods', id);
    expect(pods.stdout.split('\n').filter((l) => l.includes(id))).toHaveLength(2);
  }, 120_000);

  it("retries a failed provision from its start once its cause is fixed; the platform's operation token then succeeds", async () => {
    const ns = broker.config.INSTANCE_NAMESPACE;
    await kube.apply(
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-services', namespace: ns }, spec: { hard: { services: '0' } } },
      { fieldManager: 'test' },
    );
    const failing = `retry-${suffix()}`;
    let operation: string;
    try {
      await new Promise((r) => setTimeout(r, 1000)); // the quota controller fills in its status
      const res = await broker.osb.provision(failing, { service_id: SERVICE, plan_id: READY });
      operation = res.body.operation;
      expect((await broker.osb.waitForOperation(failing, operation)).body.state).toBe('failed');
    } finally {
      await kube.delete('v1', 'ResourceQuota', ns, 'no-services');
    }
    expect((await admin('POST', `/instances/${id}/retry`)).status).toBe(422); // its last operation succeeded
    const retried = await admin('POST', `/instances/${failing}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ type: 'provisionInstance', workflowId: `instance:${failing}` });
    expect((await broker.osb.waitForOperation(failing, operation)).body).toEqual({ state: 'succeeded' });
    const del = await broker.osb.deprovision(failing, SERVICE, READY);
    expect((await broker.osb.waitForOperation(failing, del.body.operation)).status).toBe(410);
  });

  it('the CLI retries a failed provision, and a failed bind with --binding, once their cause is fixed', async () => {
    const recordsNs = broker.config.BROKER_NAMESPACE;
    const failing = `cli-retry-${suffix()}`;
    const binding = `cli-retry-b-${suffix()}`;
    let operation: string;
    // No Secret more in the records namespace: neither the instance's record nor the binding's
    // can be written, so the provision and the bind fail.
    const secrets = (await kube.list('v1', 'Secret', recordsNs)).items.length;
    const quota = {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'cli-no-more-secrets', namespace: recordsNs },
      spec: { hard: { secrets: String(secrets) } },
    };
    await kube.apply(quota, { fieldManager: 'test' });
    try {
      await new Promise((r) => setTimeout(r, 1000)); // the quota controller fills in its status
      operation = (await broker.osb.provision(failing, { service_id: SERVICE, plan_id: READY })).body.operation;
      expect((await broker.osb.waitForOperation(failing, operation)).body).toMatchObject({ state: 'failed', description: expect.stringMatching(/quota/) });
      const bind = await broker.osb.bind(id, binding, { service_id: SERVICE, plan_id: READY });
      expect(bind.status, JSON.stringify(bind.body)).toBe(422);
      expect(bind.body.description).toMatch(/binding failed.*quota/);
    } finally {
      await kube.delete('v1', 'ResourceQuota', recordsNs, 'cli-no-more-secrets');
    }

    const provision = cli('retry', failing);
    expect(provision.stderr).toBe('');
    expect(provision.status).toBe(0);
    expect(provision.stdout).toMatch(new RegExp(`^retrying provisionInstance of instance:${failing}: new run [0-9a-f-]{36}\n$`));
    expect((await broker.osb.waitForOperation(failing, operation)).body).toEqual({ state: 'succeeded' });

    const bind = cli('retry', binding, '--binding', '--json');
    expect(bind.stderr).toBe('');
    expect(JSON.parse(bind.stdout)).toMatchObject({ type: 'bindInstance', workflowId: `binding:${binding}` });
    const bindingPath = `/v2/service_instances/${id}/service_bindings/${binding}`;
    await eventually('the retried bind to finish', async () => {
      const res = await broker.osb.request('GET', `${bindingPath}/last_operation`);
      return res.body.state === 'in progress' ? undefined : res.body;
    }).then((state) => expect(state).toEqual({ state: 'succeeded' }));
    expect((await broker.osb.request('GET', bindingPath)).body.credentials).toBeTypeOf('object');

    // Nothing to retry: the last operation succeeded, or there is none.
    const again = cli('retry', binding, '--binding');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/succeeded; nothing to retry/);
    const unknown = cli('retry', `nope-${suffix()}`);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no operation is known for instance:nope-/);

    expect((await broker.osb.unbind(id, binding, SERVICE, READY)).status).toBe(200);
    const del = await broker.osb.deprovision(failing, SERVICE, READY);
    expect((await broker.osb.waitForOperation(failing, del.body.operation)).status).toBe(410);
  }, 180_000);

  it("finds orphans (objects labelled as the broker's without an instance) and deletes them, through the API and the CLI", async () => {
    const ns = broker.config.INSTANCE_NAMESPACE;
    const ghost = `ghost-${suffix()}`;
    const orphan = (name: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns, labels: { service_id: ghost, [MANAGED_BY_LABEL]: MANAGED_BY } },
    });
    await kube.apply(orphan(`${ghost}-a`), { fieldManager: 'test' });
    const found = await admin('GET', '/orphans');
    expect(found.body.orphans).toEqual([{ cluster: 'default', apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: `${ghost}-a`, instanceId: ghost }]);
    const deleted = await admin('DELETE', '/orphans');
    expect(deleted.body.deleted).toBe(1);
    expect((await admin('GET', '/orphans')).body.orphans).toEqual([]);

    await kube.apply(orphan(`${ghost}-b`), { fieldManager: 'test' });
    expect(cli('orphans').stdout).toContain(`${ghost}-b`);
    expect(cli('orphans', '--delete').stdout).toContain('deleted 1 of 1 orphans');
    expect(await kube.get('v1', 'ConfigMap', ns, `${ghost}-b`)).toBeUndefined();
  }, 120_000);
});

describe('metrics', () => {
  it('the API exports request counts and latencies by route and the operations it started, to the admin credentials', async () => {
    expect((await fetch(`${broker.url}/metrics`)).status).toBe(401);
    const text = await (await fetch(`${broker.url}/metrics`, { headers: { Authorization: ADMIN } })).text();
    expect(text).toMatch(/broker_http_requests_total\{method="PUT",route="\/v2\/service_instances\/:instance_id",status="202"\} \d+/);
    expect(text).toMatch(
      /broker_http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/v2\/service_instances\/:instance_id\/last_operation",status="200"\}/,
    );
    expect(text).toMatch(/broker_operations_started_total\{type="provision",service="testapp",plan="ready"\} [1-9]/);
  });

  it('with METRICS_ADDRESS, the API serves them there without credentials, and not on the OSB port', async () => {
    const port = await freePort();
    const other = await startBroker({ CATALOG_DIR: CATALOG, ADMIN_USER: 'admin', ADMIN_PASS: 'admin-password', METRICS_ADDRESS: `127.0.0.1:${port}` });
    try {
      expect((await other.osb.request('GET', '/v2/catalog')).status).toBe(200);
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(text).toMatch(/broker_http_requests_total\{method="GET",route="\/v2\/catalog",status="200"\} 1/);
      expect((await fetch(`${other.url}/metrics`, { headers: { Authorization: ADMIN } })).status).toBe(404);
    } finally {
      await other.stop();
    }
  });

  it('the worker exports operations finished with their outcome and duration, and Temporal worker metrics', async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/broker_operations_finished\{[^}]*outcome="succeeded"[^}]*plan="ready"[^}]*service="testapp"[^}]*type="provision"[^}]*\} [1-9]/);
    expect(text).toMatch(/broker_operations_finished\{[^}]*outcome="failed"[^}]*type="provision"/);
    expect(text).toMatch(/broker_operation_duration_bucket\{/);
    expect(text).toMatch(/temporal_activity_execution_latency/);
  });
});
