// 2. Throughput and scale: N instances of a one-pod plan (redis/small) provisioned at once, then
// deprovisioned at once, through the broker (fresh worker and API child processes per size, their
// peak RSS sampled), against the direct baseline at the same concurrency: the same rendered
// objects applied by N concurrent clients, readiness watched namespace-wide (one watch per kind,
// the physical limit), then N concurrent deletes by label.
import { loadCatalog } from '../catalog/load.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../catalog/labels.js';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import { instanceWorkflowId } from '../platform/temporal/ids.js';
import { fmt, machine, printMachine, printTable, round, saveResult, sleep, stats, suffix, type Stats } from './lib/common.js';
import { Histories, type Breakdown } from './lib/history.js';
import { TemporalMetrics, type TemporalDelta } from './lib/temporal-metrics.js';
import { adminKube, applyObjects, brokerKube, deleteNamespaces, ensureNamespace, goneKinds, renderInstance, waitReady, watchUntil } from './lib/direct.js';
import { instanceSelector } from '../catalog/labels.js';
import type { Osb, OsbResponse } from './lib/osb.js';
import { BROKER_ROOT, BrokerProcesses, CpuMeter, stackPids } from './lib/processes.js';

export interface ScaleOptions {
  sizes: number[];
  env: Record<string, string>;
  plan?: string;
  /** Extra node options of the broker's processes (--cpu-prof, ...). */
  nodeArgs?: string[];
}

/** Where the operations' time went: from the histories of a sample of them (ms per phase). */
async function phases(histories: Histories, ops: { id: string; seenAt?: number }[], startedAt: number, sample = 25) {
  const picked = ops.filter((_, i) => i % Math.max(1, Math.floor(ops.length / sample)) === 0).slice(0, sample);
  const bds: Breakdown[] = [];
  for (const o of picked) bds.push(await histories.breakdown(instanceWorkflowId(o.id), startedAt, o.seenAt!).catch(() => undefined as never));
  const ok = bds.filter(Boolean);
  const out: Record<string, Stats> = {
    'request → workflow started': stats(ok.map((b) => b.api)),
    'workflow tasks': stats(ok.map((b) => b.workflowTasks)),
    '  of which waiting for a poll (scheduled → started)': stats(ok.map((b) => b.workflowTaskQueue)),
    '  of which started → completed': stats(ok.map((b) => b.workflowTaskRun)),
    'completed → seen by poller': stats(ok.map((b) => b.pollLag)),
    total: stats(ok.map((b) => b.total)),
    'workflow tasks (count)': stats(ok.map((b) => b.workflowTaskCount)),
    // A workflow task that ran past its timeout (10 s) while its local steps ran: they run again.
    'workflow tasks timed out (count)': stats(ok.map((b) => b.workflowTaskTimeouts)),
    'operations with a timed-out workflow task (count, of the sampled)': stats([ok.filter((b) => b.workflowTaskTimeouts > 0).length]),
    'local activities (count; their time is in started → completed)': stats(ok.map((b) => b.localActivities.length)),
  };
  for (const name of [...new Set(ok.flatMap((b) => b.activities.map((a) => a.name)))]) {
    out[`${name} schedule-to-start`] = stats(ok.map((b) => b.activities.filter((a) => a.name === name).reduce((s, a) => s + a.queue, 0)));
    out[`${name} run`] = stats(ok.map((b) => b.activities.filter((a) => a.name === name).reduce((s, a) => s + a.run, 0)));
  }
  return out;
}

/**
 * The platform waits for each operation as Cloud Foundry does (bench/lib/osb.ts, `cf`): one
 * last_operation right after the 202, then one every max(Retry-After, 1 s). N independent jobs.
 */
const PLATFORM_MIN_SECONDS = 1;

