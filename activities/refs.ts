// References to objects, the only form in which objects travel through workflow history.
import type { KubernetesObject } from '../catalog/types.js';
import type { ObjectRef } from '../workflows/types.js';

export const refOf = (o: KubernetesObject): ObjectRef => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  name: o.metadata.name,
  ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
});

export const refKey = (r: { kind: string; name: string; namespace?: string | undefined }) => `${r.kind}/${r.namespace ?? ''}/${r.name}`;

export const describeRef = (r: ObjectRef) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
