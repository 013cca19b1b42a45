// The local stack's OpenID Connect provider: panva's oidc-provider (a certified OpenID Provider
// implementation), with the two things it leaves to its host: a login page checking the static
// users of the config file, and consent granted to the stack's own clients without asking. The
// Temporal UI logs its users in here; the access tokens it gets are JWTs for the broker's codec
// endpoint (resource indicator CODEC_AUDIENCE), carrying the user's groups.
//   node --import tsx scripts/stack/oidc-provider.ts <config.json>     (oidc.sh writes the file)
import { timingSafeEqual, createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

interface User {
  id: string;
  username: string;
  password: string;
  email: string;
  name: string;
  groups: string[];
}
interface Client {
  client_id: string;
  client_secret: string;
  grant_types: string[];
  redirect_uris?: string[];
  /** Groups in the tokens a client gets for itself (client credentials): a test's stand-in for a user. */
  groups?: string[];
  /** Lifetime of its access tokens, seconds (a test needs one that expires at once). */
  access_token_ttl?: number;
}
interface StackOidcConfig {
  issuer: string;
  host: string;
  port: number;
  /** Resource indicators (`aud` of the access tokens): the codec's, and others a test asks tokens for. */
  resources: string[];
  /** Cookie signing keys. */
  cookie_keys: string[];
  users: User[];
  clients: Client[];
}

const config = JSON.parse(fs.readFileSync(process.argv[2] ?? '', 'utf8')) as StackOidcConfig;
const RESOURCE_SCOPE = 'codec';
const usersById = new Map(config.users.map((u) => [u.id, u]));
const clientsById = new Map(config.clients.map((c) => [c.client_id, c]));

// Its own signing key, made at start (the library's quick-start key is public): tokens issued
// before a restart stop verifying, as after a key rotation.
const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: `stack-${Date.now()}`, alg: 'RS256', use: 'sig' };

const digest = (s: string) => createHash('sha256').update(s).digest();
const passwordOk = (user: User, password: string) => timingSafeEqual(digest(user.password), digest(password));

const configuration: Configuration = {
  clients: config.clients.map(({ client_id, client_secret, grant_types, redirect_uris = [] }) => ({
    client_id,
    client_secret,
    grant_types,
    redirect_uris,
    response_types: grant_types.includes('authorization_code') ? ['code'] : [],
  })),
  cookies: { keys: config.cookie_keys },
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'profile', 'email', 'groups', 'offline_access', RESOURCE_SCOPE],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // The Temporal UI reads the user's name and email from the ID token.
  conformIdTokenClaims: false,
  // The UI server's code flow sends no PKCE challenge; its client is confidential.
  pkce: { required: () => false },
  findAccount: (_ctx, id) => {
    const user = usersById.get(id);
    if (!user) return undefined;
    return {
      accountId: id,
      claims: () => ({ sub: id, email: user.email, email_verified: true, name: user.name, groups: user.groups }),
    };
  },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Tokens are for the codec unless a request names another known resource.
      defaultResource: (_ctx, _client, oneOf) => oneOf ?? config.resources[0]!,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (!config.resources.includes(resource)) throw new errors.InvalidTarget(`unknown resource ${resource}`);
        return { scope: RESOURCE_SCOPE, audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
      },
    },
  },
  // The groups claim in every access token: the user's, or for client credentials the client's.
  extraTokenClaims: (_ctx, token) => {
    const accountId = 'accountId' in token ? token.accountId : undefined;
    const groups = accountId ? usersById.get(accountId)?.groups : clientsById.get(token.clientId ?? '')?.groups;
    return groups ? { groups } : undefined;
  },
  ttl: {
    AccessToken: (_ctx, token) => clientsById.get(token.clientId ?? '')?.access_token_ttl ?? 3600,
    ClientCredentials: (_ctx, token) => clientsById.get(token.clientId ?? '')?.access_token_ttl ?? 3600,
  },
  // The stack's clients are its own: what they ask for is granted without a consent page.
  loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
    const { oidc } = ctx;
    const existing = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(oidc.client!.clientId);
    if (existing) return oidc.provider.Grant.find(existing);
    if (!oidc.session?.accountId) return undefined;
    const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session.accountId });
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    grant.addOIDCClaims([...oidc.requestParamClaims]);
    for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {})) {
      grant.addResourceScope(indicator, [...oidc.requestParamScopes].filter((s) => server.scopes.has(s)).join(' '));
    }
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
};

const provider = new Provider(config.issuer, configuration);
const callback = provider.callback();

const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const loginPage = (uid: string, error?: string) => `<!doctype html>
<html><head><meta charset="utf-8"><title>Sign in: kubernetes-broker local stack</title></head>
<body><h1>Sign in</h1>${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Username <input name="username" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form></body></html>`;

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > 10_000) throw new Error('the form is too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req: http.IncomingMessage, res: http.ServerResponse) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') {
    // Consent is granted by loadExistingGrant; any other prompt is not one this stack asks.
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: `prompt ${details.prompt.name} is not supported` });
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(loginPage(details.uid));
    return;
  }
  const form = await readForm(req);
  const user = config.users.find((u) => u.username === form.get('username'));
  if (!user || !passwordOk(user, form.get('password') ?? '')) {
    res.writeHead(401, { 'Content-Type': 'text/html; charset=utf-8' }).end(loginPage(details.uid, 'Wrong username or password.'));
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
}

http
  .createServer((req, res) => {
    if (!req.url?.startsWith('/interaction/')) return void callback(req, res);
    interaction(req, res).catch((err: Error) => {
      console.error(`interaction ${req.url}: ${err.message}`);
      if (!res.headersSent) res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`sign-in failed: ${err.message}\n`);
    });
  })
  .listen(config.port, config.host, () => console.log(`OpenID provider ${config.issuer} listening`));
