// The Hono environment shared by the app, its middleware and routes.
import type { Logger } from '../platform/observability/logger.js';

export interface OriginatingIdentity {
  platform: string;
  /** The decoded JSON object the platform sent (user id and the like). */
  value: Record<string, unknown>;
}

export type AppEnv = {
  Variables: {
    requestId: string;
    log: Logger;
    originatingIdentity?: OriginatingIdentity;
  };
};
