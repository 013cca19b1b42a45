// 6. Registry scale: what one operation costs when the broker has 0, 1,000 or 10,000 instances
// recorded (a binding for a fifth of them) and a quota configured. The records are written
// directly, in the format the broker writes (platform/kube/records.ts), spread over 200
// organizations; the measured provisions are of another organization. For each size, fresh API and
// worker processes (their start and peak memory are per size), then one provision, bind,
// last_operation and fetch after another, and the operators' listings.
// Bytes read: /proc/<pid>/io rchar of the API process (every socket: Kubernetes, Temporal and the
// client's requests) over a provision from PUT to `succeeded`.
import fs from 'node:fs';
import path from 'node:path';
import { loadCatalog } from '../catalog/load.js';
import type { Randoms } from '../catalog/types.js';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import { RecordStore, type InstanceRecord } from '../platform/kube/records.js';
import { auditMark, auditSince } from './lib/audit.js';
import { LOG_DIR, machine, pool, printMachine, printTable, round, saveResult, sleep, stats, suffix, type Stats } from './lib/common.js';
import { adminKube, deleteNamespaces } from './lib/direct.js';
import { operationOf, waitForOperation, type Osb } from './lib/osb.js';
import { BrokerProcesses } from './lib/processes.js';
import { playBindJobs } from '../test/integration/helpers/watch.js';

export interface RegistryOptions {
  sizes: number[];
  reps: number;
  env: Record<string, string>;
}

const ORGS = 200;
const ADMIN_PASS = 'bench-admin-password';
const tight = { kind: 'tight' as const, intervalMs: 50 };

/** Bytes a process has read so far, from every file and socket. */
function bytesRead(pid: number): number {
  const io = fs.readFileSync(`/proc/${pid}/io`, 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1] ?? NaN);
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

function registryRecord(i: number, namespace: string): InstanceRecord {
  const now = new Date().toISOString();
  return {
    instanceId: `reg-${i}`,
    serviceId: 'registry-bench-service',
    planId: 'registry-bench-plan',
    parameters: { note: 'written by bench/registry.ts' },
    context: { platform: 'cloudfoundry', organization_guid: `bench-registry-org-${i % ORGS}`, space_guid: `space-${i % 1000}` },
    org: `bench-registry-org-${i % ORGS}`,
    space: `space-${i % 1000}`,
    namespace,
    ownsNamespace: false,
    state: 'ready',
    nameScheme: 'hashed',
    createdAt: now,
    updatedAt: now,
  };
}

/** Writes records reg-<from>..reg-<to - 1>, and a binding record for every fifth. */
async function fill(records: RecordStore, from: number, to: number, namespace: string): Promise<number> {
  const ids = Array.from({ length: to - from }, (_, k) => from + k);
  const [ms] = await timed(() =>
    pool(ids, 32, async (i) => {
      const r = registryRecord(i, namespace);
      await records.createInstance(r, {} as Randoms);
      if (i % 5 === 0) {
        const now = new Date().toISOString();
        await records.createBinding(
          { bindingId: `reg-b-${i}`, instanceId: r.instanceId, serviceId: r.serviceId, planId: r.planId, parameters: {}, context: r.context, createdAt: now },
          { uri: `redis://reg-${i}.example:6379`, password: `registry-bench-${i}` },
        );
      }
    }),
  );
  return ms;
}

interface SizeResult {
  size: number;
  fillSeconds: number;
  apiStartMs: number;
  workerStartMs: number;
  put202: Stats;
  putSucceeded: Stats;
  bind: Stats;
  lastOperation: Stats;
  fetch: Stats;
  instancesList: Stats;
  instancesListKiB: number;
  orphans: Stats;
  pods: Stats;
  apiKiBReadPerProvision: Stats;
  requestsPerProvision: Stats;
  requestsPerBind: Stats;
  apiKiBReadPerBind: Stats;
  workerKiBReadPerBind: Stats;
  requestsPerPollAndFetch: Stats;
  listRequestsPerProvision: Stats;
  apiPeakRssMiB: number;
  workerPeakRssMiB: number;
}

