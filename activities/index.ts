// All activities of the broker, built once by the worker around its clients.
import type { ActivityDeps } from './deps.js';
import { createApplyActivities } from './apply-objects.js';
import { createBindingActivities } from './bindings.js';
import { createDeleteActivities } from './delete-objects.js';
import { createInstanceRecordActivities, createInstanceStateWriter } from './instance-records.js';
import { createLifecycleHookActivities } from './lifecycle-hooks.js';
import { createUpgradeActivities } from './plan-upgrades.js';
import { createWaitReadyActivities } from './wait-ready.js';

export function createActivities(deps: ActivityDeps) {
  const setState = createInstanceStateWriter(deps);
  return {
    ...createInstanceRecordActivities(deps, setState),
    ...createApplyActivities(deps),
    ...createWaitReadyActivities(deps, (instanceId, readAhead) => setState({ instanceId, state: 'ready' }, readAhead)),
    ...createDeleteActivities(deps),
    ...createBindingActivities(deps),
    ...createLifecycleHookActivities(deps),
    ...createUpgradeActivities(deps),
  };
}

/** The type workflows proxy; they import nothing else from activities. */
export type BrokerActivities = ReturnType<typeof createActivities>;
export type { ActivityDeps, ActivitySettings } from './deps.js';
