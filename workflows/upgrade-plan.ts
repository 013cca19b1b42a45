// An operator's rollout of a plan's new maintenance_info: every instance of the plan not yet on
// it gets the update a platform's PATCH with that maintenance_info would start (same workflow id,
// memo and search attributes, so last_operation and the records read as for any update), as a
// child workflow, at most `concurrency` at a time. The rollout is a workflow itself, so that the
// operator's CLI may crash or be closed: it goes on, and a second start joins it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ChildWorkflowFailure, executeChild, ParentClosePolicy, proxyActivities, setHandler } from '@temporalio/workflow';
import type { BrokerActivities } from '../activities/index.js';
import { instanceWorkflowId } from '../platform/temporal/ids.js';
import { operationSearchAttributes } from '../platform/temporal/search-attributes.js';
import { kubernetesStep } from './activity-options.js';
import { upgradeProgress } from './definitions.js';
import { rootMessage } from './failure.js';
import { run } from './observe.js';
import type { PlannedUpgrade, UpgradeOutcome, UpgradePlanInput, UpgradeProgress } from './types.js';
import { updateInstance } from './update-instance.js';

const steps = proxyActivities<BrokerActivities>(kubernetesStep);

export async function upgradePlan(input: UpgradePlanInput): Promise<UpgradeProgress> {
  // Answered from the start: an operator's CLI may ask before the instances are listed.
  const progress: UpgradeProgress = { planId: input.planId, version: input.maintenanceInfo.version, total: 0, outcomes: [], listed: false, done: false };
  setHandler(upgradeProgress, () => progress);
  const { upgrades, settled } = await run(steps.planUpgrades, `list the instances of plan ${input.planId} to upgrade`, input);
  progress.total = upgrades.length + settled.length;
  progress.outcomes.push(...settled);
  progress.listed = true;

  const queue = [...upgrades];
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) progress.outcomes.push(await upgradeOne(next));
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, input.concurrency), queue.length) }, lane));
  progress.done = true;
  return progress;
}

async function upgradeOne(planned: PlannedUpgrade): Promise<UpgradeOutcome> {
  const { instanceId } = planned.input;
  try {
    await executeChild(updateInstance, {
      workflowId: instanceWorkflowId(instanceId),
      args: [planned.input],
      memo: { ...planned.memo },
      typedSearchAttributes: operationSearchAttributes('update', planned.subject),
      // An update under way finishes (or rolls back) even if the rollout is terminated.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { instanceId, outcome: 'upgraded' };
  } catch (err) {
    return { instanceId, outcome: 'failed', description: whyFailed(err) };
  }
}

function whyFailed(err: unknown): string {
  if (err instanceof WorkflowExecutionAlreadyStartedError)
    return 'another operation of the instance is in progress; run the upgrade again when it has finished';
  // The update's own description (what last_operation tells the platform).
  if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) return err.cause.message;
  return rootMessage(err);
}
