// What an operator sees: headless Chromium opens the local Temporal UI, finds a provision by its
// instance id through the KbInstanceId search attribute, opens it, and reads its input decoded
// through the broker's codec endpoint (the payloads are encrypted in Temporal). A screenshot is
// saved in test-artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { launchChromium } from './helpers/chromium.js';
import { stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const ARTIFACTS = path.join(PROJECT_ROOT, 'test-artifacts');

let broker: RunningBroker;
let browser: Browser;

beforeAll(async () => {
  const ui = stackEnv()['TEMPORAL_UI_URL']!;
  // The stack's Temporal UI calls the codec at the dev-mode API port (scripts/stack/up.sh).
  broker = await startBroker({
    CATALOG_DIR: CATALOG,
    HOST: '127.0.0.1',
    PORT: stackEnv()['KB_BROKER_PORT'] ?? '8080',
    CODEC_AUTH: 'none',
    CODEC_CORS_ORIGINS: ui,
    TEMPORAL_UI_URL: ui,
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await broker?.stop();
});

it("finds a provision by instance id in the Temporal UI and shows its input decoded by the broker's codec", async () => {
  const id = `ui-${suffix()}`;
  const marker = `shown-decoded-${suffix()}`;
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY, parameters: { greeting: marker } });
  expect((await broker.osb.waitForOperation(id, res.body.operation)).body.state).toBe('succeeded');

  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const ui = stackEnv()['TEMPORAL_UI_URL']!;
  await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(`KbInstanceId="${id}"`)}`);
  const link = page.getByRole('link', { name: `instance:${id}` }).first();
  await link.waitFor({ timeout: 60_000 });
  await link.click();
  // The workflow page shows the input; only the codec endpoint can turn it into this text.
  await page.getByText(marker).first().waitFor({ timeout: 60_000 });
  await expect(page.getByText('provisionInstance').first().isVisible()).resolves.toBe(true);

  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const shot = path.join(ARTIFACTS, 'temporal-ui-provision.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
  await page.close();

  const del = await broker.osb.deprovision(id, SERVICE, READY);
  expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
}, 180_000);
