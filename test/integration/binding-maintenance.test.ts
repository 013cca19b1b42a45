// Binding an instance whose plan moved on: an instance provisioned at maintenance_info 1.0.0 of a
// plan without hooks, bound after the catalog moved the plan to 1.1.0, whose bind hook's Job runs
// under a ServiceAccount that 1.1.0's templates make (what the shipped plans did, 1.0.0 to 1.1.0).
// The old instance has no such account: on a cluster, the Job's pod is refused and the Job waits
// until its deadline. The broker refuses that bind up front (422, naming the maintenance update and
// how to apply it) and leaves nothing behind; once the instance is updated, the bind works.
// The test plays the bind Job's pod as on a real cluster: only a pod that exists writes the Secret.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINDING_ID_LABEL, HOOK_LABEL, INSTANCE_ID_LABEL, instanceSelector } from '../../catalog/labels.js';
import { RecordStore } from '../../platform/kube/records.js';
import { sameInstances, startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, suffix } from './helpers/stack.js';
import { keepWatching, writeBindingSecret } from './helpers/watch.js';

const SOURCE = fileURLToPath(new URL('./fixtures/updates-catalog', import.meta.url));
const SERVICE = 'b7e0c1d2-7a41-4a0e-9c55-0a11ce0d0001';
const PLAN = 'b7e0c1d2-7a41-4a0e-9c55-0a11ce0d0101';

const kube = kubeApi();
const catalogDir = mkdtempSync(path.join(tmpdir(), 'kb-bind-maintenance-'));
const planDir = path.join(catalogDir, 'upgradable', 'current');
let broker: RunningBroker;
const old = `bind-mi-${suffix()}`;
const ns = () => broker.config.INSTANCE_NAMESPACE;

const writeJson = (file: string, json: unknown) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(json, null, 2));
};
const hookJob = (name: string, args: string[], serviceAccountName?: string) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: `$short_serviceid-${name}-$binding_id` },
  spec: {
    backoffLimit: 0,
    template: { spec: { ...(serviceAccountName ? { serviceAccountName } : {}), containers: [{ name: 'hook', image: 'busybox:1.36', args }] } },
  },
});

/** Version 1.1.0 of the plan: bind and unbind hooks, the bind Job's account, credentials from the Secret that Job writes. */
function moveToHooks() {
  const plan = JSON.parse(readFileSync(path.join(planDir, 'plan.json'), 'utf8'));
  // The hook's deadline: long enough for a Job on the local stack, short for the 1.0.0 instance's Job that never starts.
  writeJson(path.join(planDir, 'plan.json'), {
    ...plan,
    maximum_polling_duration: 20,
    maintenance_info: { version: '1.1.0', description: 'a user per binding' },
  });
  writeJson(path.join(planDir, 'hooks', 'onBindInstance', 'job.json'), hookJob('bind', ['create-user', '$binding_id'], '$short_serviceid-hooks'));
  writeJson(path.join(planDir, 'hooks', 'onUnbindInstance', 'job.json'), hookJob('unbind', ['drop-user', '$binding_id']));
  writeFileSync(
    path.join(planDir, 'k8s', 'hooks-account.yaml'),
    `apiVersion: v1
kind: ServiceAccount
metadata:
  name: $short_serviceid-hooks
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: $short_serviceid-hooks
rules:
  - apiGroups: [""]
    resources: [secrets]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: $short_serviceid-hooks
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: $short_serviceid-hooks
subjects:
  - kind: ServiceAccount
    name: $short_serviceid-hooks
    namespace: $namespace
`,
  );
  const mapping = JSON.parse(readFileSync(path.join(planDir, 'credentials-mappings.json'), 'utf8'));
  writeJson(path.join(planDir, 'credentials-mappings.json'), { ...mapping, username: 'u_$binding_id', password: '$hook_password', uri: undefined });
}

beforeAll(async () => {
  cpSync(SOURCE, catalogDir, { recursive: true });
  const v1 = await startBroker({ CATALOG_DIR: catalogDir });
  broker = v1;
  const res = await v1.osb.provision(old, { service_id: SERVICE, plan_id: PLAN, organization_guid: 'o', space_guid: 's' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await v1.osb.waitForOperation(old, res.body.operation)).body).toEqual({ state: 'succeeded' });
  await v1.stop();
  moveToHooks();
  broker = await startBroker({ CATALOG_DIR: catalogDir, ...sameInstances(v1.config) });
}, 180_000);

