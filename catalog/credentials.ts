// A binding's credentials: the plan's credentials mapping filled with what the running instance
// shows (container env, Services' hosts and ports) and the template placeholders. Every value
// is JSON-encoded into a string literal, so none can change the shape of the result.
import { RenderError } from './errors.js';
import { parseJsonText } from './json-syntax.js';
import { BINDING_ID_LABEL, INSTANCE_ID_LABEL } from './labels.js';
import { declaredParameters } from './parameters.js';
import {
  jsonPlaceholders,
  lexJsonTemplate,
  placeholdersOf,
  renderJsonTemplate,
  substitute,
  tokenize,
  type LexedJson,
  type PlaceholderToken,
  type Scope,
  type Token,
} from './placeholders.js';
import type { InstanceFacts, InstanceValues, Plan, ServiceFacts, ServiceOffering } from './types.js';
import { templateValueText, type ValueScope } from './values.js';

/** Where a mapping's texts come from, for messages. */
export const NODE_TEMPLATE_FILE = 'node_template.json';
export const URI_CLUSTER_TEMPLATE_FILE = 'uri_cluster_template';

interface Context {
  scope: ValueScope;
  service: ServiceOffering;
  facts: InstanceFacts;
  params: readonly string[];
  unfillableEnv: ReadonlySet<string>;
  unfillablePorts: ReadonlySet<number>;
  uriClusterTemplate?: string;
  nodeTemplate?: string;
}

/** Renders the plan's credentials for a running instance. Throws RenderError. */
export function renderCredentials(service: ServiceOffering, plan: Plan, values: InstanceValues, facts: InstanceFacts): Record<string, unknown> {
  const creds = plan.credentials;
  if (!creds) return {};
  const params = declaredParameters(plan.schemas);
  const ctx: Context = {
    // Mappings are no file of a kind: `$idx_and_short_serviceid` is the first index there.
    scope: { service, plan, values, index: 0, file: creds.file },
    service,
    facts,
    params,
    unfillableEnv: new Set(creds.unfillable?.env ?? []),
    unfillablePorts: new Set(creds.unfillable?.ports ?? []),
    uriClusterTemplate: creds.uriClusterTemplate,
    nodeTemplate: creds.nodeTemplate,
  };
  const mapping = lex(creds.mapping, 'mapping', params, creds.file);
  const main = mainService(ctx, jsonPlaceholders(mapping));
  const text = renderJsonTemplate(mapping, {
    text: (p) => valueText(p, ctx, main, creds.file),
    nodes: () => renderNodes(ctx, `${plan.dir}/${NODE_TEMPLATE_FILE}`),
  });
  return parseObject(text, creds.file, 'the rendered credentials mapping');
}

function lex(text: string, scope: Scope, params: readonly string[], file: string): LexedJson {
  const lexed = lexJsonTemplate(text, { scope, params });
  const problems = [...lexed.unknown.map((u) => u.message), ...lexed.problems.map((p) => p.message)];
  if (problems.length) throw new RenderError(problems.join('; '), file);
  return lexed;
}

function parseObject(text: string, file: string, what: string): Record<string, unknown> {
  const result = parseJsonText(text);
  // Values are inserted escaped, on one line each: lines of the result are lines of the file.
  if (!result.ok) throw new RenderError(`${what} is not JSON at line ${result.line}: ${result.message}`, file);
  const parsed = result.value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new RenderError(`${what} is not a JSON object`, file);
  return parsed as Record<string, unknown>;
}

/**
 * The Service `$hostname` names: the one exposing the mapping's first `$port_N`, so host and
 * port belong together; the first Service when the mapping names no port.
 */
function mainService(ctx: Context, placeholders: PlaceholderToken[]): ServiceFacts | undefined {
  const port = placeholders.find((p): p is PlaceholderToken & { type: 'port' } => p.type === 'port' && !ctx.unfillablePorts.has(p.port));
  if (port) return ctx.facts.services.find((s) => exposes(s, port.port)) ?? ctx.facts.services[0];
  return ctx.facts.services[0];
}

function exposes(service: ServiceFacts, targetPort: number): boolean {
  return service.ports.some((p) => p.targetPort === targetPort);
}

