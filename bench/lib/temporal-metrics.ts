// The Temporal server's own view (its Prometheus endpoint, which the local stack exposes on
// 127.0.0.1): how many persistence operations and frontend calls a run caused, and how long they
// took. The dev server keeps everything in one SQLite file, so these are where a busy run waits.
import { stackEnv } from './common.js';

type Series = Map<string, { sum: number; count: number }>;

const url = () => `http://127.0.0.1:${process.env['KB_TEMPORAL_METRICS_PORT'] ?? stackEnv()['KB_TEMPORAL_METRICS_PORT'] ?? '17233'}/metrics`;

async function scrape(): Promise<Series> {
  const out: Series = new Map();
  let text: string;
  try {
    text = await (await fetch(url())).text();
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const m = /^(persistence_latency|service_latency)_(sum|count)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[3]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (m[1] === 'service_latency' && labels['service_name'] !== 'frontend') continue;
    const key = `${m[1] === 'persistence_latency' ? 'persistence' : 'frontend'} ${labels['operation']}`;
    const e = out.get(key) ?? { sum: 0, count: 0 };
    e[m[2] as 'sum' | 'count'] += Number(m[4]);
    out.set(key, e);
  }
  return out;
}

export interface TemporalDelta {
  /** Per operation: calls, total seconds, mean ms. Sorted by total time. */
  operations: { operation: string; count: number; seconds: number; meanMs: number }[];
  persistenceCalls: number;
  persistenceSeconds: number;
}

export class TemporalMetrics {
  private before: Series = new Map();
  async start(): Promise<void> {
    this.before = await scrape();
  }
  async stop(top = 12): Promise<TemporalDelta> {
    const after = await scrape();
    const ops = [...after]
      .map(([operation, a]) => {
        const b = this.before.get(operation) ?? { sum: 0, count: 0 };
        const count = a.count - b.count,
          seconds = a.sum - b.sum;
        return { operation, count, seconds: Math.round(seconds * 100) / 100, meanMs: count ? Math.round((seconds / count) * 1000 * 10) / 10 : 0 };
      })
      .filter((o) => o.count > 0);
    const persistence = ops.filter((o) => o.operation.startsWith('persistence '));
    return {
      operations: ops.sort((a, b) => b.seconds - a.seconds).slice(0, top),
      persistenceCalls: persistence.reduce((s, o) => s + o.count, 0),
      persistenceSeconds: Math.round(persistence.reduce((s, o) => s + o.seconds, 0) * 10) / 10,
    };
  }
}
