// Checks that need a rendered plan: every plan is rendered once at load for a sample instance,
// so what is bound to fail for every instance (an invalid name, a selector Kubernetes refuses,
// a mapping that is not JSON) stops the load instead of a provision, and what is likely wrong
// (a reference to an object the plan does not create) is a warning.
import { credentialsNeeds, renderCredentials } from './credentials.js';
import { RenderError } from './errors.js';
import { isBuiltinKind, isWorkloadKind, podTemplatePath, POD_TEMPLATE_KINDS } from './kinds.js';
import { CURRENT_NAME_SCHEME, nameSchemeOf, shortServiceId } from './naming.js';
import { declaredParameters, parametersSchema } from './parameters.js';
import type { LexedJson, Token } from './placeholders.js';
import { renderPlan } from './render.js';
import type { CatalogProblem, InstanceFacts, InstanceValues, KubernetesObject, Plan, Randoms, ServiceFacts, ServiceOffering, Template } from './types.js';
import { isObject, type Json } from './json.js';

/** The instance the loader and `catalog render` render for. */
export const SAMPLE_INSTANCE_ID = '00000000-0000-4000-8000-000000000000';
/** The binding bind hooks and credentials mappings are rendered for at load. */
export const SAMPLE_BINDING_ID = '00000000-0000-4000-8000-0000000000b1';
const SAMPLE_NAMESPACE = 'default';

export interface ProblemSink {
  error(p: CatalogProblem): void;
  warn(p: CatalogProblem): void;
}

/** The texts of a plan's credentials, lexed by the loader. */
export interface CredentialsTexts {
  mapping: LexedJson;
  node?: LexedJson;
  uri?: readonly Token[];
  /** Where the texts come from, for warnings. */
  files: { mapping: string; node?: string; uri?: string };
}

/** Sample values for a plan: parameters from the schemas' defaults, or a value of their type. */
export function sampleValues(plan: Plan, randoms: Randoms = sampleRandoms()): InstanceValues {
  const parameters: Record<string, unknown> = {};
  for (const name of declaredParameters(plan.schemas)) {
    const property = [parametersSchema(plan.schemas, 'provision'), parametersSchema(plan.schemas, 'update')]
      .map((s) => (isObject(s) && isObject(s.properties) ? s.properties[name] : undefined))
      .find((p) => p !== undefined);
    parameters[name] = sampleOf(property);
  }
  return {
    instanceId: SAMPLE_INSTANCE_ID,
    org: '11111111-1111-4111-8111-111111111111',
    space: '22222222-2222-4222-8222-222222222222',
    namespace: SAMPLE_NAMESPACE,
    storageClass: 'sample-class',
    parameters,
    randoms,
    // New instances' names are the longest: checked against the limits of names and labels.
    nameScheme: CURRENT_NAME_SCHEME,
  };
}

function sampleRandoms(): Randoms {
  const randoms = {} as Randoms;
  for (let i = 0; i < 10; i++) randoms[`random${i}` as keyof Randoms] = `Sample${i}Rnd`;
  return randoms;
}

function sampleOf(property: unknown): unknown {
  if (!isObject(property)) return 'sample';
  if (property.default !== undefined) return property.default;
  if (property.const !== undefined) return property.const;
  if (Array.isArray(property.enum) && property.enum.length) return property.enum[0];
  const type: unknown = Array.isArray(property.type) ? property.type[0] : property.type;
  switch (type) {
    case 'integer':
    case 'number':
      return typeof property.minimum === 'number' ? property.minimum : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'object':
      return {};
    case 'array':
      return [];
    default:
      return 'sample';
  }
}

/** Renders the plan for a sample instance and checks the result. Sets `plan.credentials.unfillable`. */
export function checkPlanRender(service: ServiceOffering, plan: Plan, texts: CredentialsTexts | undefined, sink: ProblemSink): void {
  const values = sampleValues(plan);
  let objects: KubernetesObject[];
  try {
    objects = renderPlan(service, plan, values);
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    sink.error({ file: err.file ?? plan.dir, message: err.detail });
    return;
  }
  const rendered = objects.map((object, i) => ({ object, template: plan.templates[i]! }));
  const open = plan.templates.some((t) => !isBuiltinKind(t.kind));
  checkNames(rendered, sink);
  checkWorkloadSelectors(rendered, sink);
  checkReferences(rendered, shortServiceId(values.instanceId, nameSchemeOf(values)), open, sink);
  if (plan.credentials && texts) checkCredentials(service, plan, values, texts, rendered, open, sink);
}

