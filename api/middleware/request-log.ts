// One log line per request, with the OSB request identity, and a logger for the handlers.
// Reads that succeed (catalog fetches, last_operation polls: most of the traffic, and they
// change nothing) log at debug; changes and failures at info, server errors at error. The
// request metrics count every request either way. At info, a line per poll cost a sixth of the
// catalog's throughput (docs/performance.md, section 4).
import { createMiddleware } from 'hono/factory';
import type { Logger } from '../../platform/observability/logger.js';
import type { AppEnv } from '../env.js';

/** The level of a request's line. */
function requestLevel(method: string, status: number): 'debug' | 'info' | 'error' {
  if (status >= 500) return 'error';
  return (method === 'GET' || method === 'HEAD') && status < 400 ? 'debug' : 'info';
}

export const requestLog = (logger: Logger) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    c.set('log', logger.child({ requestId: c.get('requestId') }));
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    c.get('log')[requestLevel(c.req.method, c.res.status)]({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
  });
