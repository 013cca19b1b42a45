// Faults for real, on the local stack: kill -9 the worker at random points during 30 concurrent
// provisions and 30 deprovisions; kill the API while requests are in flight; restart Temporal and
// stop the Kubernetes API server for 30 seconds in the middle of operations. Every operation
// reaches its final state, nothing is created twice, nothing is orphaned, and every
// last_operation answer along the way is valid. Loops are bounded; each test stops by itself.
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import { orphans, restartStack, stopComponent } from './helpers/faults.js';
import { BrokerProcesses } from './helpers/processes.js';
import { kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const SLOW = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0104';

const kube = kubeApi();
let broker: BrokerProcesses;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const random = (min: number, max: number) => min + Math.random() * (max - min);

beforeAll(async () => {
  broker = await BrokerProcesses.create({ CATALOG_DIR: CATALOG });
  await Promise.all([broker.startWorker(), broker.startApi()]);
}, 120_000);
afterEach(async () => {
  expect(await orphans(kube, broker.env['INSTANCE_NAMESPACE']!, broker.env['BROKER_NAMESPACE']!)).toEqual([]);
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

type Op = { id: string; operation: string };

/**
 * Polls every operation until all are final. Every answer must be a valid OSB answer: 200 with
 * `in progress` or the expected final state, or (for deletes) 410. Returns the final answers.
 * A 503 is allowed only while `outage()` says a dependency is down on purpose.
 */
async function settle(ops: Op[], final: 'succeeded' | 410, timeoutMs: number, outage: () => boolean = () => false) {
  const pending = new Map(ops.map((o) => [o.id, o]));
  const invalid: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0 && Date.now() < deadline) {
    await Promise.all(
      [...pending.values()].map(async ({ id, operation }) => {
        let res;
        try {
          res = await broker.osb.lastOperation(id, operation);
        } catch (err) {
          if (!outage()) invalid.push(`${id}: ${(err as Error).message}`);
          return;
        }
        if (res.status === 503 && outage()) return;
        if (final === 410 && res.status === 410) return void pending.delete(id);
        if (res.status !== 200 || !['in progress', final].includes(res.body.state)) {
          invalid.push(`${id}: ${res.status} ${JSON.stringify(res.body)}`);
          return;
        }
        if (res.body.state === final) pending.delete(id);
      }),
    );
    await sleep(500);
  }
  expect(invalid).toEqual([]);
  expect([...pending.keys()]).toEqual([]);
}

/** Kill -9 the worker `rounds` times at random moments, restarting it each time. */
async function chaosWorker(rounds: number) {
  for (let i = 0; i < rounds; i++) {
    await sleep(random(300, 3000));
    await BrokerProcesses.kill(broker.worker);
    await sleep(random(200, 1500));
    await broker.startWorker();
  }
}

/** Each instance has exactly its plan's objects: one Deployment, one ReplicaSet, `replicas` pods. */
async function exactlyOnce(ids: string[], replicas: number) {
  const ns = broker.env['INSTANCE_NAMESPACE']!;
  for (const id of ids) {
    const sel = { labelSelector: instanceSelector(id) };
    const [deployments, replicaSets, pods, secrets] = await Promise.all([
      kube.list('apps/v1', 'Deployment', ns, sel),
      kube.list('apps/v1', 'ReplicaSet', ns, sel),
      kube.list('v1', 'Pod', ns, sel),
      kube.list('v1', 'Secret', ns, sel),
    ]);
    expect([deployments.items.length, replicaSets.items.length, pods.items.length, secrets.items.length], id).toEqual([1, 1, replicas, 1]);
  }
}

describe('worker crashes', () => {
  it('30 concurrent provisions and 30 deprovisions survive kill -9 of the worker at random points', async () => {
    const ids = Array.from({ length: 30 }, () => `crash-${suffix()}`);
    const provisions = await Promise.all(
      ids.map(async (id) => {
        const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: SLOW, parameters: { replicas: 2 } });
        expect(res.status).toBe(202);
        return { id, operation: res.body.operation as string };
      }),
    );
    await Promise.all([chaosWorker(3), settle(provisions, 'succeeded', 240_000)]);
    await settle(provisions, 'succeeded', 240_000);
    await exactlyOnce(ids, 2);

    const deprovisions = await Promise.all(
      ids.map(async (id) => {
        const res = await broker.osb.deprovision(id, SERVICE, SLOW);
        expect(res.status).toBe(202);
        return { id, operation: res.body.operation as string };
      }),
    );
    await Promise.all([chaosWorker(3), settle(deprovisions, 410, 240_000)]);
    await settle(deprovisions, 410, 240_000);
  }, 600_000);
});

