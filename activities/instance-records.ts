// Activities that write an instance's durable record. Each is idempotent: a retry after a
// worker crash finds the record in the state it left and does no harm.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { hookEventsOf } from '../catalog/hooks.js';
import { CURRENT_NAME_SCHEME } from '../catalog/naming.js';
import { generateRandoms } from '../catalog/randoms.js';
import type { HookEvent } from '../catalog/types.js';
import type { InstanceRecord, InstanceState, RecordReadAhead, RecordStore } from '../platform/kube/records.js';
import type { ProvisionInput, UpdateInput } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import { clusterClient, NON_RETRYABLE, step } from './failures.js';
import { instanceExtras } from './instance-extras.js';
import { justCreated } from './just-created.js';
import { kindsOfInstance } from '../platform/kube/owned-kinds.js';
import { findPlanNow } from './plans.js';
import { createVerifier } from './verify.js';

// Read-modify-write in RecordStore.updateInstance (one read, one write; only the write when the
// record was read ahead). Whether the record is missing is asked only when that fails, instead of
// with a read of its own before every update.
function updateRecord(records: RecordStore, instanceId: string, what: string, change: (r: InstanceRecord) => InstanceRecord, readAhead?: RecordReadAhead) {
  return step(what, async () => {
    try {
      return await records.updateInstance(instanceId, change, readAhead);
    } catch (err) {
      if (!(await records.getInstance(instanceId))) {
        throw ApplicationFailure.nonRetryable(`instance ${instanceId} has no record`, NON_RETRYABLE.missingInstance);
      }
      throw err;
    }
  });
}

export interface InstanceStateChange {
  instanceId: string;
  state: InstanceState;
  /** Where the deprovision that marks the instance deletes (absent in older histories and for provisions). */
  namespace?: string;
}

/**
 * Sets an instance's state, checked against its record (activities/verify.ts): the activity
 * setInstanceState, and the end of the wait that marks the instance ready, with the record read
 * while it waited (`readAhead`). Not an activity itself: a workflow cannot hand it a read.
 */
export function createInstanceStateWriter(deps: ActivityDeps) {
  const verify = createVerifier(deps);
  return (input: InstanceStateChange, readAhead?: RecordReadAhead): Promise<unknown> =>
    updateRecord(
      deps.records,
      input.instanceId,
      `mark the instance ${input.state}`,
      (r) => {
        // A provision marks only the instance it is making ready; a deprovision marks its instance in any state.
        verify.record(input, r, ['provision', 'deprovision'], { provision: ['provisioning', 'ready'] });
        return { ...r, state: input.state };
      },
      readAhead,
    );
}

