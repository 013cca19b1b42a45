// Deletes in the wait: the patch under which a deprovision asks for its objects' deletion in the
// wait until they are gone, instead of in a step of its own before it, so that histories recorded
// before it replay (workflows/replay.test.ts) with the delete step they ran.
import { patched } from '@temporalio/workflow';

/**
 * Deprovisions that start with this marker skip the deleteInstanceObjects step: waitInstanceGone
 * deletes every kind it finds objects of (one list per kind, then a delete for the kinds that
 * have objects) and waits. Before, the delete step swept every kind the catalog knows (a
 * deletecollection each, most of them for kinds the instance never had) as a local activity that
 * held a workflow-task slot meanwhile; at 500 concurrent deprovisions those workflow tasks waited
 * tens of seconds for a slot. Remove the guard only when no deprovision started before it can
 * still run or be replayed.
 */
export const DELETES_IN_WAIT_PATCH = 'deletes-in-wait';

/** Whether this deprovision deletes in the wait (false when replaying an older history). Ask before the first step. */
export function deletesInWait(): boolean {
  return patched(DELETES_IN_WAIT_PATCH);
}