/** What a bind hook Job's pod would do for an instance's bindings (KWOK runs no container), until stopped. */
type PlayBind = (instanceId: string) => { stop: () => Promise<void> };

async function measure(broker: BrokerProcesses, osb: Osb, ids: { service: string; plan: string }, reps: number, namespaces: string[], playBind: PlayBind) {
  const adminHeaders = { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASS}`).toString('base64')}` };
  const admin = async (p: string) => {
    const res = await fetch(`${osb.url}/admin${p}`, { headers: adminHeaders });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GET /admin${p}: ${res.status} ${text.slice(0, 300)}`);
    return text.length;
  };
  const body = { service_id: ids.service, plan_id: ids.plan, organization_guid: 'bench-org', space_guid: 'bench-space' };
  const put202: number[] = [],
    putSucceeded: number[] = [],
    bind: number[] = [],
    lastOp: number[] = [],
    fetchMs: number[] = [],
    kib: number[] = [],
    requests: number[] = [],
    lists: number[] = [],
    bindRequests: number[] = [],
    bindApiKiB: number[] = [],
    bindWorkerKiB: number[] = [],
    pollRequests: number[] = [];
  for (let rep = -1; rep < reps; rep++) {
    const id = `regb-${suffix()}`;
    const mark = auditMark();
    const read0 = bytesRead(broker.api!.pid!);
    const t0 = performance.now();
    const put = await osb.provision(id, body);
    const t202 = performance.now();
    const operation = operationOf(put, `PUT ${id}`);
    const done = await waitForOperation(osb, id, operation, tight);
    const tDone = performance.now();
    if (done.final.body?.state !== 'succeeded') throw new Error(`provision ${id}: ${done.final.text}`);
    const read = bytesRead(broker.api!.pid!) - read0;
    await sleep(300); // the audit backend writes a watch's event when the watch ends
    const audit = auditSince(mark, namespaces);
    const bindJobs = playBind(id);
    // What a bind reads, to see whether any of it grows with the registry: requests (audit log),
    // and bytes read by the API and the worker (every socket).
    const bindMark = auditMark();
    const bindRead0 = [bytesRead(broker.api!.pid!), bytesRead(broker.worker!.pid!)] as const;
    const [bindMs, bound] = await timed(async () => {
      const res = await osb.request('PUT', `/v2/service_instances/${id}/service_bindings/${id}-b?accepts_incomplete=true`, {
        service_id: ids.service,
        plan_id: ids.plan,
      });
      if (res.status === 202) {
        const op = operationOf(res, `bind ${id}`);
        for (;;) {
          const lo = await osb.request('GET', `/v2/service_instances/${id}/service_bindings/${id}-b/last_operation?operation=${encodeURIComponent(op)}`);
          if (lo.body?.state !== 'in progress') return lo;
          await sleep(tight.intervalMs);
        }
      }
      return res;
    }).finally(() => bindJobs.stop());
    if (bound.status >= 300 || bound.body?.state === 'failed') throw new Error(`bind ${id}: ${bound.status} ${bound.text}`);
    const bindRead = [bytesRead(broker.api!.pid!) - bindRead0[0], bytesRead(broker.worker!.pid!) - bindRead0[1]];
    await sleep(300);
    const bindAudit = auditSince(bindMark, namespaces);
    const pollMark = auditMark();
    const polls: number[] = [],
      fetches: number[] = [];
    for (let k = 0; k < 5; k++) {
      polls.push((await timed(() => osb.lastOperation(id, operation)))[0]);
      fetches.push((await timed(() => osb.request('GET', `/v2/service_instances/${id}`)))[0]);
    }
    const pollAudit = auditSince(pollMark, namespaces);
    const unbind = await osb.request(
      'DELETE',
      `/v2/service_instances/${id}/service_bindings/${id}-b?accepts_incomplete=true&service_id=${ids.service}&plan_id=${ids.plan}`,
    );
    if (unbind.status === 202) {
      const op = operationOf(unbind, `unbind ${id}`);
      while (
        (await osb.request('GET', `/v2/service_instances/${id}/service_bindings/${id}-b/last_operation?operation=${encodeURIComponent(op)}`)).body?.state ===
        'in progress'
      )
        await sleep(tight.intervalMs);
    }
    const del = await osb.deprovision(id, ids.service, ids.plan);
    const gone = await waitForOperation(osb, id, operationOf(del, `DELETE ${id}`), tight);
    if (gone.final.status !== 410) throw new Error(`deprovision ${id}: ${gone.final.status} ${gone.final.text}`);
    if (rep < 0) continue; // warm-up
    put202.push(t202 - t0);
    putSucceeded.push(tDone - t0);
    bind.push(bindMs);
    lastOp.push(stats(polls).median);
    fetchMs.push(stats(fetches).median);
    kib.push(read / 1024);
    requests.push(audit.count);
    lists.push(Object.entries(audit.byResource).reduce((n, [k, v]) => n + (k.startsWith('list ') ? v : 0), 0));
    bindRequests.push(bindAudit.count);
    bindApiKiB.push(bindRead[0]! / 1024);
    bindWorkerKiB.push(bindRead[1]! / 1024);
    pollRequests.push(pollAudit.count / polls.length);
  }
  const listMs: number[] = [],
    orphanMs: number[] = [],
    podsMs: number[] = [];
  let listBytes = 0;
  for (let k = 0; k < 3; k++) {
    const [ms, bytes] = await timed(() => admin('/instances'));
    listMs.push(ms);
    listBytes = bytes;
    orphanMs.push((await timed(() => admin('/orphans')))[0]);
    podsMs.push((await timed(() => admin('/pods')))[0]);
  }
  return {
    put202: stats(put202),
    putSucceeded: stats(putSucceeded),
    bind: stats(bind),
    lastOperation: stats(lastOp),
    fetch: stats(fetchMs),
    instancesList: stats(listMs),
    instancesListKiB: round(listBytes / 1024, 0),
    orphans: stats(orphanMs),
    pods: stats(podsMs),
    apiKiBReadPerProvision: stats(kib),
    requestsPerProvision: stats(requests),
    listRequestsPerProvision: stats(lists),
    requestsPerBind: stats(bindRequests),
    apiKiBReadPerBind: stats(bindApiKiB),
    workerKiBReadPerBind: stats(bindWorkerKiB),
    requestsPerPollAndFetch: stats(pollRequests),
  };
}

export async function registry(options: RegistryOptions) {
  const m = machine();
  const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
  const service = catalog.services.find((s) => s.name === 'redis')!;
  const plan = service.plans.find((p) => p.name === 'small')!;
  const id = suffix();
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const clustersFile = path.join(LOG_DIR, `registry-clusters-${id}.yaml`);
  fs.writeFileSync(clustersFile, ['quotas:', '  - organization: bench-org', '    maxInstances: 1000000', ''].join('\n'));
  const env = {
    BROKER_NAMESPACE: `kb-bench-registry-${id}`,
    INSTANCE_NAMESPACE: `kb-bench-registry-instances-${id}`,
    TEMPORAL_TASK_QUEUE: `bench-registry-${id}`,
    CLUSTERS_FILE: clustersFile,
    ADMIN_USER: 'admin',
    ADMIN_PASS,
    ...options.env,
  };
  const kube = adminKube();
  const records = new RecordStore(kube, env.BROKER_NAMESPACE);
  const namespaces = [env.BROKER_NAMESPACE, env.INSTANCE_NAMESPACE];
  const results: SizeResult[] = [];
  let written = 0;
  try {
    for (const size of [...options.sizes].sort((a, b) => a - b)) {
      // Fresh processes per size: their start and their peak memory are this size's.
      const broker = await BrokerProcesses.start({ env, apiOnly: true });
      const [workerStartMs] = await timed(() => broker.startWorker());
      try {
        const fillMs = size > written ? await fill(records, written, size, env.INSTANCE_NAMESPACE) : 0;
        written = Math.max(written, size);
        // A fresh API replica with the registry in place: from spawn until it answers.
        await BrokerProcesses.stop(broker.api);
        const [apiStartMs] = await timed(() => broker.startApi());
        const playBind: PlayBind = (instanceId) => playBindJobs(kube, plan, env.INSTANCE_NAMESPACE, instanceId);
        const r = await measure(broker, broker.osb, { service: service.id, plan: plan.id }, options.reps, namespaces, playBind);
        const mem = broker.memory();
        results.push({
          size,
          fillSeconds: round(fillMs / 1000, 1),
          apiStartMs: round(apiStartMs, 0),
          workerStartMs: round(workerStartMs, 0),
          ...r,
          apiPeakRssMiB: mem.api?.peakRssMiB ?? NaN,
          workerPeakRssMiB: mem.worker?.peakRssMiB ?? NaN,
        });
        console.error(`size ${size}: done (${new Date().toISOString()})`);
      } finally {
        await broker.stop();
        broker.osb.close();
      }
    }
  } finally {
    await deleteNamespaces(kube, namespaces);
    kube.close();
    fs.rmSync(clustersFile, { force: true });
  }

  printMachine(m);
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const rows: [string, (r: SizeResult) => number | string, ((r: SizeResult) => number) | undefined][] = [
    ['PUT to 202 (ms)', (r) => round(r.put202.median, 1), (r) => r.put202.median],
    ['PUT to succeeded (ms)', (r) => round(r.putSucceeded.median, 0), (r) => r.putSucceeded.median],
    ['bind (ms)', (r) => round(r.bind.median, 1), (r) => r.bind.median],
    ['last_operation (ms)', (r) => round(r.lastOperation.median, 2), (r) => r.lastOperation.median],
    ['fetch instance (ms)', (r) => round(r.fetch.median, 2), (r) => r.fetch.median],
    ['API KiB read per provision', (r) => round(r.apiKiBReadPerProvision.median, 0), (r) => r.apiKiBReadPerProvision.median],
    ['API server requests per provision', (r) => r.requestsPerProvision.median, (r) => r.requestsPerProvision.median],
    ['  of which list', (r) => r.listRequestsPerProvision.median, undefined],
    ['API server requests per bind', (r) => r.requestsPerBind.median, (r) => r.requestsPerBind.median],
    ['API KiB read per bind', (r) => round(r.apiKiBReadPerBind.median, 0), (r) => r.apiKiBReadPerBind.median],
    ['worker KiB read per bind', (r) => round(r.workerKiBReadPerBind.median, 0), (r) => r.workerKiBReadPerBind.median],
    ['API server requests per last_operation + fetch', (r) => r.requestsPerPollAndFetch.median, undefined],
    ['admin instances list (ms)', (r) => round(r.instancesList.median, 0), (r) => r.instancesList.median],
    ['  its answer (KiB)', (r) => r.instancesListKiB, undefined],
    ['admin orphans (ms)', (r) => round(r.orphans.median, 0), (r) => r.orphans.median],
    ['admin pods (ms)', (r) => round(r.pods.median, 0), (r) => r.pods.median],
    ['API peak RSS (MiB)', (r) => r.apiPeakRssMiB, (r) => r.apiPeakRssMiB],
    ['worker peak RSS (MiB)', (r) => r.workerPeakRssMiB, (r) => r.workerPeakRssMiB],
    ['fresh API until it answers (ms)', (r) => r.apiStartMs, (r) => r.apiStartMs],
    ['worker start (ms)', (r) => r.workerStartMs, undefined],
    ['records written (s)', (r) => r.fillSeconds, undefined],
  ];
  printTable(
    `Registry scale: medians of ${options.reps} operations per size (records: instances, and bindings for a fifth)`,
    ['', ...results.map((r) => `N=${r.size}`), `N=${last.size} / N=${first.size}`],
    rows.map(([name, show, ratio]) => [name, ...results.map(show), ratio ? round(ratio(last) / ratio(first), 2) : '']),
  );
  const result = { machine: m, reps: options.reps, env: options.env, sizes: results };
  saveResult('registry', result);
  return result;
}
