// Provision: record the instance, apply its objects, wait until its workloads are ready, run the
// plan's onCreateInstance hook Jobs if it has any, mark it ready. The record, the apply and the
// final state update are local activities (run by the worker inside the workflow task: no workflow
// task and no persisted activity completion of their own; without a create hook the wait marks the
// instance ready itself, patch `ready-with-wait`); the wait and the hook Jobs are regular
// (heartbeating) activities: a provision is 2 workflow tasks and 1 activity (3 and 2 with a create
// hook). Without a create hook the wait first runs briefly as a local step (patch
// `brief-wait-first`): workloads ready within it make the provision 1 workflow task and no
// activity. Runs started before the local steps replay legacyProvisionSteps (workflows/VERSIONS.md).
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
import { cleanupStep, kubernetesLocalStep, waitStep, within } from './activity-options.js';
import { deprovisionRequested } from './definitions.js';
import type { deprovisionInstance } from './deprovision-instance.js';
import { operationFailed, rootMessage } from './failure.js';
import { applyTarget, markReady, recordInstance, runCreateHook, waitReady, waitReadyBriefly, type Steps } from './instance-steps.js';
import { legacyProvisionSteps } from './legacy-steps.js';
import { operationFinished, run } from './observe.js';
import { marksReadyWithWait, runsLocalSteps, waitsBrieflyFirst } from './patches.js';
import type { OperationMemo, ProvisionInput } from './types.js';

export async function provisionInstance(input: ProvisionInput): Promise<void> {
  // The cluster travels in the activities' inputs (absent in older histories: the default cluster).
  const { instanceId, namespace, cluster } = input;
  const wait = proxyActivities<BrokerActivities>(waitStep(input.timeoutSeconds));
  // Every step ends by the deadline, also against an unreachable cluster; the compensation gets as long again.
  const localSteps = proxyLocalActivities<BrokerActivities>(within(kubernetesLocalStep, input.timeoutSeconds));
  const cleanup = proxyActivities<BrokerActivities>(within(cleanupStep, input.timeoutSeconds));
  const deadline = Date.now() + input.timeoutSeconds * 1000;
  // The version question comes first, before any step: see workflows/patches.ts.
  const steps = runsLocalSteps() ? (i: ProvisionInput, w: Steps, d: number) => provisionSteps(i, w, localSteps, d) : legacyProvisionSteps;

  let deprovision: { operation: string; timeoutSeconds: number } | undefined;
  const work = new CancellationScope();
  setHandler(deprovisionRequested, (request) => {
    deprovision = request;
    upsertMemo({ pendingOperation: request.operation });
    work.cancel();
  });

  try {
    await work.run(() => steps(input, wait, deadline));
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
 * Record, apply, wait ready, hook (only when the plan has a create hook: the apply says), mark
 * ready. Without a create hook the wait marks the instance ready as it ends (patch
 * `ready-with-wait`): the workflow task after it then only completes the workflow.
 */
async function provisionSteps(input: ProvisionInput, wait: Steps, localSteps: Steps, deadline: number): Promise<void> {
  await recordInstance(localSteps, input);
  const { objects, hooks } = await run(localSteps.applyInstance, `apply the objects of plan ${input.planId}`, applyTarget(input));
  const createHook = hooks.includes('onCreateInstance');
  if (!createHook && marksReadyWithWait()) {
    // Workloads that are ready at once end the provision in this workflow task (patch `brief-wait-first`).
    if (waitsBrieflyFirst() && (await waitReadyBriefly(localSteps, input, objects, deadline))) return;
    return waitReady(wait, input, objects, deadline, { markReady: true });
  }
  await waitReady(wait, input, objects, deadline);
  if (createHook) await runCreateHook(wait, input, deadline);
  await markReady(localSteps, input.instanceId);
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
