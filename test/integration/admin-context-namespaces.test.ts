// The admin views under NAMESPACE_STRATEGY=context with the rights docs/deploying.md prescribes
// for it: the API's records Role in the broker namespace, and its instance ClusterRole bound by a
// RoleBinding in each namespace platforms use; nothing cluster-wide. The API runs with a token of
// a ServiceAccount that has exactly these rights (the manifests' own objects); the worker with the
// broker's usual identity, as what is under test is what the API lists.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { INSTALLATION_LABEL } from '../../platform/kube/installation.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { KubeApi } from '../../platform/kube/api.js';
import { loadKubeConfig } from '../../platform/kube/connect.js';
import { KubeApiError } from '../../platform/kube/errors.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { ADMIN_AUTH, ADMIN_SETTINGS, FIXTURE_CATALOG, READY_PLAN, TESTAPP_SERVICE } from './helpers/fixture-catalog.js';
import { kubeApi, suffix } from './helpers/stack.js';
import { serviceAccountKubeconfig } from './helpers/tokens.js';

const FIELD_MANAGER = 'kubernetes-broker-context-test';

type Obj = KubernetesObject & Record<string, any>;

const kube = kubeApi();
const id = suffix();
const brokerNs = `kb-ctx-rec-${id}`;
const fixedNs = `kb-ctx-inst-${id}`;
/** Two namespaces platforms name in their context. */
const platformNs = [`kb-ctx-a-${id}`, `kb-ctx-b-${id}`];
const clusterRole = `kubernetes-broker-api-instances-${id}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-context-'));
const instances = platformNs.map((_, i) => `ctx-${i}-${id}`);
const GONE = `ctx-gone-${id}`;

/** The API's ServiceAccount, records Role and binding, and instance ClusterRole, as deploy/base has them, with the test's names. */
function apiRbac(): Obj[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(PROJECT_ROOT, 'deploy/base/rbac.yaml'), 'utf8')).map((d) => d.toJSON() as Obj);
  const pick = (kind: string, name: string) => structuredClone(docs.find((d) => d.kind === kind && d.metadata.name === name)!);
  const inBrokerNs = (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata, namespace: brokerNs } });
  const binding = inBrokerNs(pick('RoleBinding', 'kubernetes-broker-api-records'));
  binding.subjects = binding.subjects.map((s: Obj) => ({ ...s, namespace: brokerNs }));
  const role = pick('ClusterRole', 'kubernetes-broker-api-instances');
  role.metadata.name = clusterRole;
  return [inBrokerNs(pick('ServiceAccount', 'kubernetes-broker-api')), inBrokerNs(pick('Role', 'kubernetes-broker-api-records')), binding, role];
}

/** What the docs say to create in each namespace platforms use (`kubectl create rolebinding ... --clusterrole=...`). */
const apiRoleBinding = (namespace: string): Obj => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: 'kubernetes-broker-api', namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
  subjects: [{ kind: 'ServiceAccount', name: 'kubernetes-broker-api', namespace: brokerNs }],
});

describe('admin views under the context strategy, with per-namespace rights only', () => {
  let broker: RunningBroker;
  let apiKubeconfig: string;
  const admin = async (p: string) => {
    const res = await fetch(`${broker.url}/admin${p}`, { headers: { Authorization: ADMIN_AUTH } });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    for (const ns of [brokerNs, fixedNs, ...platformNs])
      await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, { fieldManager: FIELD_MANAGER });
    for (const o of [...apiRbac(), ...[fixedNs, ...platformNs].map(apiRoleBinding)]) await kube.apply(o, { fieldManager: FIELD_MANAGER, force: true });
    apiKubeconfig = await serviceAccountKubeconfig(kube, brokerNs, 'kubernetes-broker-api', dir);
    const common = {
      CATALOG_DIR: FIXTURE_CATALOG,
      NAMESPACE_STRATEGY: 'context',
      BROKER_NAMESPACE: brokerNs,
      INSTANCE_NAMESPACE: fixedNs,
      ORPHAN_MIN_AGE: '1',
      ...ADMIN_SETTINGS,
    };
    broker = await startBroker(common, { KUBECONFIG: apiKubeconfig });
    await Promise.all(
      instances.map(async (instanceId, i) => {
        const res = await broker.osb.provision(instanceId, {
          service_id: TESTAPP_SERVICE,
          plan_id: READY_PLAN,
          organization_guid: 'org',
          space_guid: 'space',
          context: { platform: 'kubernetes', namespace: platformNs[i] },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        expect((await broker.osb.waitForOperation(instanceId, res.body.operation)).body).toEqual({ state: 'succeeded' });
      }),
    );
    // What a crash left of an instance whose record is gone: an orphan in a platform's namespace.
    await kube.create(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: `x${GONE}`,
          namespace: platformNs[1]!,
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [INSTANCE_ID_LABEL]: GONE, [INSTALLATION_LABEL]: broker.config.BROKER_NAMESPACE },
        },
      },
      { fieldManager: FIELD_MANAGER },
    );
    // Older than ORPHAN_MIN_AGE (1 s; creation times are whole seconds): an orphan, not kept.
    await new Promise((r) => setTimeout(r, 2100));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(
      instances.map(async (instanceId) => {
        const res = await broker?.osb.deprovision(instanceId, TESTAPP_SERVICE, READY_PLAN);
        if (res?.status === 202) await broker.osb.waitForOperation(instanceId, res.body.operation);
      }),
    );
    await broker?.stop();
    await kube.delete('rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, clusterRole);
    for (const ns of [brokerNs, fixedNs, ...platformNs]) await kube.delete('v1', 'Namespace', undefined, ns);
    kube.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 180_000);

  it("the API's token has no right to list across namespaces (what the views did before)", async () => {
    const api = new KubeApi(loadKubeConfig({ KUBECONFIG: apiKubeconfig }));
    try {
      const refused = await api.list('v1', 'Pod', undefined).then(
        () => 200,
        (err: unknown) => (err instanceof KubeApiError ? err.status : err),
      );
      expect(refused).toBe(403);
      expect((await api.list('v1', 'Pod', platformNs[0])).items.length).toBeGreaterThan(0);
    } finally {
      api.close();
    }
  });

  it('/admin/pods lists the pods of the instances in each namespace their records name', async () => {
    const res = await admin('/pods');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const ours = (res.body.pods as { instanceId: string; namespace: string }[]).filter((p) => instances.includes(p.instanceId));
    expect([...new Set(ours.map((p) => `${p.instanceId} ${p.namespace}`))].sort()).toEqual(instances.map((inst, i) => `${inst} ${platformNs[i]}`).sort());
  });

  it('/admin/orphans finds the orphan in a platform namespace and calls no live object one', async () => {
    const res = await admin('/orphans');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const ours = (res.body.orphans as { instanceId: string; kind: string; namespace: string; name: string }[]).filter(
      (o) => o.instanceId === GONE || instances.includes(o.instanceId),
    );
    expect(ours).toEqual([expect.objectContaining({ instanceId: GONE, kind: 'ConfigMap', namespace: platformNs[1], name: `x${GONE}` })]);
  });

  it('/admin/instances and one instance with its objects and pods', async () => {
    const list = await admin('/instances');
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    const ours = (list.body.instances as { instanceId: string; namespace: string }[]).filter((i) => instances.includes(i.instanceId));
    expect(ours.map((i) => i.namespace).sort()).toEqual([...platformNs].sort());
    const shown = await admin(`/instances/${instances[0]}`);
    expect(shown.status, JSON.stringify(shown.body)).toBe(200);
    expect(shown.body.objects.map((o: { kind: string }) => o.kind)).toContain('Deployment');
    const pods = await admin(`/instances/${instances[0]}/pods`);
    expect(pods.status, JSON.stringify(pods.body)).toBe(200);
    expect(pods.body.pods.length).toBeGreaterThan(0);
  });
});
