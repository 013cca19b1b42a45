// The worker acts only on what it can verify (docs/security.md). Whoever reaches Temporal can
// start the broker's workflows with any input, so every activity that changes Kubernetes first
// checks what it is asked against what the broker itself recorded and configured: the workflow
// is the one the broker runs for this instance or binding (its id derived from the OSB id,
// platform/temporal/ids.ts; its type one that runs this step), the record exists and says the
// same (service, plan, namespace, cluster, state, operation token), the namespace is the one
// the namespace strategy gives, parameters pass the plan's schema again. A mismatch fails the
// step for good, before it writes anything, saying what did not match.
//
// Within one run the workflow code (ours) passes every step the same values from its input,
// and Temporal runs one workflow per id at a time: the first step that refuses a forged input
// stops the run, and the steps that still run after it (compensation) refuse it too.
import { isDeepStrictEqual } from 'node:util';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { instanceNamespace, NamespaceRefused } from '../platform/kube/namespaces.js';
import { WORKFLOW_TYPES } from '../workflows/types.js';
import { isBindingHookEvent } from '../catalog/hooks.js';
import { namespaceOwner, ownsNamespace } from '../platform/kube/namespace-ownership.js';
import { validateParameters, type ParameterAction } from '../catalog/parameters.js';
import type { Plan } from '../catalog/types.js';
import type { KubeApi } from '../platform/kube/api.js';
import type { BindingRecord, InstanceRecord, InstanceState } from '../platform/kube/records.js';
import { bindingWorkflowId, instanceWorkflowId, operationType, type OperationType } from '../platform/temporal/ids.js';
import type { BindInput, ProvisionInput, UpdateInput } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import { NON_RETRYABLE, step } from './failures.js';
import type { HookInput } from './lifecycle-hooks.js';
import { findPlanNow } from './plans.js';

/** What did not match, in words; empty: everything did. */
type Mismatches = string[];

/** Fails the step for good when anything did not match. */
function refuseIf(m: Mismatches): void {
  if (m.length === 0) return;
  throw ApplicationFailure.nonRetryable(`${m.join('; ')}; refused: this workflow was not started by the broker, or its record changed`, NON_RETRYABLE.refused);
}

/** The workflow this activity runs for, as Temporal (not the input) says. */
function runningWorkflow(): { id: string; type: string } {
  const { workflowExecution, workflowType } = Context.current().info;
  return { id: workflowExecution?.workflowId ?? '(none)', type: workflowType ?? '(none)' };
}

/** Which operation a workflow type runs; undefined for a type that is none of the broker's. */
function operationOf(workflowType: string): OperationType | undefined {
  return (Object.keys(WORKFLOW_TYPES) as OperationType[]).find((t) => WORKFLOW_TYPES[t] === workflowType);
}

/** The workflow must be the broker's for `subject` (id `expectedId`) and run one of `operations`. */
function checkWorkflow(m: Mismatches, expectedId: string, subject: string, operations: OperationType[]): OperationType | undefined {
  const run = runningWorkflow();
  if (run.id !== expectedId) m.push(`workflow id ${run.id} is not ${expectedId}, the id the broker runs ${subject}'s operations under`);
  const operation = operationOf(run.type);
  if (!operation || !operations.includes(operation)) {
    m.push(`a ${run.type} workflow does not run this step (${operations.map((o) => WORKFLOW_TYPES[o]).join(' and ')} do)`);
    return undefined;
  }
  return operation;
}

function checkToken(m: Mismatches, token: string, operation: OperationType): void {
  if (operationType(token) !== operation) m.push(`operation token ${JSON.stringify(token)} is not a ${operation} token`);
}

/** `input names X Y, but <subject>'s record says Z` when they differ. */
function checkField(m: Mismatches, subject: string, what: string, claimed: unknown, recorded: unknown): void {
  if (!isDeepStrictEqual(claimed, recorded)) m.push(`input names ${what} ${String(claimed)}, but ${subject}'s record says ${String(recorded)}`);
}

