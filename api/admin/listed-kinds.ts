// The kinds the admin views list. Under the per-instance strategy the API may read no Secret and
// no ConfigMap outside the broker's namespace (deploy/overlays/per-instance-namespaces), and an
// instance's objects are all in its own namespace: its views leave those two kinds out, and an
// orphan is an instance namespace without a record (what is in it goes with it).
import { sweptKinds, type KindRef } from '../../platform/kube/owned-kinds.js';
import type { AdminDeps } from './deps.js';

const NOT_READ_PER_INSTANCE = new Set(['Secret', 'ConfigMap']);

/** The kinds `instances show` lists of an instance. */
export function instanceKinds(deps: AdminDeps): KindRef[] {
  const perInstance = deps.settings.perInstanceNamespaces;
  return sweptKinds(deps.catalog, perInstance).filter(
    (k) => k.kind !== 'Namespace' && !(perInstance && k.apiVersion === 'v1' && NOT_READ_PER_INSTANCE.has(k.kind)),
  );
}

/** The kinds orphans are looked for among. */
export function orphanKinds(deps: AdminDeps): KindRef[] {
  return deps.settings.perInstanceNamespaces ? [{ apiVersion: 'v1', kind: 'Namespace' }] : sweptKinds(deps.catalog, false);
}
