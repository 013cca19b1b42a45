// The admin views with several clusters, one of which cannot be reached (its entry in
// CLUSTERS_FILE points at a closed port): they show what the other clusters hold and name the
// cluster they could not read, with the reason; the CLI prints it on stderr.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { INSTALLATION_LABEL } from '../../platform/kube/installation.js';
import { DEFAULT_CLUSTER } from '../../platform/config/clusters.js';
import { generateRandoms } from '../../catalog/randoms.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { FIELD_MANAGER, RecordStore, type InstanceRecord } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { ADMIN_AUTH, ADMIN_SETTINGS, FIXTURE_CATALOG, READY_PLAN, TESTAPP_SERVICE } from './helpers/fixture-catalog.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';

const kube = kubeApi();
const id = suffix();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-cluster-down-'));
const live = `down-live-${id}`;
/** Recorded on the cluster that cannot be reached. */
const stranded = `down-stranded-${id}`;
const GONE = `down-gone-${id}`;

/** A port nothing listens on: taken from the system, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function clustersFile(): Promise<string> {
  const kubeconfig = path.join(dir, 'down.kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: down, cluster: { server: "https://127.0.0.1:${await closedPort()}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: broker, user: { token: not-a-secret } }]',
      'contexts: [{ name: down, context: { cluster: down, user: broker } }]',
      'current-context: down',
      '',
    ].join('\n'),
  );
  const file = path.join(dir, 'clusters.yaml');
  fs.writeFileSync(file, ['clusters:', '  - name: down', `    kubeconfig: ${kubeconfig}`, ''].join('\n'));
  return file;
}

describe('admin views when one cluster cannot be reached', () => {
  let broker: RunningBroker;
  let clusters: string;
  const admin = async (method: string, p: string) => {
    const res = await fetch(`${broker.url}/admin${p}`, { method, headers: { Authorization: ADMIN_AUTH } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const expectDownNamed = (clustersNotRead: unknown) =>
    expect(clustersNotRead).toEqual([{ cluster: 'down', problem: expect.stringMatching(/cluster down\).*unreachable.*ECONNREFUSED/) }]);

  beforeAll(async () => {
    clusters = await clustersFile();
    broker = await startBroker({ CATALOG_DIR: FIXTURE_CATALOG, CLUSTERS_FILE: clusters, ORPHAN_MIN_AGE: '1', ...ADMIN_SETTINGS });
    const res = await broker.osb.provision(live, { service_id: TESTAPP_SERVICE, plan_id: READY_PLAN, organization_guid: 'org', space_guid: 'space' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await broker.osb.waitForOperation(live, res.body.operation)).body).toEqual({ state: 'succeeded' });
    // An instance made on cluster down while it answered.
    const now = new Date().toISOString();
    const record: InstanceRecord = {
      instanceId: stranded,
      serviceId: TESTAPP_SERVICE,
      planId: READY_PLAN,
      parameters: {},
      context: {},
      org: 'org',
      space: 'space',
      namespace: broker.config.INSTANCE_NAMESPACE,
      ownsNamespace: false,
      cluster: 'down',
      state: 'ready',
      createdAt: now,
      updatedAt: now,
    };
    await new RecordStore(kube, broker.config.BROKER_NAMESPACE).createInstance(record, generateRandoms());
    await kube.create(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: `x${GONE}`,
          namespace: broker.config.INSTANCE_NAMESPACE,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_ID_LABEL]: GONE, [INSTALLATION_LABEL]: broker.config.BROKER_NAMESPACE },
        },
      },
      { fieldManager: FIELD_MANAGER },
    );
    // Older than ORPHAN_MIN_AGE (1 s; creation times are whole seconds): an orphan, not kept.
    await new Promise((r) => setTimeout(r, 2100));
  }, 120_000);

  afterAll(async () => {
    await kube.delete('v1', 'ConfigMap', broker?.config.INSTANCE_NAMESPACE, `x${GONE}`);
    if (broker) await new RecordStore(kube, broker.config.BROKER_NAMESPACE).deleteInstance(stranded);
    const res = await broker?.osb.deprovision(live, TESTAPP_SERVICE, READY_PLAN);
    if (res?.status === 202) await broker.osb.waitForOperation(live, res.body.operation);
    await broker?.stop();
    kube.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('/admin/pods lists the pods of the cluster that answers and names the one that does not', async () => {
    const res = await admin('GET', '/pods');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.pods.filter((p: { instanceId: string }) => p.instanceId === live).length).toBeGreaterThan(0);
    expectDownNamed(res.body.clustersNotRead);
  });

  it('/admin/orphans lists the orphans of the cluster that answers and names the one that does not; DELETE too', async () => {
    const found = await admin('GET', '/orphans');
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.orphans.filter((o: { instanceId: string }) => [GONE, live, stranded].includes(o.instanceId))).toEqual([
      expect.objectContaining({ cluster: DEFAULT_CLUSTER, instanceId: GONE, kind: 'ConfigMap' }),
    ]);
    expectDownNamed(found.body.clustersNotRead);
    const deleted = await admin('DELETE', '/orphans');
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect(deleted.body.orphans.map((o: { instanceId: string }) => o.instanceId)).toContain(GONE);
    expectDownNamed(deleted.body.clustersNotRead);
    expect(await kube.get('v1', 'ConfigMap', broker.config.INSTANCE_NAMESPACE, `x${GONE}`)).toBeUndefined();
  });

  it('one instance on the cluster that does not answer: its record, and its cluster named as not read', async () => {
    const shown = await admin('GET', `/instances/${stranded}`);
    expect(shown.status, JSON.stringify(shown.body)).toBe(200);
    expect(shown.body).toMatchObject({ instanceId: stranded, cluster: 'down', state: 'ready', objects: [] });
    expectDownNamed(shown.body.clustersNotRead);
    const pods = await admin('GET', `/instances/${stranded}/pods`);
    expect(pods.status, JSON.stringify(pods.body)).toBe(200);
    expect(pods.body.pods).toEqual([]);
    expectDownNamed(pods.body.clustersNotRead);
    // An instance on the cluster that answers: nothing is missing.
    const ok = await admin('GET', `/instances/${live}`);
    expect(ok.body.clustersNotRead).toEqual([]);
  });

  it('the CLI prints the view and, on stderr, the cluster it could not read', async () => {
    const c = broker.config;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path.join(PROJECT_ROOT, 'bin/kubernetes-broker.js'), 'pods'], {
      cwd: PROJECT_ROOT,
      timeout: 90_000,
      env: {
        ...process.env,
        ...stackEnv(),
        KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
        CLUSTERS_FILE: clusters,
        CATALOG_DIR: FIXTURE_CATALOG,
        BROKER_NAMESPACE: c.BROKER_NAMESPACE,
        INSTANCE_NAMESPACE: c.INSTANCE_NAMESPACE,
        CODEC_KEYS: c.CODEC_KEYS!,
      },
    });
    expect(stdout).toContain(live);
    expect(stderr).toMatch(/kubernetes-broker: cluster down could not be read, its pods are not listed: .*ECONNREFUSED/);
  });
});
