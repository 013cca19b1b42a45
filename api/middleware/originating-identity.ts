// X-Broker-API-Originating-Identity: `<platform> <base64 of a JSON object>`, parsed for logs.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.js';
import { badRequest } from '../../broker/errors.js';
import { deferredChild } from './request-log.js';

export const originatingIdentity = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('X-Broker-API-Originating-Identity');
  if (header !== undefined) {
    const [platform, encoded, ...rest] = header.trim().split(/\s+/);
    let value: unknown;
    try {
      value = rest.length === 0 && platform && encoded ? JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) : undefined;
    } catch {
      value = undefined;
    }
    if (!platform || !value || typeof value !== 'object' || Array.isArray(value)) {
      throw badRequest('X-Broker-API-Originating-Identity must be "<platform> <base64-encoded JSON object>"');
    }
    c.set('originatingIdentity', { platform, value: value as Record<string, unknown> });
    c.set('log', deferredChild(c.get('log'), { origin: { platform, ...(value as Record<string, unknown>) } }));
  }
  await next();
});
