// The patches that keep older workflow histories replaying. Each `runs…()` asks Temporal whether
// this run started under the patch: true in a new run (it records a marker), and in a replay only
// if the history holds the marker in the workflow task being replayed. So each is asked at the
// point of the command sequence where its marker was first recorded, never earlier (asked in an
// earlier workflow task, it answers false and the marker later fails the replay). What each
// changed, since when, and when it may go: workflows/VERSIONS.md.
import { patched } from '@temporalio/workflow';

/** Hook steps in the workflows (bind, unbind; provision and deprovision before local-steps). */
export const LIFECYCLE_HOOKS_PATCH = 'lifecycle-hooks';

/** Provision and deprovision run their short steps as local activities, the hook step only for a plan with the hook. */
export const LOCAL_STEPS_PATCH = 'local-steps';

/** Deprovision without a delete hook marks the record while the objects are deleted. */
export const MARK_WHILE_DELETING_PATCH = 'mark-while-deleting';

/** Asked just before the first hook step (bind, unbind; the legacy provision and deprovision steps). */
export function runsLifecycleHooks(): boolean {
  return patched(LIFECYCLE_HOOKS_PATCH);
}

/** Update and unbind steps give up at the operation's deadline, as provision, deprovision and bind do. */
export const DEADLINE_BOUNDED_PATCH = 'update-unbind-deadline';

/** An update whose rollback found the instance's cluster no longer configured sets its record back. */
export const UNCONFIGURED_CLUSTER_ROLLBACK_PATCH = 'unconfigured-cluster-rollback';

/** Asked first, before any step of a provision or a deprovision: it chooses their steps. */
export function runsLocalSteps(): boolean {
  return patched(LOCAL_STEPS_PATCH);
}

/** Asked after a local-steps deprovision read the record, only when no delete hook runs first. */
export function marksWhileDeleting(): boolean {
  return patched(MARK_WHILE_DELETING_PATCH);
}

/** Asked in an update's rollback, only when a rollback step failed because the instance's cluster is not configured. */
export function recordsRollbackWithoutCluster(): boolean {
  return patched(UNCONFIGURED_CLUSTER_ROLLBACK_PATCH);
}

/** A provision without a create hook: its wait marks the instance ready, no state update step follows. */
export const READY_WITH_WAIT_PATCH = 'ready-with-wait';

/** Asked after a local-steps provision's apply, only when the plan has no create hook. */
export function marksReadyWithWait(): boolean {
  return patched(READY_WITH_WAIT_PATCH);
}

/** A provision without a create hook waits briefly inside the apply's workflow task before the heartbeating wait. */
export const BRIEF_WAIT_FIRST_PATCH = 'brief-wait-first';

/** Asked after `ready-with-wait` said yes, before the provision's first wait. */
export function waitsBrieflyFirst(): boolean {
  return patched(BRIEF_WAIT_FIRST_PATCH);
}

/** Asked first, before any step of an update or an unbind: it chooses their steps' timeouts. */
export function boundedByDeadline(): boolean {
  return patched(DEADLINE_BOUNDED_PATCH);
}
