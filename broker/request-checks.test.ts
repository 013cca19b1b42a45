import { describe, expect, it } from 'vitest';
import type { Plan, Template } from '../catalog/types.js';
import { BrokerError } from './errors.js';
import { checkBindMaintenance } from './request-checks.js';
import { instanceRecord } from './testing.js';

const bindHook = { onBindInstance: [{} as Template] };
const plan = (extra: Partial<Plan>) => ({ id: 'plan-id', name: 'small', maintenanceInfo: { version: '1.1.0' }, ...extra }) as Plan;
const at = (version?: string) => ({ ...instanceRecord, instanceId: 'i-1', ...(version ? { maintenanceInfo: { version } } : {}) });
const refusal = (f: () => void) => {
  try {
    f();
  } catch (err) {
    return err instanceof BrokerError ? { status: err.status, description: err.description } : err;
  }
  return undefined;
};

describe('checkBindMaintenance', () => {
  it('refuses, 422, to bind an instance behind a plan that binds through hooks, saying which update and how', () => {
    expect(refusal(() => checkBindMaintenance(at('1.0.0'), plan({ hooks: bindHook })))).toEqual({
      status: 422,
      description:
        'instance i-1 of plan small is at maintenance_info 1.0.0 and the plan\'s bind hooks need maintenance_info 1.1.0: apply the instance\'s maintenance update first (an operator: kubernetes-broker upgrade --plan plan-id; the platform: PATCH /v2/service_instances/i-1 with "maintenance_info": {"version": "1.1.0"}), then bind again. Nothing was created.',
    });
    expect(refusal(() => checkBindMaintenance(at(), plan({ hooks: bindHook })))).toMatchObject({
      status: 422,
      description: expect.stringContaining('is at maintenance_info none (made before the plan had one) and'),
    });
  });

  it('lets the bind go on when the instance is current, the plan has no bind hook, or no maintenance_info to compare', () => {
    expect(refusal(() => checkBindMaintenance(at('1.1.0'), plan({ hooks: bindHook })))).toBeUndefined();
    expect(refusal(() => checkBindMaintenance(at('1.0.0'), plan({ hooks: { onUnbindInstance: [{} as Template] } })))).toBeUndefined();
    expect(refusal(() => checkBindMaintenance(at('1.0.0'), plan({ hooks: bindHook, maintenanceInfo: undefined })))).toBeUndefined();
  });
});
