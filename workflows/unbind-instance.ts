// Unbind: delete the binding's Secret, which revokes the credentials the broker handed out.
import { proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { cleanupStep } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import { operationFinished, run } from './observe.js';
import type { UnbindInput } from './types.js';

const steps = proxyActivities<BrokerActivities>(cleanupStep);

export async function unbindInstance(input: UnbindInput): Promise<void> {
  try {
    await run(steps.deleteBinding, `delete binding ${input.bindingId} and its credentials`, { bindingId: input.bindingId });
  } catch (err) {
    operationFinished('unbind', 'failed');
    throw operationFailed({ description: `unbinding failed: ${rootMessage(err)}` });
  }
  operationFinished('unbind', 'succeeded');
}
