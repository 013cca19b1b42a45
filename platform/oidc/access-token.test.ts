// The checks of an access token, each tried with a token that fails only that check. The issuer is
// a local HTTP server publishing a discovery document and a key set, as a provider does.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessTokenVerifier, parseRequiredClaim, TokenRefused } from './access-token.js';

const AUDIENCE = 'kubernetes-broker-codec';
let server: http.Server;
let issuer: string;
let key: CryptoKey;
let up = true;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = http.createServer((req, res) => {
    if (!up) return res.writeHead(502).end();
    const body = req.url === '/.well-known/openid-configuration' ? { issuer, jwks_uri: `${issuer}/jwks` } : req.url === '/jwks' ? { keys: [jwk] } : undefined;
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify(body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const settings = () => ({ issuer, audiences: [AUDIENCE], required: parseRequiredClaim('groups=temporal-operators,platform-admins') });

async function token(claims: JWTPayload = {}, options: { key?: CryptoKey; kid?: string; expiresIn?: string } = {}) {
  return new SignJWT({ iss: issuer, aud: AUDIENCE, sub: 'operator', groups: ['temporal-operators'], ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(options.key ?? key);
}

async function refusal(verify: (t: string) => Promise<unknown>, t: string) {
  const err = await verify(t).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenRefused);
  return { status: (err as TokenRefused).status, message: (err as TokenRefused).message };
}

describe('accessTokenVerifier', () => {
  it('accepts a token of the issuer, for the audience, unexpired, holding an allowed group; and a string claim equal to one value', async () => {
    const verify = accessTokenVerifier(settings());
    await expect(verify(await token())).resolves.toMatchObject({ sub: 'operator' });
    await expect(verify(await token({ groups: 'platform-admins' }))).resolves.toMatchObject({ sub: 'operator' });
  });

  it('refuses, with 401 and the reason, a token of another issuer, another audience, expired, or signed by a key the issuer did not publish', async () => {
    const verify = accessTokenVerifier(settings());
    expect(await refusal(verify, await token({ iss: 'https://other.example' }))).toEqual({ status: 401, message: 'the token is from another issuer' });
    expect(await refusal(verify, await token({ aud: 'another-api' }))).toEqual({ status: 401, message: 'the token is for another audience' });
    expect(await refusal(verify, await token({}, { expiresIn: '-2m' }))).toEqual({ status: 401, message: 'the token has expired' });
    const stranger = (await generateKeyPair('RS256')).privateKey;
    expect(await refusal(verify, await token({}, { key: stranger }))).toEqual({ status: 401, message: "the token is not signed by one of the issuer's keys" });
    expect((await refusal(verify, await token({}, { key: stranger, kid: 'k9' }))).status).toBe(401);
  });

  it('refuses a token without an expiry, signed with a shared secret, unsigned, or not a JWT', async () => {
    const verify = accessTokenVerifier(settings());
    const noExpiry = await new SignJWT({ groups: ['temporal-operators'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .sign(key);
    expect((await refusal(verify, noExpiry)).status).toBe(401);
    const hmac = await new SignJWT({ groups: ['temporal-operators'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(issuer)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('a shared secret of thirty-two bytes!'));
    expect((await refusal(verify, hmac)).status).toBe(401);
    const [, payload] = (await token()).split('.');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect((await refusal(verify, unsigned)).status).toBe(401);
    expect((await refusal(verify, 'not-a-token')).status).toBe(401);
  });

  it('refuses with 403 a valid token without the required claim, or with other values in it', async () => {
    const verify = accessTokenVerifier(settings());
    const missing = await refusal(verify, await token({ groups: undefined }));
    expect(missing).toEqual({ status: 403, message: "the token's groups claim holds none of temporal-operators, platform-admins (CODEC_OIDC_CLAIM)" });
    expect((await refusal(verify, await token({ groups: ['developers'] }))).status).toBe(403);
    expect((await refusal(verify, await token({ groups: 'temporal-operators-not' }))).status).toBe(403);
  });

  it("answers 503 while the issuer's keys cannot be read, and recovers when they can", async () => {
    const verify = accessTokenVerifier(settings());
    const t = await token();
    up = false;
    try {
      const down = await refusal(verify, t);
      expect(down.status).toBe(503);
      expect(down.message).toContain(`${issuer}/.well-known/openid-configuration`);
    } finally {
      up = true;
    }
    await expect(verify(t)).resolves.toMatchObject({ sub: 'operator' });
  });

  it('reads the keys from CODEC_OIDC_JWKS_URL when given, without discovery', async () => {
    const verify = accessTokenVerifier({ ...settings(), jwksUrl: `${issuer}/jwks` });
    await expect(verify(await token())).resolves.toMatchObject({ sub: 'operator' });
  });
});

describe('parseRequiredClaim', () => {
  it('reads <claim>=<value>[,<value>...] and refuses anything else', () => {
    expect(parseRequiredClaim('groups=a, b')).toEqual({ name: 'groups', values: ['a', 'b'] });
    expect(parseRequiredClaim('https://example.com/roles=ops')).toEqual({ name: 'https://example.com/roles', values: ['ops'] });
    for (const bad of ['groups', 'groups=', '=ops', ' , ']) expect(() => parseRequiredClaim(bad)).toThrow(/<claim>=<value>/);
  });
});
