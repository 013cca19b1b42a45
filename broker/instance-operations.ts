// The OSB instance endpoints. Provision, update and deprovision decide from the instance's record
// and its workflow what a request means (new, identical retry, conflict, concurrent), then start
// the operation or signal the running one; getInstance and lastOperation only read.
import { isDeepStrictEqual } from 'node:util';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import type {
  Broker,
  DeprovisionRequest,
  InstanceDetails,
  LastOperation,
  ProvisionRequest,
  ProvisionResult,
  RemovalResult,
  UpdateRequest,
  UpdateResult,
} from './service-broker.js';
import { asyncRequired, concurrencyError, conflict, gone, notFound } from './errors.js';
import type { Plan } from '../catalog/types.js';
import { unknownService } from './catalog-lookup.js';
import { routeCluster } from '../platform/config/clusters.js';
import { instanceWorkflowId } from '../platform/temporal/ids.js';
import { KbPlan, KbService } from '../platform/temporal/search-attributes.js';
import { deprovisionRequested } from '../workflows/definitions.js';
import type { BrokerCore } from './broker-core.js';
import { instanceDigest } from './digest.js';
import { instanceNamespace } from './namespaces.js';
import { WORKFLOW_TYPES } from '../workflows/types.js';
import { newOperationToken } from './operation-start.js';
import { describeLatest, isRunning, lastOperationOf, memoOf } from './operation-state.js';
import { checkQuota } from './quota.js';
import { checkUpdate } from './request-checks.js';

type InstanceEndpoints = Pick<Broker, 'provision' | 'getInstance' | 'update' | 'deprovision' | 'lastOperation'>;

/**
 * The maintenance_info an operation records: its plan's, whether or not the request named it,
 * since every provision and update renders the plan's current templates (OSB: GET reports "the
 * maintenance information that was used when the Service Instance was provisioned or when it was
 * last updated"). The request's own, when it names one, was checked to be the same.
 */
const versionOf = (plan: Plan): { maintenanceInfo?: { version: string } } =>
  plan.maintenanceInfo ? { maintenanceInfo: { version: plan.maintenanceInfo.version } } : {};

export class InstanceOperations implements InstanceEndpoints {
  constructor(private readonly core: BrokerCore) {}

