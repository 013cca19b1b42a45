// 1. Provision overhead: for every shipped plan, PUT → last_operation `succeeded` through the
// broker (worker and API as child processes), against applying the same rendered objects
// directly with the same client and waiting for the same readiness with watches, side by side
// on the same cluster. Two platforms: a tight poller (every 25 ms) and Cloud Foundry's
// (honouring Retry-After). Also the deprovision against a direct delete-by-label, and where the
// overhead goes: the Temporal history breakdown of the broker's provisions and the CPU every
// process of the stack spends per provision, broker against direct.
import { loadCatalog } from '../catalog/load.js';
import type { Plan, ServiceOffering } from '../catalog/types.js';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import { instanceWorkflowId } from '../platform/temporal/ids.js';
import { fmt, machine, printMachine, printTable, round, saveResult, stats, suffix, type Stats } from './lib/common.js';
import { adminKube, brokerKube, deleteNamespaces, directDeprovision, directProvision, renderInstance } from './lib/direct.js';
import { Histories, type Breakdown } from './lib/history.js';
import { operationOf, waitForOperation, type Poller } from './lib/osb.js';
import { BrokerProcesses, CpuMeter, stackPids } from './lib/processes.js';

export interface ProvisionOverheadOptions {
  reps: number;
  /** `service/plan` names; all shipped plans when empty. */
  plans: string[];
  env: Record<string, string>;
  /** Extra node options of the broker's processes (--cpu-prof, ...). */
  nodeArgs?: string[];
  /** The broker as one process, `serve --with-worker` (eager workflow starts). */
  oneProcess?: boolean;
}

const TIGHT: Poller = { kind: 'tight', intervalMs: 25 };
const CF: Poller = { kind: 'cf', platformMinSeconds: 1 };
type Variant = 'tight' | 'cf' | 'direct';

