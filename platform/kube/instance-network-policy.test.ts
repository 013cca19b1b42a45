import { describe, expect, it } from 'vitest';
import { ingressAllowed, type NetworkPolicy, type PodAt } from '../../test/network-policy-model.js';
import { INSTANCE_NAMESPACE_LABEL, isolationPolicyFor, isolationPolicyName } from './instance-network-policy.js';

const broker = (id: string) => ({ service_id: id, 'app.kubernetes.io/managed-by': 'kubernetes-broker' });
const holdsInstances = { [INSTANCE_NAMESPACE_LABEL]: 'true' };
const pod = (namespace: string, labels: Record<string, string>, nsLabels: Record<string, string> = {}): PodAt => ({
  namespace,
  labels,
  namespaceLabels: nsLabels,
});
const policy = (id: string, ns: string) => isolationPolicyFor(id, ns) as unknown as NetworkPolicy;

describe("an instance's NetworkPolicy", () => {
  it('shared namespace (fixed strategy): its own pods and apps elsewhere reach it, another instance does not', () => {
    const policies = [policy('a', 'shared'), policy('b', 'shared')];
    const a = pod('shared', broker('a'), holdsInstances);
    const a2 = pod('shared', { ...broker('a'), role: 'replica' }, holdsInstances);
    const b = pod('shared', broker('b'), holdsInstances);
    const app = pod('apps', { app: 'web' });
    expect(ingressAllowed(policies, a2, a, 6379)).toBe(true);
    expect(ingressAllowed(policies, app, a, 6379)).toBe(true);
    expect(ingressAllowed(policies, b, a, 6379)).toBe(false);
    expect(ingressAllowed(policies, a, b, 6379)).toBe(false);
  });

  it('namespaces of their own (per-instance strategy): no instance reaches another', () => {
    const policies = [policy('a', 'si-a'), policy('b', 'si-b')];
    const a = pod('si-a', broker('a'), holdsInstances);
    const b = pod('si-b', broker('b'), holdsInstances);
    expect(ingressAllowed(policies, b, a, 6379)).toBe(false);
    expect(ingressAllowed(policies, a, b, 6379)).toBe(false);
    expect(ingressAllowed(policies, pod('apps', {}), a, 6379)).toBe(true);
  });

  it("a platform's namespace (context strategy, not labelled): its apps reach the instance, another instance there does not", () => {
    const policies = [policy('a', 'team'), policy('b', 'team')];
    const a = pod('team', broker('a'));
    expect(ingressAllowed(policies, pod('team', { app: 'web' }), a, 5432)).toBe(true);
    expect(ingressAllowed(policies, pod('team', broker('b')), a, 5432)).toBe(false);
  });

  it('has a name of its own per instance id, case included', () => {
    expect(isolationPolicyName('ABC')).not.toBe(isolationPolicyName('abc'));
    expect(isolationPolicyName('x'.repeat(300)).length).toBeLessThanOrEqual(63);
  });
});
