// Local steps in workflows: the patch under which provision and deprovision run their short
// Kubernetes and record steps as local activities, so that histories recorded before it replay
// (workflows/replay.test.ts) with the regular activities they scheduled.
import { patched } from '@temporalio/workflow';

/**
 * Provisions and deprovisions that start with this marker run their short steps (records,
 * apply, delete, state updates) as local activities: the worker runs them inside the workflow
 * task and Temporal persists one marker per step instead of an activity's scheduled, started
 * and completed events plus a workflow task after each, and they skip the hook activity when the
 * plan has no hook for the event. The waits (ready, gone) and the hook Jobs stay regular
 * activities: they run long and heartbeat. Older histories have no marker and replay the
 * regular activities as before. Remove the guard (deprecatePatch, then nothing) only when no
 * workflow started before it can still run or be replayed.
 */
export const LOCAL_STEPS_PATCH = 'local-steps';

/**
 * Whether this workflow runs its short steps as local activities (false when replaying an older
 * history). Ask once, before the workflow's first step: the marker then comes first in the history.
 */
export function runsLocalSteps(): boolean {
  return patched(LOCAL_STEPS_PATCH);
}
