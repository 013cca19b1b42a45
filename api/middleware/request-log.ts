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

interface Deferred {
  parent: Logger;
  bindings: Record<string, unknown>;
  child?: Logger;
}

const made = (d: Deferred) => (d.child ??= d.parent.child(d.bindings));
// One handler for every request's logger; the state is in its target.
const deferring: ProxyHandler<Deferred> = {
  get(d, prop) {
    const child = made(d);
    const value: unknown = Reflect.get(child, prop, child);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
  },
  set: (d, prop, value) => Reflect.set(made(d), prop, value),
  has: (d, prop) => Reflect.has(made(d), prop),
};

/**
 * `parent.child(bindings)`, made when first used: a pino child serialises its bindings at once
 * (2-3 µs), more than the rest of a catalog request's logging, and a read that succeeds
 * usually logs nothing at all.
 */
export function deferredChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new Proxy<Deferred>({ parent, bindings }, deferring) as unknown as Logger;
}

export const requestLog = (logger: Logger) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    c.set('log', deferredChild(logger, { requestId: c.get('requestId') }));
    await next();
    const level = requestLevel(c.req.method, c.res.status);
    if (!logger.isLevelEnabled(level)) return;
    const ms = Math.round((performance.now() - started) * 10) / 10;
    c.get('log')[level]({ method: c.req.method, path: c.req.path, status: c.res.status, ms }, 'request');
  });
