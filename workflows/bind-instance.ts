// Bind: run the plan's onBindInstance hook Jobs (they may create a user for this binding and
// write its credentials into a Secret), then render the plan's credentials from the running
// instance (and that Secret) into the binding's Secret. The credentials stay inside the
// activities: the workflow only learns that they are done.
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { cleanupStep, kubernetesStep, waitStep, within } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import { runsLifecycleHooks } from './patches.js';
import { operationFinished, run } from './observe.js';
import type { Steps } from './instance-steps.js';
import { DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS, type BindInput } from './types.js';

export async function bindInstance(input: BindInput): Promise<void> {
  const { instanceId, bindingId } = input;
  const hookTimeout = input.hookTimeoutSeconds ?? DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS;
  const wait = proxyActivities<BrokerActivities>(waitStep(hookTimeout));
  // Every step ends by the deadline, also against an unreachable cluster; undoing the hook gets as long again.
  const steps = proxyActivities<BrokerActivities>(within(kubernetesStep, hookTimeout));
  const cleanup = proxyActivities<BrokerActivities>(within(cleanupStep, hookTimeout));
  let hookRan = false;
  try {
    if (runsLifecycleHooks()) {
      try {
        const hook = await run(wait.runHookJobs, `run the onBindInstance hook Jobs of binding ${bindingId}, if the plan has any`, {
          instanceId,
          planId: input.planId,
          event: 'onBindInstance',
          bindingId,
          deadline: Date.now() + hookTimeout * 1000,
          // Checked against the instance's organization before the hook runs (activities/verify.ts).
          context: input.context,
        });
        hookRan = hook.jobs.length > 0;
      } catch (err) {
        hookRan = true;
        throw err;
      }
    }
    await run(steps.createBinding, `render the credentials of instance ${instanceId} into binding ${bindingId}`, input);
  } catch (err) {
    const cause = rootMessage(err);
    // The binding's Secret is written last, in one request: only a bind hook leaves something,
    // perhaps a user the platform will never unbind. Revoke it with the unbind hook.
    const compensation = hookRan ? await CancellationScope.nonCancellable(() => revokeHookResults(input, hookTimeout, cleanup)) : undefined;
    operationFinished('bind', 'failed');
    throw operationFailed({
      description: compensation
        ? `binding failed: ${cause}. Undoing the bind hook failed too (${compensation}); what it created for binding ${bindingId} may still exist.`
        : `binding failed: ${cause}`,
    });
  }
  operationFinished('bind', 'succeeded');
}

/** Runs the unbind hook for the failed binding and deletes the hook's Jobs and Secret; what failed, if anything. */
async function revokeHookResults(input: BindInput, hookTimeout: number, cleanup: Steps): Promise<string | undefined> {
  const { instanceId, bindingId } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(hookTimeout));
  let failure: string | undefined;
  try {
    await run(wait.runHookJobs, `compensate: run the onUnbindInstance hook Jobs of binding ${bindingId}, if the plan has any`, {
      instanceId,
      planId: input.planId,
      event: 'onUnbindInstance',
      bindingId,
      deadline: Date.now() + hookTimeout * 1000,
      context: input.context,
    });
  } catch (err) {
    failure = rootMessage(err);
  }
  try {
    await run(cleanup.deleteBindingHookObjects, `compensate: delete the hook Jobs and Secret of binding ${bindingId}`, {
      instanceId,
      bindingId,
      planId: input.planId,
    });
  } catch (err) {
    failure = [failure, rootMessage(err)].filter(Boolean).join('; ');
  }
  return failure;
}
