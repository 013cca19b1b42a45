// Upgrades of objects written for old Kubernetes versions, so that old catalogs load unmodified
// on current clusters. Pure: returns a new object and, for the operator, what was changed.
import { podTemplatePath } from './kinds.js';
import type { KubernetesObject } from './types.js';
import { isObject, type Json } from './json.js';

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
    'replicas',
    'selector',
    'template',
    'volumeClaimTemplates',
    'serviceName',
    'podManagementPolicy',
    'updateStrategy',
    'revisionHistoryLimit',
    'minReadySeconds',
    'persistentVolumeClaimRetentionPolicy',
    'ordinals',
  ],
};

export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

export interface LegacyUpgrade {
  object: KubernetesObject;
  /** Human-readable changes of the object as a whole (apiVersion, annotations), empty when it was current. */
  changes: string[];
  /** Fields of FIELD_FIXES found and fixed, one entry each: the field as written and what became of it. */
  fieldFixes: FieldFixed[];
}

export interface FieldFixed {
  /** Path of the field as written, `spec.template.spec.containers[0].securityContext.add`. */
  field: string;
  message: string;
}

/**
 * Where a field fix applies: for an object, the paths of the JSON objects holding the field
 * (`[]` after a name walks the array).
 */
type Location = (o: KubernetesObject) => readonly string[];

/**
 * A field written in the wrong case or the wrong place, and where it belongs.
 * `case`: the field is `field`, written in another case (`ClusterIP`); renamed.
 * `move`: a list at `field` of a `holder` object belongs at `to` (a path within the same
 * object); moved, or merged into the list already there.
 */
type FieldFix = { at: Location; fix: 'case'; field: string } | { at: Location; fix: 'move'; holder: string; field: string; to: readonly [string, string] };

/** The securityContext of every container and init container, in the pod spec of the kinds with one. */
const CONTAINER_SECURITY_CONTEXTS: Location = (o) => {
  const template = podTemplatePath(o.kind);
  const pod = o.kind === 'Pod' ? 'spec' : template ? `${template.join('.')}.spec` : undefined;
  return pod ? [`${pod}.containers[].securityContext`, `${pod}.initContainers[].securityContext`] : [];
};
const SERVICE_SPEC: Location = (o) => (o.kind === 'Service' ? ['spec'] : []);

/**
 * Fields old catalogs got wrong that old API servers let pass and current ones refuse. Old API
 * servers decoded JSON with Go's encoding/json: a key matched a field in any case (`ClusterIP`
 * set `clusterIP`) and an unknown key was dropped without a word. Current ones match field
 * names exactly, and server-side apply refuses an unknown field ("field not declared in
 * schema"). Add a row when another catalog shows another such mistake.
 */
const FIELD_FIXES: readonly FieldFix[] = [
  // The seed's headless discovery Services (elasticsearch24, elasticsearch56): `"ClusterIP": "None"`.
  { at: SERVICE_SPEC, fix: 'case', field: 'clusterIP' },
  // The seed's elasticsearch Deployments: `"add": ["IPC_LOCK"]` beside `"privileged": true`.
  { at: CONTAINER_SECURITY_CONTEXTS, fix: 'move', holder: 'securityContext', field: 'add', to: ['capabilities', 'add'] },
  { at: CONTAINER_SECURITY_CONTEXTS, fix: 'move', holder: 'securityContext', field: 'drop', to: ['capabilities', 'drop'] },
];

const CASE_SENSITIVE = '(field names are case-sensitive; old API servers matched them in any case)';

/** `Array.isArray` that narrows to `unknown[]`, not `any[]`: the items are unchecked YAML. */
const isList = (v: unknown): v is unknown[] => Array.isArray(v);

/** Upgrades a copy of the object; an object that needs nothing is returned as is. */
export function upgradeLegacy(input: KubernetesObject): LegacyUpgrade {
  if (!needsUpgrade(input)) return { object: input, changes: [], fieldFixes: [] };
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
  const fieldFixes = fixFields(object, true);
  return { object, changes, fieldFixes };
}

function needsUpgrade(o: KubernetesObject): boolean {
  if (LEGACY_API_VERSIONS[o.kind]?.includes(o.apiVersion)) return true;
  if (fixFields(o, false).length) return true;
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

/** The FIELD_FIXES that apply to an object, made when `apply` (else the object is only read). */
function fixFields(object: KubernetesObject, apply: boolean): FieldFixed[] {
  const fixed: FieldFixed[] = [];
  for (const fix of FIELD_FIXES) {
    for (const pattern of fix.at(object)) {
      for (const { node, path } of select(object, pattern.split('.'), '')) {
        const field = (key: string) => `${path}.${key}`;
        if (fix.fix === 'case') {
          for (const key of Object.keys(node)) {
            if (key === fix.field || key.toLowerCase() !== fix.field.toLowerCase()) continue;
            if (fix.field in node) {
              fixed.push({ field: field(key), message: `dropped: ${field(fix.field)} is set ${CASE_SENSITIVE}` });
              if (apply) delete node[key];
            } else {
              fixed.push({ field: field(key), message: `renamed to ${field(fix.field)} ${CASE_SENSITIVE}` });
              if (apply) renameKey(node, key, fix.field);
            }
          }
          continue;
        }
        const value = node[fix.field];
        const [parentKey, key] = fix.to;
        const parent = node[parentKey];
        const existing = isObject(parent) ? parent[key] : undefined;
        // Anything but lists where lists belong is left for the API server to refuse: no guessing.
        if (!isList(value) || (parent !== undefined && !isObject(parent)) || (existing !== undefined && !isList(existing))) continue;
        const why = `(${fix.holder} has no field ${fix.field}; old API servers ignored it)`;
        fixed.push({ field: field(fix.field), message: `${existing ? 'merged into' : 'moved to'} ${fix.holder}.${fix.to.join('.')} ${why}` });
        if (!apply) continue;
        const target = isObject(parent) ? parent : (node[parentKey] = {});
        target[key] = existing ? [...existing, ...value.filter((v) => !existing.includes(v))] : value;
        delete node[fix.field];
      }
    }
  }
  return fixed;
}

/** The JSON objects at a path (`a.b[].c`: every `c` of the list `b`), with their concrete paths. */
function select(node: unknown, segments: readonly string[], path: string): { node: Json; path: string }[] {
  if (!isObject(node)) return [];
  if (segments.length === 0) return [{ node, path }];
  const [head, ...rest] = segments as [string, ...string[]];
  const join = (key: string) => (path ? `${path}.${key}` : key);
  if (!head.endsWith('[]')) return select(node[head], rest, join(head));
  const key = head.slice(0, -2);
  const list = node[key];
  return Array.isArray(list) ? list.flatMap((item, i) => select(item, rest, `${join(key)}[${i}]`)) : [];
}

/** Renames a key where it stands: the object's field order stays as written. */
function renameKey(node: Json, from: string, to: string): void {
  const entries = Object.entries(node);
  for (const [k] of entries) delete node[k];
  for (const [k, v] of entries) node[k === from ? to : k] = v;
}
