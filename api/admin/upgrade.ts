// Operators roll a plan's new maintenance_info out to every instance of the plan: a dry run that
// says what would happen, the upgradePlan workflow that does it (workflows/upgrade-plan.ts; a
// second start while it runs joins it), and its progress, then its summary.
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { planUpgrades, planWithId } from '../../broker/plan-upgrades.js';
import { upgradeWorkflowId } from '../../platform/temporal/ids.js';
import { KbOperation, KbPlan, KbService } from '../../platform/temporal/search-attributes.js';
import { upgradeProgress } from '../../workflows/definitions.js';
import type * as workflows from '../../workflows/index.js';
import type { UpgradeOutcome, UpgradePlanInput, UpgradeProgress } from '../../workflows/types.js';
import type { AdminDeps } from './deps.js';

/** How many instances update at once when the operator does not say. */
export const DEFAULT_UPGRADE_CONCURRENCY = 4;

export class UpgradeError extends Error {
  override readonly name = 'UpgradeError';
}

/** The plan, and the input of its upgrade: the plan's version in this catalog, its deadline. */
function upgradeOf(deps: AdminDeps, planId: string, concurrency: number) {
  const found = planWithId(deps.catalog, planId);
  if (!found) throw new UpgradeError(`plan ${planId} is not in the catalog`);
  const version = found.plan.maintenanceInfo?.version;
  if (!version) throw new UpgradeError(`plan ${found.plan.name} of service ${found.service.name} has no maintenance_info: there is nothing to upgrade to`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new UpgradeError(`concurrency must be a positive whole number, not ${concurrency}`);
  const input: UpgradePlanInput = {
    planId,
    maintenanceInfo: { version },
    concurrency,
    timeoutSeconds: found.plan.maximumPollingDuration ?? deps.settings.defaultTimeoutSeconds,
  };
  return { ...found, input };
}

export interface UpgradeDryRun {
  planId: string;
  service: string;
  plan: string;
  version: string;
  /** Each with the version it has now (none: provisioned before versions were recorded). */
  wouldUpgrade: { instanceId: string; from: string | null }[];
  outcomes: UpgradeOutcome[];
}

/** What an upgrade would do now, from the records: it starts nothing. */
export async function upgradeDryRun(deps: AdminDeps, planId: string): Promise<UpgradeDryRun> {
  const { service, plan, input } = upgradeOf(deps, planId, 1);
  // Only the plan's records are kept, read a page at a time: the registry may be large.
  const records = await deps.records.instancesWhere((r) => r.serviceId === service.id && r.planId === plan.id);
  const planned = planUpgrades(records, { service, plan, version: input.maintenanceInfo.version, timeoutSeconds: input.timeoutSeconds });
  const versions = new Map(records.map((r) => [r.instanceId, r.maintenanceInfo?.version ?? null]));
  return {
    planId,
    service: service.name,
    plan: plan.name,
    version: input.maintenanceInfo.version,
    wouldUpgrade: planned.upgrades.map((u) => ({ instanceId: u.input.instanceId, from: versions.get(u.input.instanceId) ?? null })),
    outcomes: planned.settled,
  };
}

/** Starts the upgrade of the plan, or joins the one running. */
export async function startUpgrade(deps: AdminDeps, planId: string, concurrency: number): Promise<{ workflowId: string; runId: string; version: string }> {
  const { service, plan, input } = upgradeOf(deps, planId, concurrency);
  const handle = await deps.client.workflow.start<(typeof workflows)['upgradePlan']>('upgradePlan', {
    workflowId: upgradeWorkflowId(planId),
    taskQueue: deps.settings.taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: new TypedSearchAttributes([
      { key: KbOperation, value: 'upgrade' },
      { key: KbService, value: service.name },
      { key: KbPlan, value: plan.name },
    ]),
  });
  return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, version: input.maintenanceInfo.version };
}

export type UpgradeStatus = UpgradeProgress & { workflowId: string; runId: string; status: string; error?: string };

/** The plan's last upgrade: its progress while it runs, its summary when done. */
export async function upgradeStatus(deps: AdminDeps, planId: string): Promise<UpgradeStatus | undefined> {
  const handle = deps.client.workflow.getHandle(upgradeWorkflowId(planId));
  let described;
  try {
    described = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
  const head = { workflowId: described.workflowId, runId: described.runId, status: described.status.name };
  const empty: UpgradeProgress = { planId, version: '', total: 0, outcomes: [], listed: false, done: false };
  if (described.status.name === 'RUNNING') {
    const progress = await handle.query(upgradeProgress);
    if (!progress.done) return { ...head, ...progress };
    // Done, but the run had not closed when it was described: answer as closed, never `done` and RUNNING.
  }
  try {
    const result = (await handle.result()) as UpgradeProgress;
    return { ...head, status: (await handle.describe()).status.name, ...result };
  } catch (err) {
    const cause = err instanceof WorkflowFailedError && err.cause ? err.cause.message : String(err);
    return { ...head, ...empty, done: true, error: cause };
  }
}

/** Upgraded, already current and failed, counted. */
export function upgradeSummary(outcomes: UpgradeOutcome[]): Record<UpgradeOutcome['outcome'], number> {
  const counts = { upgraded: 0, current: 0, failed: 0 };
  for (const o of outcomes) counts[o.outcome]++;
  return counts;
}
