// Operator commands: `instances list|show`, `pods`, `retry`, `orphans [--delete]`, `upgrade`. They talk to
// Temporal and Kubernetes directly with the broker's configuration (no running API needed).
import { instancePods, podsPage, type PodStatus } from '../api/admin/pods.js';
import { deleteOrphans, surveyOrphans } from '../api/admin/orphans.js';
import { listInstances, showInstance, type InstanceSummary } from '../api/admin/instances.js';
import { everyPage } from '../api/admin/paging.js';
import { retryOperation, RetryError } from '../api/admin/retry.js';
import { UpgradeError } from '../api/admin/upgrade.js';
import type { AdminDeps } from '../api/admin/deps.js';
import type { ClusterNotRead } from '../api/admin/cluster-reads.js';
import { loadCatalog } from '../catalog/load.js';
import { loadConfig } from '../platform/config/config.js';
import { loadClusters } from '../platform/config/clusters.js';
import { KubeClusters } from '../platform/kube/clusters.js';
import { RecordStore } from '../platform/kube/records.js';
import { createTemporalClient } from '../platform/temporal/client.js';
import { checkTemporalAccess, TemporalAccessError } from '../platform/temporal/access.js';
import { LiveCatalog } from '../platform/kube/live-catalog.js';
import { OfferingStore } from '../platform/kube/offering-store.js';
import { createLogger } from '../platform/observability/logger.js';
import { adminDepsFor } from './admin-deps.js';
import { table } from './table.js';
import { upgradeCommand, type UpgradeFlags } from './upgrade-command.js';

interface Out {
  log(s: string): void;
  error(s: string): void;
}

export type OperatorFlags = { json?: boolean; delete?: boolean; org?: string; binding?: boolean } & Partial<UpgradeFlags>;

