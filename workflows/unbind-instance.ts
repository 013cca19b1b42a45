// Unbind: run the plan's onUnbindInstance hook Jobs (they revoke what the bind hook created for
// this binding), delete the binding's hook leftovers (the Secret the bind hook wrote), then the
// binding's record and Secret, which revokes the credentials the broker handed out.
import { proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { cleanupStep, waitStep, within } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import { boundedByDeadline, runsLifecycleHooks } from './patches.js';
import { operationFinished, run } from './observe.js';
import { DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS, type UnbindInput } from './types.js';

export async function unbindInstance(input: UnbindInput): Promise<void> {
  const { instanceId, bindingId } = input;
  const hookTimeout = input.hookTimeoutSeconds ?? DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS;
  // Every step ends by the deadline, also against an unreachable cluster. Runs started before: 2 hours.
  const steps = proxyActivities<BrokerActivities>(boundedByDeadline() ? within(cleanupStep, hookTimeout) : cleanupStep);
  let hookFailed = false;
  try {
    if (runsLifecycleHooks()) {
      const wait = proxyActivities<BrokerActivities>(waitStep(hookTimeout));
      try {
        // No plan hint: the hook comes from the plan the instance runs now.
        await run(wait.runHookJobs, `run the onUnbindInstance hook Jobs of binding ${bindingId}, if the plan has any`, {
          instanceId,
          event: 'onUnbindInstance',
          bindingId,
          deadline: Date.now() + hookTimeout * 1000,
        });
      } catch (err) {
        hookFailed = true;
        throw err;
      }
      await run(steps.deleteBindingHookObjects, `delete the hook Jobs and Secret of binding ${bindingId}`, {
        instanceId,
        bindingId,
        ...(input.planId ? { planId: input.planId } : {}),
      });
    }
    await run(steps.deleteBinding, `delete binding ${bindingId} and its credentials`, { bindingId });
  } catch (err) {
    operationFinished('unbind', 'failed');
    throw operationFailed({
      description: hookFailed
        ? `unbinding failed: ${rootMessage(err)}. The binding still exists and its credentials stay valid; fix the cause and unbind again.`
        : `unbinding failed: ${rootMessage(err)}`,
    });
  }
  operationFinished('unbind', 'succeeded');
}
