import { describe, expect, it } from 'vitest';
import type { Randoms } from '../catalog/types.js';
import type { InstanceRecord } from '../platform/kube/records.js';
import { instanceValues } from './deps.js';

const ID = 'test-instance-0001';
const record = (over: Partial<InstanceRecord> = {}): InstanceRecord => ({
  instanceId: ID,
  serviceId: 's',
  planId: 'p',
  parameters: {},
  context: {},
  org: 'o',
  space: 'sp',
  namespace: 'ns',
  ownsNamespace: false,
  state: 'ready',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  ...over,
});
const settings = {
  storageClass: '',
  externalAddresses: false,
  perInstanceNamespaces: false,
  namespaceStrategy: 'fixed' as const,
  instanceNamespace: 'instances',
  installation: 'test',
  instanceNetworkPolicies: true,
};
const randoms = {} as Randoms;

describe('instanceValues', () => {
  it("renders a record's objects with the scheme it was provisioned with; a record without one has the old names", () => {
    const old = instanceValues({ record: record(), randoms }, settings);
    const now = instanceValues({ record: record({ nameScheme: 'hashed' }), randoms }, settings);
    expect(old.nameScheme).toBe('legacy');
    expect(now.nameScheme).toBe('hashed');
    // Overrides of a render (an update's parameters, a binding) keep the scheme.
    expect(instanceValues({ record: record(), randoms }, settings, { bindingId: 'b' }).nameScheme).toBe('legacy');
  });
});
