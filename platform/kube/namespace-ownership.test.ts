import { describe, expect, it } from 'vitest';
import { namespaceOwner, ownsNamespace } from './namespace-ownership.js';

const ns = (labels?: Record<string, string>) => ({ metadata: { name: 'n', ...(labels ? { labels } : {}) } });

describe('namespace ownership', () => {
  it("is the instance's only when the broker labelled the namespace as made for it", () => {
    const made = ns({ 'app.kubernetes.io/managed-by': 'kubernetes-broker', service_id: 'a' });
    expect(namespaceOwner(made)).toBe('a');
    expect(ownsNamespace(made, 'a')).toBe(true);
    expect(ownsNamespace(made, 'b')).toBe(false);
    // A tenant's namespace that only names an instance, one without labels, one managed by someone else.
    expect(ownsNamespace(ns({ service_id: 'a' }), 'a')).toBe(false);
    expect(namespaceOwner(ns())).toBeUndefined();
    expect(namespaceOwner(ns({ 'app.kubernetes.io/managed-by': 'helm', service_id: 'a' }))).toBeUndefined();
    expect(namespaceOwner(ns({ 'app.kubernetes.io/managed-by': 'kubernetes-broker', service_id: '' }))).toBeUndefined();
  });
});
