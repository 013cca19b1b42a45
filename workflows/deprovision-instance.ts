// Deprovision: run the plan's onDeleteInstance hook while the instance still runs, then delete
// every object labelled with the instance (also what its plan no longer has), wait until it is
// gone, then remove its bindings and its record. The record reads and writes and the deletes are
// local activities (run by the worker inside the workflow task); the wait until gone and the hook
// Jobs are regular (heartbeating) activities: a deprovision is 2 workflow tasks and 1 activity (3
// and 2 with a delete hook). Runs started before that replay legacyDeprovisionSteps
// (workflows/VERSIONS.md).
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import type { FoundKind } from '../platform/kube/owned-kinds.js';
import { cleanupLocalStep, waitStep, within } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import {
  deleteObjects,
  deleteTarget,
  DELETE_HOOK_STATES,
  DeleteHookFailed,
  markDeprovisioning,
  removeInstance,
  runDeleteHook,
  type Steps,
} from './instance-steps.js';
import { legacyDeprovisionSteps } from './legacy-steps.js';
import { operationFinished, run } from './observe.js';
import { marksWhileDeleting, runsLocalSteps } from './patches.js';
import type { DeprovisionInput } from './types.js';

export async function deprovisionInstance(input: DeprovisionInput): Promise<void> {
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  // The deletes end by the deadline too, also against an unreachable cluster.
  const localSteps = proxyLocalActivities<BrokerActivities>(within(cleanupLocalStep, input.timeoutSeconds));
  // The version question comes first, before any step: see workflows/patches.ts.
  const steps = runsLocalSteps() ? (i: DeprovisionInput, w: Steps) => deprovisionSteps(i, w, localSteps) : legacyDeprovisionSteps;
  try {
    await steps(input, wait);
  } catch (err) {
    operationFinished('deprovision', 'failed');
    if (err instanceof DeleteHookFailed) {
      throw operationFailed({
        description: `deprovisioning failed: ${err.message}. Nothing was deleted and the instance still works; fix the cause and delete it again.`,
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
 * Read the record; with a delete hook to run: mark, hook, delete; without: mark while deleting;
 * record gone: delete what is left. Then wait until gone and remove the bindings and the record.
 */
async function deprovisionSteps(input: DeprovisionInput, wait: Steps, localSteps: Steps): Promise<void> {
  const { instanceId } = input;
  const current = await run(localSteps.readInstance, 'read the instance record', { instanceId, hooks: true });
  const target = deleteTarget(input, current);
  let found: FoundKind[];
  if (!current) {
    found = await deleteObjects(localSteps, target);
  } else if (runsDeleteHook(current)) {
    await markDeprovisioning(localSteps, input);
    await runDeleteHook(wait, localSteps, current, input);
    found = await deleteObjects(localSteps, target);
  } else if (marksWhileDeleting()) {
    // The two steps need nothing of each other: one workflow task holds its slot for one step less.
    found = await both(markDeprovisioning(localSteps, input), deleteObjects(localSteps, target));
  } else {
    // Started before mark-while-deleting: one after the other.
    await markDeprovisioning(localSteps, input);
    found = await deleteObjects(localSteps, target);
  }
  await removeInstance(localSteps, wait, target, found, input.timeoutSeconds);
}

/**
 * Only for an instance that became ready (a provision that never finished ran no create hook to
 * undo, and a deprovision retried after its hook succeeded does not run it twice), and only when
 * its plan has a delete hook (unknown when the plan left the catalog: the hook step finds out).
 */
function runsDeleteHook(current: { state: string; hooks?: string[] }): boolean {
  return DELETE_HOOK_STATES.includes(current.state) && (current.hooks?.includes('onDeleteInstance') ?? true);
}

/** Waits for both steps, even when one fails (then throws its error); returns the second's result. */
async function both<T>(first: Promise<unknown>, second: Promise<T>): Promise<T> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return b.value;
}
