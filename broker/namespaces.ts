// The namespace strategy (platform/kube/namespaces.ts) for a request: a namespace the broker may
// not use is the platform's mistake, a 400.
import { instanceNamespace as strategyNamespace, NamespaceRefused, type NamespaceStrategy } from '../platform/kube/namespaces.js';
import { badRequest } from './errors.js';

export type { NamespaceStrategy };

export function instanceNamespace(...args: Parameters<typeof strategyNamespace>): ReturnType<typeof strategyNamespace> {
  try {
    return strategyNamespace(...args);
  } catch (err) {
    if (err instanceof NamespaceRefused) throw badRequest(err.message);
    throw err;
  }
}
