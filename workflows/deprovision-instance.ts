// Deprovision: delete every object labelled with the instance (also what its plan no longer
// has), wait until it is gone, then remove its bindings and its record.
import { proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { cleanupStep, waitStep } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import { operationFinished, run } from './observe.js';
import type { DeprovisionInput } from './types.js';

const steps = proxyActivities<BrokerActivities>(cleanupStep);

export async function deprovisionInstance(input: DeprovisionInput): Promise<void> {
  const { instanceId, namespace } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  try {
    if (await run(steps.readInstance, 'read the instance record', { instanceId })) {
      await run(steps.setInstanceState, 'mark the instance deprovisioning', { instanceId, state: 'deprovisioning' });
    }
    await run(steps.deleteInstanceObjects, `delete every object labelled with instance ${instanceId}`, { instanceId, namespace });
    await run(wait.waitInstanceGone, 'wait until they are gone', { instanceId, namespace, deadline: Date.now() + input.timeoutSeconds * 1000 });
    await run(steps.deleteInstanceBindings, 'delete the bindings left', { instanceId });
    await run(steps.deleteInstanceRecord, 'delete the instance record', { instanceId });
  } catch (err) {
    operationFinished('deprovision', 'failed');
    throw operationFailed({
      description: `deprovisioning failed: ${rootMessage(err)}. The instance is partly deleted; fix the cause and delete it again.`,
      // Its workloads may be gone already: do not let the platform bind to it.
      instanceUsable: false,
    });
  }
  operationFinished('deprovision', 'succeeded');
}
