// Request counts and latencies by route pattern (not by URL: ids would explode the series).
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { ApiMetrics } from '../../platform/observability/metrics.js';
import type { AppEnv } from '../env.js';

export const requestMetrics = (metrics: ApiMetrics) => {
  // One pair of labelled children per series, looked up by a plain string: prom-client's own
  // lookup validates and hashes the label object on every call (a few percent of a catalog
  // request, docs/performance.md section 4). Series are bounded: methods × route patterns × statuses.
  const series = new Map<string, { latency: ReturnType<ApiMetrics['latency']['labels']>; requests: ReturnType<ApiMetrics['requests']['labels']> }>();
  const seriesOf = (method: string, route: string, status: string) => {
    const key = `${method} ${route} ${status}`;
    let s = series.get(key);
    if (!s) {
      const labels = { method, route, status };
      s = { latency: metrics.latency.labels(labels), requests: metrics.requests.labels(labels) };
      series.set(key, s);
    }
    return s;
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    const s = seriesOf(c.req.method, routePath(c, -1) || 'unmatched', String(c.res.status));
    s.latency.observe((performance.now() - started) / 1000);
    s.requests.inc();
  });
};