async function untilAll(
  osb: Osb,
  ops: { id: string; operation: string; seenAt?: number }[],
  done: (status: number, state: string | undefined) => boolean | 'failed',
) {
  const failed: string[] = [];
  const deadline = Date.now() + 30 * 60_000;
  let unfinished = 0,
    pollErrors = 0;
  // What the errors were (error code or HTTP status), counted: printed with the results.
  const pollErrorKinds: Record<string, number> = {};
  const countError = (kind: string) => (pollErrorKinds[kind] = (pollErrorKinds[kind] ?? 0) + 1);
  await Promise.all(
    ops.map(async (op) => {
      while (Date.now() < deadline) {
        const res = await osb.lastOperation(op.id, op.operation).catch((err: NodeJS.ErrnoException): OsbResponse => {
          countError(err.code ?? err.message);
          return { status: 0, body: undefined, text: '', headers: {} };
        });
        if (res.status === 0 || res.status >= 500) {
          // No answer, or the broker could not reach its backends: a platform polls again later
          // (Cloud Controller logs the error and keeps the job).
          pollErrors++;
          if (res.status) countError(`HTTP ${res.status}`);
          await sleep(PLATFORM_MIN_SECONDS * 1000);
          continue;
        }
        const verdict = done(res.status, res.body?.state);
        if (verdict === 'failed') failed.push(`${op.id}: ${res.text}`);
        if (verdict) {
          op.seenAt = Date.now();
          return;
        }
        const retryAfter = Number(res.headers['retry-after'] ?? NaN);
        await sleep(Math.max(Number.isFinite(retryAfter) ? retryAfter : 0, PLATFORM_MIN_SECONDS) * 1000);
      }
      unfinished++;
    }),
  );
  if (pollErrors) console.error(`  poll errors: ${JSON.stringify(pollErrorKinds)}`);
  return { failed, unfinished, pollErrors };
}

