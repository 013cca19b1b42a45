// `offerings list|add|remove`: offerings added at runtime, through the broker's admin API (which
// checks, stores and spreads them to every replica). `add <dir>` sends a service folder of the
// catalog format as files; `add <file.json>` sends a JSON body as it is (the old broker's
// dynamicservice body, or {"files": {...}}). The API from --url, else BROKER_URL, else
// http://127.0.0.1:$PORT (8080); the admin credentials from ADMIN_USER and ADMIN_PASS.
import fs from 'node:fs';
import path from 'node:path';
import type { AddResult, OfferingSummary } from '../broker/offerings.js';
import { isTemplateFile } from '../catalog/read.js';
import type { CatalogProblem } from '../catalog/types.js';
import { table } from './table.js';

interface Out {
  log(s: string): void;
  error(s: string): void;
}

/** An answer of the admin API: its status, and its body read as JSON (text that is not JSON as the description). */
interface Answer {
  status: number;
  body: unknown;
}

/** A refusal of the admin API: an OSB error body, naming every problem of a refused offering. */
interface Refusal {
  error?: string;
  description?: string;
  problems?: CatalogProblem[];
}

/** Why a fetch failed: its cause (the network error: ECONNREFUSED, a DNS failure) when it has one. */
function reasonOf(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) return String(cause);
  return err instanceof Error ? err.message : String(err);
}

/** Every file of a service folder by its `/`-separated relative path; dot names skipped, as the loader does. */
export function readFolder(root: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const file = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(root, file);
      if (fs.statSync(full).isDirectory()) walk(file);
      else if (isTemplateFile(e.name) || e.name === 'uri_cluster_template') files[file] = fs.readFileSync(full, 'utf8');
    }
  };
  walk('');
  return files;
}

export async function offeringsCommand(
  args: string[],
  flags: { json?: boolean; url?: string },
  out: Out,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const [sub, arg] = args;
  const url = (flags.url ?? env['BROKER_URL'] ?? `http://127.0.0.1:${env['PORT'] ?? '8080'}`).replace(/\/$/, '');
  const user = env['ADMIN_USER'];
  const pass = env['ADMIN_PASS'];
  if (!user || !pass) return fail(out, 'set ADMIN_USER and ADMIN_PASS: the admin credentials of the broker API');
  const call = async (method: string, p: string, body?: unknown): Promise<Answer> => {
    let res: Response;
    try {
      res = await fetch(`${url}/admin/offerings${p}`, {
        method,
        headers: {
          Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new Error(`cannot reach the broker API at ${url} (${reasonOf(err)}); set --url or BROKER_URL`, { cause: err });
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = { description: text } satisfies Refusal;
    }
    return { status: res.status, body: parsed };
  };
  const refused = (r: Answer) => {
    const refusal = r.body as Refusal;
    const problems = refusal.problems ?? [];
    if (problems.length === 0) return fail(out, `${r.status}: ${refusal.description ?? 'refused'}`);
    out.error(`kubernetes-broker: ${r.status} ${refusal.error ?? ''}: the offering was refused`);
    for (const p of problems) out.error(`  ${p.file}${p.line !== undefined ? `:${p.line}` : ''}${p.field ? ` ${p.field}` : ''}: ${p.message}`);
    return 1;
  };

  if (sub === 'list') {
    const r = await call('GET', '');
    if (r.status !== 200) return refused(r);
    const { offerings } = r.body as { offerings: OfferingSummary[] };
    if (flags.json) out.log(JSON.stringify(offerings, null, 2));
    else if (offerings.length === 0) out.log('no offerings added at runtime');
    else
      out.log(
        table(
          offerings.map((o) => ({ ...o, plans: o.plans.map((p) => p.name).join(',') })),
          ['id', 'name', 'plans', 'source', 'addedAt'],
        ),
      );
    return 0;
  }
  if (sub === 'add' && arg) {
    let body: unknown;
    try {
      body = fs.statSync(arg).isDirectory() ? { files: readFolder(arg) } : (JSON.parse(fs.readFileSync(arg, 'utf8')) as unknown);
    } catch (err) {
      return fail(out, `cannot read ${arg}: ${(err as Error).message}`);
    }
    const r = await call('PUT', '', body);
    if (r.status !== 200 && r.status !== 201) return refused(r);
    if (flags.json) out.log(JSON.stringify(r.body, null, 2));
    else {
      const { result, offering: o, warnings } = r.body as AddResult;
      out.log(`${result} offering ${o.name} (${o.id}), plans: ${o.plans.map((p) => `${p.name} (${p.id})`).join(', ')}`);
      for (const w of warnings) out.log(`warning: ${w.file}${w.field ? ` ${w.field}` : ''}: ${w.message}`);
    }
    return 0;
  }
  if (sub === 'remove' && arg) {
    const r = await call('DELETE', `/${encodeURIComponent(arg)}`);
    if (r.status !== 200) return refused(r);
    if (flags.json) out.log(JSON.stringify(r.body, null, 2));
    else {
      const { removed } = r.body as { removed: OfferingSummary };
      out.log(`removed offering ${removed.name} (${removed.id})`);
    }
    return 0;
  }
  return fail(out, `usage: offerings list | add <dir|file.json> | remove <service-id>`);
}

function fail(out: Out, message: string): number {
  out.error(`kubernetes-broker: ${message}`);
  return 1;
}
