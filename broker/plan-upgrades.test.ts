import { describe, expect, it } from 'vitest';
import type { Plan, ServiceOffering } from '../catalog/types.js';
import { operationType } from '../platform/temporal/ids.js';
import { instanceDigest } from './digest.js';
import { planUpgrades } from './plan-upgrades.js';
import { instanceRecord } from './testing.js';

const plan = { id: instanceRecord.planId, name: 'small', maintenanceInfo: { version: '2.0.0' } } as Plan;
const service = { id: instanceRecord.serviceId, name: 'db', plans: [plan] } as unknown as ServiceOffering;
const target = { service, plan, version: '2.0.0', timeoutSeconds: 60 };
const record = (instanceId: string, extra: Partial<typeof instanceRecord> = {}) => ({ ...instanceRecord, instanceId, ...extra });

describe('planUpgrades', () => {
  it('sorts the instances of the plan: current, busy (failed, saying why), to upgrade; other plans are not its business', () => {
    const planned = planUpgrades(
      [
        record('old', { maintenanceInfo: { version: '1.0.0' }, parameters: { memory: '1Gi' }, createdAt: '2026-01-02T00:00:00Z' }),
        record('unversioned', { createdAt: '2026-01-01T00:00:00Z' }),
        record('current', { maintenanceInfo: { version: '2.0.0' } }),
        record('busy', { state: 'updating' }),
        record('other-plan', { planId: 'db-large-id' }),
      ],
      target,
    );
    expect(planned.upgrades.map((u) => u.input.instanceId)).toEqual(['unversioned', 'old']); // oldest first
    expect(planned.settled).toEqual([
      { instanceId: 'current', outcome: 'current' },
      { instanceId: 'busy', outcome: 'failed', description: expect.stringMatching(/^the instance is updating: another operation .* run the upgrade again/) },
    ]);
  });

  it("each update is the one a platform's PATCH with the new maintenance_info starts: same plan and parameters, its digest, an update token", () => {
    const r = record('old', { maintenanceInfo: { version: '1.0.0' }, parameters: { memory: '1Gi' } });
    const [u] = planUpgrades([r], target).upgrades;
    expect(u!.input).toEqual({
      instanceId: 'old',
      operation: u!.memo.operation,
      planId: r.planId,
      parameters: { memory: '1Gi' },
      context: {},
      maintenanceInfo: { version: '2.0.0' },
      timeoutSeconds: 60,
    });
    expect(operationType(u!.memo.operation)).toBe('update');
    expect(u!.memo.requestDigest).toBe(instanceDigest(r));
    expect(u!.subject).toEqual({ instanceId: 'old', service: 'db', plan: 'small', org: 'org-1', space: 'space-1' });
  });
});
