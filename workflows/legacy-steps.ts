// The provision and deprovision steps of workflows started before the local-steps patch
// (workflows/VERSIONS.md): every step a regular activity, and the hook step guarded by the
// lifecycle-hooks patch, asked where those workflows asked it. Histories of such runs replay
// through these functions (workflows/replay.test.ts). Do not change what they schedule or the
// order; delete this module when local-steps is deprecated.
import { proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { cleanupStep, kubernetesStep } from './activity-options.js';
import {
  applyTarget,
  deleteObjects,
  deleteTarget,
  DELETE_HOOK_STATES,
  markDeprovisioning,
  markReady,
  recordInstance,
  removeInstance,
  runCreateHook,
  runDeleteHook,
  waitReady,
  type Steps,
} from './instance-steps.js';
import { run } from './observe.js';
import { runsLifecycleHooks } from './patches.js';
import type { DeprovisionInput, ProvisionInput } from './types.js';

const steps = proxyActivities<BrokerActivities>(kubernetesStep);
const cleanup = proxyActivities<BrokerActivities>(cleanupStep);

/** Record, apply, wait ready, hook (since lifecycle-hooks, whether or not the plan has one), mark ready. */
export async function legacyProvisionSteps(input: ProvisionInput, wait: Steps, deadline: number): Promise<void> {
  await recordInstance(steps, input);
  const objects = await run(steps.applyInstanceObjects, `apply the objects of plan ${input.planId}`, applyTarget(input));
  await waitReady(wait, input, objects, deadline);
  if (runsLifecycleHooks()) await runCreateHook(wait, input, deadline);
  await markReady(steps, input.instanceId);
}

/** Read, mark, hook (since lifecycle-hooks, for a ready or updating instance), delete, wait gone, remove bindings and record. */
export async function legacyDeprovisionSteps(input: DeprovisionInput, wait: Steps): Promise<void> {
  const current = await run(cleanup.readInstance, 'read the instance record', { instanceId: input.instanceId });
  const target = deleteTarget(input, current);
  if (current) {
    await markDeprovisioning(cleanup, input);
    // The patch is asked only here, after the mark and for these states: where these runs asked it.
    if (DELETE_HOOK_STATES.includes(current.state) && runsLifecycleHooks()) await runDeleteHook(wait, cleanup, current, input);
  }
  const found = await deleteObjects(cleanup, target);
  await removeInstance(cleanup, wait, target, found, input.timeoutSeconds);
}