export async function scale(options: ScaleOptions) {
  const m = machine();
  // The broker's catalog (CATALOG_DIR through --env, e.g. a copy whose pods take longer to turn ready).
  const { catalog } = await loadCatalog(options.env['CATALOG_DIR'] ?? SHIPPED_CATALOG_DIR);
  const [serviceName, planName] = (options.plan ?? 'redis/small').split('/');
  const service = catalog.services.find((s) => s.name === serviceName)!;
  const plan = service.plans.find((p) => p.name === planName)!;
  const admin = adminKube();
  const results = [];

  for (const n of options.sizes) {
    // ---- direct, at the same concurrency -------------------------------------------------
    const kube = brokerKube();
    const directNs = `kb-bench-direct-${suffix()}`;
    await ensureNamespace(kube, directNs);
    const ids = Array.from({ length: n }, (_, i) => `sd-${i}-${suffix()}`);
    const instances = ids.map((id) => ({ id, objects: renderInstance(service, plan, id, directNs) }));
    const all = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    const directCpu = new CpuMeter(() => ({ ...stackPids(), 'bench (direct client)': process.pid }));
    directCpu.start();
    let t0 = performance.now();
    const ready = waitReady(
      kube,
      directNs,
      all,
      instances.flatMap((i) => i.objects),
      30 * 60_000,
    );
    await Promise.all(instances.map((i) => applyObjects(kube, i.objects, i.id)));
    await ready;
    const directProvisionMs = performance.now() - t0;
    t0 = performance.now();
    const kinds = goneKinds(instances[0]!.objects);
    await Promise.all(instances.flatMap((i) => kinds.map((k) => kube.deleteCollection(k.apiVersion, k.kind, directNs, instanceSelector(i.id)))));
    await watchUntil(kube, directNs, all, kinds, (seen, synced) => synced && seen.size === 0, 30 * 60_000);
    const directDeprovisionMs = performance.now() - t0;
    const directCpuSeconds = directCpu.stop();
    kube.close();
    console.error(`  N=${n} direct: provision ${round(directProvisionMs / 1000)} s, deprovision ${round(directDeprovisionMs / 1000)} s`);

    // ---- the broker --------------------------------------------------------------------------
    const broker = await BrokerProcesses.start({ env: options.env, ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}) });
    const histories = await Histories.connect();
    let provisionPhases: Record<string, Stats> | undefined, deprovisionPhases: Record<string, Stats> | undefined;
    const cpu = new CpuMeter(() => ({ ...stackPids(), 'broker API': broker.api!.pid!, 'broker worker': broker.worker!.pid! }));
    let provisionCpu: Record<string, number> | undefined, deprovisionCpu: Record<string, number> | undefined;
    const temporal = new TemporalMetrics();
    let provisionTemporal: TemporalDelta | undefined, deprovisionTemporal: TemporalDelta | undefined;
    let brokerProvisionMs: number, brokerDeprovisionMs: number;
    let provisionFailures: string[] = [],
      deprovisionFailures: string[] = [];
    let pollErrors = 0;
    let memory;
    try {
      const bids = Array.from({ length: n }, (_, i) => `sb-${i}-${suffix()}`);
      t0 = performance.now();
      cpu.start();
      await temporal.start();
      const putAt = Date.now();
      const puts = await Promise.all(
        bids.map(async (id) => {
          const res = await broker.osb.provision(id, { service_id: service.id, plan_id: plan.id, organization_guid: 'bench-org', space_guid: 'bench-space' });
          if (res.status !== 202) provisionFailures.push(`${id}: PUT ${res.status} ${res.text}`);
          return { id, operation: res.body?.operation ?? '', seenAt: undefined as number | undefined };
        }),
      );
      const p = await untilAll(
        broker.osb,
        puts.filter((x) => x.operation),
        (status, state) => (state === 'succeeded' ? true : state === 'in progress' ? false : 'failed'),
      );
      brokerProvisionMs = performance.now() - t0;
      provisionCpu = cpu.stop();
      provisionTemporal = await temporal.stop();
      provisionPhases = await phases(
        histories,
        puts.filter((x) => x.seenAt),
        putAt,
      );
      provisionFailures = [...provisionFailures, ...p.failed, ...(p.unfinished ? [`${p.unfinished} unfinished`] : [])];
      pollErrors += p.pollErrors;
      console.error(`  N=${n} broker: provision ${round(brokerProvisionMs / 1000)} s, ${provisionFailures.length} failures`);

      t0 = performance.now();
      cpu.start();
      await temporal.start();
      const delAt = Date.now();
      const dels = await Promise.all(
        bids.map(async (id) => {
          const res = await broker.osb.deprovision(id, service.id, plan.id);
          if (res.status !== 202) deprovisionFailures.push(`${id}: DELETE ${res.status} ${res.text}`);
          return { id, operation: res.body?.operation ?? '', seenAt: undefined as number | undefined };
        }),
      );
      const d = await untilAll(
        broker.osb,
        dels.filter((x) => x.operation),
        (status, state) => (status === 410 ? true : state === 'in progress' ? false : 'failed'),
      );
      brokerDeprovisionMs = performance.now() - t0;
      deprovisionCpu = cpu.stop();
      deprovisionTemporal = await temporal.stop();
      deprovisionPhases = await phases(
        histories,
        dels.filter((x) => x.seenAt),
        delAt,
      );
      deprovisionFailures = [...deprovisionFailures, ...d.failed, ...(d.unfinished ? [`${d.unfinished} unfinished`] : [])];
      pollErrors += d.pollErrors;
      console.error(`  N=${n} broker: deprovision ${round(brokerDeprovisionMs / 1000)} s, ${deprovisionFailures.length} failures`);
      memory = broker.memory();
    } finally {
      await histories.close();
      await broker.stop();
      broker.osb.close();
      await deleteNamespaces(admin, [directNs, broker.instanceNamespace, broker.recordNamespace]);
    }
    results.push({
      n,
      direct: { provisionMs: directProvisionMs, deprovisionMs: directDeprovisionMs, totalMs: directProvisionMs + directDeprovisionMs },
      broker: { provisionMs: brokerProvisionMs, deprovisionMs: brokerDeprovisionMs, totalMs: brokerProvisionMs + brokerDeprovisionMs },
      ratio: {
        provision: brokerProvisionMs / directProvisionMs,
        deprovision: brokerDeprovisionMs / directDeprovisionMs,
        total: (brokerProvisionMs + brokerDeprovisionMs) / (directProvisionMs + directDeprovisionMs),
      },
      failures: {
        provision: provisionFailures.slice(0, 20),
        deprovision: deprovisionFailures.slice(0, 20),
        count: provisionFailures.length + deprovisionFailures.length,
      },
      /** last_operation polls without an answer (transport error or 5xx), polled again. */
      pollErrors,
      memory,
      phases: { provision: provisionPhases, deprovision: deprovisionPhases },
      cpuSeconds: { direct: directCpuSeconds, brokerProvision: provisionCpu, brokerDeprovision: deprovisionCpu },
      temporalServer: { provision: provisionTemporal, deprovision: deprovisionTemporal },
    });
  }
  admin.close();

  const first = results[0]!,
    last = results.at(-1)!;
  const growth =
    results.length > 1
      ? {
          sizeFactor: last.n / first.n,
          brokerTime: last.broker.totalMs / first.broker.totalMs,
          directTime: last.direct.totalMs / first.direct.totalMs,
          apiPeakRss: (last.memory?.api?.vmHwmMiB ?? NaN) / (first.memory?.api?.vmHwmMiB ?? NaN),
          workerPeakRss: (last.memory?.worker?.vmHwmMiB ?? NaN) / (first.memory?.worker?.vmHwmMiB ?? NaN),
        }
      : undefined;
  const result = {
    machine: m,
    plan: `${serviceName}/${planName}`,
    poller: { kind: 'cf', platformMinSeconds: PLATFORM_MIN_SECONDS },
    brokerRoot: BROKER_ROOT,
    env: options.env,
    sizes: results,
    growth,
  };
  printMachine(m);
  const s = (ms: number) => `${round(ms / 1000, 1)} s`;
  printTable(
    `scale: N instances of ${result.plan} at once, provisioned then deprovisioned (one run per size; ratio = broker / direct)`,
    [
      'N',
      'direct prov.',
      'broker prov.',
      'ratio',
      'direct deprov.',
      'broker deprov.',
      'ratio',
      'total ratio (≤ 1.3)',
      'failures',
      'poll errors',
      'API peak RSS',
      'worker peak RSS',
    ],
    results.map((r) => [
      r.n,
      s(r.direct.provisionMs),
      s(r.broker.provisionMs),
      round(r.ratio.provision),
      s(r.direct.deprovisionMs),
      s(r.broker.deprovisionMs),
      round(r.ratio.deprovision),
      round(r.ratio.total),
      r.failures.count,
      r.pollErrors,
      `${r.memory?.api?.vmHwmMiB ?? '?'} MiB`,
      `${r.memory?.worker?.vmHwmMiB ?? '?'} MiB`,
    ]),
  );
  if (growth) {
    printTable(
      `growth from N=${first.n} to N=${last.n} (×${growth.sizeFactor})`,
      ['figure', 'factor'],
      [
        ['broker total time', round(growth.brokerTime)],
        ['direct total time', round(growth.directTime)],
        ['API peak RSS', round(growth.apiPeakRss)],
        ['worker peak RSS', round(growth.workerPeakRss)],
      ],
    );
  }
  for (const r of results) {
    for (const op of ['provision', 'deprovision'] as const) {
      const ph = r.phases[op];
      if (ph)
        printTable(
          `N=${r.n} ${op}: where an operation's time went (${ph['total']!.n} sampled histories; ms median [min–max])`,
          ['phase', 'ms'],
          Object.entries(ph).map(([k, v]) => [k, fmt(v, 0)]),
        );
    }
  }
  for (const r of results) {
    const c = r.cpuSeconds;
    const names = [...new Set([...Object.keys(c.direct), ...Object.keys(c.brokerProvision ?? {}), ...Object.keys(c.brokerDeprovision ?? {})])];
    printTable(
      `N=${r.n}: CPU seconds per process (2 cores: at most ${round((2 * r.broker.totalMs) / 1000, 0)} s during the broker's run)`,
      ['process', 'direct (prov.+deprov.)', 'broker provision', 'broker deprovision'],
      names.map((n) => [n, c.direct[n] ?? '-', c.brokerProvision?.[n] ?? '-', c.brokerDeprovision?.[n] ?? '-']),
    );
  }
  for (const r of results) {
    for (const op of ['provision', 'deprovision'] as const) {
      const t = r.temporalServer[op];
      if (!t) continue;
      printTable(
        `N=${r.n} ${op}: Temporal server (its metrics): ${t.persistenceCalls} persistence calls, ${t.persistenceSeconds} s in them; top operations by time`,
        ['operation', 'calls', 'seconds', 'mean ms'],
        t.operations.map((o) => [o.operation, o.count, o.seconds, o.meanMs]),
      );
    }
  }
  for (const r of results) if (r.failures.count) console.error(`N=${r.n} failures:`, r.failures);
  saveResult('scale', result);
  return result;
}