interface Rendered {
  object: KubernetesObject;
  template: Template;
}

/** Two objects of one kind with one name: the second create would fail for every instance. */
function checkNames(rendered: Rendered[], sink: ProblemSink): void {
  const seen = new Map<string, Template>();
  for (const { object, template } of rendered) {
    const key = `${object.kind}/${object.metadata.name}`;
    const first = seen.get(key);
    if (first) sink.error({ file: template.file, field: 'metadata.name', message: `${object.kind} ${object.metadata.name} is also created by ${first.file}` });
    else seen.set(key, template);
  }
}

function podTemplateOf(object: KubernetesObject): { path: string; metadata: Json; spec: Json } | undefined {
  if (!isObject(object.spec)) return undefined;
  if (object.kind === 'Pod') return { path: 'spec', metadata: object.metadata, spec: object.spec };
  const path = podTemplatePath(object.kind);
  let template: unknown = object;
  for (const key of path ?? []) template = isObject(template) ? template[key] : undefined;
  if (!path || !isObject(template) || !isObject(template.spec)) return undefined;
  return { path: `${path.join('.')}.spec`, metadata: isObject(template.metadata) ? template.metadata : {}, spec: template.spec };
}

const labelsOf = (metadata: Json): Json => (isObject(metadata.labels) ? metadata.labels : {});
const within = (selector: Json, labels: Json) => Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Kubernetes refuses a workload whose selector does not select its own pod template. */
function checkWorkloadSelectors(rendered: Rendered[], sink: ProblemSink): void {
  for (const { object, template } of rendered) {
    if (!POD_TEMPLATE_KINDS.includes(object.kind) || object.kind === 'Job') continue;
    const spec = object.spec;
    if (!isObject(spec)) continue;
    const selector = spec.selector;
    const pod = podTemplateOf(object);
    if (!isObject(selector)) {
      if (object.apiVersion === 'apps/v1') sink.error({ file: template.file, field: 'spec.selector', message: `is required for an apps/v1 ${object.kind}` });
      continue;
    }
    const matchLabels = object.kind === 'ReplicationController' ? selector : selector.matchLabels;
    if (pod && isObject(matchLabels) && !within(matchLabels, labelsOf(pod.metadata))) {
      sink.error({
        file: template.file,
        field: object.kind === 'ReplicationController' ? 'spec.selector' : 'spec.selector.matchLabels',
        message: `${JSON.stringify(matchLabels)} does not select the pod template's labels ${JSON.stringify(labelsOf(pod.metadata))}; Kubernetes refuses such a ${object.kind}`,
      });
    }
  }
}

/** Names in pod specs and StatefulSets that point at other objects of the instance. */
function referencesOf(object: KubernetesObject): { field: string; kind: string; name: unknown }[] {
  const refs: { field: string; kind: string; name: unknown }[] = [];
  const pod = podTemplateOf(object);
  if (pod) {
    const { path, spec } = pod;
    if (spec.serviceAccountName !== undefined) refs.push({ field: `${path}.serviceAccountName`, kind: 'ServiceAccount', name: spec.serviceAccountName });
    list(spec.volumes).forEach((v, i) => {
      if (isObject(v.persistentVolumeClaim))
        refs.push({ field: `${path}.volumes[${i}].persistentVolumeClaim.claimName`, kind: 'PersistentVolumeClaim', name: v.persistentVolumeClaim.claimName });
      if (isObject(v.secret)) refs.push({ field: `${path}.volumes[${i}].secret.secretName`, kind: 'Secret', name: v.secret.secretName });
      if (isObject(v.configMap)) refs.push({ field: `${path}.volumes[${i}].configMap.name`, kind: 'ConfigMap', name: v.configMap.name });
    });
    for (const group of ['initContainers', 'containers'] as const) {
      list(spec[group]).forEach((c, i) => {
        list(c.env).forEach((e, j) => {
          const from = isObject(e.valueFrom) ? e.valueFrom : {};
          const at = `${path}.${group}[${i}].env[${j}].valueFrom`;
          if (isObject(from.secretKeyRef)) refs.push({ field: `${at}.secretKeyRef.name`, kind: 'Secret', name: from.secretKeyRef.name });
          if (isObject(from.configMapKeyRef)) refs.push({ field: `${at}.configMapKeyRef.name`, kind: 'ConfigMap', name: from.configMapKeyRef.name });
        });
        list(c.envFrom).forEach((e, j) => {
          const at = `${path}.${group}[${i}].envFrom[${j}]`;
          if (isObject(e.secretRef)) refs.push({ field: `${at}.secretRef.name`, kind: 'Secret', name: e.secretRef.name });
          if (isObject(e.configMapRef)) refs.push({ field: `${at}.configMapRef.name`, kind: 'ConfigMap', name: e.configMapRef.name });
        });
      });
    }
  }
  if (object.kind === 'StatefulSet' && isObject(object.spec) && object.spec.serviceName !== undefined) {
    refs.push({ field: 'spec.serviceName', kind: 'Service', name: object.spec.serviceName });
  }
  return refs;
}

