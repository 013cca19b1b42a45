// Whether a namespace is one the broker made for an instance. Kubernetes RBAC cannot grant
// "patch or delete only the namespaces labelled so", so the worker asks this before it applies
// (patches) or deletes a namespace, and deploy/overlays/per-instance-namespaces refuses the rest
// at admission (a ValidatingAdmissionPolicy on the same labels). The one place that decides:
// when objects carry an installation label, this is where the namespace's check adds it.
import { INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';

/** The instance a namespace was made for, when the broker made it; undefined for any other namespace. */
export function namespaceOwner(ns: Pick<KubernetesObject, 'metadata'>): string | undefined {
  const labels = ns.metadata.labels ?? {};
  if (labels[MANAGED_BY_LABEL] !== MANAGED_BY) return undefined;
  return labels[INSTANCE_ID_LABEL] || undefined;
}

/** Whether the broker made this namespace for this instance: the test before patching or deleting it. */
export const ownsNamespace = (ns: Pick<KubernetesObject, 'metadata'>, instanceId: string): boolean => namespaceOwner(ns) === instanceId;
