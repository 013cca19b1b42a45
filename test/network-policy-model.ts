// A model of NetworkPolicy ingress (networking.k8s.io/v1, as the Kubernetes documentation
// defines it) for tests on clusters whose CNI enforces nothing (KWOK): whether a pod may open a
// connection to another, given every policy. Label selectors: matchLabels and matchExpressions
// (In, NotIn, Exists, DoesNotExist), ANDed; `{}` selects everything. ipBlock peers select no pod.

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}
interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
export interface NetworkPolicy {
  metadata: { namespace?: string };
  spec: { podSelector: LabelSelector; policyTypes?: string[]; ingress?: { from?: Peer[]; ports?: { port?: string | number }[] }[] };
}
export interface PodAt {
  namespace: string;
  /** The namespace's labels (kubernetes.io/metadata.name is added, as the API server does). */
  namespaceLabels?: Record<string, string>;
  labels: Record<string, string>;
}

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(labels[e.key]!);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(labels[e.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
  return byLabel && byExpression;
}

const namespaceLabels = (p: PodAt) => ({ ...p.namespaceLabels, 'kubernetes.io/metadata.name': p.namespace });

function peerAdmits(peer: Peer, policyNamespace: string, from: PodAt): boolean {
  if (peer.ipBlock) return false;
  const inNamespace = peer.namespaceSelector ? selects(peer.namespaceSelector, namespaceLabels(from)) : from.namespace === policyNamespace;
  return inNamespace && (!peer.podSelector || selects(peer.podSelector, from.labels));
}

/** Whether `from` may connect to `to` on `port` (a number or a named port). */
export function ingressAllowed(policies: NetworkPolicy[], from: PodAt, to: PodAt, port: string | number): boolean {
  const isolating = policies.filter(
    (p) => (p.metadata.namespace ?? '') === to.namespace && (p.spec.policyTypes ?? ['Ingress']).includes('Ingress') && selects(p.spec.podSelector, to.labels),
  );
  if (isolating.length === 0) return true;
  return isolating.some((p) =>
    (p.spec.ingress ?? []).some(
      (rule) =>
        (!rule.ports?.length || rule.ports.some((r) => r.port === undefined || r.port === port)) &&
        (!rule.from?.length || rule.from.some((peer) => peerAdmits(peer, to.namespace, from))),
    ),
  );
}
