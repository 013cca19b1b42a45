// 3. Kubernetes API cost: the API server requests the broker makes per provision and per
// deprovision of every shipped plan, from the API server's audit log (which records every request
// of the broker's identity, user kubernetes-broker), against the number of objects in the plan.
// Counted are requests into this run's own namespaces (other sessions may use the same identity)
// plus cluster-scoped ones (discovery), after a warm-up. apiserver_request_total, for contrast,
// has no client label: its delta counts the controllers', scheduler's and KWOK's requests too.
import { loadCatalog } from '../catalog/load.js';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import { machine, printMachine, printTable, round, saveResult, sleep, stats, suffix } from './lib/common.js';
import { auditMark, auditSince, requestTotal } from './lib/audit.js';
import { adminKube, deleteNamespaces } from './lib/direct.js';
import { operationOf, waitForOperation } from './lib/osb.js';
import { BrokerProcesses } from './lib/processes.js';

export async function apiCost(options: { reps: number; env: Record<string, string> }) {
  const m = machine();
  const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
  const plans = catalog.services.flatMap((service) => service.plans.map((plan) => ({ service, plan, name: `${service.name}/${plan.name}` })));
  const broker = await BrokerProcesses.start({ env: options.env });
  const admin = adminKube();
  const namespaces = [broker.instanceNamespace, broker.recordNamespace];
  const tight = { kind: 'tight' as const, intervalMs: 100 };

  async function provision(service: (typeof plans)[number]['service'], plan: (typeof plans)[number]['plan']) {
    const id = `ac-${suffix()}`;
    const put = await broker.osb.provision(id, { service_id: service.id, plan_id: plan.id, organization_guid: 'bench-org', space_guid: 'bench-space' });
    const done = await waitForOperation(broker.osb, id, operationOf(put, `PUT ${id}`), tight);
    if (done.final.body?.state !== 'succeeded') throw new Error(`provision ${id}: ${done.final.text}`);
    return id;
  }
  async function deprovision(id: string, service: { id: string }, plan: { id: string }) {
    const del = await broker.osb.deprovision(id, service.id, plan.id);
    const gone = await waitForOperation(broker.osb, id, operationOf(del, `DELETE ${id}`), tight);
    if (gone.final.status !== 410) throw new Error(`deprovision ${id}: ${gone.final.status}`);
  }

  const rows: {
    plan: string;
    objects: number;
    provision: number[];
    deprovision: number[];
    metricProvision: number[];
    byResource: Record<string, number>;
    byResourceDeprovision: Record<string, number>;
    clusterScoped: number;
  }[] = [];
  try {
    // Warm-up: discovery of every apiVersion the catalog uses is cached per process.
    for (const p of plans) await deprovision(await provision(p.service, p.plan), p.service, p.plan);
    for (const { service, plan, name } of plans) {
      const row = {
        plan: name,
        objects: plan.templates.length,
        provision: [] as number[],
        deprovision: [] as number[],
        metricProvision: [] as number[],
        byResource: {},
        byResourceDeprovision: {},
        clusterScoped: 0,
      };
      for (let rep = 0; rep < options.reps; rep++) {
        let mark = auditMark();
        const metricBefore = await requestTotal(admin);
        const id = await provision(service, plan);
        await sleep(300); // the audit backend writes a watch's event when the watch ends
        const metricAfter = await requestTotal(admin);
        const p = auditSince(mark, namespaces);
        row.provision.push(p.count);
        row.metricProvision.push(metricAfter - metricBefore - 2); // less this bench's own two /metrics reads
        row.byResource = p.byResource;
        row.clusterScoped += p.clusterScoped;
        mark = auditMark();
        await deprovision(id, service, plan);
        await sleep(300);
        const d = auditSince(mark, namespaces);
        row.deprovision.push(d.count);
        row.byResourceDeprovision = d.byResource;
        row.clusterScoped += d.clusterScoped;
      }
      rows.push(row);
    }
  } finally {
    await broker.stop();
    broker.osb.close();
    await deleteNamespaces(admin, namespaces);
    admin.close();
  }

  const perPlan = rows.map((r) => ({
    plan: r.plan,
    objects: r.objects,
    provisionRequests: stats(r.provision),
    target: r.objects + 5,
    deprovisionRequests: stats(r.deprovision),
    apiserverRequestTotalDelta: stats(r.metricProvision),
    clusterScopedRequests: r.clusterScoped,
    provisionByVerbAndResource: r.byResource,
    deprovisionByVerbAndResource: r.byResourceDeprovision,
  }));
  const result = { machine: m, reps: options.reps, env: options.env, perPlan, met: perPlan.every((p) => p.provisionRequests.max <= p.target) };
  printMachine(m);
  printTable(
    `Kubernetes API requests of the broker's identity per operation (audit log; ${options.reps} reps, median [min–max])`,
    ['plan', 'objects', 'provision', 'target ≤ objects+5', 'deprovision', 'apiserver_request_total Δ (all clients)'],
    perPlan.map((p) => [
      p.plan,
      p.objects,
      `${p.provisionRequests.median} [${p.provisionRequests.min}–${p.provisionRequests.max}]`,
      p.target,
      `${p.deprovisionRequests.median} [${p.deprovisionRequests.min}–${p.deprovisionRequests.max}]`,
      round(p.apiserverRequestTotalDelta.median, 0),
    ]),
  );
  const example = perPlan[0]!;
  console.log(`\n${example.plan} provision, by verb and resource:`, example.provisionByVerbAndResource);
  console.log(`${example.plan} deprovision, by verb and resource:`, example.deprovisionByVerbAndResource);
  saveResult('api-cost', result);
  return result;
}
