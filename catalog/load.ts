// Loads a catalog directory (layout in docs/catalog-format.md): parses and checks everything,
// collects every problem, and either returns the whole catalog or throws them all. Nothing is
// half-loaded. Files are read first, then checked in a fixed order, so problems come out the
// same way every time. Templates are parsed once here; rendering only copies them.
import path from 'node:path';
import { credentialsNeeds, NODE_TEMPLATE_FILE, URI_CLUSTER_TEMPLATE_FILE } from './credentials.js';
import { checkPlanRender, type CredentialsTexts } from './check.js';
import { CatalogLoadError, formatProblem } from './errors.js';
import { checkHooksRender, HOOK_EVENTS, HOOKS_DIR, hookScope, isHookEvent } from './hooks.js';
import { creationRank, DEFAULT_API_VERSIONS, isWorkloadKind, kindFromFileName, WORKLOAD_KINDS } from './kinds.js';
import { upgradeLegacy } from './legacy.js';
import { isObject } from './json.js';
import { checkPlanJson, checkServiceJson, SCHEMA_PATHS, schemaAt } from './osb.js';
import { declaredParameters } from './parameters.js';
import { planPodSecurity } from './pod-security.js';
import { jsonPlaceholders, lexJsonTemplate, lineOf, placeholdersOf, tokenize, type Scope } from './placeholders.js';
import { directorySource, isTemplateFile, parseDocuments, parseJson, type CatalogSource, type FileText } from './read.js';
import { compileSchema } from './schemas.js';
import { checkShellParameters } from './shell-scripts.js';
import type { Catalog, CatalogProblem, CredentialsTemplates, HookEvent, KubernetesObject, Plan, PlanSchemas, ServiceOffering, Template } from './types.js';

export const SERVICE_FILE = 'service.json';
export const PLAN_FILE = 'plan.json';
export const TEMPLATES_DIR = 'k8s';
export const SHARED_SECRETS_DIR = 'secretTemplates';
const MAPPING_FILE = /^credentials-mappings.*\.json$/;

export interface LoadResult {
  catalog: Catalog;
  /** Everything the operator should know that does not stop the catalog: legacy upgrades, typos. */
  warnings: CatalogProblem[];
}

export function loadCatalog(dir: string): Promise<LoadResult> {
  const root = path.resolve(dir);
  // The directory is read synchronously; the executor makes a catalog that fails to load reject.
  return new Promise((resolve) => resolve(loadFrom(directorySource(root), root)));
}

/**
 * Loads a catalog from any source with exactly the checks of a catalog directory; `root` names
 * it in messages and becomes `Catalog.root`.
 */
export function loadFrom(source: CatalogSource, root: string): LoadResult {
  const problems = new Problems();
  let raw: RawService[] = [];
  try {
    raw = gather(source);
    if (raw.length === 0) problems.error({ file: '.', message: `${root} holds no service (a folder with a ${SERVICE_FILE})` });
  } catch (err) {
    problems.error({ file: '.', message: `cannot read catalog directory ${root}: ${(err as Error).message}` });
  }
  const services = raw.flatMap((r) => loadService(r, problems) ?? []);
  checkUniqueness(services, problems);
  if (problems.errors.length) throw new CatalogLoadError(problems.errors);
  return { catalog: buildCatalog(root, services), warnings: problems.warnings };
}

class Problems {
  readonly errors: CatalogProblem[] = [];
  readonly warnings: CatalogProblem[] = [];
  /** Errors found so far, repeated ones included: tells whether a plan hit any. */
  found = 0;
  private readonly seen = new Set<string>();

  error = (p: CatalogProblem) => {
    this.found++;
    this.add(this.errors, 'E', p);
  };
  warn = (p: CatalogProblem) => this.add(this.warnings, 'W', p);

