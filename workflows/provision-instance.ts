// Provision: record the instance, apply its objects, wait until its workloads are ready, run the
// plan's onCreateInstance hook Jobs.
// Any failure deletes everything the instance created (the compensation cannot be cancelled),
// then fails with a description a person can act on. A DELETE that arrives meanwhile stops
// the provision and continues as the deprovision the platform asked for.
import {
  CancellationScope,
  isCancellation,
  makeContinueAsNewFunc,
  proxyActivities,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { KbOperation } from '../temporal/search-attributes.js';
import { cleanupStep, kubernetesStep, waitStep } from './activity-options.js';
import { deprovisionRequested } from './definitions.js';
import type { deprovisionInstance } from './deprovision-instance.js';
import { operationFailed, rootMessage } from './failure.js';
import { runsLifecycleHooks } from './lifecycle-hooks.js';
import { operationFinished, run } from './observe.js';
import type { OperationMemo, ProvisionInput } from './types.js';

const steps = proxyActivities<BrokerActivities>(kubernetesStep);
const cleanup = proxyActivities<BrokerActivities>(cleanupStep);

export async function provisionInstance(input: ProvisionInput): Promise<void> {
  // The cluster travels in the activities' inputs (absent in older histories: the default cluster).
  const { instanceId, namespace, cluster } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  const deadline = Date.now() + input.timeoutSeconds * 1000;

  let deprovision: { operation: string; timeoutSeconds: number } | undefined;
  const work = new CancellationScope();
  setHandler(deprovisionRequested, (request) => {
    deprovision = request;
    upsertMemo({ pendingOperation: request.operation });
    work.cancel();
  });

  try {
    await work.run(async () => {
      await run(steps.createInstanceRecord, `record instance ${instanceId} in namespace ${namespace}`, input);
      const objects = await run(steps.applyInstanceObjects, `apply the objects of plan ${input.planId}`, {
        instanceId,
        planId: input.planId,
        parameters: input.parameters,
      });
      await run(wait.waitInstanceReady, `wait until the workloads are ready (deadline ${input.timeoutSeconds}s)`, {
        instanceId,
        namespace,
        cluster,
        objects,
        deadline,
      });
      // The hook works with the running instance; its failure is compensated like any other.
      if (runsLifecycleHooks()) {
        await run(wait.runHookJobs, 'run the onCreateInstance hook Jobs, if the plan has any', {
          instanceId,
          planId: input.planId,
          event: 'onCreateInstance',
          deadline,
        });
      }
      await run(steps.setInstanceState, 'mark the instance ready', { instanceId, state: 'ready' });
    });
  } catch (err) {
    if (deprovision) return continueAsDeprovision(input, deprovision);
    const cause = rootMessage(err);
    const cleanupFailure = await CancellationScope.nonCancellable(async () => {
      try {
        await run(cleanup.deleteInstanceObjects, 'compensate: delete what the provision created', { instanceId, namespace, cluster });
        await run(cleanup.waitInstanceGone, 'compensate: wait until it is gone', {
          instanceId,
          namespace,
          cluster,
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