  async provision(req: ProvisionRequest): Promise<ProvisionResult> {
    const { core } = this;
    const requestDigest = instanceDigest({ serviceId: req.service.id, planId: req.plan.id, parameters: req.parameters });
    // Decided once, here, and recorded: later operations follow the record, not the rules.
    const cluster = routeCluster(core.settings.clusters, req);
    // The quota's count is read while the record is: one round trip before the start, not two.
    // Its answer counts only for a new instance (a repeated PUT of an existing one is never refused).
    const quota = checkQuota(core.settings.clusters, core.records, req.org, cluster).then(
      () => undefined,
      (err: unknown) => ({ err }),
    );
    const stored = await core.records.getInstance(req.instanceId);
    if (stored) {
      const { record } = stored;
      if (instanceDigest(record) !== requestDigest) throw conflict(`instance ${req.instanceId} exists with other attributes`);
      if (record.state === 'deprovisioning') throw concurrencyError(`instance ${req.instanceId}`);
      if (record.state !== 'provisioning') return { status: 'exists' };
      return core.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.provision, requestDigest, req.instanceId);
    }
    if (!req.acceptsIncomplete) throw asyncRequired();
    const refused = await quota;
    if (refused) throw refused.err;
    const { namespace, ownsNamespace } = instanceNamespace(core.settings.namespaceStrategy, core.settings.instanceNamespace, req.instanceId, req.context);
    const subject = { instanceId: req.instanceId, service: req.service.name, plan: req.plan.name, org: req.org, space: req.space };
    try {
      const { operation } = await core.operations.start('provision', subject, requestDigest, (operation) => ({
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
        ...versionOf(req.plan),
        timeoutSeconds: core.timeoutOf(req.plan),
      }));
      return { status: 'accepted', operation };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Another request for this instance got there first: the same one, or a conflict.
      return core.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.provision, requestDigest, req.instanceId);
    }
  }

  async getInstance(instanceId: string): Promise<InstanceDetails> {
    const stored = await this.core.records.getInstance(instanceId);
    if (!stored || stored.record.state === 'provisioning') throw notFound(`instance ${instanceId} does not exist or is still being provisioned`);
    const { record } = stored;
    if (record.state === 'updating' || record.state === 'deprovisioning') throw concurrencyError(`instance ${instanceId}`);
    return {
      service_id: record.serviceId,
      plan_id: record.planId,
      parameters: record.parameters,
      ...(record.maintenanceInfo ? { maintenance_info: record.maintenanceInfo } : {}),
      // Not an OSB 2.17 field of the answer (the spec lets a sender add fields): what the last provision or update said.
      context: record.context,
      metadata: { labels: {}, attributes: { namespace: record.namespace, cluster: record.cluster ?? this.core.settings.clusters.defaultCluster } },
    };
  }

  async update(req: UpdateRequest): Promise<UpdateResult> {
    const { core } = this;
    const { record } = await core.existingInstance(req.instanceId);
    const { target, parameters } = checkUpdate(record, core.planOf(record)?.plan, req);
    const maintenanceChanged = req.maintenanceInfo !== undefined && req.maintenanceInfo.version !== record.maintenanceInfo?.version;
    // A new context (a platform renaming the instance, say) is a change too: the update records it.
    const contextChanged = !isDeepStrictEqual({ ...record.context, ...req.context }, record.context);
    const requestDigest = instanceDigest({ serviceId: record.serviceId, planId: target.id, parameters });
    // The running update, if this request is the one it carries; else conflict or concurrency.
    const joinRunning = () => core.runningOperation(instanceWorkflowId(req.instanceId), WORKFLOW_TYPES.update, requestDigest, `instance ${req.instanceId}`);
    if (requestDigest === instanceDigest(record) && !maintenanceChanged && !contextChanged) {
      if (record.state === 'updating') return joinRunning();
      if (record.state !== 'ready') throw concurrencyError(`instance ${req.instanceId}`);
      return { status: 'unchanged' };
    }
    if (record.state !== 'ready') return joinRunning();
    if (!req.acceptsIncomplete) throw asyncRequired();
    core.requireConfiguredCluster(record, 'update');

    const subject = { instanceId: req.instanceId, service: req.service.name, plan: target.name, org: record.org, space: record.space };
    try {
      const { operation } = await core.operations.start('update', subject, requestDigest, (operation) => ({
        instanceId: req.instanceId,
        operation,
        planId: target.id,
        parameters,
        context: req.context,
        ...versionOf(target),
        timeoutSeconds: core.timeoutOf(target),
      }));
      return { status: 'accepted', operation };
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      return joinRunning();
    }
  }

  async deprovision(req: DeprovisionRequest): Promise<RemovalResult> {
    const { core } = this;
    const workflowId = instanceWorkflowId(req.instanceId);
    const stored = await core.records.getInstance(req.instanceId);
    const run = await describeLatest(core.client, workflowId);
    const running = isRunning(run) ? run : undefined;
    if (!stored && !running) throw req.serviceKnown ? gone() : unknownService(req.serviceId);
    if (!req.acceptsIncomplete) throw asyncRequired();

    if (running?.type === WORKFLOW_TYPES.deprovision) return { status: 'accepted', operation: memoOf(running).operation! };
    if (running?.type === WORKFLOW_TYPES.update) throw concurrencyError(`instance ${req.instanceId}`);
    const plan = stored ? core.planOf(stored.record)?.plan : undefined;
    const timeoutSeconds = plan ? core.timeoutOf(plan) : core.settings.defaultTimeoutSeconds;

    if (running?.type === WORKFLOW_TYPES.provision) {
      const pending = memoOf(running).pendingOperation;
      if (pending) return { status: 'accepted', operation: pending };
      // OSB: a DELETE during provisioning halts the provision and deletes what it made.
      const operation = newOperationToken('deprovision');
      try {
        await core.client.workflow.getHandle(workflowId).signal(deprovisionRequested, { operation, timeoutSeconds });
        const attributes = running.typedSearchAttributes;
        core.operations.counted('deprovision', { service: attributes.get(KbService) ?? '', plan: attributes.get(KbPlan) ?? '' });
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
      const { operation } = await core.operations.start('deprovision', core.subjectOf(record, record), '', (operation) => ({
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
    const run = await this.core.operationRun(instanceWorkflowId(instanceId), operation);
    if (!run) {
      // Temporal forgot the operation (history retention); the record still knows the outcome.
      const stored = await this.core.records.getInstance(instanceId);
      if (!stored) throw notFound(`instance ${instanceId} does not exist`);
      return stored.record.state === 'ready' ? { state: 'succeeded' } : { state: 'in progress' };
    }
    return lastOperationOf(run, operation);
  }
}
