// X-Broker-API-Version: required, 2.x, at least 2.13 (the oldest version whose semantics the
// broker implements). Anything else is 412 with what to send instead.
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../env.js';
import { preconditionFailed } from '../../broker/errors.js';

const MIN_MINOR = 13;

export const apiVersion = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header('X-Broker-API-Version');
  if (!header) throw preconditionFailed('the X-Broker-API-Version header is missing; send X-Broker-API-Version: 2.17');
  const match = /^2\.(\d+)$/.exec(header.trim());
  if (!match || Number(match[1]) < MIN_MINOR) {
    throw preconditionFailed(`X-Broker-API-Version ${header} is not supported; this broker speaks 2.${MIN_MINOR} to 2.17: send 2.17`);
  }
  await next();
});
