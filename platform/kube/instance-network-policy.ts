// The NetworkPolicy the worker applies with every instance (INSTANCE_NETWORK_POLICIES, on by
// default): the instance's pods accept connections from its own pods, from pods of its namespace
// that belong to no instance (apps under the context strategy), and from any namespace that holds
// no instances (where bound apps run). So another instance's pods cannot reach them. Made per
// instance by the worker, not shipped in deploy/: NetworkPolicy cannot say "the same instance as
// the target", and per-instance namespaces do not exist before the broker makes them.
// Only a CNI that enforces NetworkPolicy makes it a barrier; elsewhere it is an inert object.
import { createHash } from 'node:crypto';
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';

/**
 * On every namespace that holds instances: the namespaces the broker makes, the fixed one
 * (deploy/base/namespaces.yaml), and context namespaces the operator labels. Pods there reach an
 * instance only as the policy allows within its own namespace.
 */
export const INSTANCE_NAMESPACE_LABEL = 'kubernetes-broker.io/instance-namespace';

/** Distinct for distinct ids, whatever their case or length (a NetworkPolicy name is a DNS subdomain). */
export const isolationPolicyName = (instanceId: string) => `kb-isolation-${createHash('sha256').update(instanceId).digest('hex').slice(0, 20)}`;

export function isolationPolicyFor(instanceId: string, namespace: string): KubernetesObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: isolationPolicyName(instanceId), namespace, labels: { [INSTANCE_ID_LABEL]: instanceId, [MANAGED_BY_LABEL]: MANAGED_BY } },
    spec: {
      podSelector: { matchLabels: { [INSTANCE_ID_LABEL]: instanceId, [MANAGED_BY_LABEL]: MANAGED_BY } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            // Its own pods (replicas, cluster peers, lifecycle hook Jobs).
            { podSelector: { matchLabels: { [INSTANCE_ID_LABEL]: instanceId } } },
            // Pods of its namespace that are no instance's.
            { podSelector: { matchExpressions: [{ key: MANAGED_BY_LABEL, operator: 'NotIn', values: [MANAGED_BY] }] } },
            // Every pod of a namespace that holds no instances, this one excepted.
            {
              namespaceSelector: {
                matchExpressions: [
                  { key: INSTANCE_NAMESPACE_LABEL, operator: 'DoesNotExist' },
                  { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [namespace] },
                ],
              },
            },
          ],
        },
      ],
    },
  };
}
