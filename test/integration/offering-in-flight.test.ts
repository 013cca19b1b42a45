// An offering added at runtime cannot be removed while a provision of it is accepted but not yet
// recorded: the API alone runs here, so the provision's workflow starts and stays at its first
// step, with no record, as it would between a 202 and the worker's first activity.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer } from '../../cli/serve.js';
import { dynamicPlanId, dynamicServiceId } from '../../catalog/offerings/dynamic-service.js';
import { MONGO_DYNAMIC_SERVICE } from '../../catalog/offerings/testing.js';
import { loadConfig } from '../../platform/config/config.js';
import { createLogger } from '../../platform/observability/logger.js';
import { createTemporalClient } from '../../platform/temporal/client.js';
import { Osb } from './helpers/broker.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';

const id = suffix();
const SERVICE = dynamicServiceId('dynamic-mongo');
const PLAN = dynamicPlanId('dynamic-mongo', 'dynamic-mongo');
const kube = kubeApi();
const config = loadConfig({
  ...stackEnv(),
  KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
  AUTH_USER: 'platform',
  AUTH_PASS: 'test-password',
  ADMIN_USER: 'admin',
  ADMIN_PASS: 'admin-password',
  PORT: '0',
  HOST: '127.0.0.1',
  // No worker polls this queue: what the API starts waits at its first step.
  TEMPORAL_TASK_QUEUE: `no-worker-${id}`,
  BROKER_NAMESPACE: `kb-records-${id}`,
  INSTANCE_NAMESPACE: `kb-instances-${id}`,
  BROKER_LOG_LEVEL: 'WARNING',
  CODEC_KEYS: `test:${randomBytes(32).toString('base64')}`,
});
const { client, connection } = createTemporalClient(config);
let server: Awaited<ReturnType<typeof startServer>>;
let platform: Osb;
let admin: Osb;

beforeAll(async () => {
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: config.BROKER_NAMESPACE } }, { fieldManager: 'test' });
  server = await startServer(config, createLogger(config.BROKER_LOG_LEVEL));
  platform = new Osb(server.url, 'platform', 'test-password');
  admin = new Osb(server.url, 'admin', 'admin-password');
});

afterAll(async () => {
  await server?.close();
  await connection.close();
  await kube.delete('v1', 'Namespace', undefined, config.BROKER_NAMESPACE);
  kube.close();
});

it('refuses to remove an offering while a provision of it runs without a record, and removes it once none does', async () => {
  const added = await admin.request('PUT', '/admin/offerings', MONGO_DYNAMIC_SERVICE);
  expect(added.status, JSON.stringify(added.body)).toBe(201);
  const instance = `in-flight-${id}`;
  const accepted = await platform.provision(instance, { service_id: SERVICE, plan_id: PLAN, organization_guid: 'org', space_guid: 'space' });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);

  // Temporal's visibility lists a started workflow a moment after the start (milliseconds here,
  // a second or so with Elasticsearch): the window docs/operating.md names.
  const running = async () => {
    const runs = [];
    for await (const run of client.workflow.list({ query: `KbInstanceId = '${instance}' AND ExecutionStatus = 'Running'` })) runs.push(run);
    return runs.length ? runs : undefined;
  };
  const runs = await eventually('the provision to be visible', running);
  let refused = await admin.request('DELETE', `/admin/offerings/${SERVICE}`);
  expect(refused.status, JSON.stringify(refused.body)).toBe(409);
  expect(refused.body.description).toContain(`1 live instance or provision in progress (${instance})`);

  await Promise.all(runs.map((run) => client.workflow.getHandle(run.workflowId, run.runId).terminate('test: no worker runs this provision')));
  await eventually('the provision to end', async () => ((await running()) ? undefined : true));
  refused = await admin.request('DELETE', `/admin/offerings/${SERVICE}`);
  expect(refused.status, JSON.stringify(refused.body)).toBe(200);
});
