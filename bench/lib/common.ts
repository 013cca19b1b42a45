// What every benchmark shares: the local stack's environment, the machine, statistics (median
// and spread of repeated runs), the printed table and bench/results/latest.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { readStackEnv } from '../../platform/config/stack-env.js';

export const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench/results');
/** Where results go: bench/results/latest.json, or KB_BENCH_RESULTS (runs of a variant, say). */
export const LATEST = process.env['KB_BENCH_RESULTS'] ?? path.join(RESULTS_DIR, 'latest.json');
/** Logs of the broker processes a benchmark starts (not committed). */
export const LOG_DIR = path.join(os.tmpdir(), 'kubernetes-broker-bench');

let env: Record<string, string> | undefined;
/** The local stack's environment (.stack/env, written by scripts/stack/up.sh). */
export function stackEnv(): Record<string, string> {
  if (!env) {
    try {
      env = readStackEnv();
    } catch {
      throw new Error('the local stack is not up: run `npm run stack:up` first (.stack/env is missing)');
    }
  }
  return env;
}

export const suffix = () => randomBytes(4).toString('hex');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Machine {
  date: string;
  nproc: number;
  memoryGiB: number;
  cpu: string;
  node: string;
  loadavg: number[];
}

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function stats(values: number[]): Stats {
  const s = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), min: s[0] ?? NaN, max: s.at(-1) ?? NaN, p25: quantile(s, 0.25), p75: quantile(s, 0.75) };
}

export const round = (v: number, digits = 2) => (Number.isFinite(v) ? Math.round(v * 10 ** digits) / 10 ** digits : v);

/** `median [min–max]`, the way every table shows a repeated figure. */
export const fmt = (s: Stats, digits = 2, unit = '') => `${round(s.median, digits)}${unit} [${round(s.min, digits)}–${round(s.max, digits)}]`;

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

export function printMachine(m: Machine): void {
  console.log(`date ${m.date}  machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, node ${m.node}, load ${m.loadavg.join(' ')}`);
}

/** Stores one benchmark's result in bench/results/latest.json, keeping the others'. */
export function saveResult(name: string, result: unknown): void {
  fs.mkdirSync(path.dirname(LATEST), { recursive: true });
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(fs.readFileSync(LATEST, 'utf8')) as Record<string, unknown>;
  } catch {
    // first result
  }
  all[name] = result;
  fs.writeFileSync(LATEST, `${JSON.stringify(all, null, 2)}\n`);
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}