/** Parameters may hold secrets: say that they differ, not what they are. */
function checkParameters(m: Mismatches, subject: string, claimed: unknown, recorded: unknown): void {
  if (!isDeepStrictEqual(claimed, recorded)) m.push(`input's parameters are not those in ${subject}'s record`);
}

function checkState(m: Mismatches, subject: string, state: InstanceState, allowed: InstanceState[]): void {
  if (!allowed.includes(state)) m.push(`${subject} is ${state}, not ${allowed.join(' or ')}`);
}

function checkSchema(m: Mismatches, plan: Plan, action: ParameterAction, parameters: unknown): void {
  const result = validateParameters(plan, action, parameters);
  if (!result.ok) m.push(`parameters do not pass plan ${plan.name}'s ${action} schema (${result.errors.join('; ')})`);
}

/** The organization a request's context names (OSB: `organization_guid`); undefined when it names none. */
function orgClaimed(context: Record<string, unknown> | undefined): string | undefined {
  const org = context?.['organization_guid'];
  return typeof org === 'string' ? org : undefined;
}

export function createVerifier({ records, catalog, clusters, settings }: ActivityDeps) {
  const clusterOf = (cluster: string | undefined) => cluster ?? clusters.defaultName;

  /** The namespace (and whether the instance owns it) the strategy gives; undefined: the context names no valid one. */
  function strategyNamespace(m: Mismatches, instanceId: string, context: Record<string, unknown>) {
    try {
      return instanceNamespace(settings.namespaceStrategy, settings.instanceNamespace, instanceId, context);
    } catch (err) {
      if (!(err instanceof NamespaceRefused)) throw err;
      m.push(err.message);
      return undefined;
    }
  }

  /** The context strategy takes the namespace the platform names: any but the one holding the broker's records (unless the operator configured that one). */
  const recordsNamespaceNamed = (namespace: string) =>
    settings.namespaceStrategy === 'context' && namespace === records.namespace && namespace !== settings.instanceNamespace;

  /**
   * Without a record to compare with (a provision that failed before recording, a record gone):
   * only a namespace the strategy can give this instance. The context strategy names any
   * namespace but the broker's own.
   */
  function checkNamespaceWithoutRecord(m: Mismatches, instanceId: string, namespace: string): void {
    const expected =
      settings.namespaceStrategy === 'context'
        ? !recordsNamespaceNamed(namespace) && strategyNamespace(m, instanceId, { namespace }) !== undefined
        : strategyNamespace(m, instanceId, {})?.namespace === namespace;
    if (!expected)
      m.push(
        `namespace ${namespace} is not one the ${settings.namespaceStrategy} namespace strategy gives instance ${instanceId}, and the instance has no record`,
      );
  }

  /** The plan of the instance's service in the catalog; a mismatch when there is none. */
  async function checkPlan(m: Mismatches, serviceId: string, planId: string) {
    const found = await findPlanNow(catalog, serviceId, planId);
    if (!found) m.push(`plan ${planId} of service ${serviceId} is not in the broker's catalog`);
    return found;
  }

  /**
   * An update's target as the API would accept it: a plan of the instance's service, a plan
   * change the current plan allows, the parameters (merged) passing the target's create schema.
   */
  async function checkUpdateTarget(m: Mismatches, record: InstanceRecord, planId: string, parameters: unknown, maintenanceInfo?: { version: string }) {
    const subject = `instance ${record.instanceId}`;
    const target = await checkPlan(m, record.serviceId, planId);
    if (!target) return;
    if (planId !== record.planId && !(await findPlanNow(catalog, record.serviceId, record.planId))?.plan.planUpdateable) {
      m.push(`${subject}'s plan ${record.planId} cannot be changed to another plan`);
    }
    if (maintenanceInfo && maintenanceInfo.version !== target.plan.maintenanceInfo?.version) {
      m.push(`maintenance_info ${maintenanceInfo.version} is not plan ${target.plan.name}'s`);
    }
    checkSchema(m, target.plan, 'provision', parameters);
  }

  /** Where a step on an instance's objects acts: where its record says they are (or, without a record, the strategy's namespace). */
  function checkInstancePlace(
    m: Mismatches,
    record: InstanceRecord | undefined,
    input: { instanceId: string; namespace: string; cluster?: string | undefined },
  ) {
    const subject = `instance ${input.instanceId}`;
    if (record) {
      checkField(m, subject, 'namespace', input.namespace, record.namespace);
      checkField(m, subject, 'cluster', clusterOf(input.cluster), clusterOf(record.cluster));
    } else {
      checkNamespaceWithoutRecord(m, input.instanceId, input.namespace);
    }
  }

  const readInstance = (instanceId: string) => step('read the instance record', () => records.getInstance(instanceId));
  const readBinding = (bindingId: string) => step('read the binding record', () => records.getBinding(bindingId));

  return {
    /**
     * createInstanceRecord, before it writes: the provision is the broker's for this instance,
     * its service and plan are in the catalog, its parameters pass the plan's schema, its
     * namespace (and whether the instance owns it) is the strategy's, its cluster is known.
     */
    async provision(input: ProvisionInput): Promise<void> {
      const m: Mismatches = [];
      const subject = `instance ${input.instanceId}`;
      const operation = checkWorkflow(m, instanceWorkflowId(input.instanceId), subject, ['provision']);
      if (operation) checkToken(m, input.operation, operation);
      const found = await checkPlan(m, input.serviceId, input.planId);
      if (found) {
        checkSchema(m, found.plan, 'provision', input.parameters);
        if (input.maintenanceInfo && input.maintenanceInfo.version !== found.plan.maintenanceInfo?.version) {
          m.push(`maintenance_info ${input.maintenanceInfo.version} is not plan ${found.plan.name}'s`);
        }
      }
      const expected = strategyNamespace(m, input.instanceId, input.context ?? {});
      if (expected && (expected.namespace !== input.namespace || expected.ownsNamespace !== input.ownsNamespace)) {
        m.push(
          `input names namespace ${input.namespace}${input.ownsNamespace ? ' (owned by the instance)' : ''}, but the ${settings.namespaceStrategy} namespace strategy gives ${subject} ${expected.namespace}${expected.ownsNamespace ? ' (owned by the instance)' : ''}`,
        );
      }
      if (recordsNamespaceNamed(input.namespace)) m.push(`namespace ${input.namespace} holds the broker's records; no instance goes there`);
      refuseIf(m);
    },

    /**
     * createInstanceRecord found a record already: only this provision's own (a retried step,
     * or the provision retried by an operator) is taken over; never another instance's record.
     */
    existingRecord(input: ProvisionInput, record: InstanceRecord): void {
      const m: Mismatches = [];
      const subject = `instance ${input.instanceId}`;
      checkState(m, subject, record.state, ['provisioning']);
      checkField(m, subject, 'operation', input.operation, record.operation ?? input.operation);
      checkField(m, subject, 'service', input.serviceId, record.serviceId);
      checkField(m, subject, 'plan', input.planId, record.planId);
      checkField(m, subject, 'namespace', input.namespace, record.namespace);
      checkField(m, subject, 'cluster', clusterOf(input.cluster), clusterOf(record.cluster));
      checkParameters(m, subject, input.parameters, record.parameters);
      refuseIf(m);
    },

    /**
     * Applying the instance's objects: the provision applies what its record says, an update (whose
     * first step marked the record updating) its target or, rolling back, what the record says.
     */
    async apply(input: { instanceId: string; planId: string; parameters: Record<string, unknown> }, record: InstanceRecord): Promise<void> {
      const m: Mismatches = [];
      const subject = `instance ${input.instanceId}`;
      const operation = checkWorkflow(m, instanceWorkflowId(input.instanceId), subject, ['provision', 'update']);
      const asRecorded = input.planId === record.planId && isDeepStrictEqual(input.parameters, record.parameters);
      if (operation === 'provision') {
        checkState(m, subject, record.state, ['provisioning']);
        checkField(m, subject, 'plan', input.planId, record.planId);
        checkParameters(m, subject, input.parameters, record.parameters);
      } else if (operation === 'update') {
        checkState(m, subject, record.state, ['updating']);
        if (!asRecorded) await checkUpdateTarget(m, record, input.planId, input.parameters);
      }
      refuseIf(m);
    },

    /** A namespace the instance owns is one the broker made for it: absent yet, or labelled with it. */
    async ownedNamespace(kube: KubeApi, record: InstanceRecord): Promise<void> {
      if (!record.ownsNamespace) return;
      const existing = await step(`read namespace ${record.namespace}`, () => kube.get('v1', 'Namespace', undefined, record.namespace));
      const owner = existing && namespaceOwner(existing);
      if (existing && !ownsNamespace(existing, record.instanceId)) {
        refuseIf([
          `namespace ${record.namespace} exists and is ${owner ? `instance ${owner}'s` : 'not labelled as one the broker made'}, not one the broker made for instance ${record.instanceId}`,
        ]);
      }
    },

    /** Deleting, waiting for or pruning the instance's objects: where its record says they are. */
    async objects(input: { instanceId: string; namespace: string; cluster?: string | undefined }, operations: OperationType[]): Promise<void> {
      const m: Mismatches = [];
      const subject = `instance ${input.instanceId}`;
      const operation = checkWorkflow(m, instanceWorkflowId(input.instanceId), subject, operations);
      const stored = await readInstance(input.instanceId);
      checkInstancePlace(m, stored?.record, input);
      // A provision deletes only what it made: never an instance that became ready.
      if (operation === 'provision' && stored) checkState(m, subject, stored.record.state, ['provisioning']);
      if (operation === 'update' && stored) checkState(m, subject, stored.record.state, ['updating']);
      refuseIf(m);
    },

    /** A write of the instance's record (its state, an update abandoned): its own workflow, in a state that allows it. */
    record(
      input: { instanceId: string; namespace?: string | undefined },
      record: InstanceRecord | undefined,
      operations: OperationType[],
      states?: Partial<Record<OperationType, InstanceState[]>>,
    ): void {
      const m: Mismatches = [];
      const subject = `instance ${input.instanceId}`;
      const operation = checkWorkflow(m, instanceWorkflowId(input.instanceId), subject, operations);
      const allowed = operation && states?.[operation];
      if (record && allowed) checkState(m, subject, record.state, allowed);
      if (record && input.namespace !== undefined) checkField(m, subject, 'namespace', input.namespace, record.namespace);
      refuseIf(m);
    },

    /**
     * An update's record writes (begin, finish): a target the API would accept, and for an
     * update already under way, this update's (the one its record names).
     */
    async update(input: UpdateInput, record: InstanceRecord): Promise<void> {
      const m: Mismatches = [];
      const subject = `instance ${input.instanceId}`;
      const operation = checkWorkflow(m, instanceWorkflowId(input.instanceId), subject, ['update']);
      if (operation) checkToken(m, input.operation, operation);
      checkState(m, subject, record.state, ['ready', 'updating']);
      if (record.state === 'updating') checkField(m, subject, 'operation', input.operation, record.operation ?? input.operation);
      await checkUpdateTarget(m, record, input.planId, input.parameters, input.maintenanceInfo);
      refuseIf(m);
    },

    /**
     * A bind (hook or record): the binding's workflow, a ready instance of this service and plan,
     * of the organization the request names, and the binding, if recorded, of this instance.
     */
    async bind(
      input: Pick<BindInput, 'bindingId' | 'instanceId'> & Partial<Pick<BindInput, 'operation' | 'serviceId' | 'planId' | 'parameters' | 'context'>>,
      record: InstanceRecord | undefined,
    ): Promise<BindingRecord | undefined> {
      const m: Mismatches = [];
      const subject = `instance ${input.instanceId}`;
      const operation = checkWorkflow(m, bindingWorkflowId(input.bindingId), `binding ${input.bindingId}`, ['bind']);
      if (operation && input.operation !== undefined) checkToken(m, input.operation, operation);
      if (!record) m.push(`${subject} has no record`);
      else {
        checkState(m, subject, record.state, ['ready', 'updating']);
        if (input.serviceId !== undefined) checkField(m, subject, 'service', input.serviceId, record.serviceId);
        if (input.planId !== undefined) checkField(m, subject, 'plan', input.planId, record.planId);
        const org = orgClaimed(input.context);
        if (org !== undefined) checkField(m, subject, 'organization', org, record.org);
        if (input.parameters !== undefined) {
          const found = await checkPlan(m, record.serviceId, record.planId);
          if (found && !found.plan.bindable) m.push(`plan ${found.plan.name} is not bindable`);
          if (found) checkSchema(m, found.plan, 'bind', input.parameters);
        }
      }
      const binding = await readBinding(input.bindingId);
      if (binding) checkField(m, `binding ${input.bindingId}`, 'instance', input.instanceId, binding.record.instanceId);
      refuseIf(m);
      return binding?.record;
    },

    /**
     * A step of an unbind (or of a failed bind's compensation) on a binding's hook leftovers: the
     * binding's workflow, and the binding is this instance's (an unbind's binding must be
     * recorded; a failed bind recorded none, and its compensation checks the bind's organization).
     */
    async unbind(input: { bindingId: string; instanceId: string; planId?: string | undefined; context?: Record<string, unknown> | undefined }): Promise<void> {
      const m: Mismatches = [];
      const binding = `binding ${input.bindingId}`;
      const operation = checkWorkflow(m, bindingWorkflowId(input.bindingId), binding, ['bind', 'unbind']);
      const stored = await readBinding(input.bindingId);
      if (stored) {
        checkField(m, binding, 'instance', input.instanceId, stored.record.instanceId);
        if (input.planId !== undefined) checkField(m, binding, 'plan', input.planId, stored.record.planId);
      } else if (operation === 'unbind') {
        m.push(`${binding} has no record`);
      }
      const org = orgClaimed(input.context);
      if (operation === 'bind' && org !== undefined) {
        const instance = await readInstance(input.instanceId);
        if (instance) checkField(m, `instance ${input.instanceId}`, 'organization', org, instance.record.org);
      }
      refuseIf(m);
    },

    /** A hook's Jobs run for the operation of their event: the instance's or the binding's workflow, in the state that event runs in. */
    async hook(input: HookInput, record: InstanceRecord | undefined): Promise<void> {
      const subject = `instance ${input.instanceId}`;
      if (isBindingHookEvent(input.event)) {
        if (input.bindingId === undefined) return refuseIf([`a ${input.event} hook names no binding`]);
        if (input.event === 'onBindInstance') return this.bind({ ...input, bindingId: input.bindingId }, record).then(() => undefined);
        return this.unbind({ ...input, bindingId: input.bindingId });
      }
      const m: Mismatches = [];
      const operation: OperationType = input.event === 'onCreateInstance' ? 'provision' : 'deprovision';
      checkWorkflow(m, instanceWorkflowId(input.instanceId), subject, [operation]);
      if (record) {
        checkState(m, subject, record.state, [operation === 'provision' ? 'provisioning' : 'deprovisioning']);
        if (input.planId !== undefined) checkField(m, subject, 'plan', input.planId, record.planId);
      }
      refuseIf(m);
    },

    /** A step whose input names only the instance or binding: the workflow must be the broker's for it, of one of these operations. */
    workflow(of: { instanceId: string } | { bindingId: string }, operations: OperationType[]): void {
      const m: Mismatches = [];
      if ('bindingId' in of) checkWorkflow(m, bindingWorkflowId(of.bindingId), `binding ${of.bindingId}`, operations);
      else checkWorkflow(m, instanceWorkflowId(of.instanceId), `instance ${of.instanceId}`, operations);
      refuseIf(m);
    },

    /** Deleting the instance's record: a deprovision's, or a provision's compensation of the record it made (never a ready instance's). */
    async deletingRecord(instanceId: string): Promise<void> {
      const m: Mismatches = [];
      const subject = `instance ${instanceId}`;
      const operation = checkWorkflow(m, instanceWorkflowId(instanceId), subject, ['provision', 'deprovision']);
      if (operation === 'provision') {
        const stored = await readInstance(instanceId);
        if (stored) checkState(m, subject, stored.record.state, ['provisioning']);
      }
      refuseIf(m);
    },
  };
}
