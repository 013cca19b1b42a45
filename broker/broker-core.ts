// What the instance and binding endpoints share: the broker's dependencies, the catalog names an
// operation is searched by, and the questions every endpoint asks of Temporal before it acts (is
// an operation of this resource running, and is it this very request?).
import type { Client } from '@temporalio/client';
import type { Catalog, Plan } from '../catalog/types.js';
import type { ClustersConfig } from '../platform/config/clusters.js';
import type { InstanceRecord, RecordStore } from '../platform/kube/records.js';
import { instanceWorkflowId } from '../platform/temporal/ids.js';
import type { ApiMetrics } from '../platform/observability/metrics.js';
import { concurrencyError, conflict, notFound, unprocessable } from './errors.js';
import type { NamespaceStrategy } from './namespaces.js';
import { OperationStarter, type OperationSubject } from './operation-start.js';
import { completedRun, describeLatest, findOperationRun, isRunning, memoOf, SharedPolls } from './operation-state.js';

export interface BrokerSettings {
  taskQueue: string;
  namespaceStrategy: NamespaceStrategy;
  instanceNamespace: string;
  /** Seconds a provision or update may take when its plan sets no maximum_polling_duration. */
  defaultTimeoutSeconds: number;
  /** How long a bind or unbind may take before the API answers 202 instead of waiting. */
  syncBindTimeoutMs: number;
  /**
   * last_operation on an operation younger than this holds its answer until the operation
   * finishes or is this old (a bounded long poll); 0 answers at once. See BrokerCore.operationRun.
   */
  lastOperationWaitMs: number;
  /** Target clusters: routing of new instances and quotas (platform/config/clusters.ts). */
  clusters: ClustersConfig;
}

export interface BrokerDeps {
  client: Client;
  records: RecordStore;
  catalog: Catalog;
  settings: BrokerSettings;
  metrics?: ApiMetrics | undefined;
  /** A client on the connection of a worker in this process: starts ask for an eager start (OperationStarter). */
  eagerStartClient?: Client | undefined;
}

export class BrokerCore {
  readonly client: Client;
  readonly records: RecordStore;
  readonly catalog: Catalog;
  readonly settings: BrokerSettings;
  readonly operations: OperationStarter;
  /** last_operation polls of one operation share their Temporal calls. */
  private readonly polls: SharedPolls;

  constructor(deps: BrokerDeps) {
    this.client = deps.client;
    this.records = deps.records;
    this.catalog = deps.catalog;
    this.settings = deps.settings;
    this.polls = new SharedPolls(deps.client);
    this.operations = new OperationStarter(deps.client, deps.settings.taskQueue, deps.metrics, deps.eagerStartClient);
  }

  /** Seconds an instance operation on `plan` may take. */
  timeoutOf(plan: Plan): number {
    return plan.maximumPollingDuration ?? this.settings.defaultTimeoutSeconds;
  }

  planOf(record: { serviceId: string; planId: string }) {
    return this.catalog.findPlan(record.serviceId, record.planId);
  }

  /** What an operation acts on, by the catalog's names (ids when the catalog no longer has them). */
  subjectOf(record: { instanceId: string; serviceId: string; planId: string }, where: Pick<InstanceRecord, 'org' | 'space'>): OperationSubject {
    const found = this.planOf(record);
    const service = found?.service.name ?? this.catalog.findService(record.serviceId)?.name ?? record.serviceId;
    return { instanceId: record.instanceId, service, plan: found?.plan.name ?? record.planId, org: where.org, space: where.space };
  }

  /** A request found a workflow running: identical → its operation; else conflict or concurrency. */
  async runningOperation(workflowId: string, type: string, requestDigest: string, what: string): Promise<{ status: 'accepted'; operation: string }> {
    const run = await describeLatest(this.client, workflowId);
    if (!run || !isRunning(run)) throw unprocessable(`the state of ${what} changed during the request; send it again`);
    const memo = memoOf(run);
    if (run.type !== type) throw concurrencyError(what);
    if (memo.requestDigest !== requestDigest) throw conflict(`${what} is being created with other attributes`);
    return { status: 'accepted', operation: memo.operation ?? '' };
  }

  /** The instance's record; 422 while a provision has not written it yet, else 404. */
  async existingInstance(instanceId: string) {
    const stored = await this.records.getInstance(instanceId);
    if (stored) return stored;
    if (isRunning(await describeLatest(this.client, instanceWorkflowId(instanceId)))) throw concurrencyError(`instance ${instanceId}`);
    throw notFound(`instance ${instanceId} does not exist`);
  }

  /**
   * An update or a bind acts on the instance's cluster: when that cluster is no longer in the
   * configuration, 422 before any workflow starts, saying what the operator must do (the instance
   * keeps working on that cluster; the broker only lost its way there).
   */
  requireConfiguredCluster(record: InstanceRecord, operation: 'update' | 'bind'): void {
    const { clusters, defaultCluster } = this.settings.clusters;
    const cluster = record.cluster ?? defaultCluster;
    if (clusters.some((c) => c.name === cluster)) return;
    throw unprocessable(
      `instance ${record.instanceId} is on cluster ${cluster}, which this broker no longer has in its clusters configuration (clusters: ${clusters.map((c) => c.name).join(', ')}); nothing was changed. Ask the broker's operator to add cluster ${cluster} to CLUSTERS_FILE again, then ${operation} again.`,
    );
  }

  /**
   * The run that carries the operation, for last_operation. While the operation is young (it
   * started less than lastOperationWaitMs ago) and running, the answer waits until it finishes or
   * is that old: a platform that polls right after the 202 (as Cloud Foundry does) then reads
   * `succeeded` as soon as a fast operation is done, instead of one Retry-After later. Every poll
   * of one run waits until the same moment, so they share one long poll (bounded: never longer
   * than lastOperationWaitMs from now, whatever the clocks say).
   */
  async operationRun(workflowId: string, operation: string | undefined) {
    const run = await findOperationRun(this.client, workflowId, operation, this.polls);
    const waitMs = this.settings.lastOperationWaitMs;
    if (!run || !isRunning(run) || waitMs <= 0) return run;
    const until = Math.min(run.startTime.getTime() + waitMs, Date.now() + waitMs);
    // The wait only improves an answer already in hand: if it breaks (Temporal restarting), that answer stands.
    const outcome = await this.polls.waitForClose(workflowId, run.runId, new Date(until)).catch(() => 'running' as const);
    if (outcome === 'running') return run;
    // The wait's own answer suffices for a completion: no second describe on the way to `succeeded`.
    if (outcome === 'completed') return completedRun(run);
    // Closed otherwise: asked afresh, for the failure in its memo or the run that continued it
    // (a shared describe in flight may predate the close).
    return findOperationRun(this.client, workflowId, operation);
  }
}
