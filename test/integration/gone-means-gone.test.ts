// "Gone" means gone: when last_operation answers 410 for a deprovisioned instance, nothing
// labelled with it exists, not even a Pod that a ReplicaSet controller made from a stale cache a
// moment after the sweep. The race needs busy controllers: each round deprovisions a batch of
// three-replica instances at once while the next batch is being provisioned, and looks for
// anything labelled with an instance the moment its deprovision reports it gone.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { INSTANCE_ID_LABEL, instanceSelector, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { MANAGED_KINDS } from './helpers/faults.js';
import { kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const BATCH = 16;
const ROUNDS = 5;

const kube = kubeApi();
let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker({ CATALOG_DIR: CATALOG });
}, 60_000);
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

/** Everything labelled with the instance, of every kind its objects and their controllers come in. */
async function labelledWith(instanceId: string): Promise<string[]> {
  const ns = broker.config.INSTANCE_NAMESPACE;
  const lists = await Promise.all(MANAGED_KINDS.map(([v, k]) => kube.list(v, k, ns, { labelSelector: instanceSelector(instanceId) })));
  return lists.flatMap((l, i) => l.items.map((o) => `${MANAGED_KINDS[i]![1]}/${o.metadata.name}${o.metadata.deletionTimestamp ? ' (being deleted)' : ''}`));
}

async function provisionBatch(round: number): Promise<string[]> {
  const ids = Array.from({ length: BATCH }, (_, i) => `gone-${round}-${i}-${suffix()}`);
  await Promise.all(
    ids.map(async (id) => {
      const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY, parameters: { replicas: 3 } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect((await broker.osb.waitForOperation(id, res.body.operation, 180_000)).body, id).toEqual({ state: 'succeeded' });
    }),
  );
  return ids;
}

/**
 * Pods of `ids` created from now on (a controller replacing the Pods a deprovision deleted): not
 * asserted (the garbage collector removes them), printed as the evidence of the race.
 */
function podsMadeFor(ids: string[]): { stop: () => string[] } {
  const wanted = new Set(ids);
  const made = new Set<string>();
  const abort = new AbortController();
  const since = Date.now();
  void kube
    .watch(
      'v1',
      'Pod',
      broker.config.INSTANCE_NAMESPACE,
      { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` },
      (type, pod) => {
        const created = Date.parse(String(pod.metadata.creationTimestamp));
        if (type === 'ADDED' && created >= since - 1000 && wanted.has(pod.metadata.labels?.[INSTANCE_ID_LABEL] ?? '')) made.add(pod.metadata.name);
      },
      abort.signal,
    )
    .catch(() => undefined);
  return { stop: () => (abort.abort(), [...made]) };
}

/** Deprovisions every instance at once; for each, what was still labelled with it when it was reported gone. */
async function deprovisionBatch(ids: string[]): Promise<Record<string, string[]>> {
  const replacements = podsMadeFor(ids);
  const left = await Promise.all(
    ids.map(async (id) => {
      const res = await broker.osb.deprovision(id, SERVICE, READY);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const done = await broker.osb.waitForOperation(id, res.body.operation, 180_000);
      expect(done.status, `${id}: ${JSON.stringify(done.body)}`).toBe(410);
      return [id, await labelledWith(id)] as const;
    }),
  );
  console.log(`Pods made for ${ids.length} instances while they were deprovisioned: ${replacements.stop().length}`);
  return Object.fromEntries(left.filter(([, objects]) => objects.length > 0));
}

it(`${ROUNDS} rounds of ${BATCH} three-replica instances deprovisioned at once (while the next batch is provisioned): nothing labelled with one is left when it is reported gone`, async () => {
  let batch = await provisionBatch(0);
  for (let round = 1; round <= ROUNDS; round++) {
    const [left, next] = await Promise.all([deprovisionBatch(batch), round < ROUNDS ? provisionBatch(round) : Promise.resolve([])]);
    expect(left, `round ${round}`).toEqual({});
    batch = next;
  }
}, 900_000);
