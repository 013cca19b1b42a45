// One log line per request, with the OSB request identity, and a logger for the handlers.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.js';
import type { Logger } from '../../observability/logger.js';

export const requestLog = (logger: Logger) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    c.set('log', logger.child({ requestId: c.get('requestId') }));
    await next();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const level = c.res.status >= 500 ? 'error' : 'info';
    c.get('log')[level]({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
  });