/** Value of a mapping placeholder; `main` is the Service of `$hostname` and preferred for `$port_N`. */
function valueText(p: PlaceholderToken, ctx: Context, main: ServiceFacts | undefined, file: string): string {
  const common = templateValueText(p, { ...ctx.scope, file });
  if (common !== undefined) return common;
  switch (p.type) {
    case 'env': {
      const value = ctx.facts.env[p.env];
      if (value !== undefined) return value;
      if (ctx.unfillableEnv.has(p.env)) return '';
      throw new RenderError(`${p.raw}: the instance's containers have no environment variable ${p.env}`, file);
    }
    case 'port': {
      const port = (main && portOf(main, p.port)) ?? ctx.facts.services.map((s) => portOf(s, p.port)).find((x) => x !== undefined);
      if (port !== undefined) return String(port);
      if (ctx.unfillablePorts.has(p.port)) return '';
      throw new RenderError(`${p.raw}: no Service of the instance forwards to port ${p.port}`, file);
    }
    case 'hook': {
      const secret = ctx.facts.hookSecret;
      const value = secret?.[p.key];
      if (value !== undefined) return value;
      throw new RenderError(
        secret
          ? `${p.raw}: the Secret the bind hook wrote for this binding has no key ${p.key} (keys: ${Object.keys(secret).sort().join(', ') || 'none'})`
          : `${p.raw}: the bind hook (hooks/onBindInstance) wrote no Secret for this binding; its Job must create one in the instance's namespace, labelled ${BINDING_ID_LABEL}=<binding id> and ${INSTANCE_ID_LABEL}=<instance id>, with key ${p.key}`,
        file,
      );
    }
    case 'value':
      if (p.name === 'name') return ctx.service.name;
      if (p.name === 'hostname') {
        if (!main) throw new RenderError(`${p.raw}: the instance has no Service`, file);
        return main.hostname;
      }
      if (p.name === 'uri') return renderUri(ctx, main, file);
      break;
  }
  throw new RenderError(`${p.raw} is not available here`, file);
}

function portOf(service: ServiceFacts, targetPort: number): number | undefined {
  return service.ports.find((p) => p.targetPort === targetPort)?.port;
}

/** `$nodes`: the node template once per Service exposing its ports, as JSON objects joined by commas. */
function renderNodes(ctx: Context, file: string): string {
  if (ctx.nodeTemplate === undefined) return '';
  const node = lex(ctx.nodeTemplate, 'node', ctx.params, file);
  const ports = jsonPlaceholders(node).flatMap((p) => (p.type === 'port' && !ctx.unfillablePorts.has(p.port) ? [p.port] : []));
  return ctx.facts.services
    .filter((svc) => ports.every((port) => exposes(svc, port)))
    .map((svc) => {
      const text = renderJsonTemplate(node, {
        text: (p) => (p.type === 'value' && p.name === 'nodeName' ? svc.name : valueText(p, ctx, svc, file)),
        nodes: () => '',
      });
      // Parsed and encoded again: what goes into the mapping is one JSON object, whatever the values.
      return JSON.stringify(parseObject(text, file, 'a rendered node template'));
    })
    .join(',');
}

/** `$uri`: the uri_cluster_template with its `$hostname:$port_N` standing for every Service's host:port. */
function renderUri(ctx: Context, main: ServiceFacts | undefined, mappingFile: string): string {
  if (ctx.uriClusterTemplate === undefined) return '';
  const file = mappingFile.replace(/[^/]*$/, URI_CLUSTER_TEMPLATE_FILE);
  const { tokens, unknown } = tokenize(ctx.uriClusterTemplate.trim(), { scope: 'uri', params: ctx.params });
  if (unknown.length) throw new RenderError(unknown.map((u) => u.message).join('; '), file);
  return substitute(expandHostPorts(tokens, ctx, file), (p) => valueText(p, ctx, main, file));
}

/** Replaces each `$hostname` `:` `$port_N` run by the host:port list of the Services forwarding to N. */
function expandHostPorts(tokens: readonly Token[], ctx: Context, file: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const [t, colon, port] = [tokens[i]!, tokens[i + 1], tokens[i + 2]];
    if (
      typeof t !== 'string' &&
      t.type === 'value' &&
      t.name === 'hostname' &&
      colon === ':' &&
      port !== undefined &&
      typeof port !== 'string' &&
      port.type === 'port'
    ) {
      const hostPorts = ctx.facts.services.flatMap((svc) => {
        const p = portOf(svc, port.port);
        return p === undefined ? [] : [`${svc.hostname}:${p}`];
      });
      if (hostPorts.length === 0 && !ctx.unfillablePorts.has(port.port)) {
        throw new RenderError(`${port.raw}: no Service of the instance forwards to port ${port.port}`, file);
      }
      out.push(hostPorts.join(','));
      i += 2;
    } else {
      out.push(t);
    }
  }
  return out;
}

/**
 * Env names, ports and bind hook Secret keys the mapping texts of a plan ask for (the loader
 * checks them against the templates and the hooks).
 */
export function credentialsNeeds(texts: { mapping: LexedJson; node?: LexedJson; uri?: readonly Token[] }): {
  env: string[];
  ports: number[];
  hookKeys: string[];
} {
  const all = [...jsonPlaceholders(texts.mapping), ...(texts.node ? jsonPlaceholders(texts.node) : []), ...(texts.uri ? placeholdersOf(texts.uri) : [])];
  return {
    env: [...new Set(all.flatMap((p) => (p.type === 'env' ? [p.env] : [])))],
    ports: [...new Set(all.flatMap((p) => (p.type === 'port' ? [p.port] : [])))],
    hookKeys: [...new Set(all.flatMap((p) => (p.type === 'hook' ? [p.key] : [])))],
  };
}
