// Which credentials /codec takes: a bearer token only when token checks are configured, the admin
// credentials only when they are set; a refusal names the schemes it would take.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { TokenRefused } from '../../platform/oidc/access-token.js';
import type { AppEnv } from '../env.js';
import { codecAuth, type CodecAuth } from './codec-auth.js';

const ADMIN = { username: 'admin', password: 'admin-password' };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
// The token check itself is access-token.test.ts's; here a token is good, outsider (403), or anything else (401).
const verifyToken = (token: string) => {
  if (token === 'good') return Promise.resolve({});
  if (token === 'outsider') return Promise.reject(new TokenRefused(403, "the token's groups claim holds none of ops (CODEC_OIDC_CLAIM)"));
  return Promise.reject(new TokenRefused(401, 'the token has expired'));
};

function call(auth: CodecAuth, authorization?: string) {
  const app = new Hono<AppEnv>();
  app.use(codecAuth(auth));
  app.post('/decode', (c) => c.json({ ok: true }));
  return app.request('/decode', { method: 'POST', headers: authorization ? { Authorization: authorization } : {} });
}

describe('codecAuth', () => {
  it('takes a valid access token and the admin credentials when both are configured', async () => {
    expect((await call({ admin: ADMIN, verifyToken }, 'Bearer good')).status).toBe(200);
    expect((await call({ admin: ADMIN, verifyToken }, basic('admin', 'admin-password'))).status).toBe(200);
  });

  it("refuses a bad token with the verifier's status and reason, as a Bearer challenge", async () => {
    const expired = await call({ admin: ADMIN, verifyToken }, 'Bearer old');
    expect(expired.status).toBe(401);
    expect(expired.headers.get('WWW-Authenticate')).toBe('Bearer error="invalid_token", Basic realm="kubernetes-broker admin"');
    expect(await expired.json()).toEqual({ error: 'Unauthorized', description: 'the token has expired' });
    const outsider = await call({ verifyToken }, 'Bearer outsider');
    expect(outsider.status).toBe(403);
    expect(outsider.headers.get('WWW-Authenticate')).toBe('Bearer error="insufficient_scope"');
  });

  it('refuses wrong or missing credentials, and a scheme that is not configured, naming what it takes', async () => {
    const wrong = await call({ admin: ADMIN, verifyToken }, basic('admin', 'guess'));
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({
      error: 'Unauthorized',
      description: 'the codec endpoint needs an OIDC access token of the Temporal UI (Bearer) or the admin credentials (Basic)',
    });
    expect((await call({ admin: ADMIN, verifyToken })).status).toBe(401);
    // Without token checks a bearer token is no credential at all, whatever it holds.
    const bearerOnly = await call({ admin: ADMIN }, 'Bearer good');
    expect(bearerOnly.status).toBe(401);
    expect(bearerOnly.headers.get('WWW-Authenticate')).toBe('Basic realm="kubernetes-broker admin"');
    expect((await call({ verifyToken }, basic('admin', 'admin-password'))).status).toBe(401);
  });
});