export async function operatorCommand(args: string[], flags: OperatorFlags, out: Out): Promise<number> {
  const config = loadConfig(process.env, { api: false });
  const temporalProblem = await checkTemporalAccess(config.temporal);
  if (temporalProblem) throw new TemporalAccessError(temporalProblem.message);
  const clusters = KubeClusters.connect(loadClusters(config), config);
  const kube = clusters.home;
  const { client, connection } = createTemporalClient(config);
  // The file catalog and the offerings added at runtime, as they are stored now (no watch).
  const catalog = new LiveCatalog((await loadCatalog(config.CATALOG_DIR)).catalog, new OfferingStore(kube, config.BROKER_NAMESPACE), createLogger('silent'));
  await catalog.refresh();
  const deps: AdminDeps = adminDepsFor(config, { client, clusters, records: new RecordStore(kube, config.BROKER_NAMESPACE), catalog });
  const print = (value: unknown, human: () => string) => out.log(flags.json ? JSON.stringify(value, null, 2) : human());
  try {
    const [command, sub, id] = args;
    if (command === 'instances' && sub === 'list') {
      // A table per page as it comes, so that memory does not grow with the registry; --json
      // gathers every page into one array.
      const all: InstanceSummary[] = [];
      let listed = 0;
      for await (const { instances: page } of everyPage((p) => listInstances(deps, p))) {
        listed += page.length;
        if (flags.json) all.push(...page);
        else if (page.length) out.log(table(page, ['instanceId', 'service', 'plan', 'state', 'cluster', 'namespace', 'createdAt']));
      }
      if (flags.json) out.log(JSON.stringify(all, null, 2));
      else if (!listed) out.log('no instances');
      return 0;
    }
    if (command === 'instances' && sub === 'show' && id) {
      const detail = await showInstance(deps, id);
      if (!detail) return fail(out, `instance ${id} has no record`);
      print(detail, () =>
        [
          `instance   ${detail.instanceId}`,
          `service    ${detail.service} / plan ${detail.plan}`,
          `state      ${detail.state}`,
          `namespace  ${detail.namespace}`,
          `org/space  ${detail.org || '-'} / ${detail.space || '-'}`,
          `bindings   ${detail.bindings.join(', ') || 'none'}`,
          '',
          table(
            detail.objects.map((o) => ({ ...o, ready: o.ready ? 'yes' : 'no' })),
            ['kind', 'name', 'ready', 'detail'],
          ),
          '',
          table(detail.workflows, ['type', 'status', 'operation', 'startTime', 'url']),
        ].join('\n'),
      );
      warnNotRead(out, detail.clustersNotRead, 'its objects are not listed');
      return 0;
    }
    if (command === 'pods') {
      const podTable = (pods: PodStatus[]) =>
        table(
          pods.map((p) => ({
            ...p,
            ready: p.ready ? 'yes' : 'no',
            containers: p.containers.map((c) => `${c.name}:${c.state}${c.restarts ? `(${c.restarts} restarts)` : ''}`).join(' '),
          })),
          ['instanceId', 'pod', 'phase', 'ready', 'node', 'podIP', 'containers'],
        );
      if (sub) {
        const view = await instancePods(deps, sub);
        if (!view) return fail(out, `instance ${sub} has no record`);
        print(view.pods, () => podTable(view.pods));
        warnNotRead(out, view.clustersNotRead, 'its pods are not listed');
        return 0;
      }
      // As `instances list`: a table per page of instances as it comes; --json gathers every page.
      const all: PodStatus[] = [];
      const notRead = new Map<string, ClusterNotRead>();
      let listed = 0;
      for await (const page of everyPage((p) => podsPage(deps, { ...p, org: flags.org }))) {
        listed += page.pods.length;
        for (const n of page.clustersNotRead) notRead.set(n.cluster, n);
        if (flags.json) all.push(...page.pods);
        else if (page.pods.length) out.log(podTable(page.pods));
      }
      if (flags.json) out.log(JSON.stringify(all, null, 2));
      else if (!listed) out.log('no pods');
      warnNotRead(out, [...notRead.values()], 'its pods are not listed');
      return 0;
    }
    if (command === 'retry' && sub) {
      try {
        const result = await retryOperation(deps, flags.binding ? { bindingId: sub } : { instanceId: sub });
        print(result, () => `retrying ${result.type} of ${result.workflowId}: new run ${result.runId}`);
        return 0;
      } catch (err) {
        if (err instanceof RetryError) return fail(out, err.message);
        throw err;
      }
    }
    if (command === 'orphans') {
      const { orphans, kept, clustersNotRead } = await surveyOrphans(deps);
      const keptNote = () => (kept.length ? `\n\nkept, not deleted:\n${table(kept, ['cluster', 'kind', 'namespace', 'name', 'instanceId', 'reason'])}` : '');
      if (flags.delete) {
        const { deleted, refused } = await deleteOrphans(deps, orphans);
        print({ deleted, orphans, kept, ...(refused.length ? { refused } : {}) }, () =>
          [`deleted ${deleted} of ${orphans.length} orphans${keptNote()}`, ...refused.map((r) => `not deleted: ${r}`)].join('\n'),
        );
      } else {
        print(orphans, () => (orphans.length ? table(orphans, ['cluster', 'kind', 'namespace', 'name', 'instanceId']) : 'no orphans') + keptNote());
      }
      warnNotRead(out, clustersNotRead, flags.delete ? 'its orphans are neither listed nor deleted' : 'its orphans are not listed');
      return 0;
    }
    if (command === 'upgrade' && flags.plan) {
      try {
        return await upgradeCommand(deps, { ...flags, plan: flags.plan }, out);
      } catch (err) {
        if (err instanceof UpgradeError) return fail(out, err.message);
        throw err;
      }
    }
    return fail(out, `unknown command: ${args.join(' ')}`);
  } finally {
    await connection.close();
    clusters.close();
  }
}

/** On stderr, so that `--json` output stays what it was: the view holds what the other clusters hold. */
function warnNotRead(out: Out, clustersNotRead: ClusterNotRead[], consequence: string): void {
  for (const { cluster, problem } of clustersNotRead) out.error(`kubernetes-broker: cluster ${cluster} could not be read, ${consequence}: ${problem}`);
}

function fail(out: Out, message: string): number {
  out.error(`kubernetes-broker: ${message}`);
  return 1;
}
