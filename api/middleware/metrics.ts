// Request counts and latencies by route pattern (not by URL: ids would explode the series).
import { createMiddleware } from 'hono/factory';
import { routePath } from 'hono/route';
import type { ApiMetrics } from '../../observability/metrics.js';
import type { AppEnv } from '../env.js';

export const requestMetrics = (metrics: ApiMetrics) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const stop = metrics.latency.startTimer();
    await next();
    const labels = { method: c.req.method, route: routePath(c, -1) || 'unmatched', status: String(c.res.status) };
    stop(labels);
    metrics.requests.inc(labels);
  });
