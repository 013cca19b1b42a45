// What rolling a plan's maintenance_info out means for each of its instances: already current,
// not upgradable now (another operation runs on it), or the update a platform's PATCH with the
// plan's maintenance_info would start. Shared by the upgrade's workflow (through its activity)
// and by the operator's dry run, so that the dry run shows what the upgrade does.
import { randomBytes } from 'node:crypto';
import type { Catalog, Plan, ServiceOffering } from '../catalog/types.js';
import type { InstanceRecord } from '../platform/kube/records.js';
import { operationToken } from '../platform/temporal/ids.js';
import type { PlannedUpgrade, UpgradeOutcome } from '../workflows/types.js';
import { instanceDigest } from './digest.js';

/** The plan with this id, in whichever service has it. */
export function planWithId(catalog: Catalog, planId: string): { service: ServiceOffering; plan: Plan } | undefined {
  for (const service of catalog.services) {
    const plan = service.plans.find((p) => p.id === planId);
    if (plan) return { service, plan };
  }
  return undefined;
}

export interface UpgradePlan {
  /** The instances to update, with the input of each update. */
  upgrades: PlannedUpgrade[];
  /** Instances with nothing to do (`current`) or that cannot be updated now (`failed`, with why). */
  settled: UpgradeOutcome[];
}

/** The instances of `plan` among `records`, sorted by age, sorted into what the upgrade does with each. */
export function planUpgrades(
  records: InstanceRecord[],
  target: { service: ServiceOffering; plan: Plan; version: string; timeoutSeconds: number },
): UpgradePlan {
  const { service, plan, version } = target;
  const planned: UpgradePlan = { upgrades: [], settled: [] };
  const mine = records.filter((r) => r.serviceId === service.id && r.planId === plan.id).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const r of mine) {
    if (r.maintenanceInfo?.version === version) planned.settled.push({ instanceId: r.instanceId, outcome: 'current' });
    else if (r.state !== 'ready')
      planned.settled.push({
        instanceId: r.instanceId,
        outcome: 'failed',
        description: `the instance is ${r.state}: another operation of it is in progress; run the upgrade again when it has finished`,
      });
    else planned.upgrades.push(plannedUpgrade(r, target));
  }
  return planned;
}

function plannedUpgrade(r: InstanceRecord, target: { service: ServiceOffering; plan: Plan; version: string; timeoutSeconds: number }): PlannedUpgrade {
  const operation = operationToken('update', randomBytes(4).toString('hex'));
  return {
    input: {
      instanceId: r.instanceId,
      operation,
      planId: r.planId,
      parameters: r.parameters,
      context: {},
      maintenanceInfo: { version: target.version },
      timeoutSeconds: target.timeoutSeconds,
    },
    // The digest of a PATCH that changes nothing but maintenance_info: the platform's own retry of one joins this update.
    memo: { operation, requestDigest: instanceDigest(r) },
    subject: { instanceId: r.instanceId, service: target.service.name, plan: target.plan.name, org: r.org, space: r.space },
  };
}
