// The steps provision and deprovision run, shared by their current paths and by the paths that
// older histories replay (workflows/legacy-steps.ts): each one activity call with the summary the
// Temporal UI shows. The caller passes the activity proxy: local activities on the current paths,
// regular ones on the legacy paths.
import { CancellationScope, type proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import type { FoundKind } from '../platform/kube/owned-kinds.js';
import { rootMessage } from './failure.js';
import { run } from './observe.js';
import type { DeprovisionInput, ObjectRef, ProvisionInput } from './types.js';

/** An activity proxy, regular or local (they have the same interface). */
export type Steps = ReturnType<typeof proxyActivities<BrokerActivities>>;

/** What the deprovision's record read returns (undefined: the record is gone). */
export type InstanceRead = Awaited<ReturnType<BrokerActivities['readInstance']>>;

/** Instance states in which deprovisioning runs the delete hook: only an instance that became ready has something to undo. */
export const DELETE_HOOK_STATES: readonly string[] = ['ready', 'updating'];

export function recordInstance(steps: Steps, input: ProvisionInput): Promise<void> {
  return run(steps.createInstanceRecord, `record instance ${input.instanceId} in namespace ${input.namespace}`, input);
}

/** What the apply steps take: the plan and parameters the objects are rendered from. */
export function applyTarget({ instanceId, planId, parameters }: ProvisionInput) {
  return { instanceId, planId, parameters };
}

/** `markReady`: the wait marks the instance ready once its workloads are (a provision without a create hook). */
export function waitReady(wait: Steps, input: ProvisionInput, objects: ObjectRef[], deadline: number, options: { markReady?: true } = {}): Promise<void> {
  const { instanceId, namespace, cluster } = input;
  const what = `wait until the workloads are ready (deadline ${input.timeoutSeconds}s)${options.markReady ? ', then mark the instance ready' : ''}`;
  return run(wait.waitInstanceReady, what, { instanceId, namespace, cluster, objects, deadline, ...options });
}

/**
 * How long a provision waits for its workloads inside the workflow task that applied them
 * (patch `brief-wait-first`): long enough for workloads a cluster starts at once, no longer than
 * the heartbeating wait takes to see a DELETE (activities/watch-until.ts HEARTBEAT_MS), since a
 * signal reaches the workflow only after that task.
 */
export const BRIEF_WAIT_MS = 2_000;

/** The wait for at most BRIEF_WAIT_MS, as a local step; true: the workloads are ready and the instance marked ready. */
export function waitReadyBriefly(localSteps: Steps, input: ProvisionInput, objects: ObjectRef[], deadline: number): Promise<boolean> {
  const { instanceId, namespace, cluster } = input;
  const what = `wait up to ${BRIEF_WAIT_MS / 1000}s until the workloads are ready, then mark the instance ready`;
  return run(localSteps.waitInstanceReadyBriefly, what, { instanceId, namespace, cluster, objects, deadline, markReady: true, withinMs: BRIEF_WAIT_MS });
}

/** The hook works with the running instance; its failure is compensated like any other. */
export async function runCreateHook(wait: Steps, input: ProvisionInput, deadline: number): Promise<void> {
  await run(wait.runHookJobs, 'run the onCreateInstance hook Jobs, if the plan has any', {
    instanceId: input.instanceId,
    planId: input.planId,
    event: 'onCreateInstance',
    deadline,
  });
}

export function markReady(steps: Steps, instanceId: string): Promise<void> {
  return run(steps.setInstanceState, 'mark the instance ready', { instanceId, state: 'ready' });
}

/** Where a deprovision deletes: the recorded cluster (the input's when the record is gone; neither: the default cluster). */
export function deleteTarget(input: DeprovisionInput, current: InstanceRead) {
  const cluster = current?.cluster ?? input.cluster;
  // The kinds the record lists (absent in older records and when it is gone: every kind).
  const kinds = current?.kinds;
  return { instanceId: input.instanceId, namespace: input.namespace, cluster, ...(kinds ? { kinds } : {}) };
}
type DeleteTarget = ReturnType<typeof deleteTarget>;

/** The namespace goes along to be checked against the record (activities/verify.ts): an activity input only, replays are unchanged. */
export function markDeprovisioning(steps: Steps, { instanceId, namespace }: DeprovisionInput): Promise<void> {
  return run(steps.setInstanceState, 'mark the instance deprovisioning', { instanceId, state: 'deprovisioning', namespace });
}

/** What the deletes find tells the wait which kinds to watch. */
export function deleteObjects(steps: Steps, target: DeleteTarget): Promise<FoundKind[]> {
  return run(steps.deleteInstanceObjects, `delete every object labelled with instance ${target.instanceId}`, target);
}

/** The delete hook failed before anything was deleted: the instance still works. */
export class DeleteHookFailed extends Error {}

/**
 * Runs the plan's onDeleteInstance hook Jobs on the live instance. When they fail, marks the record
 * with its state from before (a retried DELETE then runs the hook again) and throws DeleteHookFailed.
 */
export async function runDeleteHook(wait: Steps, steps: Steps, current: NonNullable<InstanceRead>, input: DeprovisionInput): Promise<void> {
  const { instanceId } = input;
  try {
    await run(wait.runHookJobs, 'run the onDeleteInstance hook Jobs, if the plan has any', {
      instanceId,
      planId: current.planId,
      event: 'onDeleteInstance',
      deadline: Date.now() + input.timeoutSeconds * 1000,
    });
  } catch (err) {
    await CancellationScope.nonCancellable(() =>
      run(steps.setInstanceState, `the hook failed: mark the instance ${current.state} again`, {
        instanceId,
        state: current.state,
        namespace: input.namespace,
      }),
    ).catch(() => undefined);
    throw new DeleteHookFailed(rootMessage(err));
  }
}

/** After the deletes: wait until the objects are gone, then delete the bindings left and the record. */
export async function removeInstance(steps: Steps, wait: Steps, target: DeleteTarget, found: FoundKind[], timeoutSeconds: number): Promise<void> {
  const { instanceId, namespace, cluster } = target;
  await run(wait.waitInstanceGone, 'wait until they are gone', { instanceId, namespace, cluster, found, deadline: Date.now() + timeoutSeconds * 1000 });
  await run(steps.deleteInstanceBindings, 'delete the bindings left', { instanceId });
  await run(steps.deleteInstanceRecord, 'delete the instance record', { instanceId });
}
