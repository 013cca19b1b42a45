// Where an instance's objects go: a fixed namespace, one namespace per instance, or the
// namespace the platform names in the OSB Kubernetes context. Asked by the API when it accepts a
// provision (broker/namespaces.ts answers 400) and by the worker when it verifies one.
import { createHash } from 'node:crypto';

/** The context names no namespace the broker may use. */
export class NamespaceRefused extends Error {
  override readonly name = 'NamespaceRefused';
}

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
      // Readable, and unique: ids that differ only in case or punctuation (ABC, abc, a.b, a_b)
      // map to the same readable part, so a hash of the exact id follows it.
      const readable = instanceId
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 40)
        .replace(/-+$/, '');
      const hash = createHash('sha256').update(instanceId).digest('hex').slice(0, 10);
      return { namespace: readable ? `si-${readable}-${hash}` : `si-${hash}`, ownsNamespace: true };
    }
    case 'context': {
      const ns = context['namespace'];
      if (ns === undefined) return { namespace: fixed, ownsNamespace: false };
      if (typeof ns !== 'string' || !DNS_LABEL.test(ns)) {
        throw new NamespaceRefused('context.namespace must be a Kubernetes namespace name (lowercase letters, digits and -, at most 63)');
      }
      return { namespace: ns, ownsNamespace: false };
    }
  }
}
