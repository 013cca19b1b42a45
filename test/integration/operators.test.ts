// Operators' tools against the real broker: admin routes (instances, objects and readiness,
// workflows with Temporal UI links, pod status, retry of a failed operation, orphans), the same
// through the CLI, and the Prometheus metrics of the API and of the worker.
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteOrphans, findOrphans, surveyOrphans } from '../../api/admin/orphans.js';
import { instanceSelector, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { loadCatalog } from '../../catalog/load.js';
import type { KubernetesObject, Randoms } from '../../catalog/types.js';
import { adminDepsFor } from '../../cli/admin-deps.js';
import { loadClusters } from '../../platform/config/clusters.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { KubeClusters } from '../../platform/kube/clusters.js';
import { INSTALLATION_LABEL } from '../../platform/kube/installation.js';
import { recordName, RecordStore } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
/** The broker's ORPHAN_MIN_AGE: short enough for the tests to wait it out, long enough that a test outruns it. */
const MIN_AGE_SECONDS = 15;
const ADMIN = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;

const kube = kubeApi();
let broker: RunningBroker;
let metricsPort: number;

const adminOf = (b: RunningBroker, method: string, p: string) =>
  fetch(`${b.url}/admin${p}`, { method, headers: { Authorization: ADMIN } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
const admin = (method: string, p: string) => adminOf(broker, method, p);

/** Instance records of org-ops written as the broker writes them (no objects in Kubernetes) for `run`, deleted after. */
async function withRecords(ids: string[], run: () => Promise<void>, namespace = 'ns'): Promise<void> {
  const store = new RecordStore(kube, broker.config.BROKER_NAMESPACE);
  const now = new Date().toISOString();
  const record = { serviceId: SERVICE, planId: READY, parameters: {}, context: {}, org: 'org-ops', space: 'space-ops', namespace, ownsNamespace: false };
  for (const instanceId of ids) await store.createInstance({ ...record, instanceId, state: 'ready', createdAt: now, updatedAt: now }, {} as Randoms);
  try {
    await run();
  } finally {
    for (const instanceId of ids) await store.deleteInstance(instanceId);
  }
}

/** A paged admin listing refuses a limit out of range, and a continue token that is none, with 400. */
async function expectBadPagesRefused(listing: string): Promise<void> {
  for (const limit of ['0', '1001', '2.5', 'many']) expect((await admin('GET', `${listing}?limit=${limit}`)).status, limit).toBe(400);
  expect(await admin('GET', `${listing}?continue=not-a-token`)).toMatchObject({ status: 400, body: { error: 'BadRequest' } });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * The CLI, from the sources, with the broker's configuration. Asynchronous: a test blocked in a
 * synchronous spawn past the API server's idle timeout (90 s) would not see it close the test's
 * kept-alive connection, and its next Kubernetes request would fail with "socket hang up".
 */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const env = {
    ...process.env,
    ...stackEnv(),
    KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
    CATALOG_DIR: CATALOG,
    BROKER_NAMESPACE: broker.config.BROKER_NAMESPACE,
    INSTANCE_NAMESPACE: broker.config.INSTANCE_NAMESPACE,
    CODEC_KEYS: broker.config.CODEC_KEYS!,
    ORPHAN_MIN_AGE: '1',
  };
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli/main.ts'), ...args],
      { env, encoding: 'utf8', timeout: 90_000 },
      (err, stdout, stderr) => {
        // A non-zero exit is an answer to check; a CLI that could not start, or was killed, is none.
        if (!err) resolve({ status: 0, stdout, stderr });
        else if (typeof err.code === 'number') resolve({ status: err.code, stdout, stderr });
        else reject(new Error(`the CLI did not run to its end: ${err.message}\n${stderr}`));
      },
    ),
  );
}

beforeAll(async () => {
  metricsPort = await freePort();
  broker = await startBroker({
    CATALOG_DIR: CATALOG,
    ADMIN_USER: 'admin',
    ADMIN_PASS: 'admin-password',
    TEMPORAL_UI_URL: stackEnv()['TEMPORAL_UI_URL']!,
    WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    ORPHAN_MIN_AGE: String(MIN_AGE_SECONDS),
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

  it('list instances a page at a time, and refuse a bad limit or continue token with 400', async () => {
    // Records written as the broker writes them: three more instances, four in all.
    const extra = ['a', 'b', 'c'].map((k) => `ops-page-${k}-${suffix()}`);
    await withRecords(extra, async () => {
      // Every instance in one page, then the same in two pages: the last page alone.
      const all = (await admin('GET', '/instances')).body.instances.map((i: any) => i.instanceId).sort();
      expect(all).toEqual(expect.arrayContaining([id, ...extra]));
      const first = await admin('GET', `/instances?limit=${all.length - 1}`);
      expect(first.status).toBe(200);
      expect(first.body.instances).toHaveLength(all.length - 1);
      expect(typeof first.body.continue).toBe('string');
      const second = await admin('GET', `/instances?limit=${all.length - 1}&continue=${encodeURIComponent(first.body.continue)}`);
      expect(second.body.instances).toHaveLength(1);
      expect(second.body.continue).toBeUndefined();
      expect([...first.body.instances, ...second.body.instances].map((i: any) => i.instanceId).sort()).toEqual(all);
      await expectBadPagesRefused('/instances');
    });
  });

  it('pod status of one instance and of all instances of an organization', async () => {
    const pods = await admin('GET', `/instances/${id}/pods`);
    expect(pods.body.pods).toHaveLength(2);
    expect(pods.body.pods[0]).toMatchObject({ instanceId: id, phase: 'Running', ready: true, containers: [{ name: 'web', ready: true, state: 'running' }] });
    const byOrg = await admin('GET', '/pods?org=org-ops');
    expect(byOrg.body.pods.map((p: any) => p.instanceId)).toEqual([id, id]);
    expect((await admin('GET', '/pods?org=other')).body.pods).toEqual([]);
  });

  it("pod status of all instances a page of instances at a time, an instance's pods on one page; a bad limit or token is refused with 400", async () => {
    // Two more instances of the organization, without pods: three pages of one instance each.
    const extra = ['a', 'b'].map((k) => `ops-pods-${k}-${suffix()}`);
    await withRecords(extra, async () => {
      const pages: any[] = [];
      let next: string | undefined;
      do {
        const page = await admin('GET', `/pods?org=org-ops&limit=1${next ? `&continue=${encodeURIComponent(next)}` : ''}`);
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        pages.push(page.body);
        next = page.body.continue;
      } while (next && pages.length < 10);
      // Kubernetes may end a label-selected list with an empty page: its continue token is set while
      // the namespace has keys after the last match, which the selector then filters out (another
      // Secret sorting after the records, such as the worker's labelling marker).
      if (pages.length === 4) expect(pages.at(-1)).toMatchObject({ pods: [] });
      expect(
        pages
          .slice(0, 3)
          .map((p) => p.pods.length)
          .sort(),
      ).toEqual([0, 0, 2]);
      expect(pages.length === 3 || pages.length === 4, `${pages.length} pages`).toBe(true);
      expect(pages.flatMap((p) => p.pods.map((pod: any) => pod.instanceId))).toEqual([id, id]);
      await expectBadPagesRefused('/pods');
    });
  });

  it('the CLI lists and shows instances and pods', async () => {
    const list = await cli('instances', 'list');
    expect(list.stderr).toBe('');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+testapp\\s+ready\\s+ready`));
    const show = await cli('instances', 'show', id, '--json');
    expect(JSON.parse(show.stdout)).toMatchObject({ instanceId: id, state: 'ready' });
    const pods = await cli('pods', id);
    expect(pods.stdout.split('\n').filter((l) => l.includes(id))).toHaveLength(2);
    const all = await cli('pods', '--org', 'org-ops');
    expect(all.stderr).toBe('');
    expect(all.stdout.split('\n').filter((l) => l.includes(id))).toHaveLength(2);
    expect((await cli('pods', '--org', `nobody-${suffix()}`)).stdout.trim()).toBe('no pods');
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

    const provision = await cli('retry', failing);
    expect(provision.stderr).toBe('');
    expect(provision.status).toBe(0);
    expect(provision.stdout).toMatch(new RegExp(`^retrying provisionInstance of instance:${failing}: new run [0-9a-f-]{36}\n$`));
    expect((await broker.osb.waitForOperation(failing, operation)).body).toEqual({ state: 'succeeded' });

    const bind = await cli('retry', binding, '--binding', '--json');
    expect(bind.stderr).toBe('');
    expect(JSON.parse(bind.stdout)).toMatchObject({ type: 'bindInstance', workflowId: `binding:${binding}` });
    const bindingPath = `/v2/service_instances/${id}/service_bindings/${binding}`;
    await eventually('the retried bind to finish', async () => {
      const res = await broker.osb.request('GET', `${bindingPath}/last_operation`);
      return res.body.state === 'in progress' ? undefined : res.body;
    }).then((state) => expect(state).toEqual({ state: 'succeeded' }));
    expect((await broker.osb.request('GET', bindingPath)).body.credentials).toBeTypeOf('object');

    // Nothing to retry: the last operation succeeded, or there is none.
    const again = await cli('retry', binding, '--binding');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/succeeded; nothing to retry/);
    const unknown = await cli('retry', `nope-${suffix()}`);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no operation is known for instance:nope-/);

    expect((await broker.osb.unbind(id, binding, SERVICE, READY)).status).toBe(200);
    const del = await broker.osb.deprovision(failing, SERVICE, READY);
    expect((await broker.osb.waitForOperation(failing, del.body.operation)).status).toBe(410);
  }, 180_000);

  it('every object the instance has carries the installation label, and so does its record', async () => {
    const installation = { [INSTALLATION_LABEL]: broker.config.BROKER_NAMESPACE };
    const selector = instanceSelector(id);
    const ns = broker.config.INSTANCE_NAMESPACE;
    const [deployments, services, configMaps] = await Promise.all([
      kube.list('apps/v1', 'Deployment', ns, { labelSelector: selector }),
      kube.list('v1', 'Service', ns, { labelSelector: selector }),
      kube.list('v1', 'ConfigMap', ns, { labelSelector: selector }),
    ]);
    expect(deployments.items).not.toEqual([]);
    for (const o of [...deployments.items, ...services.items, ...configMaps.items]) expect(o.metadata.labels, o.metadata.name).toMatchObject(installation);
    const record = await kube.get('v1', 'Secret', broker.config.BROKER_NAMESPACE, recordName('instance', id));
    expect(record?.metadata.labels).toMatchObject(installation);
  });
});

describe('orphans', () => {
  const ns = () => broker.config.INSTANCE_NAMESPACE;
  /** A ConfigMap labelled as the broker's, of an instance without a record, of `installation` (none: unlabelled). */
  const configMap = (name: string, installation: string | undefined, namespace = ns()) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { service_id: name, [MANAGED_BY_LABEL]: MANAGED_BY, ...(installation ? { [INSTALLATION_LABEL]: installation } : {}) },
    },
  });
  const ours = (name: string) => configMap(name, broker.config.BROKER_NAMESPACE);
  const exists = async (name: string, namespace = ns()) => (await kube.get('v1', 'ConfigMap', namespace, name)) !== undefined;
  /** Creates the objects (each its own instance's, named like it), and waits until they are older than `minAge` seconds. */
  async function createAged(minAge: number, ...objects: KubernetesObject[]): Promise<void> {
    const created = await Promise.all(
      objects.map(async (o) => Date.parse((await kube.apply<KubernetesObject>(o, { fieldManager: 'test' })).metadata['creationTimestamp'] as string)),
    );
    // creationTimestamp is whole seconds, rounded down: one more second makes every one old enough.
    await new Promise((r) => setTimeout(r, Math.max(0, Math.max(...created) + (minAge + 1) * 1000 - Date.now())));
  }
  const named = (list: any[], name: string) => list.filter((o: any) => o.instanceId === name);
  const listed = (name: string, namespace = ns()) => ({ cluster: 'default', apiVersion: 'v1', kind: 'ConfigMap', namespace, name, instanceId: name });

  /** The admin use cases as the API runs them, called directly (orphans do not ask Temporal); close `clusters` after. */
  async function directDeps() {
    const config = broker.config;
    const records = new RecordStore(kube, config.BROKER_NAMESPACE);
    const clusters = KubeClusters.connect(loadClusters(config), config);
    return { records, clusters, deps: adminDepsFor(config, { client: undefined as never, clusters, records, catalog: (await loadCatalog(CATALOG)).catalog }) };
  }

  // Old enough to be orphans: made once, for all the tests below (each waits ORPHAN_MIN_AGE otherwise).
  const old = { ours: `old-${suffix()}`, late: `late-${suffix()}`, theirs: `theirs-${suffix()}`, unlabelled: `unlabelled-${suffix()}` };
  beforeAll(async () => {
    await createAged(MIN_AGE_SECONDS, ours(old.ours), ours(old.late), configMap(old.theirs, `other-${suffix()}`), configMap(old.unlabelled, undefined));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(Object.values(old).map((name) => kube.delete('v1', 'ConfigMap', ns(), name)));
  });

  it('reads records, bindings and objects a page at a time: with pages of one, every orphan is found and no recorded instance is one', async () => {
    const { records, clusters, deps } = await directDeps();
    // Two recorded instances, one with a ConfigMap; binding records of two instances without a
    // record (old enough) and of a recorded one: more than one page of each at one a page.
    const recorded = [`rec-a-${suffix()}`, `rec-b-${suffix()}`];
    const gone = [`gone-a-${suffix()}`, `gone-b-${suffix()}`];
    const createdAt = new Date(Date.now() - 3600_000).toISOString();
    const binding = (instanceId: string) => ({
      bindingId: `${instanceId}-b`,
      instanceId,
      serviceId: SERVICE,
      planId: READY,
      parameters: {},
      context: {},
      createdAt,
    });
    await withRecords(
      recorded,
      async () => {
        await kube.apply(ours(recorded[0]!), { fieldManager: 'test' });
        for (const instanceId of [...gone, recorded[0]!]) await records.createBinding(binding(instanceId), {});
        try {
          const survey = await surveyOrphans({ ...deps, settings: { ...deps.settings, listPageSize: 1 } });
          expect(survey.clustersNotRead).toEqual([]);
          expect(named(survey.orphans, old.ours)).toEqual([listed(old.ours)]);
          expect(named(survey.orphans, old.late)).toEqual([listed(old.late)]);
          expect(named(survey.kept, old.unlabelled)).toEqual([
            { ...listed(old.unlabelled), reason: 'no installation label: made before installations were labelled, or by another broker' },
          ]);
          expect([...survey.orphans, ...survey.kept].filter((o) => o.instanceId === old.theirs || recorded.includes(o.instanceId))).toEqual([]);
          const bindings = survey.orphans.filter((o) => o.kind === 'Secret').map((o) => o.name);
          expect(bindings.sort()).toEqual(gone.map((g) => `binding ${g}-b`).sort());
        } finally {
          for (const instanceId of [...gone, recorded[0]!]) await records.deleteBinding(`${instanceId}-b`);
          await kube.delete('v1', 'ConfigMap', ns(), recorded[0]!);
          clusters.close();
        }
      },
      ns(),
    );
  });

  it('does not delete an orphan whose instance is recorded between the listing and the delete', async () => {
    const { records, clusters, deps } = await directDeps();
    const found = named(await findOrphans(deps), old.late);
    expect(found).toEqual([listed(old.late)]);
    const now = new Date().toISOString();
    const record = { instanceId: old.late, serviceId: SERVICE, planId: READY, parameters: {}, context: {}, org: '', space: '', namespace: ns() };
    await records.createInstance({ ...record, ownsNamespace: false, state: 'provisioning', createdAt: now, updatedAt: now }, {} as Randoms);
    try {
      expect(await deleteOrphans(deps, found)).toEqual({ deleted: 0, refused: [] });
      expect(await exists(old.late)).toBe(true);
    } finally {
      await records.deleteInstance(old.late);
      clusters.close();
    }
  });

  it('keeps an orphan of this installation younger than ORPHAN_MIN_AGE, and deletes those older, through the API and the CLI', async () => {
    const young = `young-${suffix()}`;
    await kube.apply(ours(young), { fieldManager: 'test' });
    try {
      const found = await admin('GET', '/orphans');
      expect(named(found.body.orphans, young)).toEqual([]);
      expect(named(found.body.kept, young)).toEqual([{ ...listed(young), reason: 'younger than ORPHAN_MIN_AGE' }]);
      expect(named(found.body.orphans, old.ours)).toEqual([listed(old.ours)]);
      const deleted = await admin('DELETE', '/orphans');
      expect(named(deleted.body.orphans, old.ours)).toEqual([listed(old.ours)]);
      expect(await exists(old.ours)).toBe(false);
      expect(await exists(young)).toBe(true);
    } finally {
      await kube.delete('v1', 'ConfigMap', ns(), young);
    }

    // The CLI, with a minimum age of its own.
    const forCli = `cli-${suffix()}`;
    await createAged(1, ours(forCli));
    expect((await cli('orphans')).stdout).toContain(forCli);
    expect((await cli('orphans', '--delete')).stdout).toMatch(/deleted [1-9]\d* of [1-9]\d* orphans/);
    expect(await exists(forCli)).toBe(false);
  }, 120_000);

  it("never lists or deletes another installation's objects, and never deletes unlabelled ones", async () => {
    const found = await admin('GET', '/orphans');
    expect(named(found.body.orphans, old.theirs)).toEqual([]);
    expect(named(found.body.kept, old.theirs)).toEqual([]);
    expect(named(found.body.orphans, old.unlabelled)).toEqual([]);
    // Unlabelled (made before installations were labelled) is shown to the operator, as not deleted.
    expect(named(found.body.kept, old.unlabelled)).toEqual([
      { ...listed(old.unlabelled), reason: 'no installation label: made before installations were labelled, or by another broker' },
    ]);
    await admin('DELETE', '/orphans');
    expect((await cli('orphans', '--delete')).status).toBe(0);
    expect(await exists(old.theirs)).toBe(true);
    expect(await exists(old.unlabelled)).toBe(true);
  }, 120_000);

  describe('of a broker that looks cluster-wide (per-instance namespaces)', () => {
    let wide: RunningBroker;
    beforeAll(async () => {
      wide = await startBroker({
        CATALOG_DIR: CATALOG,
        ADMIN_USER: 'admin',
        ADMIN_PASS: 'admin-password',
        NAMESPACE_STRATEGY: 'per-instance',
        ORPHAN_MIN_AGE: '1',
      });
    }, 60_000);
    afterAll(async () => {
      await wide?.stop();
    });

    // Under this strategy an instance's objects all live in its own namespace: an orphan is an
    // instance namespace without a record (what is in it goes with it).
    it("deletes its own orphaned instance namespaces, and never lists or deletes another installation's", async () => {
      const mine = `kb-mine-${suffix()}`;
      const theirs = `kb-theirs-${suffix()}`;
      const namespace = (name: string, installation: string) => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name, labels: { service_id: name, [MANAGED_BY_LABEL]: MANAGED_BY, [INSTALLATION_LABEL]: installation } },
      });
      await createAged(1, namespace(mine, wide.config.BROKER_NAMESPACE), namespace(theirs, broker.config.BROKER_NAMESPACE));
      try {
        const found = await adminOf(wide, 'GET', '/orphans');
        expect(named(found.body.orphans, theirs)).toEqual([]);
        expect(named(found.body.kept, theirs)).toEqual([]);
        expect(named(found.body.orphans, mine)).toEqual([{ cluster: 'default', apiVersion: 'v1', kind: 'Namespace', name: mine, instanceId: mine }]);
        await adminOf(wide, 'DELETE', '/orphans');
        expect(await kube.get('v1', 'Namespace', undefined, theirs)).toBeDefined();
        await eventually('the orphaned namespace to go', async () => ((await kube.get('v1', 'Namespace', undefined, mine)) ? undefined : true));
      } finally {
        await kube.delete('v1', 'Namespace', undefined, theirs);
        await kube.delete('v1', 'Namespace', undefined, mine);
      }
    }, 90_000);

    it('labels the namespace it makes for an instance with its installation', async () => {
      const id = `wide-${suffix()}`;
      const res = await wide.osb.provision(id, { service_id: SERVICE, plan_id: READY });
      try {
        expect((await wide.osb.waitForOperation(id, res.body.operation)).body.state).toBe('succeeded');
        const namespace = (await adminOf(wide, 'GET', `/instances/${id}`)).body.namespace;
        expect((await kube.get('v1', 'Namespace', undefined, namespace))?.metadata.labels).toMatchObject({
          [INSTALLATION_LABEL]: wide.config.BROKER_NAMESPACE,
        });
      } finally {
        expect((await wide.osb.waitForOperation(id, (await wide.osb.deprovision(id, SERVICE, READY)).body.operation)).status).toBe(410);
      }
    }, 120_000);
  });
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
