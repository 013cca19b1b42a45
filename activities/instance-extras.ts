// What the worker applies with every instance besides its plan's templates, first: the namespace
// it makes for the instance (per-instance strategy), labelled as the broker's and with the plan's
// Pod Security level, and the NetworkPolicy that isolates the instance. The record's kinds
// (written at provision) and the apply both take them from here, so the deprovision sweeps them.
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../catalog/labels.js';
import { podSecurityLabels } from '../catalog/pod-security.js';
import type { KubernetesObject, Plan } from '../catalog/types.js';
import { INSTANCE_NAMESPACE_LABEL, isolationPolicyFor } from '../platform/kube/instance-network-policy.js';
import type { ActivitySettings } from './deps.js';

export function instanceExtras(
  settings: Pick<ActivitySettings, 'instanceNetworkPolicies'>,
  instance: { instanceId: string; namespace: string; ownsNamespace: boolean },
  plan: Pick<Plan, 'podSecurity'>,
): KubernetesObject[] {
  const { instanceId, namespace } = instance;
  const labels = { [INSTANCE_ID_LABEL]: instanceId, [MANAGED_BY_LABEL]: MANAGED_BY };
  return [
    // Labelled as the broker's for this instance (platform/kube/namespace-ownership.ts) and as holding instances.
    ...(instance.ownsNamespace
      ? [
          {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: namespace, labels: { ...labels, [INSTANCE_NAMESPACE_LABEL]: 'true', ...podSecurityLabels(plan.podSecurity) } },
          },
        ]
      : []),
    // Before the plan's objects: its pods start isolated.
    ...(settings.instanceNetworkPolicies ? [isolationPolicyFor(instanceId, namespace)] : []),
  ];
}
