// The Temporal UI in production: the operator logs in through OpenID Connect, and the UI passes
// the operator's access token to the broker's /codec (CODEC_AUTH=oidc), which checks it against
// the provider's keys. The stack runs a real provider, Temporal's UI server configured that way, and
// TLS in front of the codec (the UI passes tokens to https:// endpoints only; scripts/stack/oidc.sh). Payloads are encrypted (CODEC_KEYS). Tokens the provider issued for
// another audience, to a client outside the operators' group, or that expired, and tokens signed
// by a key the provider never published, are refused; the `temporal` CLI decodes with the admin
// credentials as before. Screenshots go to test-artifacts/.
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateKeyPair, SignJWT, decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { instanceWorkflowId } from '../../platform/temporal/ids.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { launchChromium } from './helpers/chromium.js';
import { stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
// Pods Ready 5 s after they start: past the provision's brief local wait, so the regular activity
// "wait until the workloads are ready" runs and the timeline shows its summary (the UI does not
// show local steps' summaries).
const SLOW = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0104';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');
const ADMIN = { user: 'admin', pass: 'admin-password' };

const env = (name: string) => {
  const value = stackEnv()[name];
  if (!value) throw new Error(`the local stack's env has no ${name}: scripts/stack/up.sh starts the OIDC provider (oidc.sh)`);
  return value;
};

let broker: RunningBroker;
let codecUrl: string;

beforeAll(async () => {
  // The stack's OIDC Temporal UI calls the codec at this port (scripts/stack/oidc.sh).
  broker = await startBroker({
    CATALOG_DIR: CATALOG,
    HOST: '127.0.0.1',
    PORT: env('KB_BROKER_OIDC_PORT'),
    ADMIN_USER: ADMIN.user,
    ADMIN_PASS: ADMIN.pass,
    CODEC_AUTH: 'oidc',
    CODEC_OIDC_ISSUER: env('KB_OIDC_ISSUER'),
    CODEC_OIDC_AUDIENCE: env('KB_OIDC_CODEC_AUDIENCE'),
    CODEC_OIDC_CLAIM: `groups=${env('KB_OIDC_OPERATORS_GROUP')}`,
    CODEC_CORS_ORIGINS: env('KB_TEMPORAL_UI_OIDC_URL'),
  });
  codecUrl = `${broker.url}/codec`;
}, 120_000);
afterAll(async () => broker?.stop());

/** An access token the provider issues to a client for itself (`id:secret` from the stack's env). */
async function clientToken(credentials: string, resource?: string): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'codec', ...(resource ? { resource } : {}) });
  const res = await fetch(`${env('KB_OIDC_ISSUER')}/token`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
    body,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

const PLAIN = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"decoded for operators"').toString('base64') };

/** An encrypted payload, made through /codec/encode with the admin credentials (the CLI's way). */
async function encrypted() {
  const res = await fetch(`${codecUrl}/encode`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ payloads: [PLAIN] }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { payloads: unknown[] };
}

async function decodeWith(token: string) {
  const res = await fetch(`${codecUrl}/decode`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'X-Namespace': 'default' },
    body: JSON.stringify(await encrypted()),
  });
  return { status: res.status, body: await res.json(), challenge: res.headers.get('WWW-Authenticate') };
}

describe("/codec with the provider's tokens", () => {
  it("decodes for a token of the provider, for the codec's audience, in the operators' group", async () => {
    const token = await clientToken(env('KB_OIDC_CLIENT_OPERATOR'));
    expect(decodeJwt(token)).toMatchObject({ iss: env('KB_OIDC_ISSUER'), aud: env('KB_OIDC_CODEC_AUDIENCE'), groups: [env('KB_OIDC_OPERATORS_GROUP')] });
    expect(await decodeWith(token)).toMatchObject({ status: 200, body: { payloads: [PLAIN] } });
  });

  it('refuses a token of the provider for another audience (401)', async () => {
    const token = await clientToken(env('KB_OIDC_CLIENT_OPERATOR'), env('KB_OIDC_OTHER_AUDIENCE'));
    expect(decodeJwt(token).aud).toBe(env('KB_OIDC_OTHER_AUDIENCE'));
    expect(await decodeWith(token)).toEqual({
      status: 401,
      body: { error: 'Unauthorized', description: 'the token is for another audience' },
      challenge: 'Bearer error="invalid_token", Basic realm="kubernetes-broker admin"',
    });
  });

  it("refuses a token of the provider without the operators' group (403)", async () => {
    const token = await clientToken(env('KB_OIDC_CLIENT_OUTSIDER'));
    expect(decodeJwt(token).groups).toEqual(['developers']);
    expect(await decodeWith(token)).toMatchObject({
      status: 403,
      body: { error: 'Forbidden', description: `the token's groups claim holds none of ${env('KB_OIDC_OPERATORS_GROUP')} (CODEC_OIDC_CLAIM)` },
    });
  });

  it('refuses a token of the provider once it has expired (401), and took it before', async () => {
    const token = await clientToken(env('KB_OIDC_CLIENT_EXPIRING'));
    const { exp } = decodeJwt(token);
    expect((await decodeWith(token)).status).toBe(200);
    // The provider made it live one second; the broker allows clocks 5 s apart.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp! * 1000 + 6_000 - Date.now())));
    expect(await decodeWith(token)).toMatchObject({ status: 401, body: { description: 'the token has expired' } });
  }, 30_000);

  it('refuses tokens signed by a key the provider never published, whatever issuer they name (401)', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forge = (iss: string) =>
      new SignJWT({ groups: [env('KB_OIDC_OPERATORS_GROUP')] })
        .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt' })
        .setIssuer(iss)
        .setAudience(env('KB_OIDC_CODEC_AUDIENCE'))
        .setSubject('intruder')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    expect(await decodeWith(await forge(env('KB_OIDC_ISSUER')))).toMatchObject({
      status: 401,
      body: { description: "the token is not signed by one of the issuer's keys" },
    });
    expect(await decodeWith(await forge('https://login.example.com'))).toMatchObject({ status: 401 });
    expect((await decodeWith('')).status).toBe(401);
  });
});

