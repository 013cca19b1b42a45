// Provision: record the instance, apply its objects, wait until its workloads are ready, run the
// plan's onCreateInstance hook Jobs, mark it ready.
// Under the local-steps patch (workflows/local-steps.ts) the record, the apply and the final state
// update are local activities (run by the worker inside the workflow task: no workflow task and no
// persisted activity completion of their own), the hook step runs only when the plan has a create
// hook, and the wait and the hook Jobs stay regular (heartbeating) activities: a provision is 2
// workflow tasks and 1 activity instead of 6 and 5 (3 and 2 with a create hook). Older histories
// replay the regular steps.
// Any failure deletes everything the instance created (the compensation, regular activities as
// before, retried for hours, cannot be cancelled), then fails with a description a person can
// act on. A DELETE that arrives meanwhile stops the provision and continues as the deprovision
// the platform asked for.
import {
  CancellationScope,
  isCancellation,
  makeContinueAsNewFunc,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { KbOperation } from '../platform/temporal/search-attributes.js';
import { cleanupStep, kubernetesLocalStep, kubernetesStep, waitStep } from './activity-options.js';
import { deprovisionRequested } from './definitions.js';
import type { deprovisionInstance } from './deprovision-instance.js';
import { operationFailed, rootMessage } from './failure.js';
import { runsLifecycleHooks } from './lifecycle-hooks.js';
import { runsLocalSteps } from './local-steps.js';
import { operationFinished, run } from './observe.js';
import type { OperationMemo, ProvisionInput } from './types.js';

const steps = proxyActivities<BrokerActivities>(kubernetesStep);
const localSteps = proxyLocalActivities<BrokerActivities>(kubernetesLocalStep);
const cleanup = proxyActivities<BrokerActivities>(cleanupStep);
/** The heartbeating steps, with the operation's timeout. */
type WaitSteps = ReturnType<typeof proxyActivities<BrokerActivities>>;

export async function provisionInstance(input: ProvisionInput): Promise<void> {
  // The cluster travels in the activities' inputs (absent in older histories: the default cluster).
  const { instanceId, namespace, cluster } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  const deadline = Date.now() + input.timeoutSeconds * 1000;
  const local = runsLocalSteps();

  let deprovision: { operation: string; timeoutSeconds: number } | undefined;
  const work = new CancellationScope();
  setHandler(deprovisionRequested, (request) => {
    deprovision = request;
    upsertMemo({ pendingOperation: request.operation });
    work.cancel();
  });

  try {
    await work.run(() => provisionSteps(input, wait, deadline, local));
  } catch (err) {
    if (deprovision) return continueAsDeprovision(input, deprovision);
    const cause = rootMessage(err);
    const cleanupFailure = await CancellationScope.nonCancellable(async () => {
      try {
        const found = await run(cleanup.deleteInstanceObjects, 'compensate: delete what the provision created', { instanceId, namespace, cluster });
        await run(cleanup.waitInstanceGone, 'compensate: wait until it is gone', {
          instanceId,
          namespace,
          cluster,
          found,
          deadline: Date.now() + input.timeoutSeconds * 1000,
        });
        await run(cleanup.deleteInstanceRecord, 'compensate: delete the instance record', { instanceId });
        return undefined;
      } catch (cleanupErr) {
        return rootMessage(cleanupErr);
      }
    });
    operationFinished('provision', 'failed');
    if (isCancellation(err)) throw err; // an operator cancelled it in Temporal: report it as such
    throw operationFailed({
      description: cleanupFailure
        ? `provisioning failed: ${cause}. Deleting what it created failed too (${cleanupFailure}); delete the instance to retry the cleanup.`
        : `provisioning failed: ${cause}. Everything it created was deleted; the instance can be created again.`,
    });
  }
  // A DELETE that raced with the last step: deprovision now.
  if (deprovision) return continueAsDeprovision(input, deprovision);
  operationFinished('provision', 'succeeded');
}

/**
 * Record, apply, wait ready, hook, mark ready. With local steps: the short steps as local
 * activities, and the hook only when the plan has a create hook (the apply step says). Without
 * (older histories): regular activities, and the hook step whenever the hooks patch is there.
 */
async function provisionSteps(input: ProvisionInput, wait: WaitSteps, deadline: number, local: boolean): Promise<void> {
  const { instanceId, namespace, cluster } = input;
  const short = local ? localSteps : steps;
  await run(short.createInstanceRecord, `record instance ${instanceId} in namespace ${namespace}`, input);
  const target = { instanceId, planId: input.planId, parameters: input.parameters };
  const summary = `apply the objects of plan ${input.planId}`;
  const { objects, hooks } = local ? await run(localSteps.applyInstance, summary, target) : { objects: await run(steps.applyInstanceObjects, summary, target), hooks: undefined };
  await run(wait.waitInstanceReady, `wait until the workloads are ready (deadline ${input.timeoutSeconds}s)`, {
    instanceId,
    namespace,
    cluster,
    objects,
    deadline,
  });
  // The hook works with the running instance; its failure is compensated like any other.
  if (hooks ? hooks.includes('onCreateInstance') : runsLifecycleHooks()) {
    await run(wait.runHookJobs, 'run the onCreateInstance hook Jobs, if the plan has any', {
      instanceId,
      planId: input.planId,
      event: 'onCreateInstance',
      deadline,
    });
  }
  await run(short.setInstanceState, 'mark the instance ready', { instanceId, state: 'ready' });
}

/** The same workflow id continues as the deprovision, so Temporal keeps operations in order. */
function continueAsDeprovision(input: ProvisionInput, request: { operation: string; timeoutSeconds: number }): Promise<never> {
  const memo: OperationMemo = { operation: request.operation, requestDigest: '' };
  const next = makeContinueAsNewFunc<typeof deprovisionInstance>({
    workflowType: 'deprovisionInstance',
    memo: memo as unknown as Record<string, unknown>,
    // Search attributes carry over; the operation type changes.
    typedSearchAttributes: workflowInfo().typedSearchAttributes.updateCopy([{ key: KbOperation, value: 'deprovision' }]),
  });
  return next({
    instanceId: input.instanceId,
    namespace: input.namespace,
    ...(input.cluster ? { cluster: input.cluster } : {}),
    operation: request.operation,
    timeoutSeconds: request.timeoutSeconds,
  });
}