  // Shared secret templates are checked for every plan using them: say things once.
  private add(list: CatalogProblem[], severity: string, p: CatalogProblem) {
    const key = `${severity} ${formatProblem(p)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    list.push(p);
  }
}

// ---- Reading: the files the layout names, all at once ----

interface RawService {
  dir: string;
  serviceJson: FileText;
  sharedSecrets: FileText[];
  plans: RawPlan[];
}

interface RawPlan {
  dir: string;
  planJson: FileText;
  templates: FileText[];
  /** Names of the plan folder's credentials-mappings*.json files; the first is read. */
  mappingNames: string[];
  mapping?: FileText;
  nodeTemplate?: FileText;
  uriClusterTemplate?: FileText;
  /** Entries of `hooks/`: event folders with their template files (files there have none). */
  hooks: { name: string; files?: FileText[] }[];
}

function gather(source: CatalogSource): RawService[] {
  return source.list('').flatMap((e) => (e.isDirectory ? (gatherService(source, e.name) ?? []) : []));
}

function gatherService(source: CatalogSource, dir: string): RawService | undefined {
  const entries = source.list(dir);
  if (!entries.some((e) => e.name === SERVICE_FILE && !e.isDirectory)) return undefined;
  return {
    dir,
    serviceJson: source.read(`${dir}/${SERVICE_FILE}`),
    sharedSecrets: readTemplateFiles(source, `${dir}/${SHARED_SECRETS_DIR}`, (name) => name.toLowerCase().startsWith('secret')),
    plans: entries.flatMap((e) => (e.isDirectory ? (gatherPlan(source, `${dir}/${e.name}`) ?? []) : [])),
  };
}

function gatherPlan(source: CatalogSource, dir: string): RawPlan | undefined {
  const names = source
    .list(dir)
    .filter((e) => !e.isDirectory)
    .map((e) => e.name);
  if (!names.includes(PLAN_FILE)) return undefined;
  const mappingNames = names.filter((n) => MAPPING_FILE.test(n));
  const optional = (name: string | undefined) => (name && names.includes(name) ? { [key(name)]: source.read(`${dir}/${name}`) } : {});
  const key = (name: string) => (name === NODE_TEMPLATE_FILE ? 'nodeTemplate' : name === URI_CLUSTER_TEMPLATE_FILE ? 'uriClusterTemplate' : 'mapping');
  return {
    dir,
    planJson: source.read(`${dir}/${PLAN_FILE}`),
    templates: readTemplateFiles(source, `${dir}/${TEMPLATES_DIR}`, () => true),
    mappingNames,
    ...optional(mappingNames[0]),
    ...optional(NODE_TEMPLATE_FILE),
    ...optional(URI_CLUSTER_TEMPLATE_FILE),
    hooks: source
      .list(`${dir}/${HOOKS_DIR}`)
      .map((e) => (e.isDirectory ? { name: e.name, files: readTemplateFiles(source, `${dir}/${HOOKS_DIR}/${e.name}`, () => true) } : { name: e.name })),
  };
}

function readTemplateFiles(source: CatalogSource, dir: string, accept: (name: string) => boolean): FileText[] {
  return source
    .list(dir)
    .filter((e) => !e.isDirectory && isTemplateFile(e.name) && accept(e.name))
    .map((e) => source.read(`${dir}/${e.name}`));
}

// ---- Checking, in catalog order ----

function textOf(f: FileText, problems: Problems): string | undefined {
  if (f.error !== undefined) problems.error({ file: f.file, message: `cannot be read: ${f.error}` });
  return f.text;
}

function jsonObject(f: FileText, problems: Problems): Record<string, unknown> | undefined {
  const text = textOf(f, problems);
  if (text === undefined) return undefined;
  const parsed = parseJson(text);
  if (!parsed.ok) {
    problems.error({ file: f.file, line: parsed.line, message: parsed.message });
    return undefined;
  }
  const body = parsed.documents[0];
  if (!isObject(body)) {
    problems.error({ file: f.file, message: 'must be a JSON object' });
    return undefined;
  }
  return body;
}

function loadService(raw: RawService, problems: Problems): ServiceOffering | undefined {
  const file = raw.serviceJson.file;
  const body = jsonObject(raw.serviceJson, problems);
  const fieldProblems = body ? checkServiceJson(body) : [];
  for (const p of fieldProblems) problems.error({ file, ...p });
  if (body && 'plans' in body) problems.warn({ file, field: 'plans', message: 'is ignored: plans are the folders with a plan.json' });

  const sharedSecrets = raw.sharedSecrets.flatMap((f) => templateObjects(f, problems));
  for (const s of sharedSecrets) {
    if (s.kind !== 'Secret') problems.error({ file: s.file, field: 'kind', message: `${SHARED_SECRETS_DIR} holds Secrets only, not ${s.kind}` });
  }
  // A broken service.json still has its plans checked, so that all problems show at once.
  const loaded = raw.plans.flatMap((p) => loadPlan(p, sharedSecrets, problems) ?? []);
  if (!body || fieldProblems.length) return undefined;
  if (raw.plans.length === 0) problems.error({ file: raw.dir, message: `has no plan (a folder with a ${PLAN_FILE})` });

  const plans = loaded.map((l) => l.plan);
  const service: ServiceOffering = {
    id: body.id as string,
    name: body.name as string,
    description: body.description as string,
    bindable: body.bindable as boolean,
    planUpdateable: (body.plan_updateable as boolean | undefined) ?? false,
    instancesRetrievable: (body.instances_retrievable as boolean | undefined) ?? false,
    bindingsRetrievable: (body.bindings_retrievable as boolean | undefined) ?? false,
    allowContextUpdates: (body.allow_context_updates as boolean | undefined) ?? false,
    plans,
    dir: raw.dir,
    osb: { ...body, plans: plans.map((p) => p.osb) },
  };
  for (const { plan, texts, clean } of loaded) {
    // Effective values that depend on the service.
    plan.bindable = (plan.osb.bindable as boolean | undefined) ?? service.bindable;
    plan.planUpdateable = (plan.osb.plan_updateable as boolean | undefined) ?? service.planUpdateable;
    if (plan.bindable && !plan.credentials)
      problems.warn({ file: plan.dir, message: 'is bindable but has no credentials-mappings*.json: bindings get empty credentials' });
    checkShellParameters(plan, problems.warn);
    // Rendering a plan that already has problems would only repeat them.
    if (clean) {
      checkPlanRender(service, plan, texts, problems);
      checkHooksRender(service, plan, problems);
    }
  }
  return service;
}

interface LoadedPlan {
  plan: Plan;
  texts?: CredentialsTexts;
  /** No problem was found in the plan's own files. */
  clean: boolean;
}

function loadPlan(raw: RawPlan, sharedSecrets: ParsedObject[], problems: Problems): LoadedPlan | undefined {
  const errorsBefore = problems.found;
  const file = raw.planJson.file;
  const body = jsonObject(raw.planJson, problems);
  const podSecurity = body ? planPodSecurity(body) : undefined;
  const fieldProblems = body ? [...checkPlanJson(body), ...(podSecurity?.problem ? [podSecurity.problem] : [])] : [];
  for (const p of fieldProblems) problems.error({ file, ...p });

  const schemas = body && isObject(body.schemas) ? (body.schemas as PlanSchemas) : undefined;
  for (const keys of SCHEMA_PATHS) {
    const schema = schemaAt(schemas, keys);
    if (schema === undefined) continue;
    const field = `schemas.${keys.join('.')}`;
    const check = compileSchema(schema);
    for (const message of check.errors) problems.error({ file, field, message });
    for (const message of check.warnings) problems.warn({ file, field, message });
  }
  // A plan.json that cannot be read says nothing about the parameters: `$param_<name>` is then
  // not judged, rather than reported as undeclared everywhere (its problem is already reported).
  const params: Params = body ? declaredParameters(schemas) : UNKNOWN_PARAMS;

  const own = raw.templates.flatMap((f) => templateObjects(f, problems));
  // The service's shared Secrets serve plans that have none of their own (old layout).
  const templates = orderTemplates(own.some((o) => o.kind === 'Secret') ? own : [...own, ...sharedSecrets]);
  if (!templates.some((t) => isWorkloadKind(t.kind))) {
    problems.error({ file: raw.dir, message: `has no workload (${WORKLOAD_KINDS.join(', ')}) in ${TEMPLATES_DIR}/` });
  }
  for (const t of templates) checkTemplatePlaceholders(t, params, raw.dir, problems);
  const credentials = loadCredentials(raw, params, problems);
  const hooks = loadHooks(raw, params, problems);
  if (credentials && !hooks?.onBindInstance) {
    for (const key of credentialsNeeds(credentials.texts).hookKeys) {
      problems.error({
        file: credentials.templates.file,
        message: `$hook_${key}: the plan has no bind hook (${HOOKS_DIR}/onBindInstance/) to write the Secret it reads`,
      });
    }
  }

  if (!body || fieldProblems.length) return undefined;
  const plan: Plan = {
    id: body.id as string,
    name: body.name as string,
    description: body.description as string,
    free: (body.free as boolean | undefined) ?? true,
    // Set from the service once it is known.
    bindable: false,
    planUpdateable: false,
    bindingRotatable: (body.binding_rotatable as boolean | undefined) ?? false,
    podSecurity: podSecurity!.level,
    ...(body.maximum_polling_duration !== undefined ? { maximumPollingDuration: body.maximum_polling_duration as number } : {}),
    ...(isObject(body.maintenance_info) ? { maintenanceInfo: body.maintenance_info as { version: string; description?: string } } : {}),
    ...(schemas ? { schemas } : {}),
    templates,
    ...(credentials ? { credentials: credentials.templates } : {}),
    ...(hooks ? { hooks } : {}),
    dir: raw.dir,
    osb: { ...body },
  };
  return { plan, ...(credentials ? { texts: credentials.texts } : {}), clean: problems.found === errorsBefore };
}

/** A parsed object of a template file, before it is placed in a plan. */
interface ParsedObject {
  file: string;
  fileName: string;
  document: number;
  kind: string;
  body: KubernetesObject;
}

/** The objects of one template file (one per JSON file, any number of YAML documents). */
function templateObjects(f: FileText, problems: Problems): ParsedObject[] {
  const text = textOf(f, problems);
  if (text === undefined) return [];
  const parsed = parseDocuments(text, f.name);
  if (!parsed.ok) {
    problems.error({ file: f.file, line: parsed.line, message: parsed.message });
    return [];
  }
  if (parsed.documents.length === 0) problems.warn({ file: f.file, message: 'holds no object' });
  return parsed.documents.flatMap((doc, document) => {
    const where = parsed.documents.length > 1 ? `document ${document + 1}` : undefined;
    const body = toObject(doc, f.file, f.name, where, problems);
    return body ? [{ file: f.file, fileName: f.name, document, kind: body.kind, body }] : [];
  });
}

/** Checks one template object, fills kind and apiVersion the old way, upgrades legacy versions. */
function toObject(doc: unknown, file: string, fileName: string, where: string | undefined, problems: Problems): KubernetesObject | undefined {
  const field = (f: string) => (where ? `${where} ${f}` : f);
  if (!isObject(doc)) {
    problems.error({ file, ...(where ? { field: where } : {}), message: 'must be a Kubernetes object (a JSON object or YAML mapping)' });
    return undefined;
  }
  // Top-level fields are set here; upgradeLegacy deep-copies the rest.
  const body = { ...doc };
  let ok = true;
  if (body.kind === undefined) {
    // The old layout: the file name says what it is.
    const kind = kindFromFileName(fileName);
    if (kind) body.kind = kind;
    else {
      problems.error({ file, field: field('kind'), message: 'is missing, and the file name implies none (secret*, deployment*, service*, account*...)' });
      ok = false;
    }
  } else if (typeof body.kind !== 'string' || body.kind === '') {
    problems.error({ file, field: field('kind'), message: 'must be a non-empty string' });
    ok = false;
  }
  if (body.apiVersion === undefined && typeof body.kind === 'string') {
    const apiVersion = DEFAULT_API_VERSIONS[body.kind];
    if (apiVersion) {
      body.apiVersion = apiVersion;
      problems.warn({ file, field: field('apiVersion'), message: `is missing; using ${apiVersion}` });
    } else {
      problems.error({ file, field: field('apiVersion'), message: 'is required' });
      ok = false;
    }
  } else if (typeof body.apiVersion !== 'string' || body.apiVersion === '') {
    problems.error({ file, field: field('apiVersion'), message: 'must be a non-empty string' });
    ok = false;
  }
  const metadata = body.metadata;
  if (!isObject(metadata) || typeof metadata.name !== 'string' || metadata.name === '') {
    problems.error({ file, field: field('metadata.name'), message: 'is required: the broker finds objects again by name' });
    ok = false;
  }
  if (!ok) return undefined;
  const { object, changes, fieldFixes } = upgradeLegacy(body as KubernetesObject);
  if (changes.length) problems.warn({ file, ...(where ? { field: where } : {}), message: changes.join('; ') });
  for (const fix of fieldFixes) problems.warn({ file, field: field(fix.field), message: fix.message });
  return deepFreeze(object);
}

/** Creation order (kinds.ts), then file name, then document order; indexes count per kind. */
function orderTemplates(objects: ParsedObject[]): Template[] {
  const sorted = [...objects].sort(
    (a, b) =>
      creationRank(a.kind) - creationRank(b.kind) ||
      compare(a.kind, b.kind) ||
      compare(a.fileName, b.fileName) ||
      compare(a.file, b.file) ||
      a.document - b.document,
  );
  const counts = new Map<string, number>();
  return sorted.map((o) => {
    const index = counts.get(o.kind) ?? 0;
    counts.set(o.kind, index + 1);
    return { file: o.file, kind: o.kind, index, body: o.body };
  });
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The parameters a plan declares, or UNKNOWN_PARAMS when its plan.json could not be read. */
type Params = readonly string[];
const UNKNOWN_PARAMS: Params = Object.freeze([]);

/** Unknown placeholders of a text, but not `$param_<name>` when the parameters are unknown. */
function unknownPlaceholders<T extends { raw: string }>(unknown: readonly T[], params: Params): readonly T[] {
  return params === UNKNOWN_PARAMS ? unknown.filter((u) => !u.raw.startsWith('$param_')) : unknown;
}

/** Unknown placeholders, undeclared parameters; placeholders in keys (never substituted). */
function checkTemplatePlaceholders(template: Template, params: Params, planDir: string, problems: Problems, scope: Scope = 'template'): void {
  // A shared Secret template is checked with the parameters of each plan using it.
  const inPlan = template.file.startsWith(`${planDir}/`) ? '' : ` (in plan ${planDir})`;
  const walk = (node: unknown, at: string) => {
    if (typeof node === 'string') {
      if (!node.includes('$')) return;
      for (const u of unknownPlaceholders(tokenize(node, { scope, params }).unknown, params)) {
        problems.error({ file: template.file, field: at, message: `${u.message}${u.raw.startsWith('$param_') ? inPlan : ''}` });
      }
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, `${at}[${i}]`));
    } else if (isObject(node)) {
      for (const [key, value] of Object.entries(node)) {
        const child = at ? `${at}.${key}` : key;
        if (key.includes('$') && tokenize(key, { scope, params }).tokens.some((t) => typeof t !== 'string')) {
          problems.warn({ file: template.file, field: child, message: 'placeholders in keys are not substituted' });
        }
        walk(value, child);
      }
    }
  };
  walk(template.body, '');
}

/**
 * Lifecycle hooks (`hooks/<event>/`): Jobs only, in file then document order, with the
 * placeholders of their event. Events without a Job are left out.
 */
function loadHooks(raw: RawPlan, params: Params, problems: Problems): Plan['hooks'] {
  const hooks: Partial<Record<HookEvent, Template[]>> = {};
  for (const entry of raw.hooks) {
    const where = `${raw.dir}/${HOOKS_DIR}/${entry.name}`;
    if (!entry.files) {
      problems.error({ file: where, message: `${HOOKS_DIR}/ holds one folder per event (${HOOK_EVENTS.join(', ')}), not files` });
      continue;
    }
    if (!isHookEvent(entry.name)) {
      problems.error({ file: where, message: `is no lifecycle hook event; the events are ${HOOK_EVENTS.join(', ')}` });
      continue;
    }
    const event = entry.name;
    const objects = entry.files.flatMap((f) => templateObjects(f, problems));
    const perFile = new Map<string, number>();
    for (const o of objects) perFile.set(o.file, (perFile.get(o.file) ?? 0) + 1);
    const jobs = objects.filter((o) => {
      const at = (f: string) => ((perFile.get(o.file) ?? 0) > 1 ? `document ${o.document + 1} ${f}` : f);
      if (o.kind !== 'Job') {
        problems.error({ file: o.file, field: at('kind'), message: `lifecycle hooks are Jobs (batch/v1), not ${o.kind}` });
        return false;
      }
      if (o.body.apiVersion !== 'batch/v1') {
        problems.error({ file: o.file, field: at('apiVersion'), message: `${o.body.apiVersion}: lifecycle hook Jobs are batch/v1` });
        return false;
      }
      return true;
    });
    if (objects.length === 0) problems.warn({ file: where, message: 'holds no Job: the hook does nothing' });
    const templates = [...jobs]
      .sort((a, b) => compare(a.fileName, b.fileName) || a.document - b.document)
      .map((o, index): Template => ({ file: o.file, kind: o.kind, index, body: o.body }));
    for (const t of templates) checkTemplatePlaceholders(t, params, raw.dir, problems, hookScope(event));
    if (templates.length) hooks[event] = templates;
  }
  return Object.keys(hooks).length ? hooks : undefined;
}

/** The credentials mapping and, for clustered plans, its node and uri templates. */
function loadCredentials(raw: RawPlan, params: Params, problems: Problems): { templates: CredentialsTemplates; texts: CredentialsTexts } | undefined {
  const nodeFile = raw.nodeTemplate?.file;
  const uriFile = raw.uriClusterTemplate?.file;
  if (!raw.mapping) {
    for (const f of [nodeFile, uriFile]) if (f) problems.warn({ file: f, message: 'is not used: the plan has no credentials-mappings*.json' });
    return undefined;
  }
  const file = raw.mapping.file;
  if (raw.mappingNames.length > 1) problems.warn({ file, message: `is used; ${raw.mappingNames.slice(1).join(', ')} ignored (one mapping per plan)` });
  const mapping = textOf(raw.mapping, problems);
  const nodeTemplate = raw.nodeTemplate && textOf(raw.nodeTemplate, problems);
  const uriClusterTemplate = raw.uriClusterTemplate && textOf(raw.uriClusterTemplate, problems);
  if (mapping === undefined) return undefined;

  const lexJson = (text: string, f: string, scope: Scope) => {
    const lexed = lexJsonTemplate(text, { scope, params });
    for (const u of unknownPlaceholders(lexed.unknown, params)) problems.error({ file: f, line: lineOf(text, u.offset), message: u.message });
    for (const p of lexed.problems) problems.error({ file: f, line: lineOf(text, p.offset), message: p.message });
    for (const offset of lexed.trailingCommas) {
      problems.warn({ file: f, line: lineOf(text, offset), message: 'trailing comma before } or ] tolerated (it is not JSON)' });
    }
    for (const offset of lexed.keysWithPlaceholders) {
      problems.warn({ file: f, line: lineOf(text, offset), message: 'placeholders in keys are not substituted' });
    }
    return lexed;
  };
  const lexedMapping = lexJson(mapping, file, 'mapping');
  const lexedNode = nodeTemplate !== undefined ? lexJson(nodeTemplate, nodeFile!, 'node') : undefined;
  let uriTokens;
  if (uriClusterTemplate !== undefined) {
    const uri = uriClusterTemplate.trim();
    const { tokens, unknown } = tokenize(uri, { scope: 'uri', params });
    for (const u of unknownPlaceholders(unknown, params)) problems.error({ file: uriFile!, line: lineOf(uri, u.offset), message: u.message });
    uriTokens = tokens;
    if (!placeholdersOf(tokens).some((p, i, all) => p.type === 'value' && p.name === 'hostname' && all[i + 1]?.type === 'port')) {
      problems.warn({ file: uriFile!, message: 'has no $hostname:$port_N: $uri will not list the nodes' });
    }
  }

  const used = jsonPlaceholders(lexedMapping);
  const usesUri = used.some((p) => p.type === 'value' && p.name === 'uri');
  const usesNodes = used.some((p) => p.type === 'nodes');
  if (usesUri && uriClusterTemplate === undefined) {
    problems.warn({ file, message: `$uri: the plan has no ${URI_CLUSTER_TEMPLATE_FILE}, so it is an empty string` });
  }
  if (!usesUri && uriFile) problems.warn({ file: uriFile, message: 'is not used: the mapping has no $uri' });
  if (usesNodes && nodeTemplate === undefined) {
    problems.warn({ file, message: `$nodes: the plan has no ${NODE_TEMPLATE_FILE}, so it stands for no node` });
  }
  if (!usesNodes && nodeFile) problems.warn({ file: nodeFile, message: 'is not used: the mapping has no $nodes' });

  return {
    templates: {
      file,
      mapping,
      ...(nodeTemplate !== undefined ? { nodeTemplate } : {}),
      ...(uriClusterTemplate !== undefined ? { uriClusterTemplate } : {}),
    },
    texts: {
      mapping: lexedMapping,
      ...(lexedNode ? { node: lexedNode } : {}),
      ...(uriTokens ? { uri: uriTokens } : {}),
      files: { mapping: file, ...(nodeFile ? { node: nodeFile } : {}), ...(uriFile ? { uri: uriFile } : {}) },
    },
  };
}

/** Ids are unique across the catalog, service names too, plan names within their service. */
function checkUniqueness(services: ServiceOffering[], problems: Problems): void {
  const ids = new Map<string, string>();
  const names = new Map<string, string>();
  const claim = (map: Map<string, string>, key: string, file: string, what: string) => {
    const first = map.get(key);
    if (first) problems.error({ file, field: what === 'id' ? 'id' : 'name', message: `duplicate ${what} ${JSON.stringify(key)} (also in ${first})` });
    else map.set(key, file);
  };
  for (const service of services) {
    const serviceFile = `${service.dir}/${SERVICE_FILE}`;
    claim(ids, service.id, serviceFile, 'id');
    claim(names, service.name, serviceFile, 'service name');
    const planNames = new Map<string, string>();
    for (const plan of service.plans) {
      const planFile = `${plan.dir}/${PLAN_FILE}`;
      claim(ids, plan.id, planFile, 'id');
      claim(planNames, plan.name, planFile, 'plan name');
    }
  }
}

function buildCatalog(root: string, services: ServiceOffering[]): Catalog {
  const byId = new Map(services.map((s) => [s.id, s]));
  const osbCatalog = deepFreeze({ services: services.map((s) => s.osb) });
  return {
    root,
    services,
    findService: (serviceId) => byId.get(serviceId),
    findPlan: (serviceId, planId) => {
      const service = byId.get(serviceId);
      const plan = service?.plans.find((p) => p.id === planId);
      return service && plan ? { service, plan } : undefined;
    },
    osbCatalog,
  };
}

/** Parsed templates and the OSB bodies are shared by every request: nobody may change them. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
