// Finds `$param_<name>` placeholders inside shell scripts of a plan's containers. The renderer
// inserts a parameter's value as text, so inside `sh -c '...'` a value with quotes, `;`, `$( )`
// or a newline becomes commands, and only the plan's schema stands in the way. Passed as an
// environment variable and read as "$VAR", the shell never parses the value. A warning, not an
// error: old catalogs (and scripts whose schema pins the value down) keep loading.
import { HOOK_EVENTS, hookScope } from './hooks.js';
import { podTemplatePath } from './kinds.js';
import { declaredParameters } from './parameters.js';
import { placeholdersOf, tokenize, type Scope } from './placeholders.js';
import type { CatalogProblem, Plan, Template } from './types.js';
import { isObject, type Json } from './json.js';

const SHELLS: ReadonlySet<string> = new Set(['sh', 'bash', 'ash', 'dash', 'ksh', 'mksh', 'zsh']);
/** A here-document (`<<EOF`, `<<-'END'`): a shell script, whatever runs it. */
const HEREDOC = /<<-?\s*['"]?[A-Za-z_][A-Za-z0-9_]*/;
const CONTAINER_GROUPS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
const PROBES = ['readinessProbe', 'livenessProbe', 'startupProbe'] as const;
const LIFECYCLE_HANDLERS = ['postStart', 'preStop'] as const;

/** One string of an argument vector, with the field it stands in. */
interface Arg {
  field: string;
  text: string;
}

/** Warnings for every `$param_` inside a shell script of the plan's templates and hook Jobs. */
export function checkShellParameters(plan: Plan, warn: (p: CatalogProblem) => void): void {
  const params = declaredParameters(plan.schemas);
  if (params.length === 0) return;
  const templates: { template: Template; scope: Scope }[] = plan.templates.map((template) => ({ template, scope: 'template' }));
  for (const event of HOOK_EVENTS) for (const template of plan.hooks?.[event] ?? []) templates.push({ template, scope: hookScope(event) });
  for (const { template, scope } of templates) {
    for (const script of shellScriptsOf(template)) {
      for (const p of placeholdersOf(tokenize(script.text, { scope, params }).tokens)) {
        if (p.type !== 'param') continue;
        const env = p.param.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
        warn({
          file: template.file,
          field: script.field,
          message:
            `${template.kind} ${template.body.metadata.name}, container ${script.container}: ${p.raw} stands inside a shell script, ` +
            `where a value with quotes, ';', '$( )' or a newline runs as commands and only the schema stops it; ` +
            `pass it through the container's env instead (- name: ${env}, value: "${p.raw}") and read "$$${env}" in the script ($$ stands for $ in templates)`,
        });
      }
    }
  }
}

/** The strings of a template's containers that a shell parses as script, as written (unrendered). */
export function shellScriptsOf(template: Template): (Arg & { container: string })[] {
  return commandsOf(template).flatMap(({ container, args }) => scriptArgs(args).map((a) => ({ ...a, container })));
}

/** Every argument vector of the template's containers: command + args, probe and lifecycle execs. */
function commandsOf(template: Template): { container: string; args: Arg[] }[] {
  const pod = podSpecOf(template);
  if (!pod) return [];
  const out: { container: string; args: Arg[] }[] = [];
  for (const group of CONTAINER_GROUPS) {
    const containers = Array.isArray(pod.spec[group]) ? (pod.spec[group] as unknown[]) : [];
    containers.forEach((c, i) => {
      if (!isObject(c)) return;
      const at = `${pod.path}.${group}[${i}]`;
      const container = typeof c.name === 'string' ? c.name : `#${i}`;
      // Without `command`, `args` run under the image's entrypoint, which commonly runs them.
      out.push({ container, args: [...strings(c.command, `${at}.command`), ...strings(c.args, `${at}.args`)] });
      for (const probe of PROBES) {
        const exec = isObject(c[probe]) ? c[probe].exec : undefined;
        if (isObject(exec)) out.push({ container, args: strings(exec.command, `${at}.${probe}.exec.command`) });
      }
      const lifecycle = isObject(c.lifecycle) ? c.lifecycle : {};
      for (const handler of LIFECYCLE_HANDLERS) {
        const exec = isObject(lifecycle[handler]) ? lifecycle[handler].exec : undefined;
        if (isObject(exec)) out.push({ container, args: strings(exec.command, `${at}.lifecycle.${handler}.exec.command`) });
      }
    });
  }
  return out;
}

function podSpecOf(template: Template): { path: string; spec: Json } | undefined {
  let node: unknown = template.body;
  const path = template.kind === 'Pod' ? [] : podTemplatePath(template.kind);
  if (!path) return undefined;
  for (const key of path) node = isObject(node) ? node[key] : undefined;
  if (!isObject(node) || !isObject(node.spec)) return undefined;
  return { path: [...path, 'spec'].join('.'), spec: node.spec };
}

function strings(list: unknown, field: string): Arg[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((text, i) => (typeof text === 'string' ? [{ field: `${field}[${i}]`, text }] : []));
}

/**
 * The strings of an argument vector that a shell parses as script: the command string of
 * `sh -c` (also behind a wrapper such as `env` or `tini --`, and with flags like `-ec`), and any
 * string holding a here-document. A shell's other operands are positional parameters ("$1"),
 * which the shell does not parse: passing a value that way is safe.
 */
function scriptArgs(args: readonly Arg[]): Arg[] {
  const scripts = new Set<Arg>(args.filter((a) => HEREDOC.test(a.text)));
  const shell = args.findIndex((a) => SHELLS.has(basename(a.text)));
  if (shell >= 0) {
    let command = false;
    for (let i = shell + 1; i < args.length; i++) {
      const text = args[i]!.text;
      if (text === '--') {
        const next = args[i + 1];
        if (command && next) scripts.add(next);
        break;
      }
      if (/^--[A-Za-z][A-Za-z-]*$/.test(text)) continue;
      if (/^[-+][A-Za-z]+$/.test(text)) {
        if (text.slice(1).includes('c')) command = true;
        // `-o pipefail`, `+O extglob`: the option's name is the next argument.
        if (/[oO]$/.test(text)) i++;
        continue;
      }
      if (command) scripts.add(args[i]!);
      break;
    }
  }
  return args.filter((a) => scripts.has(a));
}

const basename = (program: string) => program.slice(program.lastIndexOf('/') + 1);
