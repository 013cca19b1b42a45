// Update: a new plan or new parameters. The API server first validates every new object in a
// dry run, so a rejected template changes nothing. Then apply, wait ready, delete what the new
// plan no longer has. If the new objects do not become ready, roll back to the previous plan
// and parameters so the instance stays usable.
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { kubernetesStep, cleanupStep, waitStep } from './activity-options.js';
import { operationFailed, rootMessage } from './failure.js';
import type { UpdateInput } from './types.js';

const steps = proxyActivities<BrokerActivities>(kubernetesStep);
const cleanup = proxyActivities<BrokerActivities>(cleanupStep);

export async function updateInstance(input: UpdateInput): Promise<void> {
  const { instanceId } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  const current = await steps.readInstance({ instanceId });
  if (!current) throw operationFailed({ description: `instance ${instanceId} does not exist`, instanceUsable: false });
  const { namespace } = current;
  const previous = await steps.beginUpdate(input);

  let applied = false;
  try {
    await steps.applyInstanceObjects({ instanceId, planId: input.planId, parameters: input.parameters, dryRun: true });
    applied = true;
    const objects = await steps.applyInstanceObjects({ instanceId, planId: input.planId, parameters: input.parameters });
    await wait.waitInstanceReady({ instanceId, namespace, objects, deadline: Date.now() + input.timeoutSeconds * 1000 });
    await steps.pruneInstanceObjects({ instanceId, namespace, keep: objects });
    await steps.finishUpdate(input);
  } catch (err) {
    const cause = rootMessage(err);
    const restored = await CancellationScope.nonCancellable(async () => {
      try {
        if (applied) {
          const objects = await cleanup.applyInstanceObjects({ instanceId, ...previous });
          await wait.waitInstanceReady({ instanceId, namespace, objects, deadline: Date.now() + input.timeoutSeconds * 1000 });
          await cleanup.pruneInstanceObjects({ instanceId, namespace, keep: objects });
        }
        await cleanup.abandonUpdate({ instanceId });
        return true;
      } catch {
        return false;
      }
    });
    throw operationFailed(
      restored
        ? {
            description: `update failed: ${cause}. ${applied ? 'The instance was rolled back to its previous plan and parameters' : 'Nothing was changed'}; it is usable.`,
            instanceUsable: true,
            updateRepeatable: true,
          }
        : {
            description: `update failed: ${cause}, and rolling back to the previous plan failed too; the instance may not work. Retry the update, or delete the instance.`,
            instanceUsable: false,
            updateRepeatable: true,
          },
    );
  }
}
