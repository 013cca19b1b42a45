// Renders a plan's Kubernetes templates for one instance: a deep copy of each parsed template
// with placeholders filled in string values (never keys), then the broker's own guarantees:
// labels that find every object (and every pod and claim) of the instance, the instance's
// namespace, and StatefulSet claims that go away with the instance.
import { RenderError } from './errors.js';
import { isClusterScopedKind, podTemplatePath } from './kinds.js';
import { INSTANCE_ID_LABEL, isValidLabelValue, LEGACY_MANAGED_BY, LEGACY_MANAGED_BY_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from './labels.js';
import { idxAndShortServiceId, isDns1035Label, isDnsSubdomain, nameSchemeOf } from './naming.js';
import { declaredParameters } from './parameters.js';
import { REMOVE_FIELD, renderLeaf, tokenize, type PlaceholderToken, type Scope } from './placeholders.js';
import type { InstanceValues, KubernetesObject, Plan, ServiceOffering, Template } from './types.js';
import { templateValueText, type ValueScope } from './values.js';
import { isObject, type Json } from './json.js';

/** The objects of one instance of a plan, in creation order. Throws RenderError. */
export function renderPlan(service: ServiceOffering, plan: Plan, values: InstanceValues): KubernetesObject[] {
  // Deprovision finds objects by this label: an id that cannot be one would leave them behind.
  if (!values.instanceId || !isValidLabelValue(values.instanceId)) {
    throw new RenderError(`instance id ${JSON.stringify(values.instanceId)} cannot be a Kubernetes label value (at most 63 letters, digits, '-', '_', '.')`);
  }
  const params = declaredParameters(plan.schemas);
  return plan.templates.map((template) => renderTemplate(service, plan, values, template, params));
}

/**
 * One template, rendered with the broker's labels and namespace. `names`: the placeholders the
 * template may use (`hook` for bind and unbind hooks, which also know `$binding_id`).
 */
export function renderTemplate(
  service: ServiceOffering,
  plan: Plan,
  values: InstanceValues,
  template: Template,
  params: readonly string[] = declaredParameters(plan.schemas),
  names: Scope = 'template',
): KubernetesObject {
  const scope: ValueScope = { service, plan, values, index: template.index, file: template.file };
  const object = fill(template.body, '', scope, params, names) as KubernetesObject;
  if (!isObject(object.metadata)) object.metadata = { name: '' };
  const metadata = object.metadata;
  const name = metadata.name;
  if (typeof name !== 'string' || !isDnsSubdomain(name) || (object.kind === 'Service' && !isDns1035Label(name))) {
    throw new RenderError(`metadata.name ${JSON.stringify(name)} is not a valid name for a ${object.kind}`, template.file);
  }
  metadata.labels = labels(standardLabels(service, plan, values, template.index), metadata.labels, values.instanceId);
  if (metadata.annotations !== undefined) metadata.annotations = stringMap(metadata.annotations);
  if (isClusterScopedKind(object.kind)) delete metadata.namespace;
  else metadata.namespace = values.namespace;
  for (const pod of podTemplates(object)) {
    if (!isObject(pod.metadata)) pod.metadata = {};
    const podMetadata = pod.metadata as Json;
    podMetadata.labels = labels({}, podMetadata.labels, values.instanceId);
  }
  if (object.kind === 'StatefulSet' && isObject(object.spec)) statefulSetClaims(object.spec, values.instanceId);
  return object;
}

/** Copies a template body, filling placeholders in string values; `$storage_class` may remove a field. */
function fill(node: unknown, path: string, scope: ValueScope, params: readonly string[], names: Scope): unknown {
  if (typeof node === 'string') return node.includes('$') ? fillString(node, path, scope, params, names) : node;
  if (Array.isArray(node)) {
    const out: unknown[] = [];
    node.forEach((item, i) => {
      const v = fill(item, `${path}[${i}]`, scope, params, names);
      if (v !== REMOVE_FIELD) out.push(v);
    });
    return out;
  }
  if (isObject(node)) {
    const out: Json = {};
    for (const [key, item] of Object.entries(node)) {
      const v = fill(item, path ? `${path}.${key}` : key, scope, params, names);
      if (v !== REMOVE_FIELD) out[key] = v;
    }
    return out;
  }
  return node;
}

/**
 * A container's env value is a string for Kubernetes, whatever the parameter's type: a number
 * or boolean passed to a script through `value: "$param_<name>"` arrives as its text.
 */
const ENV_VALUE = /(?:containers|initContainers|ephemeralContainers)\[\d+\]\.env\[\d+\]\.value$/;

function fillString(text: string, path: string, scope: ValueScope, params: readonly string[], names: Scope): unknown {
  const { tokens, unknown } = tokenize(text, { scope: names, params });
  if (unknown.length) throw new RenderError(`${path}: ${unknown.map((u) => u.message).join('; ')}`, scope.file);
  const asText = ENV_VALUE.test(path);
  try {
    return renderLeaf(tokens, {
      storageClass: scope.values.storageClass,
      // No own value: the parameter goes in as text.
      param: (name) => (asText ? undefined : scope.values.parameters[name]),
      text: (p: PlaceholderToken) => {
        const value = templateValueText(p, scope);
        if (value === undefined) throw new RenderError(`${p.raw} is not available in Kubernetes templates`, scope.file);
        return value;
      },
    });
  } catch (err) {
    if (err instanceof RenderError) throw new RenderError(`${path}: ${err.detail}`, scope.file);
    throw err;
  }
}

/** The labels every object gets (the old broker's set, plus the current managed-by label). */
export function standardLabels(service: Pick<ServiceOffering, 'id'>, plan: Pick<Plan, 'id'>, values: InstanceValues, index: number): Record<string, string> {
  return {
    org: values.org,
    space: values.space,
    catalog_service_id: service.id,
    catalog_plan_id: plan.id,
    [INSTANCE_ID_LABEL]: values.instanceId,
    idx_and_short_serviceid: idxAndShortServiceId(values.instanceId, index, nameSchemeOf(values)),
    [LEGACY_MANAGED_BY_LABEL]: LEGACY_MANAGED_BY,
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
}

/**
 * Standard labels, then the template's own (they keep their values: `idx_and_short_serviceid`
 * with a `-node1` suffix tells nodes apart), then the two the broker finds objects by, which
 * nothing may override. Empty or invalid values (an empty org, a strange parameter) are left out.
 */
function labels(standard: Record<string, string>, own: unknown, instanceId: string): Record<string, string> {
  const merged: Record<string, string> = {
    ...standard,
    ...stringMap(own),
    [INSTANCE_ID_LABEL]: instanceId,
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
  for (const [key, value] of Object.entries(merged)) if (value === '' || !isValidLabelValue(value)) delete merged[key];
  return merged;
}

/** Labels and annotations are string maps: a `$param_` number becomes its text. */
function stringMap(map: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(map)) return out;
  for (const [key, value] of Object.entries(map)) {
    if (typeof value === 'string') out[key] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
  }
  return out;
}

/** Pod templates of a workload (and of a CronJob): where the pods' labels are set. */
function podTemplates(object: KubernetesObject): Json[] {
  const path = podTemplatePath(object.kind);
  let node: unknown = object;
  for (const key of path ?? []) node = isObject(node) ? node[key] : undefined;
  return path && isObject(node) ? [node] : [];
}

/** Claims a StatefulSet creates are found by the instance labels and deleted with it. */
function statefulSetClaims(spec: Json, instanceId: string): void {
  if (Array.isArray(spec.volumeClaimTemplates)) {
    for (const claim of spec.volumeClaimTemplates) {
      if (!isObject(claim)) continue;
      if (!isObject(claim.metadata)) claim.metadata = {};
      const metadata = claim.metadata as Json;
      metadata.labels = labels({}, metadata.labels, instanceId);
    }
  }
  if (spec.persistentVolumeClaimRetentionPolicy === undefined) {
    spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Retain' };
  }
}
