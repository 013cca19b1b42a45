// Secrets stay secret through a full lifecycle: no credential or parameter value in clear text
// in Temporal's raw history, none in any log line of the broker's processes or of Temporal,
// and the codec endpoint decrypts only for the admin.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BrokerProcesses } from './helpers/processes.js';
import { stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const ADMIN = { user: 'admin', pass: 'admin-password' };

let broker: BrokerProcesses;
beforeAll(async () => {
  broker = await BrokerProcesses.create({
    CATALOG_DIR: CATALOG,
    CODEC_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    ADMIN_USER: ADMIN.user,
    ADMIN_PASS: ADMIN.pass,
    CODEC_CORS_ORIGINS: 'http://127.0.0.1:8233',
    BROKER_LOG_LEVEL: 'DEBUG',
  });
  await Promise.all([broker.startWorker(), broker.startApi()]);
}, 120_000);
afterAll(async () => broker?.stop());

it('keeps credentials and parameters out of Temporal history and out of every log', async () => {
  const id = `sec-${suffix()}`;
  const secretParameter = `greet-${randomBytes(6).toString('hex')}`;
  const provision = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY, parameters: { greeting: secretParameter } });
  expect(provision.status).toBe(202);
  expect((await broker.osb.waitForOperation(id, provision.body.operation)).body).toEqual({ state: 'succeeded' });
  const bound = await broker.osb.bind(id, `b-${id}`, { service_id: SERVICE, plan_id: READY });
  expect(bound.status).toBe(201);
  const password: string = bound.body.credentials.password;
  expect(password).toMatch(/^[A-Za-z0-9]{10}$/);
  expect((await broker.osb.unbind(id, `b-${id}`, SERVICE, READY)).status).toBe(200);
  const del = await broker.osb.deprovision(id, SERVICE, READY);
  expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);

  // Raw history, read without the codec: every payload encrypted, no secret visible.
  const connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
  try {
    // The raw gRPC service: no data converter, nothing decoded.
    const service = connection.workflowService;
    const { executions } = await service.listWorkflowExecutions({ namespace: 'default', query: `KbInstanceId = '${id}'` });
    let text = '';
    for (const e of executions) {
      const { history } = await service.getWorkflowExecutionHistory({ namespace: 'default', execution: e.execution });
      text += rawText(history);
    }
    const runs = executions.length;
    expect(runs).toBeGreaterThanOrEqual(4); // provision, bind, unbind, deprovision
    // The scan sees payload bytes: the (unencrypted) search attribute value is found.
    expect(text).toContain(id);
    expect(text).toContain('binary/encrypted');
    for (const secret of [password, secretParameter]) expect(text).not.toContain(secret);
  } finally {
    await connection.close();
  }

  // Logs: the broker's own (DEBUG) and every component of the stack.
  const stackLogs = stackEnv()['KB_STACK_LOGS']!;
  const logs = [broker.logs, ...fs.readdirSync(stackLogs).map((f) => fs.readFileSync(path.join(stackLogs, f), 'utf8'))].join('\n');
  expect(broker.logs).toContain(id); // the logs are there and about this instance
  for (const secret of [password, secretParameter]) expect(logs).not.toContain(secret);
});

/** Every string and every byte field of a history as text, so a secret in any payload shows. */
function rawText(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(rawText).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(rawText).join('\n');
  return '';
}

it('serves the codec endpoint to the admin only, with CORS for the Temporal UI', async () => {
  const url = broker.osb.url;
  const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"hello"').toString('base64') };
  const auth = { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64')}`, 'Content-Type': 'application/json' };
  const encoded = await fetch(`${url}/codec/encode`, { method: 'POST', headers: auth, body: JSON.stringify({ payloads: [plain] }) });
  expect(encoded.status).toBe(200);
  const body = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(Buffer.from(body.payloads[0]!.metadata['encoding']!, 'base64').toString()).toBe('binary/encrypted');
  expect(Buffer.from(body.payloads[0]!.data, 'base64').toString()).not.toContain('hello');
  const decoded = await fetch(`${url}/codec/decode`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
  expect(await decoded.json()).toEqual({ payloads: [plain] });

  const platform = { Authorization: `Basic ${Buffer.from('platform:test-password').toString('base64')}`, 'Content-Type': 'application/json' };
  expect((await fetch(`${url}/codec/decode`, { method: 'POST', headers: platform, body: JSON.stringify(body) })).status).toBe(401);
  const preflight = await fetch(`${url}/codec/decode`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://127.0.0.1:8233', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
  });
  expect(preflight.headers.get('Access-Control-Allow-Origin')).toBe('http://127.0.0.1:8233');
  expect(preflight.headers.get('Access-Control-Allow-Credentials')).toBe('true');
});
