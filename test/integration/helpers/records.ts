// Instance records as tests write them straight into a RecordStore (no broker involved).
import type { InstanceRecord } from '../../../platform/kube/records.js';

/** A minimal ready instance record of `org`, on `cluster` (absent: the default). */
export function testRecord(instanceId: string, org: string, cluster?: string): InstanceRecord {
  const now = new Date().toISOString();
  return {
    instanceId,
    serviceId: 'svc',
    planId: 'plan',
    parameters: {},
    context: {},
    org,
    space: 'space',
    namespace: 'ns',
    ownsNamespace: false,
    ...(cluster ? { cluster } : {}),
    state: 'ready',
    createdAt: now,
    updatedAt: now,
  };
}
