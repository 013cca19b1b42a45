// Load: 200 concurrent clients (autocannon, 127.0.0.1 only) poll last_operation and the catalog
// for 60 seconds while provisions start and finish underneath them. Every answer must be a 200:
// no errors, no timeouts (60 s, as Cloud Foundry), no other status; every provision succeeds
// and is cleaned up. Throughput and latency are printed and saved in test-artifacts/load.json;
// they are reported, not asserted (tests never assert on timing).
import autocannon from 'autocannon';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { orphans } from './helpers/faults.js';
import { BrokerProcesses } from './helpers/processes.js';
import { kubeApi, suffix } from './helpers/stack.js';
import { staggered } from '../../bench/lib/staggered.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const SLOW = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0104'; // pods Ready 5 s after they start
const CLIENTS = 200;
const SECONDS = 60;
const PROVISION_EVERY_MS = 2000;

const kube = kubeApi();
let broker: BrokerProcesses;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  broker = await BrokerProcesses.create({ CATALOG_DIR: CATALOG });
  await Promise.all([broker.startWorker(), broker.startApi()]);
}, 120_000);
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

type Op = { id: string; operation: string };

async function provision(): Promise<Op> {
  const id = `load-${suffix()}`;
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: SLOW });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return { id, operation: res.body.operation as string };
}

function poll(paths: string[], connections: number) {
  const url = broker.osb.url;
  if (!url.startsWith('http://127.0.0.1:')) throw new Error('load only against 127.0.0.1');
  return autocannon({
    url,
    connections,
    duration: SECONDS,
    // Cloud Foundry's default broker_client_timeout_seconds: a slower answer is an error to the platform.
    timeout: 60,
    headers: { ...broker.osb.headers },
    requests: staggered(paths),
  });
}

it(`${CLIENTS} clients poll last_operation and the catalog for ${SECONDS} s during provisions: every answer is a 200`, async () => {
  // Operations for last_operation to poll: in flight when the load starts, finished during it.
  const polled = await Promise.all(Array.from({ length: CLIENTS / 2 }, provision));
  const lastOperationPaths = polled.map(
    ({ id, operation }) => `/v2/service_instances/${id}/last_operation?operation=${encodeURIComponent(operation)}&service_id=${SERVICE}&plan_id=${SLOW}`,
  );

  // Provisions keep starting while the load runs.
  const started: Op[] = [...polled];
  let loading = true;
  const provisioner = (async () => {
    while (loading) {
      started.push(await provision());
      await sleep(PROVISION_EVERY_MS);
    }
  })();

  const [catalog, lastOperation] = await Promise.all([poll(['/v2/catalog'], CLIENTS / 2), poll(lastOperationPaths, CLIENTS / 2)]);
  loading = false;
  await provisioner;

  const figures = Object.fromEntries(
    Object.entries({ catalog, lastOperation }).map(([name, r]) => [
      name,
      {
        connections: CLIENTS / 2,
        requests: r.requests.total,
        rps: r.requests.average,
        p50ms: r.latency.p50,
        p99ms: r.latency.p99,
        maxms: r.latency.max,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
      },
    ]),
  );
  const report = { date: new Date().toISOString(), seconds: SECONDS, clients: CLIENTS, provisionsDuringLoad: started.length - polled.length, ...figures };
  fs.mkdirSync(path.join(PROJECT_ROOT, 'test-artifacts'), { recursive: true });
  fs.writeFileSync(path.join(PROJECT_ROOT, 'test-artifacts/load.json'), JSON.stringify(report, null, 2));
  console.log(`load (${CLIENTS} clients, ${SECONDS} s):`, JSON.stringify(report));

  for (const r of [catalog, lastOperation]) {
    expect(r.requests.total).toBeGreaterThan(0);
    expect({ errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx }).toEqual({ errors: 0, timeouts: 0, non2xx: 0 });
  }

  // Every provision started under load succeeds; then everything is deprovisioned and nothing is left.
  for (const { id, operation } of started) {
    const res = await broker.osb.waitForOperation(id, operation, 180_000);
    expect(res.body, id).toMatchObject({ state: 'succeeded' });
  }
  const deletes = await Promise.all(
    started.map(async ({ id }) => {
      const res = await broker.osb.deprovision(id, SERVICE, SLOW);
      expect(res.status).toBe(202);
      return { id, operation: res.body.operation as string };
    }),
  );
  for (const { id, operation } of deletes) {
    const res = await broker.osb.waitForOperation(id, operation, 180_000);
    expect(res.status, id).toBe(410);
  }
  expect(await orphans(kube, broker.env['INSTANCE_NAMESPACE']!, broker.env['BROKER_NAMESPACE']!)).toEqual([]);
}, 600_000);
