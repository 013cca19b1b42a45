// Lifecycle hooks in workflows: the patch that guards their activities, so that histories
// recorded before hooks existed replay (workflows/replay.test.ts), and what a failed hook means.
import { patched } from '@temporalio/workflow';

/**
 * Workflows that reach a hook step record this marker; older histories have none and replay
 * without the hook steps. Remove the guard (deprecatePatch, then nothing) only when no workflow
 * started before it can still run or be replayed.
 */
export const LIFECYCLE_HOOKS_PATCH = 'lifecycle-hooks';

/** Whether this workflow runs lifecycle hook steps (false when replaying an older history). */
export function runsLifecycleHooks(): boolean {
  return patched(LIFECYCLE_HOOKS_PATCH);
}

/** Instance states in which deprovisioning runs the delete hook (see deprovision-instance.ts). */
export const DELETE_HOOK_STATES: readonly string[] = ['ready', 'updating'];
