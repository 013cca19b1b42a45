// Where an instance's objects go: a fixed namespace, one namespace per instance, or the
// namespace the platform names in the OSB Kubernetes context.
import { createHash } from 'node:crypto';
import { badRequest } from '../api/errors.js';

export type NamespaceStrategy = 'fixed' | 'per-instance' | 'context';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function instanceNamespace(
  strategy: NamespaceStrategy,
  fixed: string,
  instanceId: string,
  context: Record<string, unknown>,
): { namespace: string; ownsNamespace: boolean } {
  switch (strategy) {
    case 'fixed':
      return { namespace: fixed, ownsNamespace: false };
    case 'per-instance': {
      const readable = `si-${instanceId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.replace(/-+$/, '');
      const namespace = DNS_LABEL.test(readable) ? readable : `si-${createHash('sha256').update(instanceId).digest('hex').slice(0, 40)}`;
      return { namespace, ownsNamespace: true };
    }
    case 'context': {
      const ns = context['namespace'];
      if (ns === undefined) return { namespace: fixed, ownsNamespace: false };
      if (typeof ns !== 'string' || !DNS_LABEL.test(ns)) {
        throw badRequest('context.namespace must be a Kubernetes namespace name (lowercase letters, digits and -, at most 63)');
      }
      return { namespace: ns, ownsNamespace: false };
    }
  }
}
