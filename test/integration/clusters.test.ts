// Several target clusters against the real stack's two clusters: routing by organization at
// provision, every later operation on the recorded cluster (also after the routing changed and
// the broker restarted), records in the default cluster, and quotas answered before anything is
// created.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINDING_ID_LABEL, HOOK_LABEL, INSTANCE_ID_LABEL, instanceSelector } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { RecordStore } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const HOOKS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0107';
const ADMIN = { user: 'admin', pass: 'admin-password' };

type Obj = KubernetesObject & { spec?: any; status?: any; data?: Record<string, string> };

const kubeA = kubeApi('a');
const kubeB = kubeApi('b');
const id = suffix();
const ORG_B = `org-b-${id}`;
const ORG_Q = `org-q-${id}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-clusters-'));

/** A clusters file: cluster b of the stack (the broker's identity there), a quota, and optionally the routing of ORG_B to b. */
function clustersFile(name: string, routeOrgB: boolean): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    [
      'clusters:',
      '  - name: b',
      `    kubeconfig: ${stackEnv()['BROKER_KUBECONFIG_B']}`,
      `routing:${routeOrgB ? `\n  - organization: ${ORG_B}\n    cluster: b` : ' []'}`,
      'quotas:',
      `  - organization: ${ORG_Q}`,
      '    maxInstances: 1',
      '',
    ].join('\n'),
  );
  return file;
}

describe('several clusters', () => {
  let broker: RunningBroker;
  let shared: Record<string, string>;
  let records: RecordStore;
  const instance = `cl-${id}`;
  const ns = () => broker.config.INSTANCE_NAMESPACE;
  const deployments = async (kube: typeof kubeA, instanceId: string) =>
    (await kube.list<Obj>('apps/v1', 'Deployment', ns(), { labelSelector: instanceSelector(instanceId) })).items;
  const objectsOf = async (kube: typeof kubeA, instanceId: string) => {
    const kinds: [string, string][] = [
      ['apps/v1', 'Deployment'],
      ['apps/v1', 'ReplicaSet'],
      ['v1', 'Pod'],
      ['v1', 'Service'],
      ['v1', 'Secret'],
    ];
    const lists = await Promise.all(kinds.map(([v, k]) => kube.list(v, k, ns(), { labelSelector: instanceSelector(instanceId) })));
    return lists.flatMap((l, i) => l.items.map((o) => `${kinds[i]![1]}/${o.metadata.name}`));
  };
  const admin = async (p: string) => {
    const res = await fetch(`${broker.url}/admin${p}`, {
      headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64')}` },
    });
    expect(res.status, p).toBe(200);
    return (await res.json()) as any;
  };
  const provision = async (instanceId: string, org: string) => {
    const res = await broker.osb.provision(instanceId, { service_id: SERVICE, plan_id: READY, organization_guid: org, space_guid: 'space' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await broker.osb.waitForOperation(instanceId, res.body.operation)).body).toEqual({ state: 'succeeded' });
  };
  const deprovision = async (instanceId: string) => {
    const res = await broker.osb.deprovision(instanceId, SERVICE, READY);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await broker.osb.waitForOperation(instanceId, res.body.operation)).status).toBe(410);
  };

  beforeAll(async () => {
    broker = await startBroker({ CATALOG_DIR: CATALOG, CLUSTERS_FILE: clustersFile('routed.yaml', true), ADMIN_USER: ADMIN.user, ADMIN_PASS: ADMIN.pass });
    // The restarted broker works on the same records, namespaces and task queue.
    shared = {
      BROKER_NAMESPACE: broker.config.BROKER_NAMESPACE,
      INSTANCE_NAMESPACE: broker.config.INSTANCE_NAMESPACE,
      TEMPORAL_TASK_QUEUE: broker.config.TEMPORAL_TASK_QUEUE,
      CODEC_KEYS: broker.config.CODEC_KEYS!,
    };
    records = new RecordStore(kubeA, broker.config.BROKER_NAMESPACE);
  });
  afterAll(async () => {
    await broker?.stop();
    await kubeB.delete('v1', 'Namespace', undefined, shared['INSTANCE_NAMESPACE']!).catch(() => undefined);
    kubeA.close();
    kubeB.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the worker made the instance namespace on both clusters, the records namespace only on the default one', async () => {
    expect(await kubeA.get('v1', 'Namespace', undefined, ns())).toBeDefined();
    expect(await kubeB.get('v1', 'Namespace', undefined, ns())).toBeDefined();
    expect(await kubeA.get('v1', 'Namespace', undefined, broker.config.BROKER_NAMESPACE)).toBeDefined();
    expect(await kubeB.get('v1', 'Namespace', undefined, broker.config.BROKER_NAMESPACE)).toBeUndefined();
  });

  it('a provision of a routed organization lands on cluster b, its record stays in the default cluster and names b', async () => {
    await provision(instance, ORG_B);
    expect((await deployments(kubeB, instance)).map((d) => d.status?.readyReplicas)).toEqual([1]);
    expect(await objectsOf(kubeA, instance)).toEqual([]);
    const stored = await records.getInstance(instance);
    expect(stored?.record).toMatchObject({ cluster: 'b', org: ORG_B, state: 'ready' });
    const fetched = await broker.osb.request('GET', `/v2/service_instances/${instance}`);
    expect(fetched.body.metadata.attributes).toEqual({ namespace: ns(), cluster: 'b' });
  });

  it('another organization goes to the default cluster', async () => {
    const other = `cl-a-${id}`;
    await provision(other, `org-a-${id}`);
    expect(await deployments(kubeA, other)).toHaveLength(1);
    expect(await objectsOf(kubeB, other)).toEqual([]);
    expect((await records.getInstance(other))?.record.cluster).toBe('default');
    await deprovision(other);
    expect(await objectsOf(kubeA, other)).toEqual([]);
  });

  it('bind reads the credentials from cluster b', async () => {
    // Only cluster b's Secret says so: a bind that read the default cluster could not return it.
    const secrets = (await kubeB.list<Obj>('v1', 'Secret', ns(), { labelSelector: instanceSelector(instance) })).items;
    expect(secrets).toHaveLength(1);
    await kubeB.replace(
      { ...secrets[0]!, apiVersion: 'v1', kind: 'Secret', data: { ...secrets[0]!.data, username: Buffer.from('user-on-b').toString('base64') } },
      { fieldManager: 'clusters-test' },
    );
    const bound = await broker.osb.bind(instance, `b-${id}`, { service_id: SERVICE, plan_id: READY });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    expect(bound.body.credentials).toMatchObject({ username: 'user-on-b', hostname: expect.stringContaining(`.${ns()}.svc.cluster.local`) });
    expect((await records.getBinding(`b-${id}`))?.record.instanceId).toBe(instance);
    // The edited Secret now has another field manager, whom the broker's apply would not overrule:
    // delete it, the update below applies it again (on cluster b).
    expect(await kubeB.delete('v1', 'Secret', ns(), secrets[0]!.metadata.name)).toBe(true);
  });

  it('the admin views look at the recorded cluster', async () => {
    const detail = await admin(`/instances/${instance}`);
    expect(detail).toMatchObject({ cluster: 'b', state: 'ready' });
    expect(detail.objects.filter((o: any) => o.kind === 'Deployment')).toEqual([expect.objectContaining({ ready: true })]);
    const { pods } = await admin(`/instances/${instance}/pods`);
    expect(pods).toHaveLength(1);
    // Pod addresses of cluster b's range (scripts/stack/up.sh).
    expect(pods[0]).toMatchObject({ cluster: 'b', ready: true, podIP: expect.stringMatching(/^10\.245\./) });
    expect((await admin(`/pods?org=${ORG_B}`)).pods.map((p: any) => p.instanceId)).toEqual([instance]);
    expect((await admin('/orphans')).orphans.filter((o: any) => o.instanceId === instance)).toEqual([]);
  });

  it("lifecycle hook Jobs run on the instance's cluster, and the bind hook's Secret is read there", async () => {
    const hooked = `cl-h-${id}`;
    const binding = `bh-${id}`;
    const seen: Record<'a' | 'b', string[]> = { a: [], b: [] };
    const abort = new AbortController();
    const watchJobs = (cluster: 'a' | 'b', kube: typeof kubeA) =>
      kube
        .watch(
          'batch/v1',
          'Job',
          ns(),
          { labelSelector: instanceSelector(hooked) },
          (type, job) => {
            if (type !== 'ADDED') return;
            const event = job.metadata.labels?.[HOOK_LABEL] ?? '';
            seen[cluster].push(event);
            // The test plays the bind Job: it writes the binding's Secret where the Job runs.
            if (event !== 'onBindInstance') return;
            void kube
              .create(
                {
                  apiVersion: 'v1',
                  kind: 'Secret',
                  metadata: { name: `creds-${binding}`, namespace: ns(), labels: { [BINDING_ID_LABEL]: binding, [INSTANCE_ID_LABEL]: hooked } },
                  stringData: { password: `pw-on-${cluster}` },
                },
                { fieldManager: 'clusters-test' },
              )
              .catch(() => undefined);
          },
          abort.signal,
        )
        .catch(() => undefined);
    const watches = [watchJobs('a', kubeA), watchJobs('b', kubeB)];
    try {
      const res = await broker.osb.provision(hooked, { service_id: SERVICE, plan_id: HOOKS, organization_guid: ORG_B, space_guid: 'space' });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect((await broker.osb.waitForOperation(hooked, res.body.operation)).body).toEqual({ state: 'succeeded' });
      const bound = await broker.osb.bind(hooked, binding, { service_id: SERVICE, plan_id: HOOKS });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
      expect(bound.body.credentials.password).toBe('pw-on-b');
      expect((await broker.osb.unbind(hooked, binding, SERVICE, HOOKS)).status).toBe(200);
      const gone = await broker.osb.deprovision(hooked, SERVICE, HOOKS);
      expect((await broker.osb.waitForOperation(hooked, gone.body.operation)).status).toBe(410);
    } finally {
      abort.abort();
      await Promise.all(watches);
    }
    expect(seen).toEqual({ a: [], b: ['onCreateInstance', 'onBindInstance', 'onUnbindInstance', 'onDeleteInstance'] });
  });

  it('after the routing changed and the broker restarted, update, bind, unbind and deprovision stay on cluster b', async () => {
    await broker.stop();
    broker = await startBroker({
      CATALOG_DIR: CATALOG,
      CLUSTERS_FILE: clustersFile('unrouted.yaml', false),
      ADMIN_USER: ADMIN.user,
      ADMIN_PASS: ADMIN.pass,
      ...shared,
    });

    const updated = await broker.osb.update(instance, { service_id: SERVICE, parameters: { replicas: 2 } });
    expect(updated.status, JSON.stringify(updated.body)).toBe(202);
    expect((await broker.osb.waitForOperation(instance, updated.body.operation)).body).toEqual({ state: 'succeeded' });
    expect((await deployments(kubeB, instance)).map((d) => [d.spec?.replicas, d.status?.readyReplicas])).toEqual([[2, 2]]);
    expect(await objectsOf(kubeA, instance)).toEqual([]);
    expect(await kubeB.list('v1', 'Secret', ns(), { labelSelector: instanceSelector(instance) })).toMatchObject({ items: [expect.anything()] });

    const second = `b2-${id}`;
    const bound = await broker.osb.bind(instance, second, { service_id: SERVICE, plan_id: READY });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    expect((await broker.osb.unbind(instance, second, SERVICE, READY)).status).toBe(200);
    expect((await admin(`/instances/${instance}/pods`)).pods.map((p: any) => p.cluster)).toEqual(['b', 'b']);

    await deprovision(instance);
    expect(await objectsOf(kubeB, instance)).toEqual([]);
    expect(await records.getInstance(instance)).toBeUndefined();
    expect(await records.getBinding(`b-${id}`)).toBeUndefined();

    // The new rules apply to new instances: the same organization now goes to the default cluster.
    const next = `cl-n-${id}`;
    await provision(next, ORG_B);
    expect(await deployments(kubeA, next)).toHaveLength(1);
    expect(await objectsOf(kubeB, next)).toEqual([]);
    await deprovision(next);
  });

  it("a provision over the organization's quota: 422 QuotaExceeded that says what to do, and nothing is created", async () => {
    const first = `cl-q1-${id}`;
    const second = `cl-q2-${id}`;
    await provision(first, ORG_Q);
    const refused = await broker.osb.provision(second, { service_id: SERVICE, plan_id: READY, organization_guid: ORG_Q, space_guid: 'space' });
    expect(refused.status).toBe(422);
    expect(refused.body).toEqual({
      error: 'QuotaExceeded',
      description: `organization ${ORG_Q} has 1 service instance, and its quota allows 1; delete an instance it no longer needs, or ask the broker's operator to raise the quota. Nothing was created.`,
    });
    expect(await records.getInstance(second)).toBeUndefined();
    // No workflow either: last_operation knows neither a run nor a record.
    expect((await broker.osb.lastOperation(second)).status).toBe(404);
    await expect(broker.osb.request('GET', `/v2/service_instances/${second}`)).resolves.toMatchObject({ status: 404 });
    expect([...(await objectsOf(kubeA, second)), ...(await objectsOf(kubeB, second))]).toEqual([]);

    // Deleting the first instance frees the place.
    await deprovision(first);
    await provision(second, ORG_Q);
    await deprovision(second);
  });
});