const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/**
 * References to objects of the instance (their names carry the instance's short id) that the
 * plan does not create. Old catalogs were written when `$idx_and_short_serviceid` had no index,
 * so a reference across kinds can now miss: the hint says so.
 */
function checkReferences(rendered: Rendered[], short: string, open: boolean, sink: ProblemSink): void {
  const names = new Map<string, Map<string, Template>>();
  for (const { object, template } of rendered) {
    if (!names.has(object.kind)) names.set(object.kind, new Map());
    names.get(object.kind)!.set(object.metadata.name, template);
  }
  const withoutIndex = (s: string) => s.replace(new RegExp(`${short}\\d+`, 'g'), `${short}#`);
  const indexHint = (kind: string, name: string) => {
    const candidate = [...(names.get(kind) ?? [])].find(([n]) => withoutIndex(n) === withoutIndex(name));
    return candidate
      ? `; ${kind} ${candidate[0]} (${candidate[1].file}) differs only by the index of $idx_and_short_serviceid, which counts templates per kind`
      : '';
  };
  for (const { object, template } of rendered) {
    for (const ref of referencesOf(object)) {
      if (typeof ref.name !== 'string' || !ref.name.includes(short)) continue;
      if (names.get(ref.kind)?.has(ref.name)) continue;
      sink.warn({
        file: template.file,
        field: ref.field,
        message: `names ${ref.kind} ${ref.name}, which the plan does not create${indexHint(ref.kind, ref.name)}`,
      });
    }
  }
  if (open) return;
  // A Service that selects no pod of the plan has no endpoints.
  const pods = rendered.flatMap(({ object }) => {
    const pod = podTemplateOf(object);
    return pod ? [{ object, labels: labelsOf(pod.metadata) }] : [];
  });
  for (const { object, template } of rendered) {
    if (object.kind !== 'Service' || !isObject(object.spec) || !isObject(object.spec.selector)) continue;
    const selector = object.spec.selector;
    if (Object.keys(selector).length === 0 || pods.some((p) => within(selector, p.labels))) continue;
    const near = pods.find((p) =>
      Object.entries(selector).every(([k, v]) => typeof v === 'string' && typeof p.labels[k] === 'string' && withoutIndex(p.labels[k]) === withoutIndex(v)),
    );
    const hint = near
      ? `; the pods of ${near.object.kind} ${near.object.metadata.name} differ only by the index of $idx_and_short_serviceid, which counts templates per kind`
      : '';
    sink.warn({ file: template.file, field: 'spec.selector', message: `${JSON.stringify(selector)} selects no pod of the plan${hint}` });
  }
}

