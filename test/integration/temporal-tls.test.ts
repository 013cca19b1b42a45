// The broker against a secured Temporal: the stack's Temporal behind nginx as TLS terminator
// (scripts/stack/temporal-proxy.sh), once requiring a client certificate signed by the stack's CA
// (self-hosted Temporal or Temporal Cloud with mTLS), once an API key (Temporal Cloud with API
// keys). Configured only through Temporal's own client variables, as the `temporal` CLI is. Wrong
// credentials stop the worker and the API at start with what to fix and what the server said.
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../../cli/serve.js';
import { instanceSelector } from '../../catalog/labels.js';
import { loadConfig } from '../../platform/config/config.js';
import { createLogger } from '../../platform/observability/logger.js';
import { startBroker } from './helpers/broker.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const PLAN = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';

const env = stackEnv();
const MTLS_ADDRESS = env['KB_TEMPORAL_MTLS_ADDRESS']!;
const APIKEY_ADDRESS = env['KB_TEMPORAL_APIKEY_ADDRESS']!;
const CA = env['KB_TEMPORAL_TLS_CA']!;
const MTLS = {
  TEMPORAL_ADDRESS: MTLS_ADDRESS,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA,
  TEMPORAL_TLS_CLIENT_CERT_PATH: env['KB_TEMPORAL_TLS_CLIENT_CERT']!,
  TEMPORAL_TLS_CLIENT_KEY_PATH: env['KB_TEMPORAL_TLS_CLIENT_KEY']!,
};
const API_KEY = {
  TEMPORAL_ADDRESS: APIKEY_ADDRESS,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: CA,
  // The certificate's DNS name rather than the address it is reached at, as behind a load balancer.
  TEMPORAL_TLS_SERVER_NAME: env['KB_TEMPORAL_TLS_NAME']!,
  TEMPORAL_API_KEY: env['KB_TEMPORAL_API_KEY']!,
};

const kube = kubeApi();
afterAll(() => kube.close());

describe.each([
  ['a client certificate (mTLS)', MTLS],
  ['an API key', API_KEY],
])('through Temporal behind TLS with %s', (_, settings) => {
  it('provisions, binds, unbinds and deprovisions', async () => {
    const broker = await startBroker({ CATALOG_DIR: CATALOG, ...settings });
    try {
      expect(broker.config.TEMPORAL_ADDRESS).toBe(settings.TEMPORAL_ADDRESS);
      const instance = `tls-${suffix()}`;
      const provisioned = await broker.osb.provision(instance, { service_id: SERVICE, plan_id: PLAN, organization_guid: 'org', space_guid: 'space' });
      expect(provisioned.status, JSON.stringify(provisioned.body)).toBe(202);
      expect((await broker.osb.waitForOperation(instance, provisioned.body.operation)).body.state).toBe('succeeded');
      const deployments = () => kube.list('apps/v1', 'Deployment', broker.config.INSTANCE_NAMESPACE, { labelSelector: instanceSelector(instance) });
      expect((await deployments()).items).toHaveLength(1);

      const binding = `b-${suffix()}`;
      const bound = await broker.osb.bind(instance, binding, { service_id: SERVICE, plan_id: PLAN });
      expect(bound.status, JSON.stringify(bound.body)).toBe(201);
      expect(bound.body.credentials).toMatchObject({ username: 'app' });
      expect((await broker.osb.unbind(instance, binding, SERVICE, PLAN)).status).toBe(200);

      const deprovisioned = await broker.osb.deprovision(instance, SERVICE, PLAN);
      expect(deprovisioned.status, JSON.stringify(deprovisioned.body)).toBe(202);
      expect((await broker.osb.waitForOperation(instance, deprovisioned.body.operation)).status).toBe(410);
      expect((await deployments()).items).toEqual([]);
    } finally {
      await broker.stop();
    }
  });
});

describe('wrong credentials stop the worker and the API at start', () => {
  const at = (address: string) => `Temporal at ${address} (TEMPORAL_ADDRESS)`;
  it.each([
    [
      'no client certificate',
      { ...MTLS, TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' },
      `${at(MTLS_ADDRESS)} requires credentials: "client certificate required: none was sent"`,
    ],
    [
      'a client certificate of another CA',
      {
        ...MTLS,
        TEMPORAL_TLS_CLIENT_CERT_PATH: env['KB_TEMPORAL_TLS_OTHER_CLIENT_CERT']!,
        TEMPORAL_TLS_CLIENT_KEY_PATH: env['KB_TEMPORAL_TLS_OTHER_CLIENT_KEY']!,
      },
      `${at(MTLS_ADDRESS)} refused the client certificate in TEMPORAL_TLS_CLIENT_CERT_PATH: "client certificate refused: FAILED:`,
    ],
    [
      'a wrong API key',
      { ...API_KEY, TEMPORAL_API_KEY: 'not-the-key' },
      `${at(APIKEY_ADDRESS)} refused the API key in TEMPORAL_API_KEY: "Request unauthorized: missing or wrong API key"`,
    ],
    ['no API key', { ...API_KEY, TEMPORAL_API_KEY: '' }, `${at(APIKEY_ADDRESS)} requires credentials: "Request unauthorized: missing or wrong API key"`],
    [
      'a server CA that did not sign the server certificate',
      { ...MTLS, TEMPORAL_TLS_SERVER_CA_CERT_PATH: env['KB_TEMPORAL_TLS_OTHER_CA']! },
      `${at(MTLS_ADDRESS)} presented a certificate that the CA in TEMPORAL_TLS_SERVER_CA_CERT_PATH does not trust`,
    ],
  ])('%s', async (_, settings, message) => {
    // The worker, through the SDK's native connection.
    await expect(startBroker({ CATALOG_DIR: CATALOG, ...settings })).rejects.toThrow(message);
    // The API, through the client SDK's.
    const config = loadConfig({ ...env, ...settings, AUTH_USER: 'platform', AUTH_PASS: 'test-password', PORT: '0', HOST: '127.0.0.1', CATALOG_DIR: CATALOG });
    await expect(startServer(config, createLogger('silent'))).rejects.toThrow(message);
  });
});