describe('the Temporal UI logged in through OIDC', () => {
  let browser: Browser;
  beforeAll(async () => {
    // The flags this machine needs (no network beyond loopback, running as root).
    // The codec endpoint's certificate is signed by the stack's CA: Chromium trusts that one key.
    const spki = new X509Certificate(fs.readFileSync(env('KB_OIDC_CODEC_TLS_CERT'))).publicKey.export({ type: 'spki', format: 'der' });
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`]);
  }, 60_000);
  afterAll(async () => browser?.close());

  it('shows a logged-in operator the decoded input and activity summaries of an instance', async () => {
    const id = `ui-oidc-${suffix()}`;
    const marker = `shown-decoded-${suffix()}`;
    const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: SLOW, parameters: { greeting: marker } });
    expect((await broker.osb.waitForOperation(id, res.body.operation)).body.state).toBe('succeeded');

    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const ui = env('KB_TEMPORAL_UI_OIDC_URL');
    const codecCalls: number[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${env('KB_OIDC_CODEC_URL')}/decode`)) codecCalls.push(r.status());
    });
    await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(`KbInstanceId="${id}"`)}`);
    // Not logged in: the UI sends the browser to the provider's sign-in page.
    await page.getByLabel('Username').waitFor({ timeout: 30_000 });
    expect(page.url().startsWith(env('KB_OIDC_ISSUER'))).toBe(true);
    await page.getByLabel('Username').fill(env('KB_OIDC_USER'));
    await page.getByLabel('Password').fill(env('KB_OIDC_PASSWORD'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.href.startsWith(ui), { timeout: 30_000 });

    // Logged in: find the instance's provision (the UI may land on its start page after login).
    if (!page.url().includes('workflows?query')) await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(`KbInstanceId="${id}"`)}`);
    const link = page.getByRole('link', { name: `instance:${id}` }).first();
    await link.waitFor({ timeout: 60_000 });
    await link.click();
    // The input and the activities' summaries are ciphertext in Temporal: only /codec, given the
    // operator's token, turns them into this text.
    try {
      await page.getByText(marker).first().waitFor({ timeout: 60_000 });
      // The timeline labels an activity with its summary (workflows/instance-steps.ts), rendered
      // in a frame of its own (the UI renders user metadata as sandboxed Markdown).
      const summaryShown = async () => {
        for (const frame of page.frames()) {
          if (
            (
              await frame
                .locator('body')
                .innerText({ timeout: 1000 })
                .catch(() => '')
            ).includes('wait until the workloads are ready')
          )
            return true;
        }
        return false;
      };
      await expect.poll(summaryShown, { timeout: 60_000, interval: 1000 }).toBe(true);
    } finally {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, 'temporal-ui-oidc-provision.png'), fullPage: true });
    }
    expect(codecCalls.length).toBeGreaterThan(0);
    expect(codecCalls.every((s) => s === 200)).toBe(true);
    await page.close();

    const del = await broker.osb.deprovision(id, SERVICE, SLOW);
    expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
  }, 240_000);
});

it("decodes for the temporal CLI with the admin credentials (--codec-auth 'Basic ...')", async () => {
  const id = `cli-oidc-${suffix()}`;
  const marker = `cli-decoded-${suffix()}`;
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY, parameters: { greeting: marker } });
  expect((await broker.osb.waitForOperation(id, res.body.operation)).body.state).toBe('succeeded');
  const temporal = path.join(
    env('KB_STACK_BIN')
      .split(':')
      .find((d) => fs.existsSync(path.join(d, 'temporal')))!,
    'temporal',
  );
  // Asynchronously: the broker answering the CLI's codec calls runs in this process.
  const show = async (auth: string) =>
    (
      await promisify(execFile)(
        temporal,
        [
          'workflow',
          'show',
          '--address',
          env('TEMPORAL_ADDRESS'),
          '--workflow-id',
          instanceWorkflowId(id),
          '--output',
          'json',
          '--codec-endpoint',
          codecUrl,
          '--codec-auth',
          auth,
        ],
        { encoding: 'utf8', timeout: 30_000 },
      )
    ).stdout;
  // JSON output keeps payloads as base64: the decoded ones are JSON text.
  const payloadData = [...(await show(`Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64')}`)).matchAll(/"data": "([A-Za-z0-9+/=]*)"/g)];
  expect(payloadData.map(([, data]) => Buffer.from(data!, 'base64').toString()).join('\n')).toContain(marker);
  // Refused (401), the CLI retries its codec calls until its deadline and shows nothing.
  await expect(show(`Basic ${Buffer.from(`${ADMIN.user}:wrong-password`).toString('base64')}`)).rejects.toThrow(/failed getting next history event/);
  const del = await broker.osb.deprovision(id, SERVICE, READY);
  expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
}, 120_000);
