// Update: a new plan or new parameters. The API server first validates every new object in a
// dry run, so a rejected template changes nothing. Then apply, wait ready, delete what the new
// plan no longer has. If the new objects do not become ready, roll back to the previous plan
// and parameters so the instance stays usable.
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { cleanupStep, kubernetesStep, waitStep, within } from './activity-options.js';
import { failureType, operationFailed, rootMessage, UNKNOWN_CLUSTER } from './failure.js';
import { boundedByDeadline, recordsRollbackWithoutCluster } from './patches.js';
import { operationFinished, run } from './observe.js';
import type { UpdateInput } from './types.js';

export async function updateInstance(input: UpdateInput): Promise<void> {
  const { instanceId } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  // Every step ends by the deadline, also against an unreachable cluster; the rollback gets as
  // long again. Runs started before: the profiles' 15 minutes and 2 hours.
  const bounded = boundedByDeadline();
  const steps = proxyActivities<BrokerActivities>(bounded ? within(kubernetesStep, input.timeoutSeconds) : kubernetesStep);
  const cleanup = proxyActivities<BrokerActivities>(bounded ? within(cleanupStep, input.timeoutSeconds) : cleanupStep);
  const current = await run(steps.readInstance, 'read the instance record', { instanceId });
  if (!current) throw operationFailed({ description: `instance ${instanceId} does not exist`, instanceUsable: false });
  const { namespace, cluster } = current;
  const previous = await run(steps.beginUpdate, `record the update to plan ${input.planId}`, input);
  const target = { instanceId, planId: input.planId, parameters: input.parameters };

  let applied = false;
  try {
    await run(steps.applyInstanceObjects, 'validate the new objects (server-side dry run)', { ...target, dryRun: true });
    applied = true;
    const objects = await run(steps.applyInstanceObjects, `apply the objects of plan ${input.planId}`, target);
    const deadline = Date.now() + input.timeoutSeconds * 1000;
    await run(wait.waitInstanceReady, 'wait until the workloads are ready', { instanceId, namespace, cluster, objects, deadline });
    await run(steps.pruneInstanceObjects, 'delete objects the plan no longer has', { instanceId, namespace, cluster, keep: objects });
    await run(steps.finishUpdate, 'record the updated instance', input);
  } catch (err) {
    const cause = rootMessage(err);
    const restored = await CancellationScope.nonCancellable(async () => {
      try {
        if (applied) {
          const objects = await run(cleanup.applyInstanceObjects, `roll back: apply plan ${previous.planId} again`, { instanceId, ...previous });
          const deadline = Date.now() + input.timeoutSeconds * 1000;
          await run(wait.waitInstanceReady, 'roll back: wait until ready', { instanceId, namespace, cluster, objects, deadline });
          await run(cleanup.pruneInstanceObjects, 'roll back: delete the new objects', { instanceId, namespace, cluster, keep: objects });
        }
        await run(cleanup.abandonUpdate, 'record the rolled back instance', { instanceId });
        return true;
      } catch (rollbackErr) {
        // The instance's cluster left the configuration (CLUSTERS_FILE) during the update: no
        // worker can roll back there, and a record left `updating` would refuse every later update.
        // It goes back to the previous plan and parameters, usable once the cluster is back.
        if (failureType(rollbackErr) !== UNKNOWN_CLUSTER || !recordsRollbackWithoutCluster()) return false;
        try {
          await run(cleanup.abandonUpdate, 'record the previous plan again: the cluster is not configured', { instanceId });
          return 'cluster not configured' as const;
        } catch {
          return false;
        }
      }
    });
    operationFinished('update', 'failed');
    if (restored === 'cluster not configured') {
      throw operationFailed({
        description: `update failed: ${cause}. The instance is recorded with its previous plan and parameters again; its objects on that cluster may be partly updated. Once the cluster is configured again, update the instance again (or again to its previous plan).`,
        instanceUsable: true,
        updateRepeatable: true,
      });
    }
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
  operationFinished('update', 'succeeded');
}
