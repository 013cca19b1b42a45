// Lifecycle hooks (a plan's hooks/<event>/ Jobs) against the real broker on the local stack.
// KWOK completes Job pods without running anything (a pod labelled kwok.kubernetes-broker.io/fail
// ends Failed, exit code 1; one annotated kwok.kubernetes-broker.io/ready-after starts that much
// later): what is tested here is the orchestration (ordering, failure, compensation, deadlines,
// per-binding credentials). The test plays the code of the bind Job: when the Job appears, it
// writes the Secret that Job would write on a real cluster.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BINDING_ID_LABEL, HOOK_LABEL, INSTANCE_ID_LABEL, instanceSelector, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { fieldManagerFor } from '../../activities/apply-objects.js';
import { CURRENT_NAME_SCHEME, shortServiceId } from '../../catalog/naming.js';
import { recordName, RecordStore } from '../../platform/kube/records.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';
import { keepWatching, writeBindingSecret } from './helpers/watch.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const HOOKS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0107';
const CREATE_FAILS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0108';
const CREATE_STUCK = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0109';
const DELETE_FAILS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0110';
const BIND_FAILS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0111';
const UNBIND_FAILS = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0112';

let broker: RunningBroker;
const kube = kubeApi();
const ns = () => broker.config.INSTANCE_NAMESPACE;
const newId = () => `hook-${suffix()}-${suffix()}`;

