// Upgrades of objects written for old Kubernetes versions, so that old catalogs load unmodified
// on current clusters. Pure: returns a new object and, for the operator, what was changed.
import type { KubernetesObject } from './types.js';

const APPS_V1 = 'apps/v1';

/** apiVersions that current clusters no longer serve, per kind, all replaced by apps/v1. */
const LEGACY_API_VERSIONS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['extensions/v1beta1', 'extensions/v1beta', 'apps/v1beta1', 'apps/v1beta2'],
  ReplicaSet: ['extensions/v1beta1', 'extensions/v1beta', 'apps/v1beta1', 'apps/v1beta2'],
  DaemonSet: ['extensions/v1beta1', 'extensions/v1beta', 'apps/v1beta1', 'apps/v1beta2'],
  StatefulSet: ['apps/v1beta1', 'apps/v1beta2'],
};

/**
 * The spec fields of the apps/v1 kinds. Fields outside these were removed (`rollbackTo`,
 * `templateGeneration`) or never existed and were silently ignored by old clusters (the seed's
 * `selectors` typo); a current cluster rejects or warns about them.
 */
const APPS_V1_SPEC_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Deployment: ['replicas', 'selector', 'template', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'],
  ReplicaSet: ['replicas', 'minReadySeconds', 'selector', 'template'],
  DaemonSet: ['selector', 'template', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'],
  StatefulSet: [
    'replicas', 'selector', 'template', 'volumeClaimTemplates', 'serviceName', 'podManagementPolicy', 'updateStrategy',
    'revisionHistoryLimit', 'minReadySeconds', 'persistentVolumeClaimRetentionPolicy', 'ordinals',
  ],
};

export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

export interface LegacyUpgrade {
  object: KubernetesObject;
  /** Human-readable changes, empty when the object was current. */
  changes: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Upgrades a copy of the object; an object that needs nothing is returned as is. */
export function upgradeLegacy(input: KubernetesObject): LegacyUpgrade {
  if (!needsUpgrade(input)) return { object: input, changes: [] };
  const object = structuredClone(input);
  const changes: string[] = [];
  const legacy = LEGACY_API_VERSIONS[object.kind];
  if (legacy?.includes(object.apiVersion)) {
    changes.push(`${object.kind} ${object.apiVersion} upgraded to ${APPS_V1}`);
    object.apiVersion = APPS_V1;
    const spec = isObject(object.spec) ? object.spec : undefined;
    if (spec) {
      const allowed = APPS_V1_SPEC_FIELDS[object.kind] ?? [];
      const dropped = Object.keys(spec).filter((k) => !allowed.includes(k));
      for (const k of dropped) delete spec[k];
      if (dropped.length) changes.push(`dropped ${dropped.map((k) => `spec.${k}`).join(', ')} (not in ${APPS_V1} ${object.kind})`);
      // apps/v1 requires a selector; old versions defaulted it to the pod template's labels.
      const labels = podTemplateLabels(spec);
      if (!isObject(spec.selector) && labels && Object.keys(labels).length) {
        spec.selector = { matchLabels: { ...labels } };
        changes.push('added spec.selector from the pod template labels');
      }
    }
  }
  if (object.kind === 'PersistentVolumeClaim') {
    const moved = moveStorageClassAnnotation(object);
    if (moved) changes.push(`PersistentVolumeClaim: ${moved}`);
  }
  if (object.kind === 'StatefulSet' && isObject(object.spec) && Array.isArray(object.spec.volumeClaimTemplates)) {
    object.spec.volumeClaimTemplates.forEach((claim: unknown, i: number) => {
      const moved = isObject(claim) ? moveStorageClassAnnotation(claim) : undefined;
      if (moved) changes.push(`spec.volumeClaimTemplates[${i}]: ${moved}`);
    });
  }
  return { object, changes };
}

function needsUpgrade(o: KubernetesObject): boolean {
  if (LEGACY_API_VERSIONS[o.kind]?.includes(o.apiVersion)) return true;
  if (o.kind === 'PersistentVolumeClaim') return hasBetaStorageClass(o);
  if (o.kind === 'StatefulSet' && isObject(o.spec) && Array.isArray(o.spec.volumeClaimTemplates)) {
    return o.spec.volumeClaimTemplates.some((c: unknown) => isObject(c) && hasBetaStorageClass(c));
  }
  return false;
}

function hasBetaStorageClass(claim: Json): boolean {
  const metadata = claim.metadata;
  return isObject(metadata) && isObject(metadata.annotations) && BETA_STORAGE_CLASS_ANNOTATION in metadata.annotations;
}

function podTemplateLabels(spec: Json): Json | undefined {
  const template = spec.template;
  if (!isObject(template) || !isObject(template.metadata)) return undefined;
  const labels = template.metadata.labels;
  return isObject(labels) ? labels : undefined;
}

/** The beta annotation became `spec.storageClassName` (Kubernetes 1.6). */
function moveStorageClassAnnotation(claim: Json): string | undefined {
  if (!hasBetaStorageClass(claim)) return undefined;
  const metadata = claim.metadata as Json;
  const annotations = metadata.annotations as Json;
  const value = annotations[BETA_STORAGE_CLASS_ANNOTATION];
  delete annotations[BETA_STORAGE_CLASS_ANNOTATION];
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  if (!isObject(claim.spec)) claim.spec = {};
  const spec = claim.spec as Json;
  if (spec.storageClassName !== undefined) {
    return `dropped annotation ${BETA_STORAGE_CLASS_ANNOTATION} (spec.storageClassName is set)`;
  }
  spec.storageClassName = value;
  return `moved annotation ${BETA_STORAGE_CLASS_ANNOTATION} to spec.storageClassName`;
}
