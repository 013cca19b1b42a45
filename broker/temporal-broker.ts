// The broker's behaviour behind the OSB API: decide from the durable records and the state of
// Temporal workflows what a request means (new, identical retry, conflict, concurrent), then
// start or signal the workflow. Never touches the instance's Kubernetes objects itself.
import {
  isGrpcDeadlineError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type {
  BindRequest,
  BindResult,
  Broker,
  BindingDetails,
  DeprovisionRequest,
  InstanceDetails,
  LastOperation,
  ProvisionRequest,
  ProvisionResult,
  RemovalResult,
  UnbindRequest,
  UpdateRequest,
  UpdateResult,
} from './service-broker.js';
import { asyncRequired, badRequest, concurrencyError, conflict, gone, notFound, unprocessable } from './errors.js';
import { unknownService } from './catalog-lookup.js';
import type { Catalog, Plan } from '../catalog/types.js';
import { routeCluster, type ClustersConfig } from '../platform/config/clusters.js';
import type { BindingRecord, InstanceRecord, RecordStore } from '../platform/kube/records.js';
import { bindingWorkflowId, instanceWorkflowId } from '../platform/temporal/ids.js';
import { KbPlan, KbService } from '../platform/temporal/search-attributes.js';
import { deprovisionRequested } from '../workflows/definitions.js';
import { DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS } from '../workflows/types.js';
import type { ApiMetrics } from '../platform/observability/metrics.js';
import { digest } from './digest.js';
import { instanceNamespace, type NamespaceStrategy } from './namespaces.js';
import { newOperationToken, OperationStarter, WORKFLOW_TYPES, type OperationSubject } from './operation-start.js';
import { completedRun, describeLatest, findOperationRun, isRunning, lastOperationOf, memoOf, SharedPolls } from './operation-state.js';
import { checkQuota } from './quota.js';
import { probeReadiness } from './readiness.js';
import { checkUpdate } from './request-checks.js';

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
   * finishes or is this old (a bounded long poll); 0 answers at once. See lastOperation below.
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
}

/** What makes two provision requests the same request. */
const instanceDigest = (r: { serviceId: string; planId: string; parameters: Record<string, unknown> }) =>
  digest({ serviceId: r.serviceId, planId: r.planId, parameters: r.parameters });

const bindingDigest = (r: { instanceId: string; planId: string; parameters: Record<string, unknown>; bindResource?: Record<string, unknown> | undefined }) =>
  digest({ instanceId: r.instanceId, planId: r.planId, parameters: r.parameters, bindResource: r.bindResource ?? {} });

export class TemporalBroker implements Broker {
  /** last_operation polls of one operation share their Temporal calls. */
  private readonly polls: SharedPolls;
  private readonly operations: OperationStarter;

  constructor(private readonly deps: BrokerDeps) {
    this.polls = new SharedPolls(deps.client);
    this.operations = new OperationStarter(deps.client, deps.settings.taskQueue, deps.metrics);
  }

  private get client() {
    return this.deps.client;
  }

  private timeoutOf(plan: Plan): number {
    return plan.maximumPollingDuration ?? this.deps.settings.defaultTimeoutSeconds;
  }

  private planOf(record: { serviceId: string; planId: string }) {
    return this.deps.catalog.findPlan(record.serviceId, record.planId);
  }

  /** What an operation acts on, by the catalog's names (ids when the catalog no longer has them). */
  private subjectOf(record: { instanceId: string; serviceId: string; planId: string }, where: Pick<InstanceRecord, 'org' | 'space'>): OperationSubject {
    const found = this.planOf(record);
    const service = found?.service.name ?? this.deps.catalog.findService(record.serviceId)?.name ?? record.serviceId;
    return { instanceId: record.instanceId, service, plan: found?.plan.name ?? record.planId, org: where.org, space: where.space };
  }

  /** A binding's subject: its own plan, its instance's organization and space. */
  private async bindingSubject(binding: BindingRecord): Promise<OperationSubject> {
    const instance = await this.deps.records.getInstance(binding.instanceId);
    return this.subjectOf(binding, instance?.record ?? { org: '', space: '' });
  }

  // ---- instances --------------------------------------------------------------------------

  async provision(req: ProvisionRequest): Promise<ProvisionResult> {
    const requestDigest = instanceDigest({ serviceId: req.service.id, planId: req.plan.id, parameters: req.parameters });
    const stored = await this.deps.records.getInstance(req.instanceId);
    if (stored) {
      const { record } = stored;
      if (instanceDigest(record) !== requestDigest) throw conflict(`instance ${req.instanceId} exists with other attributes`);
      if (record.state === 'deprovisioning') throw concurrencyError(`instance ${req.instanceId}`);
      if (record.state !== 'provisioning') return { status: 'exists' };
      return this.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.provision, requestDigest, req.instanceId);
    }
    if (!req.acceptsIncomplete) throw asyncRequired();