export async function provisionOverhead(options: ProvisionOverheadOptions) {
  const m = machine();
  const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
  const plans = catalog.services
    .flatMap((service) => service.plans.map((plan) => ({ service, plan, name: `${service.name}/${plan.name}` })))
    .filter((p) => options.plans.length === 0 || options.plans.includes(p.name));
  const broker = await BrokerProcesses.start({
    env: options.env,
    oneProcess: options.oneProcess ?? false,
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  });
  const kube = brokerKube();
  const histories = await Histories.connect();
  const ns = broker.instanceNamespace;
  const retryAfterSeen = new Set<number>();
  const breakdowns: Breakdown[] = [];
  // CPU seconds of every process of the stack during each measured provision, by variant.
  const brokerPids: Record<string, number> = options.oneProcess
    ? { 'broker (API + worker)': broker.api!.pid! }
    : { 'broker API': broker.api!.pid!, 'broker worker': broker.worker!.pid! };
  const cpu = new CpuMeter(() => ({ ...stackPids(), ...brokerPids, benchmark: process.pid }));
  const cpuRuns: Record<Variant, Record<string, number>[]> = { tight: [], cf: [], direct: [] };

  /** `measured`: the variant whose CPU figures this provision counts in (none for the warm-up). */
  async function viaBroker(service: ServiceOffering, plan: Plan, poller: Poller, measured?: Variant) {
    const id = `po-${suffix()}`;
    const counted = countCpu(measured);
    const t0 = performance.now();
    const putAt = Date.now();
    const put = await broker.osb.provision(id, { service_id: service.id, plan_id: plan.id, organization_guid: 'bench-org', space_guid: 'bench-space' });
    const done = await waitForOperation(broker.osb, id, operationOf(put, `PUT ${id}`), poller);
    const provisionMs = performance.now() - t0;
    counted();
    if (done.final.body?.state !== 'succeeded') throw new Error(`provision ${id} (${plan.name}): ${done.final.text}`);
    done.retryAfter.forEach((r) => retryAfterSeen.add(r));
    if (poller.kind === 'tight') breakdowns.push(await histories.breakdown(instanceWorkflowId(id), putAt, Date.now()));
    const t1 = performance.now();
    const del = await broker.osb.deprovision(id, service.id, plan.id);
    const gone = await waitForOperation(broker.osb, id, operationOf(del, `DELETE ${id}`), TIGHT);
    if (gone.final.status !== 410) throw new Error(`deprovision ${id}: ${gone.final.status} ${gone.final.text}`);
    return { provisionMs, deprovisionMs: performance.now() - t1 };
  }

  async function direct(service: ServiceOffering, plan: Plan, measured?: Variant) {
    const id = `pd-${suffix()}`;
    const objects = renderInstance(service, plan, id, ns);
    const counted = countCpu(measured);
    const provisionMs = await directProvision(kube, objects, id, ns);
    counted();
    const deprovisionMs = await directDeprovision(kube, objects, id, ns);
    return { provisionMs, deprovisionMs };
  }

  const run = (v: Variant, service: ServiceOffering, plan: Plan) =>
    v === 'direct' ? direct(service, plan, v) : viaBroker(service, plan, v === 'tight' ? TIGHT : CF, v);

  /** Counts the CPU of the stack's processes from here until the returned function is called. */
  function countCpu(v: Variant | undefined): () => void {
    if (!v) return () => {};
    cpu.start();
    return () => cpuRuns[v].push(cpu.elapsed());
  }

  type Row = { plan: string; objects: number; times: Record<Variant, { provisionMs: number[]; deprovisionMs: number[] }> };
  const rows: Row[] = [];
  try {
    // Warm-up (not measured): JIT, discovery caches, connection pools, the workflow cache.
    const first = plans[0]!;
    await direct(first.service, first.plan);
    await viaBroker(first.service, first.plan, TIGHT);

    for (const { service, plan, name } of plans) {
      const row: Row = {
        plan: name,
        objects: plan.templates.length,
        times: { tight: { provisionMs: [], deprovisionMs: [] }, cf: { provisionMs: [], deprovisionMs: [] }, direct: { provisionMs: [], deprovisionMs: [] } },
      };
      for (let rep = 0; rep < options.reps; rep++) {
        // Rotate the order, so that no variant always runs on a cluster the previous one just warmed or loaded.
        const order: Variant[] = (['tight', 'cf', 'direct'] as Variant[]).map((_, i, a) => a[(i + rep) % a.length]!);
        for (const v of order) {
          const r = await run(v, service, plan);
          row.times[v].provisionMs.push(r.provisionMs);
          row.times[v].deprovisionMs.push(r.deprovisionMs);
        }
      }
      rows.push(row);
      const s = (v: Variant) => stats(row.times[v].provisionMs);
      console.error(`  ${name}: direct ${round(s('direct').median, 0)} ms, tight ${round(s('tight').median, 0)} ms, cf ${round(s('cf').median, 0)} ms`);
    }
  } finally {
    kube.close();
    await histories.close();
    await broker.stop();
    broker.osb.close();
    const admin = adminKube();
    await deleteNamespaces(admin, [broker.instanceNamespace, broker.recordNamespace]);
    admin.close();
  }

  const ratio = (a: number[], b: number[]) => stats(a).median / stats(b).median;
  // Per-repetition ratios (each repetition's broker run over the same repetition's direct run) give the spread.
  const repRatios = (r: Row, v: Variant, what: 'provisionMs' | 'deprovisionMs') => r.times[v][what].map((t, i) => t / r.times.direct[what][i]!);
  const perPlan = rows.map((r) => ({
    plan: r.plan,
    objects: r.objects,
    directMs: stats(r.times.direct.provisionMs),
    tightMs: stats(r.times.tight.provisionMs),
    cfMs: stats(r.times.cf.provisionMs),
    tightRatio: ratio(r.times.tight.provisionMs, r.times.direct.provisionMs),
    tightRatioSpread: stats(repRatios(r, 'tight', 'provisionMs')),
    cfRatio: ratio(r.times.cf.provisionMs, r.times.direct.provisionMs),
    // What the broker adds to a provision as a platform sees it: CF poller median minus direct median.
    cfAddedMs: stats(r.times.cf.provisionMs).median - stats(r.times.direct.provisionMs).median,
    cfRatioSpread: stats(repRatios(r, 'cf', 'provisionMs')),
    deprovisionDirectMs: stats(r.times.direct.deprovisionMs),
    deprovisionBrokerMs: stats([...r.times.tight.deprovisionMs, ...r.times.cf.deprovisionMs]),
    deprovisionRatio: ratio([...r.times.tight.deprovisionMs, ...r.times.cf.deprovisionMs], r.times.direct.deprovisionMs),
  }));
  const overall = {
    tightRatio: stats(perPlan.map((p) => p.tightRatio)),
    cfRatio: stats(perPlan.map((p) => p.cfRatio)),
    cfAddedMs: stats(perPlan.map((p) => p.cfAddedMs)),
    deprovisionRatio: stats(perPlan.map((p) => p.deprovisionRatio)),
  };
  const sum = (f: (b: Breakdown) => number) => stats(breakdowns.map(f));
  const activityNames = [...new Set(breakdowns.flatMap((b) => b.activities.map((a) => a.name)))];
  const breakdown = {
    api: sum((b) => b.api),
    workflowTasks: sum((b) => b.workflowTasks),
    workflowTaskQueue: sum((b) => b.workflowTaskQueue),
    workflowTaskRun: sum((b) => b.workflowTaskRun),
    activities: Object.fromEntries(
      activityNames.map((n) => [
        n,
        {
          queue: sum((b) => b.activities.filter((a) => a.name === n).reduce((s, a) => s + a.queue, 0)),
          run: sum((b) => b.activities.filter((a) => a.name === n).reduce((s, a) => s + a.run, 0)),
        },
      ]),
    ),
    pollLag: sum((b) => b.pollLag),
    total: sum((b) => b.total),
    workflowTaskCount: sum((b) => b.workflowTaskCount),
    activityCount: sum((b) => b.activities.length),
    localActivityCount: sum((b) => b.localActivities.length),
    localActivities: [...new Set(breakdowns.flatMap((b) => b.localActivities))],
  };
  // CPU milliseconds per provision by process, and of all processes: the mean of the middle half
  // of the provisions (the plans' long provisions, rabbitmq/cluster's seconds, would dominate a
  // plain mean; a median would show only whole 10 ms ticks).
  const cpuPerProvision = Object.fromEntries(
    (['direct', 'tight', 'cf'] as const).map((v) => {
      const runs = cpuRuns[v];
      const names = [...new Set(runs.flatMap((r) => Object.keys(r)))];
      const perProcess = Object.fromEntries(names.map((n) => [n, round(interquartileMean(runs.map((r) => (r[n] ?? 0) * 1000)), 0)]));
      const total = round(interquartileMean(runs.map((r) => Object.values(r).reduce((a, b) => a + b, 0) * 1000)), 0);
      return [v, { provisions: runs.length, total, perProcess }];
    }),
  ) as Record<Variant, { provisions: number; total: number; perProcess: Record<string, number> }>;
  const result = {
    machine: m,
    reps: options.reps,
    brokerMode: options.oneProcess ? 'serve --with-worker' : 'worker + serve',
    pollers: { tight: TIGHT, cf: CF },
    retryAfterSent: [...retryAfterSeen].sort((a, b) => a - b),
    env: options.env,
    overall,
    perPlan,
    breakdown,
    cpuPerProvision,
  };

  printMachine(m);
  const ms = (s: Stats) => fmt(s, 0);
  printTable(
    `provision overhead (${result.brokerMode}; ${options.reps} reps per plan; ms as median [min–max]; ratio = broker median / direct median, spread over reps)`,
    ['plan', 'objects', 'direct ms', 'tight ms', 'tight ratio', 'CF ms', 'CF ratio', 'CF − direct ms', 'deprov. direct', 'deprov. broker', 'ratio'],
    perPlan.map((p) => [
      p.plan,
      p.objects,
      ms(p.directMs),
      ms(p.tightMs),
      `${round(p.tightRatio)} [${round(p.tightRatioSpread.min)}–${round(p.tightRatioSpread.max)}]`,
      ms(p.cfMs),
      `${round(p.cfRatio)} [${round(p.cfRatioSpread.min)}–${round(p.cfRatioSpread.max)}]`,
      round(p.cfAddedMs, 0),
      ms(p.deprovisionDirectMs),
      ms(p.deprovisionBrokerMs),
      round(p.deprovisionRatio),
    ]),
  );
  printTable(
    'provision overhead over all plans (median of per-plan ratios [min–max])',
    ['figure', 'value', 'target'],
    [
      ['tight poller / direct', fmt(overall.tightRatio), '≤ 1.25'],
      ['CF poller / direct', fmt(overall.cfRatio), '≤ 1.25'],
      ['CF poller − direct (ms added per provision)', fmt(overall.cfAddedMs, 0), '≤ 50'],
      ['Retry-After sent (s)', result.retryAfterSent.join(', ') || '-', ''],
      ['deprovision broker / direct', fmt(overall.deprovisionRatio), '(report)'],
    ],
  );
  printTable(
    'where a broker provision goes (tight poller, Temporal history; ms median [min–max] over all plans and reps)',
    ['phase', 'ms'],
    [
      ['PUT → workflow started (API)', ms(breakdown.api)],
      ...activityNames.flatMap((n) => [
        [`${n}: schedule-to-start`, ms(breakdown.activities[n]!.queue)],
        [`${n}: run`, ms(breakdown.activities[n]!.run)],
      ]),
      ['workflow tasks (between activities)', ms(breakdown.workflowTasks)],
      ['  of which waiting for a poll (scheduled → started)', ms(breakdown.workflowTaskQueue)],
      ['  of which started → completed', ms(breakdown.workflowTaskRun)],
      ['completed → platform saw it (poll lag)', ms(breakdown.pollLag)],
      ['total', ms(breakdown.total)],
      ['workflow tasks per provision (count)', ms(breakdown.workflowTaskCount)],
      ['activities per provision (count)', ms(breakdown.activityCount)],
      [
        `local activities per provision (count; ${breakdown.localActivities.join(', ') || 'none'}: their time is in started → completed)`,
        ms(breakdown.localActivityCount),
      ],
    ],
  );
  const processes = [...new Set(Object.values(cpuPerProvision).flatMap((c) => Object.keys(c.perProcess)))].filter((n) =>
    Object.values(cpuPerProvision).some((c) => (c.perProcess[n] ?? 0) > 0),
  );
  const cpuCell = (v: Variant, n?: string) => (n ? (cpuPerProvision[v].perProcess[n] ?? 0) : cpuPerProvision[v].total);
  printTable(
    `CPU per provision by process (ms; /proc utime+stime in 10 ms ticks; mean of the middle half of ${cpuRuns.direct.length} direct and ${cpuRuns.tight.length} + ${cpuRuns.cf.length} broker provisions)`,
    ['process', 'direct', 'broker, tight poller', 'broker, CF poller'],
    [...processes.map((n) => [n, cpuCell('direct', n), cpuCell('tight', n), cpuCell('cf', n)]), ['total', cpuCell('direct'), cpuCell('tight'), cpuCell('cf')]],
  );
  saveResult('provision-overhead', result);
  return result;
}

/** The mean of the values between the first and third quartile (both included). */
function interquartileMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.slice(Math.floor(sorted.length / 4), Math.ceil((sorted.length * 3) / 4));
  return middle.length ? middle.reduce((a, b) => a + b, 0) / middle.length : NaN;
}
