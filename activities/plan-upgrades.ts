// The one step of an operator's upgrade of a plan (workflows/upgrade-plan.ts) that reads: which
// instances of the plan get an update, and the input of each. It runs only in that workflow, and
// only when the worker's catalog has the version the operator asked for, so that an upgrade
// started from a catalog the workers do not run yet changes nothing.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { planUpgrades, planWithId, type UpgradePlan } from '../broker/plan-upgrades.js';
import { upgradeWorkflowId } from '../platform/temporal/ids.js';
import type { UpgradePlanInput } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import { NON_RETRYABLE, step } from './failures.js';

export function createUpgradeActivities({ catalog, records }: ActivityDeps) {
  return {
    async planUpgrades(input: UpgradePlanInput): Promise<UpgradePlan> {
      const { workflowExecution, workflowType } = Context.current().info;
      const expected = upgradeWorkflowId(input.planId);
      if (workflowType !== 'upgradePlan' || workflowExecution?.workflowId !== expected) {
        throw ApplicationFailure.nonRetryable(`only the upgradePlan workflow ${expected} lists the upgrades of plan ${input.planId}`, NON_RETRYABLE.refused);
      }
      let found = planWithId(catalog, input.planId);
      if (!found && catalog.refresh) {
        await catalog.refresh();
        found = planWithId(catalog, input.planId);
      }
      if (!found) throw ApplicationFailure.nonRetryable(`plan ${input.planId} is not in the worker's catalog`, NON_RETRYABLE.invalidInput);
      const version = found.plan.maintenanceInfo?.version;
      if (version !== input.maintenanceInfo.version) {
        throw ApplicationFailure.nonRetryable(
          `the worker's catalog has plan ${found.plan.name} at maintenance_info ${version ?? '(none)'}, not ${input.maintenanceInfo.version}: ` +
            'roll the new catalog out to the workers first, then upgrade',
          NON_RETRYABLE.invalidInput,
        );
      }
      // The plan's records only, read a page at a time: the registry may be large.
      const mine = await step('list the instance records', () => records.instancesWhere((r) => r.serviceId === found.service.id && r.planId === found.plan.id));
      return planUpgrades(mine, { ...found, version, timeoutSeconds: input.timeoutSeconds });
    },
  };
}