afterAll(async () => {
  await broker?.stop();
  kube.close();
  rmSync(catalogDir, { recursive: true, force: true });
});

/** Plays the bind Job's pod: when a pod of the instance's bind hook exists (the API server admitted it), it writes the binding's Secret. */
function playBindPods(instanceId: string) {
  return keepWatching(kube, 'v1', 'Pod', ns(), `${instanceSelector(instanceId)},${HOOK_LABEL}=onBindInstance`, (type, pod) => {
    const bindingId = pod.metadata.labels?.[BINDING_ID_LABEL];
    if (type === 'ADDED' && bindingId) writeBindingSecret(kube, ns(), instanceId, bindingId, { password: `pw-${bindingId}` });
  });
}

/** What a binding can leave: its record, its Secrets (the hook's and the broker's), its hook Jobs. */
async function bindingLeftovers(instanceId: string, bindingId: string): Promise<string[]> {
  const selector = `${INSTANCE_ID_LABEL}=${instanceId},${BINDING_ID_LABEL}=${bindingId}`;
  const [secrets, jobs, record] = await Promise.all([
    kube.list('v1', 'Secret', ns(), { labelSelector: selector }),
    kube.list('batch/v1', 'Job', ns(), { labelSelector: `${instanceSelector(instanceId)},${HOOK_LABEL}` }),
    new RecordStore(kube, broker.config.BROKER_NAMESPACE).getBinding(bindingId),
  ]);
  return [
    ...secrets.items.map((s) => `Secret/${s.metadata.name}`),
    ...jobs.items.map((j) => `Job/${j.metadata.name}`),
    ...(record ? [`binding record ${bindingId}`] : []),
  ];
}

const bind = (bindingId: string) => broker.osb.bind(old, bindingId, { service_id: SERVICE, plan_id: PLAN });

describe('binding an instance whose plan moved on to a version with bind hooks', () => {
  it('is refused up front with 422 naming the maintenance update and how to apply it; nothing is left behind', async () => {
    const binding = `b-${suffix()}`;
    const pods = playBindPods(old);
    try {
      const started = Date.now();
      const res = await bind(binding);
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.description).toBe(
        `instance ${old} of plan current is at maintenance_info 1.0.0 and the plan's bind hooks need maintenance_info 1.1.0: ` +
          `apply the instance's maintenance update first (an operator: kubernetes-broker upgrade --plan ${PLAN}; the platform: ` +
          `PATCH /v2/service_instances/${old} with "maintenance_info": {"version": "1.1.0"}), then bind again. Nothing was created.`,
      );
      expect(Date.now() - started, 'refused before any hook ran').toBeLessThan(5_000);
      expect(await bindingLeftovers(old, binding)).toEqual([]);
      expect((await broker.osb.request('GET', `/v2/service_instances/${old}/service_bindings/${binding}`)).status).toBe(404);
    } finally {
      await pods.stop();
    }
  }, 120_000);

  it('works once the instance had its maintenance update (the PATCH a platform sends): the update makes the hook account', async () => {
    const update = await broker.osb.update(old, { service_id: SERVICE, maintenance_info: { version: '1.1.0' } });
    expect(update.status, JSON.stringify(update.body)).toBe(202);
    expect((await broker.osb.waitForOperation(old, update.body.operation)).body).toEqual({ state: 'succeeded' });
    expect((await broker.osb.request('GET', `/v2/service_instances/${old}`)).body.maintenance_info).toEqual({ version: '1.1.0' });
    const accounts = await kube.list('v1', 'ServiceAccount', ns(), { labelSelector: instanceSelector(old) });
    expect(accounts.items.map((a) => a.metadata.name)).toEqual([expect.stringMatching(/-hooks$/)]);

    const binding = `b-${suffix()}`;
    const pods = playBindPods(old);
    try {
      const res = await bind(binding);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.credentials).toMatchObject({ username: `u_${binding}`, password: `pw-${binding}` });
    } finally {
      await pods.stop();
    }
    expect((await broker.osb.unbind(old, binding, SERVICE, PLAN)).status).toBe(200);
    expect(await bindingLeftovers(old, binding)).toEqual([]);

    const gone = await broker.osb.deprovision(old, SERVICE, PLAN);
    expect(gone.status).toBe(202);
    expect((await broker.osb.waitForOperation(old, gone.body.operation)).status).toBe(410);
  }, 180_000);
});