/** `setState` is the worker's one state writer (createInstanceStateWriter), shared with the wait that marks ready. */
export function createInstanceRecordActivities(deps: ActivityDeps, setState: ReturnType<typeof createInstanceStateWriter>) {
  const { records, clusters, catalog, settings } = deps;
  const verify = createVerifier(deps);
  const update = (instanceId: string, what: string, change: (r: InstanceRecord) => InstanceRecord) => updateRecord(records, instanceId, what, change);

  /** An update's record writes: checked against the record before it is written (activities/verify.ts). */
  async function verifyUpdate(input: UpdateInput): Promise<void> {
    const stored = await step('read the instance record', () => records.getInstance(input.instanceId));
    if (stored) await verify.update(input, stored.record);
  }

  /**
   * The kinds the provision will apply, recorded with the instance so that its deprovision sweeps
   * only those (and what their controllers make). None for a plan with hooks (platform/kube/owned-kinds.ts)
   * or a plan not found (the apply fails anyway): its deprovision sweeps every kind.
   */
  async function plannedKinds(input: ProvisionInput) {
    const found = await findPlanNow(catalog, input.serviceId, input.planId);
    if (!found) return undefined;
    return kindsOfInstance(found.plan, [...instanceExtras(settings, input, found.plan), ...found.plan.templates.map((t) => t.body)]);
  }

  return {
    /** Records a new instance, with the random values its templates share for its whole life. */
    async createInstanceRecord(input: ProvisionInput): Promise<void> {
      await verify.provision(input);
      // A cluster this worker cannot reach fails the provision before anything is written.
      clusterClient(clusters, input.cluster, input.instanceId);
      const kinds = await plannedKinds(input);
      const now = new Date().toISOString();
      const record: InstanceRecord = {
        instanceId: input.instanceId,
        serviceId: input.serviceId,
        planId: input.planId,
        parameters: input.parameters,
        context: input.context,
        org: input.org,
        space: input.space,
        namespace: input.namespace,
        ownsNamespace: input.ownsNamespace,
        // Always explicit: the default cluster may be another one by the time it is read.
        cluster: input.cluster ?? clusters.defaultName,
        state: 'provisioning',
        operation: input.operation,
        // For its whole life: later renders (update, bind, hooks) must give the same names.
        nameScheme: CURRENT_NAME_SCHEME,
        ...(kinds ? { kinds } : {}),
        ...(input.maintenanceInfo ? { maintenanceInfo: input.maintenanceInfo } : {}),
        createdAt: now,
        updatedAt: now,
      };
      const stored = await step('record the instance', () => records.createInstance(record, generateRandoms()));
      // A record there already: only this provision's own is taken over.
      if (stored.record !== record) verify.existingRecord(input, stored.record);
      // The provision's next step renders the objects from this record: hand it over in-process.
      justCreated.put(Context.current().info.workflowExecution?.runId, stored);
    },

    async setInstanceState(input: InstanceStateChange): Promise<void> {
      await setState(input);
    },

    /** Marks the update in flight and remembers what to roll back to; returns that. */
    async beginUpdate(input: UpdateInput): Promise<{ planId: string; parameters: Record<string, unknown> }> {
      await verifyUpdate(input);
      const r = await update(input.instanceId, 'record the update', (r) => ({
        ...r,
        state: 'updating',
        operation: input.operation,
        // A retried activity must not overwrite the rollback target with the new plan.
        previous: r.previous ?? { planId: r.planId, parameters: r.parameters },
      }));
      return r.previous!;
    },

    /** The update succeeded: the record now describes the new plan and parameters. */
    async finishUpdate(input: UpdateInput): Promise<void> {
      await verifyUpdate(input);
      await update(input.instanceId, 'record the updated instance', ({ previous: _, ...r }) => ({
        ...r,
        planId: input.planId,
        parameters: input.parameters,
        context: { ...r.context, ...input.context },
        ...(input.maintenanceInfo ? { maintenanceInfo: input.maintenanceInfo } : {}),
        state: 'ready',
      }));
    },

    /** The update failed and was rolled back: the record keeps the previous plan. */
    async abandonUpdate(input: { instanceId: string }): Promise<void> {
      await update(input.instanceId, 'record the rolled back instance', ({ previous: _, ...r }) => {
        verify.record(input, r, ['update'], { update: ['updating', 'ready'] });
        return { ...r, state: 'ready' };
      });
    },

    async deleteInstanceRecord(input: { instanceId: string }): Promise<void> {
      await verify.deletingRecord(input.instanceId);
      await step('delete the instance record', () => records.deleteInstance(input.instanceId));
    },

    /**
     * Reads what the instance runs now (for workflows that need its plan, namespace or cluster,
     * and the kinds applied for it).
     * With `hooks`, also the lifecycle hook events its plan has; absent when the plan is not in
     * the catalog (the hook step then runs and says so).
     */
    async readInstance(input: {
      instanceId: string;
      hooks?: boolean;
    }): Promise<(Pick<InstanceRecord, 'planId' | 'namespace' | 'state' | 'cluster' | 'kinds'> & { hooks?: HookEvent[] }) | undefined> {
      const stored = await step('read the instance record', () => records.getInstance(input.instanceId));
      if (!stored) return undefined;
      const { serviceId, planId, namespace, state, cluster, kinds } = stored.record;
      const found = input.hooks ? await findPlanNow(catalog, serviceId, planId) : undefined;
      return {
        planId,
        namespace,
        state,
        ...(cluster ? { cluster } : {}),
        ...(kinds ? { kinds } : {}),
        ...(found ? { hooks: hookEventsOf(found.plan) } : {}),
      };
    },
  };
}