describe('API crashes', () => {
  it('requests in flight when the API dies are retried by the platform: no operation lost or duplicated', async () => {
    const ids = Array.from({ length: 10 }, () => `api-${suffix()}`);
    const body = { service_id: SERVICE, plan_id: READY };
    // Fire the PUTs and kill the API while they are in flight: some fail at the TCP level.
    const inflight = ids.map((id) => broker.osb.provision(id, body).catch((err: Error) => err));
    await sleep(random(5, 40));
    await BrokerProcesses.kill(broker.api);
    await Promise.all(inflight);
    await broker.startApi();
    // The platform retries every PUT: each answers 202 with the operation of the one workflow, or 200.
    const ops: Op[] = [];
    for (const id of ids) {
      const res = await broker.osb.provision(id, body);
      expect([200, 202]).toContain(res.status);
      if (res.status === 202) ops.push({ id, operation: res.body.operation });
    }
    await settle(ops, 'succeeded', 120_000);
    await exactlyOnce(ids, 1);
    const dels = await Promise.all(ids.map(async (id) => ({ id, operation: (await broker.osb.deprovision(id, SERVICE, READY)).body.operation })));
    await settle(dels, 410, 120_000);
  }, 300_000);
});

describe('dependency outages', () => {
  it('Temporal restarted mid-provision: the operations complete', async () => {
    const ids = Array.from({ length: 5 }, () => `tmp-${suffix()}`);
    const ops = await Promise.all(
      ids.map(async (id) => ({ id, operation: (await broker.osb.provision(id, { service_id: SERVICE, plan_id: SLOW })).body.operation })),
    );
    let down = true;
    try {
      await stopComponent('temporal');
      await sleep(3000);
    } finally {
      // Always bring the stack back: the next test files need it.
      restartStack();
      down = false;
    }
    await settle(ops, 'succeeded', 180_000, () => down);
    const dels = await Promise.all(ids.map(async (id) => ({ id, operation: (await broker.osb.deprovision(id, SERVICE, SLOW)).body.operation })));
    await settle(dels, 410, 120_000);
  }, 300_000);

  it('the Kubernetes API server down for 30 s during provisions and deprovisions: activities retry, operations complete', async () => {
    const first = Array.from({ length: 5 }, () => `kapi-${suffix()}`);
    const second = Array.from({ length: 5 }, () => `kapi-${suffix()}`);
    // Instances to deprovision during the outage.
    const ready = await Promise.all(
      first.map(async (id) => ({ id, operation: (await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY })).body.operation })),
    );
    await settle(ready, 'succeeded', 120_000);

    const provisions = await Promise.all(
      second.map(async (id) => ({ id, operation: (await broker.osb.provision(id, { service_id: SERVICE, plan_id: SLOW })).body.operation })),
    );
    const deprovisions = await Promise.all(first.map(async (id) => ({ id, operation: (await broker.osb.deprovision(id, SERVICE, READY)).body.operation })));
    let down = true;
    try {
      // Killed, not drained: a graceful stop can take 15 s more, and an outage much longer than
      // 30 s outlives KWOK's 40 s node leases (nodes NotReady, new pods Pending past the deadline).
      // Even so, the controllers' watches back off (up to 30 s, with jitter) while the API server
      // is down: a Deployment applied just after the restart waited 44 s for its ReplicaSet. The
      // slow plan's 300 s deadline leaves room for that; 120 s failed all 5 provisions in CI.
      await stopComponent('kube-apiserver', 'SIGKILL');
      await sleep(30_000);
    } finally {
      restartStack();
      down = false;
    }
    await Promise.all([settle(provisions, 'succeeded', 240_000, () => down), settle(deprovisions, 410, 240_000, () => down)]);
    await exactlyOnce(second, 1);
    const dels = await Promise.all(second.map(async (id) => ({ id, operation: (await broker.osb.deprovision(id, SERVICE, SLOW)).body.operation })));
    await settle(dels, 410, 120_000);
  }, 400_000);
});
