// Bind: render the plan's credentials from the running instance into the binding's Secret.
// The credentials stay inside the activity: the workflow only learns that it is done.
import { proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { kubernetesStep } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import { operationFinished, run } from './observe.js';
import type { BindInput } from './types.js';

const steps = proxyActivities<BrokerActivities>(kubernetesStep);

export async function bindInstance(input: BindInput): Promise<void> {
  try {
    await run(steps.createBinding, `render the credentials of instance ${input.instanceId} into binding ${input.bindingId}`, input);
  } catch (err) {
    operationFinished('bind', 'failed');
    // Nothing to compensate: the binding's Secret is written last, in one request.
    throw operationFailed({ description: `binding failed: ${rootMessage(err)}` });
  }
  operationFinished('bind', 'succeeded');
}
