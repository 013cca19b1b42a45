// Who may call /codec. The Temporal UI, logged in through OIDC, passes its user's access token
// (`Authorization: Bearer`, the UI's codec passAccessToken setting); the `temporal` CLI sends the
// admin credentials (`--codec-auth 'Basic ...'`). Each scheme is accepted only when configured.
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.js';
import { credentialsVerifier } from './credentials.js';
import { TokenRefused } from '../../platform/oidc/access-token.js';

export interface CodecAuth {
  /** The admin credentials, for basic auth. */
  admin?: { username: string; password: string } | undefined;
  /** Checks an OIDC access token; throws TokenRefused. */
  verifyToken?: ((token: string) => Promise<unknown>) | undefined;
}

const REALM = 'kubernetes-broker admin';

export function codecAuth({ admin, verifyToken }: CodecAuth): MiddlewareHandler<AppEnv> {
  const adminOk = admin ? credentialsVerifier(admin) : undefined;
  const accepted = [verifyToken && 'an OIDC access token of the Temporal UI (Bearer)', adminOk && 'the admin credentials (Basic)'].filter(Boolean).join(' or ');
  // The schemes this endpoint takes, each a challenge of its own (RFC 9110 section 11.6.1).
  const challenges = (bearerError?: string) =>
    [verifyToken && (bearerError ? `Bearer error="${bearerError}"` : 'Bearer'), adminOk && `Basic realm="${REALM}"`].filter(Boolean).join(', ');

  return async (c, next) => {
    const header = c.req.header('Authorization') ?? '';
    const [scheme = '', value = ''] = header.split(/\s+/, 2);
    const refuse = (status: 401 | 403 | 503, description: string, bearerError?: string) => {
      if (status !== 503) c.header('WWW-Authenticate', challenges(bearerError));
      return c.json({ error: status === 403 ? 'Forbidden' : status === 401 ? 'Unauthorized' : 'ServiceUnavailable', description }, status);
    };

    if (verifyToken && scheme.toLowerCase() === 'bearer' && value) {
      try {
        await verifyToken(value);
      } catch (err) {
        if (!(err instanceof TokenRefused)) throw err;
        c.get('log')?.warn({ status: err.status, reason: err.message }, 'codec: access token refused');
        return refuse(err.status, err.message, err.status === 403 ? 'insufficient_scope' : err.status === 401 ? 'invalid_token' : undefined);
      }
      return next();
    }
    if (adminOk && scheme.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const at = decoded.indexOf(':');
      if (at >= 0 && adminOk(decoded.slice(0, at), decoded.slice(at + 1))) return next();
    }
    return refuse(401, `the codec endpoint needs ${accepted}`);
  };
}