/** What the plan's containers and Services can offer to a credentials mapping, read from the templates. */
function offers(rendered: Rendered[]): { env: Set<string>; envOpen: boolean; services: ServiceFacts[] } {
  const env = new Set<string>();
  let envOpen = false;
  const containerPorts = new Map<string, number>();
  for (const { object } of rendered) {
    const pod = isWorkloadKind(object.kind) ? podTemplateOf(object) : undefined;
    if (!pod) continue;
    for (const c of list(pod.spec.containers)) {
      for (const e of list(c.env)) if (typeof e.name === 'string') env.add(e.name);
      if (Array.isArray(c.envFrom) && c.envFrom.length) envOpen = true;
      for (const p of list(c.ports)) if (typeof p.name === 'string' && typeof p.containerPort === 'number') containerPorts.set(p.name, p.containerPort);
    }
  }
  const services = rendered
    .filter(({ object }) => object.kind === 'Service')
    .map(({ object }) => {
      const name = object.metadata.name;
      const ports = list(isObject(object.spec) ? object.spec.ports : undefined).flatMap((p) => {
        if (typeof p.port !== 'number') return [];
        const target =
          p.targetPort === undefined
            ? p.port
            : typeof p.targetPort === 'number'
              ? p.targetPort
              : typeof p.targetPort === 'string'
                ? containerPorts.get(p.targetPort)
                : undefined;
        return target === undefined ? [] : [{ ...(typeof p.name === 'string' ? { name: p.name } : {}), port: p.port, targetPort: target }];
      });
      return { name, hostname: `${name}.${object.metadata.namespace ?? SAMPLE_NAMESPACE}.svc.cluster.local`, ports };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { env, envOpen, services };
}

/**
 * Which mapping placeholders no instance can ever fill (warned about, rendered empty as the old
 * broker did), then a trial render of the credentials with facts made from the templates.
 */
function checkCredentials(
  service: ServiceOffering,
  plan: Plan,
  values: InstanceValues,
  texts: CredentialsTexts,
  rendered: Rendered[],
  open: boolean,
  sink: ProblemSink,
): void {
  const credentials = plan.credentials!;
  const needs = credentialsNeeds(texts);
  const offered = offers(rendered);
  const targetPorts = new Set(offered.services.flatMap((s) => s.ports.map((p) => p.targetPort)));
  const fileUsing = (test: (t: Token) => boolean) => {
    const inJson = (lexed: LexedJson | undefined) =>
      lexed?.segments.some((s) => (s.type === 'string' ? s.tokens.some(test) : s.type === 'bare' && test(s.placeholder))) ?? false;
    if (inJson(texts.mapping)) return texts.files.mapping;
    if (inJson(texts.node)) return texts.files.node ?? texts.files.mapping;
    return texts.files.uri ?? texts.files.mapping;
  };
  const unfillableEnv = open || offered.envOpen ? [] : needs.env.filter((name) => !offered.env.has(name));
  const unfillablePorts = open ? [] : needs.ports.filter((port) => !targetPorts.has(port));
  for (const name of unfillableEnv) {
    const near = [...offered.env].filter((e) => name.startsWith(e) || e.startsWith(name));
    sink.warn({
      file: fileUsing((t) => typeof t !== 'string' && t.type === 'env' && t.env === name),
      message: `$env_${name}: no container of the plan declares ${name}, so it is always empty${near.length ? ` (declared: ${near.join(', ')})` : ''}`,
    });
  }
  for (const port of unfillablePorts) {
    const forwarded = [...targetPorts].sort((a, b) => a - b);
    sink.warn({
      file: fileUsing((t) => typeof t !== 'string' && t.type === 'port' && t.port === port),
      message: `$port_${port}: no Service of the plan forwards to port ${port}${forwarded.length ? ` (they forward to ${forwarded.join(', ')})` : ''}, so it is always empty`,
    });
  }
  if (unfillableEnv.length || unfillablePorts.length) credentials.unfillable = { env: unfillableEnv, ports: unfillablePorts };

  // What a bind hook's Secret would hold: whether the plan has a bind hook is the loader's check.
  const hookSecret = Object.fromEntries(needs.hookKeys.map((k) => [k, `sample-${k}`]));
  const facts: InstanceFacts = { env: {}, services: offered.services, ...(needs.hookKeys.length ? { hookSecret } : {}) };
  for (const name of [...offered.env, ...needs.env]) if (!unfillableEnv.includes(name)) facts.env[name] = `sample-${name}`;
  const missingPorts = needs.ports.filter((p) => !unfillablePorts.includes(p) && !targetPorts.has(p));
  if (missingPorts.length || (facts.services.length === 0 && open)) {
    // Custom resources may bring Services the templates do not show: stand in for them.
    facts.services.push({ name: 'sample', hostname: 'sample.default.svc.cluster.local', ports: missingPorts.map((p) => ({ port: p, targetPort: p })) });
  }
  try {
    renderCredentials(service, plan, { ...values, bindingId: SAMPLE_BINDING_ID }, facts);
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    sink.error({ file: err.file ?? credentials.file, message: err.detail });
  }
}