beforeAll(async () => {
  broker = await startBroker({ CATALOG_DIR: CATALOG });
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

// ---- watching what the broker does --------------------------------------------------------

type Obj = KubernetesObject & { spec?: any; status?: any };

interface Seen {
  type: string;
  obj: Obj;
  /** The etcd revision of the event: one global sequence on the local stack's single etcd. */
  rv: number;
}

/** Records every event of one kind labelled with the instance, from now on. */
function watch(apiVersion: string, kind: string, instanceId: string, onEvent?: (type: string, obj: Obj) => void) {
  const events: Seen[] = [];
  const { stop } = keepWatching(kube, apiVersion, kind, ns(), instanceSelector(instanceId), (type, obj) => {
    events.push({ type, obj: obj, rv: Number(obj.metadata.resourceVersion) });
    onEvent?.(type, obj);
  });
  return { events, stop };
}

const hookOf = (o: Obj) => o.metadata.labels?.[HOOK_LABEL];
const bindingOf = (o: Obj) => o.metadata.labels?.[BINDING_ID_LABEL];
/** Jobs of one hook event (and binding) that were created, in order. */
const created = (events: Seen[], event: string, bindingId?: string) =>
  events.filter((e) => e.type === 'ADDED' && hookOf(e.obj) === event && (bindingId === undefined || bindingOf(e.obj) === bindingId));

/** The test plays the bind Job's code: it writes the binding's Secret when the Job appears (not for `forgetful`). */
function playBindJob(instanceId: string, forgetful: ReadonlySet<string> = new Set()) {
  return (type: string, job: Obj) => {
    const bindingId = bindingOf(job);
    if (type !== 'ADDED' || hookOf(job) !== 'onBindInstance' || !bindingId || forgetful.has(bindingId)) return;
    writeBindingSecret(kube, ns(), instanceId, bindingId, { password: `pw-${bindingId}` });
  };
}

const bindingSecrets = async (instanceId: string, bindingId: string) =>
  (await kube.list('v1', 'Secret', ns(), { labelSelector: `${INSTANCE_ID_LABEL}=${instanceId},${BINDING_ID_LABEL}=${bindingId}` })).items;

/** Everything labelled with the instance, Jobs and their pods included. */
async function leftovers(instanceId: string): Promise<string[]> {
  const kinds: [string, string][] = [
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'ReplicaSet'],
    ['v1', 'Pod'],
    ['v1', 'Service'],
    ['v1', 'Secret'],
    ['batch/v1', 'Job'],
  ];
  const lists = await Promise.all(kinds.map(([v, k]) => kube.list(v, k, ns(), { labelSelector: instanceSelector(instanceId) })));
  return lists.flatMap((l, i) => l.items.map((o) => `${kinds[i]![1]}/${o.metadata.name}`));
}

const hookJobs = async (instanceId: string) =>
  (await kube.list<Obj>('batch/v1', 'Job', ns(), { labelSelector: `${instanceSelector(instanceId)},${HOOK_LABEL}` })).items;

// ---- OSB ------------------------------------------------------------------------------------

const provisionBody = (plan: string) => ({ service_id: SERVICE, plan_id: plan, organization_guid: 'org-1', space_guid: 'space-1' });

/** Provisions and waits; the final last_operation body. */
async function provision(instanceId: string, plan: string, timeoutMs?: number) {
  const res = await broker.osb.provision(instanceId, provisionBody(plan));
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return (await broker.osb.waitForOperation(instanceId, res.body.operation, timeoutMs)).body;
}

/** Deprovisions and waits; the final last_operation answer (410 when it is gone). */
async function deprovision(instanceId: string, plan: string) {
  const res = await broker.osb.deprovision(instanceId, SERVICE, plan);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return broker.osb.waitForOperation(instanceId, res.body.operation);
}

const bind = (instanceId: string, bindingId: string, plan: string) => broker.osb.bind(instanceId, bindingId, { service_id: SERVICE, plan_id: plan });
const unbind = (instanceId: string, bindingId: string, plan: string) => broker.osb.unbind(instanceId, bindingId, SERVICE, plan);
const getBinding = (instanceId: string, bindingId: string) => broker.osb.request('GET', `/v2/service_instances/${instanceId}/service_bindings/${bindingId}`);

const isAvailable = (d: Obj) =>
  (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && (d.status?.availableReplicas ?? 0) >= (d.spec?.replicas ?? 1);

// ---- tests ----------------------------------------------------------------------------------

describe('lifecycle hooks', () => {
  it('runs each hook at its point of the lifecycle; bind Jobs give each binding its own credentials, unbind revokes one', async () => {
    const id = newId();
    const jobs = watch('batch/v1', 'Job', id, playBindJob(id));
    const deployments = watch('apps/v1', 'Deployment', id);
    try {
      // Create: only once the workloads are ready (their pods take 3 s to turn Ready).
      expect(await provision(id, HOOKS)).toEqual({ state: 'succeeded' });
      const ready = deployments.events.find((e) => isAvailable(e.obj));
      const [create, ...more] = created(jobs.events, 'onCreateInstance');
      expect(ready, 'the Deployment became available').toBeDefined();
      expect(create, 'the create hook Job was created').toBeDefined();
      expect(more).toEqual([]);
      expect(create!.rv).toBeGreaterThan(ready!.rv);
      const available = ready!.obj.status.conditions.find((c: any) => c.type === 'Available');
      expect(Date.parse(create!.obj.metadata.creationTimestamp as string)).toBeGreaterThanOrEqual(Date.parse(available.lastTransitionTime));
      expect(create!.obj.metadata).toMatchObject({ name: expect.stringMatching(/-create$/), namespace: ns() });
      expect(create!.obj.spec.template.spec).toMatchObject({ restartPolicy: 'Never', containers: [{ args: ['init-database', ns(), id] }] });
      // It completed before the provision succeeded, and was deleted then.
      expect(
        jobs.events.some(
          (e) => e.obj.metadata.name === create!.obj.metadata.name && e.obj.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True'),
        ),
      ).toBe(true);
      await eventually('the create Job is deleted', async () => ((await hookJobs(id)).length === 0 ? true : undefined), 15_000);
      // Hook Jobs may make any kind: the record lists none, so the deprovision sweeps every kind.
      const stored = await new RecordStore(kube, broker.config.BROKER_NAMESPACE).getInstance(id);
      expect(stored?.record.state).toBe('ready');
      expect(stored?.record.kinds).toBeUndefined();

      // Bind twice: each binding's credentials come from the Secret its own bind Job wrote.
      const [b1, b2] = [`b-${suffix()}`, `b-${suffix()}`];
      const first = await bind(id, b1, HOOKS);
      expect(first.status, JSON.stringify(first.body)).toBe(201);
      expect(first.body.credentials).toMatchObject({ username: `u_${b1}`, password: `pw-${b1}` });
      expect(first.body.credentials.uri).toMatch(new RegExp(`^http://u_${b1}:pw-${b1}@`));
      const second = await bind(id, b2, HOOKS);
      expect(second.status, JSON.stringify(second.body)).toBe(201);
      expect(second.body.credentials).toMatchObject({ username: `u_${b2}`, password: `pw-${b2}` });
      expect(second.body.credentials.password).not.toBe(first.body.credentials.password);
      for (const b of [b1, b2]) {
        const [job] = created(jobs.events, 'onBindInstance', b);
        expect(job?.obj.spec.template.spec.containers[0].args).toEqual(['create-user', b]);
        expect(job?.obj.spec.template.metadata.labels).toMatchObject({ [BINDING_ID_LABEL]: b, [HOOK_LABEL]: 'onBindInstance', [INSTANCE_ID_LABEL]: id });
      }
      await eventually('the bind Jobs are deleted', async () => ((await hookJobs(id)).length === 0 ? true : undefined), 15_000);

      // Unbind the first: its unbind Job runs, its Secret goes; the second binding is untouched.
      expect((await unbind(id, b1, HOOKS)).status).toBe(200);
      expect(created(jobs.events, 'onUnbindInstance', b1).map((e) => e.obj.spec.template.spec.containers[0].args)).toEqual([['drop-user', b1]]);
      expect(created(jobs.events, 'onUnbindInstance', b2)).toEqual([]);
      expect(await bindingSecrets(id, b1)).toEqual([]);
      expect(await bindingSecrets(id, b2)).toHaveLength(1);
      expect((await getBinding(id, b1)).status).toBe(404);
      const kept = await getBinding(id, b2);
      expect(kept.status).toBe(200);
      expect(kept.body.credentials).toEqual(second.body.credentials);

      // Delete: the delete hook runs while the instance still runs, then everything goes.
      expect((await deprovision(id, HOOKS)).status).toBe(410);
      const [del] = created(jobs.events, 'onDeleteInstance');
      const deploymentDeleted = deployments.events.find((e) => e.type === 'DELETED');
      expect(del, 'the delete hook Job was created').toBeDefined();
      expect(deploymentDeleted).toBeDefined();
      expect(del!.rv).toBeLessThan(deploymentDeleted!.rv);
      expect(del!.obj.spec.template.spec.containers[0].args).toEqual(['drop-database', id]);
      await eventually('nothing of the instance is left', async () => ((await leftovers(id)).length === 0 ? true : undefined), 30_000);
      expect(await bindingSecrets(id, b2)).toEqual([]);
    } finally {
      await Promise.all([jobs.stop(), deployments.stop()]);
    }
  });

  it("a hook never deletes a Job of its name that is another instance's: the hook fails, that Job runs on", async () => {
    const id = newId();
    const other = newId();
    // Another instance's create Job, still running, under the name this instance's create Job
    // gets (names of instances recorded before naming schemes can collide so).
    const name = `${shortServiceId(id, CURRENT_NAME_SCHEME)}-create`;
    const foreign = await kube.create<Obj>(
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name,
          namespace: ns(),
          labels: { [INSTANCE_ID_LABEL]: other, [MANAGED_BY_LABEL]: MANAGED_BY, [HOOK_LABEL]: 'onCreateInstance' },
        },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { annotations: { 'kwok.kubernetes-broker.io/ready-after': '1h' } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'hook', image: 'busybox:1.36', args: ['init-database'] }] },
          },
        },
      },
      { fieldManager: fieldManagerFor(other) },
    );
    try {
      const done = await provision(id, HOOKS);
      expect(done.state).toBe('failed');
      expect(done.description).toContain(`onCreateInstance hook: Job ${ns()}/${name} exists already and is not this instance's`);
      expect(done.description).not.toContain(other);
      const after = await kube.get<Obj>('batch/v1', 'Job', ns(), name);
      expect(after?.metadata.uid).toBe(foreign.metadata.uid);
      expect(after?.metadata.deletionTimestamp).toBeUndefined();
      expect(await leftovers(id)).toEqual([]);
    } finally {
      await kube.delete('batch/v1', 'Job', ns(), name);
    }
  });

  it('a failing create hook fails the provision, naming the Job, and everything is deleted', async () => {
    const id = newId();
    const done = await provision(id, CREATE_FAILS);
    expect(done.state).toBe('failed');
    expect(done.description).toMatch(/^provisioning failed: onCreateInstance hook failed: Job x[0-9a-z]+-create failed: BackoffLimitExceeded/);
    expect(done.description).toMatch(/pod x[0-9a-z]+-create-[a-z0-9]+ Failed: container hook terminated: Error exit code 1/);
    expect(done.description).toMatch(/Everything it created was deleted/);
    expect(await leftovers(id)).toEqual([]);
    expect(await kube.get('v1', 'Secret', broker.config.BROKER_NAMESPACE, recordName('instance', id))).toBeUndefined();
  });

  it('a create hook that never finishes fails the provision at its deadline (maximum_polling_duration), compensated', async () => {
    const id = newId();
    const started = Date.now();
    const done = await provision(id, CREATE_STUCK, 90_000);
    const took = Date.now() - started;
    expect(done.state).toBe('failed');
    expect(done.description).toMatch(
      /onCreateInstance hook did not finish within its deadline: Job x[0-9a-z]+-create: 0 succeeded; pod x[0-9a-z]+-create-[a-z0-9]+ Pending/,
    );
    // The plan's 15 s, plus the compensation.
    expect(took).toBeGreaterThanOrEqual(14_000);
    expect(took).toBeLessThan(60_000);
    expect(await leftovers(id)).toEqual([]);
  }, 120_000);

  it('a failing delete hook fails the deprovision and leaves the instance as it was; a retry runs the hook again', async () => {
    const id = newId();
    const jobs = watch('batch/v1', 'Job', id);
    try {
      expect(await provision(id, DELETE_FAILS)).toEqual({ state: 'succeeded' });
      const binding = `b-${suffix()}`;
      expect((await bind(id, binding, DELETE_FAILS)).status).toBe(201);

      const failed = await deprovision(id, DELETE_FAILS);
      expect(failed.status).toBe(200);
      expect(failed.body).toMatchObject({ state: 'failed', instance_usable: true });
      expect(failed.body.description).toMatch(
        /^deprovisioning failed: onDeleteInstance hook failed: Job x[0-9a-z]+-delete failed: BackoffLimitExceeded.*Nothing was deleted and the instance still works/,
      );
      // Intact: served, bindable, its workloads and binding still there; the failed Job kept for diagnosis.
      expect((await broker.osb.request('GET', `/v2/service_instances/${id}`)).status).toBe(200);
      expect((await getBinding(id, binding)).status).toBe(200);
      expect((await bind(id, `b-${suffix()}`, DELETE_FAILS)).status).toBe(201);
      expect(await leftovers(id)).toEqual(expect.arrayContaining([expect.stringMatching(/^Deployment\//), expect.stringMatching(/^Job\/x[0-9a-z]+-delete$/)]));

      // The platform retries the DELETE: the earlier Job is replaced, the hook runs (and fails) again.
      const again = await deprovision(id, DELETE_FAILS);
      expect(again.body).toMatchObject({ state: 'failed', instance_usable: true });
      const runs = created(jobs.events, 'onDeleteInstance');
      expect(runs).toHaveLength(2);
      expect(runs[0]!.obj.metadata.uid).not.toBe(runs[1]!.obj.metadata.uid);

      // The operator's way out: a plan without the failing hook, then delete.
      const update = await broker.osb.update(id, { service_id: SERVICE, plan_id: READY });
      expect(update.status, JSON.stringify(update.body)).toBe(202);
      expect((await broker.osb.waitForOperation(id, update.body.operation)).body).toEqual({ state: 'succeeded' });
      expect((await deprovision(id, READY)).status).toBe(410);
      await eventually('nothing of the instance is left', async () => ((await leftovers(id)).length === 0 ? true : undefined), 30_000);
    } finally {
      await jobs.stop();
    }
  });

  it("a failing bind hook fails the bind; the unbind hook runs and the binding's Jobs and Secret are deleted", async () => {
    const id = newId();
    const jobs = watch('batch/v1', 'Job', id, playBindJob(id));
    try {
      expect(await provision(id, BIND_FAILS)).toEqual({ state: 'succeeded' });
      const binding = `b-${suffix()}`;
      const res = await bind(id, binding, BIND_FAILS);
      expect(res.status).toBe(422);
      expect(res.body.description).toMatch(
        new RegExp(`^binding failed: onBindInstance hook failed: Job x[0-9a-z]+-bind-${binding} failed: BackoffLimitExceeded`),
      );
      // The compensation revoked what the bind Job may have made, and left nothing of the binding.
      expect(created(jobs.events, 'onUnbindInstance', binding).map((e) => e.obj.spec.template.spec.containers[0].args)).toEqual([['drop-user', binding]]);
      await eventually(
        "the binding's Jobs and Secret are deleted",
        async () => ((await bindingSecrets(id, binding)).length === 0 && (await hookJobs(id)).length === 0 ? true : undefined),
        15_000,
      );
      expect((await getBinding(id, binding)).status).toBe(404);
      expect(await kube.get('v1', 'Secret', broker.config.BROKER_NAMESPACE, recordName('binding', binding))).toBeUndefined();
      expect((await deprovision(id, BIND_FAILS)).status).toBe(410);
    } finally {
      await jobs.stop();
    }
  });

  it('a bind hook that writes no Secret: the bind fails, saying what the hook should have written, and is undone', async () => {
    const id = newId();
    const binding = `b-${suffix()}`;
    const jobs = watch('batch/v1', 'Job', id, playBindJob(id, new Set([binding])));
    try {
      expect(await provision(id, HOOKS)).toEqual({ state: 'succeeded' });
      const res = await bind(id, binding, HOOKS);
      expect(res.status).toBe(422);
      expect(res.body.description).toMatch(
        /^binding failed: .*credentials-mappings\.json: \$hook_password: the bind hook \(hooks\/onBindInstance\) wrote no Secret for this binding; its Job must create one in the instance's namespace, labelled kubernetes-broker\.io\/binding-id=<binding id> and service_id=<instance id>, with key password$/,
      );
      // The bind Job succeeded, so what it made is revoked: the unbind hook ran for the binding.
      expect(created(jobs.events, 'onBindInstance', binding)).toHaveLength(1);
      expect(created(jobs.events, 'onUnbindInstance', binding)).toHaveLength(1);
      await eventually("the binding's Jobs are deleted", async () => ((await hookJobs(id)).length === 0 ? true : undefined), 15_000);
      expect((await getBinding(id, binding)).status).toBe(404);
      // Another binding whose Job writes its Secret works.
      const other = `b-${suffix()}`;
      expect((await bind(id, other, HOOKS)).body.credentials).toMatchObject({ password: `pw-${other}` });
      expect((await deprovision(id, HOOKS)).status).toBe(410);
      await eventually('nothing of the instance is left', async () => ((await leftovers(id)).length === 0 ? true : undefined), 30_000);
    } finally {
      await jobs.stop();
    }
  });

  it('a failing unbind hook fails the unbind: the binding and its credentials stay', async () => {
    const id = newId();
    expect(await provision(id, UNBIND_FAILS)).toEqual({ state: 'succeeded' });
    const binding = `b-${suffix()}`;
    const bound = await bind(id, binding, UNBIND_FAILS);
    expect(bound.status).toBe(201);
    const res = await unbind(id, binding, UNBIND_FAILS);
    expect(res.status).toBe(422);
    expect(res.body.description).toMatch(
      new RegExp(
        `^unbinding failed: onUnbindInstance hook failed: Job x[0-9a-z]+-unbind-${binding} failed: BackoffLimitExceeded.*The binding still exists and its credentials stay valid`,
      ),
    );
    const kept = await getBinding(id, binding);
    expect(kept.status).toBe(200);
    expect(kept.body.credentials).toEqual(bound.body.credentials);
    // Deprovisioning removes the binding without its unbind hook (the instance goes with it).
    expect((await deprovision(id, UNBIND_FAILS)).status).toBe(410);
    expect(await kube.get('v1', 'Secret', broker.config.BROKER_NAMESPACE, recordName('binding', binding))).toBeUndefined();
    expect(await leftovers(id)).toEqual([]);
  });
});
