// Deprovision: run the plan's onDeleteInstance hook while the instance still runs, then delete
// every object labelled with the instance (also what its plan no longer has), wait until it is
// gone, then remove its bindings and its record.
// Under the local-steps patch (workflows/local-steps.ts) the record reads and writes and the
// deletes are local activities (run by the worker inside the workflow task), the hook step runs
// only when the plan has a delete hook, and the wait until gone and the hook Jobs stay regular
// (heartbeating) activities: a deprovision is 2 workflow tasks and 1 activity instead of 8 and 7
// (3 and 2 with a delete hook). Older histories replay the regular steps. Under the
// mark-while-deleting patch (below), without a delete hook the record is marked while the
// objects are deleted.
import { CancellationScope, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { FoundKind } from '../platform/kube/owned-kinds.js';
import type { BrokerActivities } from '../activities/index.js';
import { cleanupLocalStep, cleanupStep, waitStep } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import { DELETE_HOOK_STATES, runsLifecycleHooks } from './lifecycle-hooks.js';
import { runsLocalSteps } from './local-steps.js';
import { operationFinished, run } from './observe.js';
import type { DeprovisionInput } from './types.js';

const regularSteps = proxyActivities<BrokerActivities>(cleanupStep);
const localSteps = proxyLocalActivities<BrokerActivities>(cleanupLocalStep);

export async function deprovisionInstance(input: DeprovisionInput): Promise<void> {
  const { instanceId, namespace } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  const local = runsLocalSteps();
  // The same steps either way; only how they run differs (and what the record read says of hooks).
  const steps = local ? localSteps : regularSteps;
  let hookFailed = false;
  try {
    const current = await run(steps.readInstance, 'read the instance record', local ? { instanceId, hooks: true } : { instanceId });
    // The recorded cluster (the input's when the record is gone; neither: the default cluster).
    const cluster = current?.cluster ?? input.cluster;
    // The kinds the record lists (absent in older records and when it is gone: every kind).
    const kinds = current?.kinds;
    const markDeprovisioning = () => run(steps.setInstanceState, 'mark the instance deprovisioning', { instanceId, state: 'deprovisioning' });
    // What the deletes find tells the wait which kinds to watch (absent in older histories: all).
    const deleteObjects = () =>
      run(steps.deleteInstanceObjects, `delete every object labelled with instance ${instanceId}`, {
        instanceId,
        namespace,
        cluster,
        ...(kinds ? { kinds } : {}),
      });
    // Only for an instance that became ready: a provision that never finished ran no create
    // hook to undo, and a deprovision retried after its hook succeeded does not run it twice.
    // Local steps: only when the plan has a delete hook (unknown when its plan left the catalog: ask the hook step).
    // (Without: asked last, as before the patch, so that older histories replay the same markers.)
    const runsHook = () => (local ? (current?.hooks?.includes('onDeleteInstance') ?? true) : runsLifecycleHooks());
    let found: FoundKind[];
    if (local && current && !(DELETE_HOOK_STATES.includes(current.state) && runsHook()) && marksWhileDeleting()) {
      // No hook has to run on the live instance first: the record is marked while the deletes run.
      found = await both(markDeprovisioning(), deleteObjects());
    } else {
      if (current) await markDeprovisioning();
      if (current && DELETE_HOOK_STATES.includes(current.state) && runsHook()) {
        try {
          await run(wait.runHookJobs, 'run the onDeleteInstance hook Jobs, if the plan has any', {
            instanceId,
            planId: current.planId,
            event: 'onDeleteInstance',
            deadline: Date.now() + input.timeoutSeconds * 1000,
          });
        } catch (err) {
          hookFailed = true;
          // Nothing was deleted: the instance is what it was, and a retried DELETE runs the hook again.
          await CancellationScope.nonCancellable(() =>
            run(steps.setInstanceState, `the hook failed: mark the instance ${current.state} again`, { instanceId, state: current.state }),
          ).catch(() => undefined);
          throw err;
        }
      }
      found = await deleteObjects();
    }
    await run(wait.waitInstanceGone, 'wait until they are gone', { instanceId, namespace, cluster, found, deadline: Date.now() + input.timeoutSeconds * 1000 });
    await run(steps.deleteInstanceBindings, 'delete the bindings left', { instanceId });
    await run(steps.deleteInstanceRecord, 'delete the instance record', { instanceId });
  } catch (err) {
    operationFinished('deprovision', 'failed');
    if (hookFailed) {
      throw operationFailed({
        description: `deprovisioning failed: ${rootMessage(err)}. Nothing was deleted and the instance still works; fix the cause and delete it again.`,
        instanceUsable: true,
      });
    }
    throw operationFailed({
      description: `deprovisioning failed: ${rootMessage(err)}. The instance is partly deleted; fix the cause and delete it again.`,
      // Its workloads may be gone already: do not let the platform bind to it.
      instanceUsable: false,
    });
  }
  operationFinished('deprovision', 'succeeded');
}

/**
 * Deprovisions that record this marker mark the record `deprovisioning` and delete the objects at
 * the same time when no delete hook runs first (the two steps need nothing of each other: one
 * workflow task holds its slot for one step less). Older histories replay the two one after the
 * other. Remove the guard (deprecatePatch, then nothing) only when no workflow started before it
 * can still run or be replayed.
 */
export const MARK_WHILE_DELETING_PATCH = 'mark-while-deleting';

const marksWhileDeleting = () => patched(MARK_WHILE_DELETING_PATCH);

/** Waits for both steps, even when one fails (then throws its error); returns the second's result. */
async function both<T>(first: Promise<unknown>, second: Promise<T>): Promise<T> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return b.value;
}