    // Decided once, here, and recorded: later operations follow the record, not the rules.
    const cluster = routeCluster(this.deps.settings.clusters, req);
    await checkQuota(this.deps.settings.clusters, this.deps.records, req.org, cluster);
    const { namespace, ownsNamespace } = instanceNamespace(
      this.deps.settings.namespaceStrategy,
      this.deps.settings.instanceNamespace,
      req.instanceId,
      req.context,
    );
    const subject = { instanceId: req.instanceId, service: req.service.name, plan: req.plan.name, org: req.org, space: req.space };
    try {
      const { operation } = await this.operations.start('provision', subject, requestDigest, (operation) => ({
        instanceId: req.instanceId,
        operation,
        serviceId: req.service.id,
        planId: req.plan.id,
        parameters: req.parameters,
        context: req.context,
        org: req.org,
        space: req.space,
        namespace,
        ownsNamespace,
        cluster,
        ...(req.maintenanceInfo ? { maintenanceInfo: req.maintenanceInfo } : {}),
        timeoutSeconds: this.timeoutOf(req.plan),
      }));
      return { status: 'accepted', operation };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Another request for this instance got there first: the same one, or a conflict.
      return this.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.provision, requestDigest, req.instanceId);
    }
  }

  /** A request found a workflow running: identical → its operation; else conflict or concurrency. */
  private async runningOperation(workflowId: string, type: string, requestDigest: string, what: string): Promise<{ status: 'accepted'; operation: string }> {
    const run = await describeLatest(this.client, workflowId);
    if (!run || !isRunning(run)) throw unprocessable(`the state of ${what} changed during the request; send it again`);
    const memo = memoOf(run);
    if (run.type !== type) throw concurrencyError(what);
    if (memo.requestDigest !== requestDigest) throw conflict(`${what} is being created with other attributes`);
    return { status: 'accepted', operation: memo.operation ?? '' };
  }

  /** The instance's record; 422 while a provision has not written it yet, else 404. */
  private async existingInstance(instanceId: string) {
    const stored = await this.deps.records.getInstance(instanceId);
    if (stored) return stored;
    if (isRunning(await describeLatest(this.client, instanceWorkflowId(instanceId)))) throw concurrencyError(`instance ${instanceId}`);
    throw notFound(`instance ${instanceId} does not exist`);
  }

  async getInstance(instanceId: string): Promise<InstanceDetails> {
    const stored = await this.deps.records.getInstance(instanceId);
    if (!stored || stored.record.state === 'provisioning') throw notFound(`instance ${instanceId} does not exist or is still being provisioned`);
    const { record } = stored;
    if (record.state === 'updating' || record.state === 'deprovisioning') throw concurrencyError(`instance ${instanceId}`);
    return {
      service_id: record.serviceId,
      plan_id: record.planId,
      parameters: record.parameters,
      ...(record.maintenanceInfo ? { maintenance_info: record.maintenanceInfo } : {}),
      metadata: { labels: {}, attributes: { namespace: record.namespace, cluster: record.cluster ?? this.deps.settings.clusters.defaultCluster } },
    };
  }

  async update(req: UpdateRequest): Promise<UpdateResult> {
    const { record } = await this.existingInstance(req.instanceId);
    const { target, parameters } = checkUpdate(record, this.planOf(record)?.plan, req);
    const maintenanceChanged = req.maintenanceInfo !== undefined && req.maintenanceInfo.version !== record.maintenanceInfo?.version;
    const requestDigest = instanceDigest({ serviceId: record.serviceId, planId: target.id, parameters });
    if (requestDigest === instanceDigest(record) && !maintenanceChanged) {
      if (record.state === 'updating') return this.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.update, requestDigest, `instance ${req.instanceId}`);
      if (record.state !== 'ready') throw concurrencyError(`instance ${req.instanceId}`);
      return { status: 'unchanged' };
    }
    if (record.state !== 'ready') {
      return this.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.update, requestDigest, `instance ${req.instanceId}`);
    }
    if (!req.acceptsIncomplete) throw asyncRequired();

    const subject = { instanceId: req.instanceId, service: req.service.name, plan: target.name, org: record.org, space: record.space };
    try {
      const { operation } = await this.operations.start('update', subject, requestDigest, (operation) => ({
        instanceId: req.instanceId,
        operation,
        planId: target.id,
        parameters,
        context: req.context,
        ...(req.maintenanceInfo ? { maintenanceInfo: req.maintenanceInfo } : {}),
        timeoutSeconds: this.timeoutOf(target),
      }));
      return { status: 'accepted', operation };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return this.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.update, requestDigest, `instance ${req.instanceId}`);
    }
  }

  async deprovision(req: DeprovisionRequest): Promise<RemovalResult> {
    const workflowId = instanceWorkflowId(req.instanceId);
    const stored = await this.deps.records.getInstance(req.instanceId);
    const run = await describeLatest(this.client, workflowId);
    const running = isRunning(run) ? run : undefined;
    if (!stored && !running) throw req.serviceKnown ? gone() : unknownService(req.serviceId);
    if (!req.acceptsIncomplete) throw asyncRequired();

    if (running?.type === WORKFLOW_TYPES.deprovision) return { status: 'accepted', operation: memoOf(running).operation! };
    if (running?.type === WORKFLOW_TYPES.update) throw concurrencyError(`instance ${req.instanceId}`);
    const plan = stored ? this.planOf(stored.record)?.plan : undefined;
    const timeoutSeconds = plan ? this.timeoutOf(plan) : this.deps.settings.defaultTimeoutSeconds;

    if (running?.type === WORKFLOW_TYPES.provision) {
      const pending = memoOf(running).pendingOperation;
      if (pending) return { status: 'accepted', operation: pending };
      // OSB: a DELETE during provisioning halts the provision and deletes what it made.
      const operation = newOperationToken('deprovision');
      try {
        await this.client.workflow.getHandle(workflowId).signal(deprovisionRequested, { operation, timeoutSeconds });
        const attributes = running.typedSearchAttributes;
        this.operations.counted('deprovision', { service: attributes.get(KbService) ?? '', plan: attributes.get(KbPlan) ?? '' });
        return { status: 'accepted', operation };
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        // It finished meanwhile: deprovision it like any other instance.
      }
    }

    const record = stored?.record;
    if (!record?.namespace) throw gone(); // the provision failed and cleaned up after itself
    const { namespace, cluster } = record;
    try {
      const { operation } = await this.operations.start('deprovision', this.subjectOf(record, record), '', (operation) => ({
        instanceId: req.instanceId,
        operation,
        namespace,
        ...(cluster ? { cluster } : {}),
        timeoutSeconds,
      }));
      return { status: 'accepted', operation };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      throw concurrencyError(`instance ${req.instanceId}`);
    }
  }

  async lastOperation(instanceId: string, operation: string | undefined): Promise<LastOperation> {
    const run = await this.operationRun(instanceWorkflowId(instanceId), operation);
    if (!run) {
      // Temporal forgot the operation (history retention); the record still knows the outcome.
      const stored = await this.deps.records.getInstance(instanceId);
      if (!stored) throw notFound(`instance ${instanceId} does not exist`);
      return stored.record.state === 'ready' ? { state: 'succeeded' } : { state: 'in progress' };
    }
    return lastOperationOf(run, operation);
  }

  /**
   * The run that carries the operation, for last_operation. While the operation is young (it
   * started less than lastOperationWaitMs ago) and running, the answer waits until it finishes or
   * is that old: a platform that polls right after the 202 (as Cloud Foundry does) then reads
   * `succeeded` as soon as a fast operation is done, instead of one Retry-After later. Every poll
   * of one run waits until the same moment, so they share one long poll (bounded: never longer
   * than lastOperationWaitMs from now, whatever the clocks say).
   */
  private async operationRun(workflowId: string, operation: string | undefined) {
    const run = await findOperationRun(this.client, workflowId, operation, this.polls);
    const waitMs = this.deps.settings.lastOperationWaitMs;
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

  // ---- bindings ---------------------------------------------------------------------------

  async bind(req: BindRequest): Promise<BindResult> {
    const records = this.deps.records;
    let parameters = req.parameters;
    if (req.predecessorBindingId) {
      if (!req.plan.bindingRotatable) throw badRequest(`plan ${req.plan.name} does not support binding rotation (binding_rotatable is false)`);
      const predecessor = await records.getBinding(req.predecessorBindingId);
      if (!predecessor || predecessor.record.instanceId !== req.instanceId) {
        throw badRequest(`predecessor binding ${req.predecessorBindingId} is not a binding of instance ${req.instanceId}`);
      }
      parameters ??= predecessor.record.parameters;
    }
    parameters ??= {};
    const requestDigest = bindingDigest({ instanceId: req.instanceId, planId: req.plan.id, parameters, bindResource: req.bindResource });
    const existing = await records.getBinding(req.bindingId);
    if (existing) {
      if (bindingDigest(existing.record) !== requestDigest) throw conflict(`binding ${req.bindingId} exists with other attributes`);
      return { status: 'exists', ...bindingDetails(existing.record, existing.credentials) };
    }

    const instance = await this.existingInstance(req.instanceId);
    if (instance.record.serviceId !== req.service.id || instance.record.planId !== req.plan.id) {
      throw badRequest(`instance ${req.instanceId} is of service ${instance.record.serviceId} plan ${instance.record.planId}`);
    }
    if (instance.record.state !== 'ready') throw concurrencyError(`instance ${req.instanceId}`);

    const { org, space } = instance.record;
    const subject = { instanceId: req.instanceId, bindingId: req.bindingId, service: req.service.name, plan: req.plan.name, org, space };
    let handle: WorkflowHandle;
    let op: string;
    try {
      ({ operation: op, handle } = await this.operations.start('bind', subject, requestDigest, (operation) => ({
        bindingId: req.bindingId,
        instanceId: req.instanceId,
        operation,
        serviceId: req.service.id,
        planId: req.plan.id,
        parameters,
        ...(req.bindResource ? { bindResource: req.bindResource } : {}),
        context: req.context,
        hookTimeoutSeconds: req.plan.maximumPollingDuration ?? DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS,
      })));
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const workflowId = bindingWorkflowId(req.bindingId);
      op = (await this.runningOperation(workflowId, WORKFLOW_TYPES.bind, requestDigest, `binding ${req.bindingId}`)).operation;
      handle = this.client.workflow.getHandle(workflowId);
    }
    const finished = await this.waitBriefly(handle);
    if (!finished) {
      if (req.acceptsIncomplete) return { status: 'accepted', operation: op };
      throw asyncRequired();
    }
    const stored = await records.getBinding(req.bindingId);
    if (!stored) throw unprocessable(`binding ${req.bindingId} could not be created`);
    return { status: 'created', ...bindingDetails(stored.record, stored.credentials) };
  }

  /**
   * Waits for a short workflow; false when it takes longer than a synchronous answer may (the
   * long poll stops then too). Failure → 422.
   */
  private async waitBriefly(handle: WorkflowHandle): Promise<boolean> {
    try {
      await this.client.connection.withDeadline(Date.now() + this.deps.settings.syncBindTimeoutMs, () => handle.result());
      return true;
    } catch (err) {
      if (isGrpcDeadlineError(err)) return false;
      const failure = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw unprocessable(failure);
    }
  }

  async getBinding(instanceId: string, bindingId: string): Promise<BindingDetails> {
    const stored = await this.deps.records.getBinding(bindingId);
    if (!stored || stored.record.instanceId !== instanceId) throw notFound(`binding ${bindingId} of instance ${instanceId} does not exist`);
    return bindingDetails(stored.record, stored.credentials);
  }

  async unbind(req: UnbindRequest): Promise<RemovalResult> {
    const workflowId = bindingWorkflowId(req.bindingId);
    const stored = await this.deps.records.getBinding(req.bindingId);
    const run = await describeLatest(this.client, workflowId);
    if (isRunning(run)) {
      if (run!.type === WORKFLOW_TYPES.unbind) return { status: 'accepted', operation: memoOf(run!).operation! };
      throw concurrencyError(`binding ${req.bindingId}`);
    }
    if (!stored || stored.record.instanceId !== req.instanceId) throw gone();

    const { planId } = stored.record;
    const plan = this.planOf(stored.record)?.plan;
    const subject = { ...(await this.bindingSubject(stored.record)), bindingId: req.bindingId };
    let started: { operation: string; handle: WorkflowHandle };
    try {
      started = await this.operations.start('unbind', subject, '', (operation) => ({
        bindingId: req.bindingId,
        instanceId: req.instanceId,
        operation,
        planId,
        hookTimeoutSeconds: plan?.maximumPollingDuration ?? DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS,
      }));
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      throw concurrencyError(`binding ${req.bindingId}`);
    }
    if (await this.waitBriefly(started.handle)) return { status: 'done' };
    if (req.acceptsIncomplete) return { status: 'accepted', operation: started.operation };
    throw asyncRequired();
  }

  async bindingLastOperation(instanceId: string, bindingId: string, operation: string | undefined): Promise<LastOperation> {
    const run = await this.operationRun(bindingWorkflowId(bindingId), operation);
    if (!run) {
      const stored = await this.deps.records.getBinding(bindingId);
      if (!stored || stored.record.instanceId !== instanceId) throw notFound(`binding ${bindingId} does not exist`);
      return { state: 'succeeded' };
    }
    return lastOperationOf(run, operation);
  }

  ready(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    return probeReadiness(this.client, this.deps.records, this.deps.catalog);
  }
}

function bindingDetails(record: BindingRecord, credentials: Record<string, unknown>): BindingDetails {
  return {
    credentials,
    ...(record.endpoints?.length ? { endpoints: record.endpoints } : {}),
    parameters: record.parameters,
  };
}

