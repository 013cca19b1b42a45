// The OSB binding endpoints. Bind and unbind start a short workflow and wait for it up to the
// synchronous limit (most platforms bind synchronously), answering 202 only when the platform
// accepts an incomplete operation; getBinding and bindingLastOperation only read.
import { WorkflowExecutionAlreadyStartedError, type WorkflowHandle } from '@temporalio/client';
import { ranOutOfTime } from '../platform/temporal/deadline.js';
import type { BindingRecord } from '../platform/kube/records.js';
import { bindingWorkflowId } from '../platform/temporal/ids.js';
import { DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS } from '../workflows/types.js';
import type { BrokerCore } from './broker-core.js';
import { digest } from './digest.js';
import { asyncRequired, badRequest, concurrencyError, conflict, gone, notFound, unprocessable } from './errors.js';
import { WORKFLOW_TYPES } from '../workflows/types.js';
import type { OperationSubject } from './operation-start.js';
import { checkBindMaintenance } from './request-checks.js';
import { describeLatest, isRunning, lastOperationOf, memoOf } from './operation-state.js';
import type { BindingDetails, BindRequest, BindResult, Broker, LastOperation, RemovalResult, UnbindRequest } from './service-broker.js';

type BindingEndpoints = Pick<Broker, 'bind' | 'getBinding' | 'unbind' | 'bindingLastOperation'>;

/** What makes two bind requests the same request. */
const bindingDigest = (r: { instanceId: string; planId: string; parameters: Record<string, unknown>; bindResource?: Record<string, unknown> | undefined }) =>
  digest({ instanceId: r.instanceId, planId: r.planId, parameters: r.parameters, bindResource: r.bindResource ?? {} });

export class BindingOperations implements BindingEndpoints {
  constructor(private readonly core: BrokerCore) {}

  async bind(req: BindRequest): Promise<BindResult> {
    const { core } = this;
    let parameters = req.parameters;
    if (req.predecessorBindingId) {
      if (!req.plan.bindingRotatable) throw badRequest(`plan ${req.plan.name} does not support binding rotation (binding_rotatable is false)`);
      const predecessor = await core.records.getBinding(req.predecessorBindingId);
      if (!predecessor || predecessor.record.instanceId !== req.instanceId) {
        throw badRequest(`predecessor binding ${req.predecessorBindingId} is not a binding of instance ${req.instanceId}`);
      }
      parameters ??= predecessor.record.parameters;
    }
    parameters ??= {};
    const requestDigest = bindingDigest({ instanceId: req.instanceId, planId: req.plan.id, parameters, bindResource: req.bindResource });
    const existing = await core.records.getBinding(req.bindingId);
    if (existing) {
      if (bindingDigest(existing.record) !== requestDigest) throw conflict(`binding ${req.bindingId} exists with other attributes`);
      return { status: 'exists', ...bindingDetails(existing.record, existing.credentials) };
    }

    const instance = await core.existingInstance(req.instanceId);
    if (instance.record.serviceId !== req.service.id || instance.record.planId !== req.plan.id) {
      throw badRequest(`instance ${req.instanceId} is of service ${instance.record.serviceId} plan ${instance.record.planId}`);
    }
    if (instance.record.state !== 'ready') throw concurrencyError(`instance ${req.instanceId}`);
    core.requireConfiguredCluster(instance.record, 'bind');
    checkBindMaintenance(instance.record, req.plan);

    const { org, space } = instance.record;
    const subject = { instanceId: req.instanceId, bindingId: req.bindingId, service: req.service.name, plan: req.plan.name, org, space };
    let handle: WorkflowHandle;
    let op: string;
    try {
      ({ operation: op, handle } = await core.operations.start('bind', subject, requestDigest, (operation) => ({
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
      op = (await core.runningOperation(workflowId, WORKFLOW_TYPES.bind, requestDigest, `binding ${req.bindingId}`)).operation;
      handle = core.client.workflow.getHandle(workflowId);
    }
    const finished = await this.waitBriefly(handle);
    if (!finished) {
      if (req.acceptsIncomplete) return { status: 'accepted', operation: op };
      throw asyncRequired();
    }
    const stored = await core.records.getBinding(req.bindingId);
    if (!stored) throw unprocessable(`binding ${req.bindingId} could not be created`);
    return { status: 'created', ...bindingDetails(stored.record, stored.credentials) };
  }

  async getBinding(instanceId: string, bindingId: string): Promise<BindingDetails> {
    const stored = await this.core.records.getBinding(bindingId);
    if (!stored || stored.record.instanceId !== instanceId) throw notFound(`binding ${bindingId} of instance ${instanceId} does not exist`);
    return bindingDetails(stored.record, stored.credentials);
  }

  async unbind(req: UnbindRequest): Promise<RemovalResult> {
    const { core } = this;
    const workflowId = bindingWorkflowId(req.bindingId);
    const stored = await core.records.getBinding(req.bindingId);
    const run = await describeLatest(core.client, workflowId);
    if (isRunning(run)) {
      if (run!.type === WORKFLOW_TYPES.unbind) return { status: 'accepted', operation: memoOf(run!).operation! };
      throw concurrencyError(`binding ${req.bindingId}`);
    }
    if (!stored || stored.record.instanceId !== req.instanceId) throw gone();

    const { planId } = stored.record;
    const plan = core.planOf(stored.record)?.plan;
    const subject = { ...(await this.subjectOf(stored.record)), bindingId: req.bindingId };
    let started: { operation: string; handle: WorkflowHandle };
    try {
      started = await core.operations.start('unbind', subject, '', (operation) => ({
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
    const run = await this.core.operationRun(bindingWorkflowId(bindingId), operation);
    if (!run) {
      // Temporal forgot the operation (history retention): a binding that exists was made.
      const stored = await this.core.records.getBinding(bindingId);
      if (!stored || stored.record.instanceId !== instanceId) throw notFound(`binding ${bindingId} does not exist`);
      return { state: 'succeeded' };
    }
    return lastOperationOf(run, operation);
  }

  /** A binding's subject: its own plan, its instance's organization and space. */
  private async subjectOf(binding: BindingRecord): Promise<OperationSubject> {
    const instance = await this.core.records.getInstance(binding.instanceId);
    return this.core.subjectOf(binding, instance?.record ?? { org: '', space: '' });
  }

  /**
   * Waits for a short workflow; false when it takes longer than a synchronous answer may (the
   * long poll stops then too). Failure → 422.
   */
  private async waitBriefly(handle: WorkflowHandle): Promise<boolean> {
    const deadline = Date.now() + this.core.settings.syncBindTimeoutMs;
    try {
      await this.core.client.connection.withDeadline(deadline, () => handle.result());
      return true;
    } catch (err) {
      if (ranOutOfTime(err, deadline)) return false;
      const failure = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw unprocessable(failure);
    }
  }
}

function bindingDetails(record: BindingRecord, credentials: Record<string, unknown>): BindingDetails {
  return {
    credentials,
    ...(record.endpoints?.length ? { endpoints: record.endpoints } : {}),
    parameters: record.parameters,
  };
}
