// The OSB HTTP layer against a FakeBroker: status codes, bodies and headers of every route,
// middleware order (auth, API version, identities, body limit), validation before the broker
// is asked, and the one error handler. No Temporal, no Kubernetes.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/load.js';
import { baseCatalog, deployment, removeCatalog, writeCatalog } from '../catalog/testing.js';
import type { Catalog } from '../catalog/types.js';
import { ApiMetrics } from '../platform/observability/metrics.js';
import { createApp } from './app.js';
import type { LastOperation } from '../broker/service-broker.js';
import {
  asyncRequired,
  badRequest,
  BrokerError,
  concurrencyError,
  conflict,
  gone,
  maintenanceInfoConflict,
  notFound,
  preconditionFailed,
  tooLarge,
  unauthorized,
  unavailable,
  unprocessable,
  unsupportedMediaType,
} from '../broker/errors.js';
import { FAKE_CREDENTIALS, FakeBroker, type BrokerMethod } from './fake-broker.js';

const AUTH = { username: 'platform', password: 'a-long-password' };
const BASIC = `Basic ${Buffer.from(`${AUTH.username}:${AUTH.password}`).toString('base64')}`;
const MAX_BODY = 4096;
const POLL = 7;

const SERVICE = 'db-service-id';
const PLAN = 'db-small-id';
const NOBIND = 'db-nobind-id';

const createSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    replicas: { type: 'integer', minimum: 1, maximum: 3, default: 1 },
    greeting: { type: 'string', maxLength: 10, default: 'hello' },
  },
};

let catalogDir: string;
let catalog: Catalog;

beforeAll(async () => {
  catalogDir = writeCatalog(
    baseCatalog({
      'db/small/plan.json': {
        id: PLAN,
        name: 'small',
        description: 'Small',
        free: true,
        plan_updateable: true,
        maintenance_info: { version: '1.0.0' },
        schemas: {
          service_instance: {
            create: { parameters: createSchema },
            update: { parameters: { type: 'object', additionalProperties: false, properties: { replicas: createSchema.properties.replicas } } },
          },
          service_binding: {
            create: {
              parameters: {
                type: 'object',
                additionalProperties: false,
                properties: { role: { type: 'string', enum: ['reader', 'writer'], default: 'reader' } },
              },
            },
          },
        },
      },
      'db/nobind/plan.json': { id: NOBIND, name: 'nobind', description: 'Not bindable', free: true, bindable: false },
      'db/nobind/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
    }),
  );
  catalog = (await loadCatalog(catalogDir)).catalog;
});
afterAll(() => removeCatalog(catalogDir));

/** A fresh app and broker per test: no test sees another's calls. `logs` holds the JSON log lines. */
function setup(
  options: {
    maxBodyBytes?: number;
    logLevel?: string;
    metrics?: ApiMetrics;
    admin?: { username: string; password: string };
    metricsAt?: 'here' | 'separate';
  } = {},
) {
  const broker = new FakeBroker();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: options.logLevel ?? 'info' }, sink);
  const app = createApp({
    broker,
    catalog,
    logger,
    auth: AUTH,
    maxBodyBytes: options.maxBodyBytes ?? MAX_BODY,
    pollIntervalSeconds: POLL,
    metrics: options.metrics,
    admin: options.admin,
    ...(options.metricsAt ? { metricsAt: options.metricsAt } : {}),
  });
  return { app, broker, logs };
}

type App = ReturnType<typeof setup>['app'];

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/**
 * An OSB request as a platform sends it: basic auth, X-Broker-API-Version 2.17, JSON. A header
 * given as `undefined` is left out; `body` as a string is sent as is (malformed JSON).
 */
async function osbRequest(app: App, method: string, path: string, body?: unknown, headers: Record<string, string | undefined> = {}): Promise<Answer> {
  const all: Record<string, string | undefined> = {
    Authorization: BASIC,
    'X-Broker-API-Version': '2.17',
    ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    ...headers,
  };
  const res = await app.request(path, {
    method,
    headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: the assertions will say so
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const instancePath = (id = 'inst-1', query = '?accepts_incomplete=true') => `/v2/service_instances/${id}${query}`;
const bindingPath = (id = 'bind-1', query = '') => `/v2/service_instances/inst-1/service_bindings/${id}${query}`;
const provisionBody = (extra: Record<string, unknown> = {}) => ({
  service_id: SERVICE,
  plan_id: PLAN,
  organization_guid: 'org-1',
  space_guid: 'space-1',
  context: { platform: 'cloudfoundry', organization_guid: 'org-1', space_guid: 'space-1' },
  ...extra,
});
const bindBody = (extra: Record<string, unknown> = {}) => ({ service_id: SERVICE, plan_id: PLAN, ...extra });

/** One request per route, each valid: what the middleware tables run through. */
const ROUTES: { name: string; method: string; path: string; body?: unknown; brokerMethod: BrokerMethod }[] = [
  { name: 'PUT instance', method: 'PUT', path: instancePath(), body: provisionBody(), brokerMethod: 'provision' },
  { name: 'GET instance', method: 'GET', path: '/v2/service_instances/inst-1', brokerMethod: 'getInstance' },
  { name: 'PATCH instance', method: 'PATCH', path: instancePath(), body: { service_id: SERVICE }, brokerMethod: 'update' },
  {
    name: 'DELETE instance',
    method: 'DELETE',
    path: instancePath('inst-1', `?accepts_incomplete=true&service_id=${SERVICE}&plan_id=${PLAN}`),
    brokerMethod: 'deprovision',
  },
  { name: 'instance last_operation', method: 'GET', path: '/v2/service_instances/inst-1/last_operation', brokerMethod: 'lastOperation' },
  { name: 'PUT binding', method: 'PUT', path: bindingPath(), body: bindBody(), brokerMethod: 'bind' },
  { name: 'GET binding', method: 'GET', path: bindingPath(), brokerMethod: 'getBinding' },
  { name: 'DELETE binding', method: 'DELETE', path: bindingPath('bind-1', `?service_id=${SERVICE}&plan_id=${PLAN}`), brokerMethod: 'unbind' },
  { name: 'binding last_operation', method: 'GET', path: `${bindingPath()}/last_operation`, brokerMethod: 'bindingLastOperation' },
];

describe('probes', () => {
  it('GET /healthz answers 200 without credentials or API version', async () => {
    const { app } = setup();
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz answers 200 with the checks when the broker is ready, without credentials', async () => {
    const { app, broker } = setup();
    const res = await app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', checks: { temporal: 'ok', kubernetes: 'ok' } });
    expect(broker.callsOf('ready')).toHaveLength(1);
  });

  it('GET /readyz answers 503 naming the failing check, its error only in the log', async () => {
    const { app, broker, logs } = setup();
    const detail = 'secrets is forbidden: User "system:serviceaccount:kb:api" cannot list at https://10.0.0.1:443';
    broker.willReturn('ready', { ok: false, checks: { temporal: 'ok', kubernetes: detail } });
    const res = await app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', checks: { temporal: 'ok', kubernetes: 'failing' } });
    expect(logs.find((l) => l['msg'] === 'not ready')).toMatchObject({ checks: { kubernetes: detail } });
  });
});

describe('GET /v2/catalog', () => {
  it('serves the loaded catalog as JSON', async () => {
    const { app } = setup();
    const res = await osbRequest(app, 'GET', '/v2/catalog');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual(catalog.osbCatalog);
    expect(res.body.services[0].plans.map((p: { id: string }) => p.id).sort()).toEqual([NOBIND, PLAN].sort());
  });

  it('answers If-None-Match with 304 only behind auth and the version check, and tells a stranger no ETag', async () => {
    const { app } = setup();
    const etag = (await osbRequest(app, 'GET', '/v2/catalog')).headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    expect((await osbRequest(app, 'GET', '/v2/catalog', undefined, { 'If-None-Match': etag })).status).toBe(304);
    const stranger = await osbRequest(app, 'GET', '/v2/catalog', undefined, { 'If-None-Match': etag, Authorization: undefined });
    expect(stranger.status).toBe(401);
    expect(stranger.headers.get('etag')).toBeNull();
    expect((await osbRequest(app, 'GET', '/v2/catalog', undefined, { 'If-None-Match': etag, 'X-Broker-API-Version': '2.1' })).status).toBe(412);
  });
});

describe('basic auth', () => {
  const cases: [string, string | undefined][] = [
    ['missing', undefined],
    ['wrong password', `Basic ${Buffer.from(`${AUTH.username}:wrong-password`).toString('base64')}`],
    ['wrong user', `Basic ${Buffer.from(`someone:${AUTH.password}`).toString('base64')}`],
    ['not basic', 'Bearer abc'],
    ['not base64', 'Basic %%%'],
  ];

  it.each(cases)('credentials %s: 401 with an OSB error body, broker not asked', async (_name, authorization) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody(), { Authorization: authorization });
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="kubernetes-broker"/);
    expect(res.body).toEqual({ error: 'Unauthorized', description: expect.stringContaining('basic auth') });
    expect(broker.calls).toEqual([]);
  });

  it.each(ROUTES)('guards $name', async ({ method, path, body }) => {
    const { app, broker } = setup();
    expect((await osbRequest(app, method, path, body, { Authorization: undefined })).status).toBe(401);
    expect(broker.calls).toEqual([]);
  });

  it('guards the catalog and unknown /v2 paths', async () => {
    const { app } = setup();
    expect((await osbRequest(app, 'GET', '/v2/catalog', undefined, { Authorization: undefined })).status).toBe(401);
    expect((await osbRequest(app, 'GET', '/v2/nothing', undefined, { Authorization: undefined })).status).toBe(401);
  });

  it('comes before the API version check', async () => {
    const { app } = setup();
    const res = await osbRequest(app, 'GET', '/v2/catalog', undefined, { Authorization: undefined, 'X-Broker-API-Version': undefined });
    expect(res.status).toBe(401);
  });
});

describe('X-Broker-API-Version', () => {
  const refused: [string, string | undefined][] = [
    ['missing', undefined],
    ['2.12 (below 2.13)', '2.12'],
    ['3.0 (not 2.x)', '3.0'],
    ['1.17', '1.17'],
    ['garbage', 'garbage'],
    ['2 (no minor)', '2'],
    ['2.x', '2.x'],
    ['2.17.1', '2.17.1'],
  ];

  it.each(refused)('%s: 412 with what to send, broker not asked', async (_name, version) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody(), { 'X-Broker-API-Version': version });
    expect(res.status).toBe(412);
    expect(res.body).toEqual({ error: 'PreconditionFailed', description: expect.stringContaining('2.17') });
    expect(broker.calls).toEqual([]);
  });

  it.each(['2.13', '2.14', '2.16', '2.17'])('%s is accepted', async (version) => {
    const { app } = setup();
    expect((await osbRequest(app, 'GET', '/v2/catalog', undefined, { 'X-Broker-API-Version': version })).status).toBe(200);
  });
});

describe('X-Broker-API-Request-Identity', () => {
  const ID = 'e26cea8f-9c5f-4f1c-b6a1-3d3c0f9b2a77';

  it.each([
    ['a success', 'PUT', instancePath(), provisionBody(), {}, 202],
    ['a 400', 'PUT', instancePath(), '{', {}, 400],
    ['a 401', 'GET', '/v2/catalog', undefined, { Authorization: undefined }, 401],
    ['a 412', 'GET', '/v2/catalog', undefined, { 'X-Broker-API-Version': '2.1' }, 412],
    ['a 404 of an unknown route', 'GET', '/nothing', undefined, {}, 404],
  ] as const)('is echoed on %s', async (_name, method, path, body, headers, status) => {
    const { app } = setup();
    const res = await osbRequest(app, method, path, body, { ...headers, 'X-Broker-API-Request-Identity': ID });
    expect(res.status).toBe(status);
    expect(res.headers.get('X-Broker-API-Request-Identity')).toBe(ID);
  });

  it('is echoed on a 500', async () => {
    const { app, broker } = setup();
    broker.willThrow('provision', new Error('boom'));
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody(), { 'X-Broker-API-Request-Identity': ID });
    expect(res.status).toBe(500);
    expect(res.headers.get('X-Broker-API-Request-Identity')).toBe(ID);
  });

  it('is generated when the platform sends none, and names the request in the logs', async () => {
    const { app, logs } = setup({ logLevel: 'debug' });
    const res = await osbRequest(app, 'GET', '/v2/catalog');
    const id = res.headers.get('X-Broker-API-Request-Identity');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(logs.find((l) => l['msg'] === 'request')).toMatchObject({ requestId: id, method: 'GET', path: '/v2/catalog', status: 200 });
  });
});

describe('request log lines', () => {
  // pino's numeric levels: 20 debug, 30 info, 50 error.
  it.each([
    ['a read that succeeds', 'GET', '/v2/catalog', undefined, 200, 20],
    ['a read that fails', 'GET', '/v2/service_instances/nope/last_operation', undefined, 404, 30],
    ['a change', 'PUT', instancePath(), provisionBody(), 202, 30],
    ['a change refused', 'PUT', instancePath(), '{', 400, 30],
  ] as const)('%s: its line has the right level', async (_name, method, path, body, status, level) => {
    const { app, logs, broker } = setup({ logLevel: 'debug' });
    broker.willThrow('lastOperation', notFound('no such instance'));
    expect((await osbRequest(app, method, path, body)).status).toBe(status);
    expect(logs.filter((l) => l['msg'] === 'request')).toEqual([expect.objectContaining({ level, method, status })]);
  });

  it('a server error logs at error', async () => {
    const { app, logs, broker } = setup();
    broker.willThrow('provision', new Error('boom'));
    expect((await osbRequest(app, 'PUT', instancePath(), provisionBody())).status).toBe(500);
    expect(logs.filter((l) => l['msg'] === 'request')).toEqual([expect.objectContaining({ level: 50, status: 500 })]);
  });

  it('at info, a read that succeeds writes no line', async () => {
    const { app, logs } = setup();
    expect((await osbRequest(app, 'GET', '/v2/catalog')).status).toBe(200);
    expect(logs.filter((l) => l['msg'] === 'request')).toEqual([]);
  });
});

describe('request metrics', () => {
  it('GET /metrics on the OSB port answers the admin credentials only, and not at all when served on an address of its own', async () => {
    const admin = { username: 'admin', password: 'admin-password' };
    const as = (user: string, pass: string) => ({ headers: { Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` } });
    const here = setup({ metrics: new ApiMetrics(), admin }).app;
    expect((await here.request('/metrics')).status).toBe(401);
    expect((await here.request('/metrics', as('platform', 'test-password'))).status).toBe(401);
    const ok = await here.request('/metrics', as('admin', 'admin-password'));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('broker_http_requests_total');
    expect((await setup({ metrics: new ApiMetrics(), admin, metricsAt: 'separate' }).app.request('/metrics', as('admin', 'admin-password'))).status).toBe(404);
    // Without admin credentials nobody may read them here.
    expect((await setup({ metrics: new ApiMetrics() }).app.request('/metrics')).status).toBe(404);
  });

  it('count every request and its latency by method, route pattern and status', async () => {
    const metrics = new ApiMetrics();
    const { app } = setup({ metrics });
    for (let i = 0; i < 3; i++) expect((await osbRequest(app, 'GET', '/v2/catalog')).status).toBe(200);
    expect((await osbRequest(app, 'GET', '/v2/catalog', undefined, { Authorization: undefined })).status).toBe(401);
    expect((await osbRequest(app, 'PUT', instancePath(), provisionBody())).status).toBe(202);
    expect((await osbRequest(app, 'PUT', instancePath('other'), provisionBody())).status).toBe(202);
    const text = await metrics.registry.metrics();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}.*+?^$()|[\]\\]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('broker_http_requests_total{method="GET",route="/v2/catalog",status="200"}')).toBe(3);
    expect(value('broker_http_requests_total{method="GET",route="/v2/catalog",status="401"}')).toBe(1);
    expect(value('broker_http_requests_total{method="PUT",route="/v2/service_instances/:instance_id",status="202"}')).toBe(2);
    expect(value('broker_http_request_duration_seconds_count{method="GET",route="/v2/catalog",status="200"}')).toBe(3);
    expect(value('broker_http_request_duration_seconds_bucket{le="+Inf",method="PUT",route="/v2/service_instances/:instance_id",status="202"}')).toBe(2);
  });
});

describe('X-Broker-API-Originating-Identity', () => {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

  it('is parsed and carried in the logs of the request', async () => {
    const { app, logs } = setup();
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody(), {
      'X-Broker-API-Originating-Identity': `cloudfoundry ${encode({ user_id: 'user-42' })}`,
    });
    expect(res.status).toBe(202);
    expect(logs.find((l) => l['msg'] === 'provision')).toMatchObject({ origin: { platform: 'cloudfoundry', user_id: 'user-42' } });
  });

  it.each([
    ['a platform only', 'cloudfoundry'],
    ['a value that is not base64 JSON', 'cloudfoundry not-base64-json'],
    ['a JSON array', `cloudfoundry ${encode([1, 2])}`],
    ['a JSON string', `cloudfoundry ${encode('user')}`],
    ['JSON null', `cloudfoundry ${encode(null)}`],
    ['three words', `cloudfoundry ${encode({ user_id: 'u' })} extra`],
  ])('%s: 400, broker not asked', async (_name, header) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody(), { 'X-Broker-API-Originating-Identity': header });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining('X-Broker-API-Originating-Identity') });
    expect(broker.calls).toEqual([]);
  });
});

describe('broker errors', () => {
  // Every named BrokerError, rendered by the one error handler.
  const errors: [string, BrokerError, number, Record<string, unknown>][] = [
    ['badRequest', badRequest('bad thing'), 400, { error: 'BadRequest', description: 'bad thing' }],
    ['unauthorized', unauthorized(), 401, { error: 'Unauthorized', description: expect.any(String) }],
    ['notFound', notFound('no such thing'), 404, { error: 'NotFound', description: 'no such thing' }],
    ['conflict', conflict('exists with other attributes'), 409, {}],
    ['gone', gone(), 410, {}],
    ['preconditionFailed', preconditionFailed('old version'), 412, { error: 'PreconditionFailed', description: 'old version' }],
    ['tooLarge', tooLarge(10), 413, { error: 'PayloadTooLarge', description: 'the request body is larger than 10 bytes' }],
    ['unsupportedMediaType', unsupportedMediaType(), 415, { error: 'UnsupportedMediaType', description: expect.stringContaining('application/json') }],
    ['asyncRequired', asyncRequired(), 422, { error: 'AsyncRequired', description: expect.stringContaining('accepts_incomplete=true') }],
    ['concurrencyError', concurrencyError('instance inst-1'), 422, { error: 'ConcurrencyError', description: expect.stringContaining('instance inst-1') }],
    ['maintenanceInfoConflict', maintenanceInfoConflict('2.0.0'), 422, { error: 'MaintenanceInfoConflict', description: expect.stringContaining('2.0.0') }],
    [
      'maintenanceInfoConflict without a version',
      maintenanceInfoConflict(undefined),
      422,
      { error: 'MaintenanceInfoConflict', description: expect.stringContaining('no maintenance information') },
    ],
    [
      'unprocessable with OSB extras',
      unprocessable('cannot change plan', { update_repeatable: false }),
      422,
      { error: 'UnprocessableEntity', description: 'cannot change plan', update_repeatable: false },
    ],
    ['unavailable', unavailable('Temporal is down'), 503, { error: 'ServiceUnavailable', description: 'Temporal is down' }],
  ];

  it.each(errors)('%s → its status and body', async (_name, error, status, body) => {
    const { app, broker } = setup();
    broker.willThrow('provision', error);
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody());
    expect(res.status).toBe(status);
    expect(res.body).toEqual(body);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it.each(ROUTES)('$name renders a BrokerError of the broker (410 {})', async ({ method, path, body, brokerMethod }) => {
    const { app, broker } = setup();
    broker.willThrow(brokerMethod, gone());
    const res = await osbRequest(app, method, path, body);
    expect(res.status).toBe(410);
    expect(res.body).toEqual({});
  });

  it.each(ROUTES)(
    '$name turns an unexpected error into 500 with the request id, its message and stack only in the log',
    async ({ method, path, body, brokerMethod }) => {
      const { app, broker, logs } = setup();
      broker.willThrow(brokerMethod, new TypeError('cannot read properties of undefined'));
      const res = await osbRequest(app, method, path, body, { 'X-Broker-API-Request-Identity': 'req-500' });
      expect(res.status).toBe(500);
      expect(res.body).toEqual({
        error: 'InternalError',
        description: "internal error (request req-500); the broker's log has the detail under this request id",
      });
      expect(JSON.stringify(res.body)).not.toMatch(/cannot read|\n\s+at |\.ts:\d+/);
      expect(logs.find((l) => l['msg'] === 'unexpected error')).toMatchObject({
        requestId: 'req-500',
        err: { message: 'cannot read properties of undefined' },
      });
    },
  );

  it('answers 503 when a backend is unreachable (a ConnectionError from Temporal)', async () => {
    const { app, broker } = setup();
    const err = new Error('Failed to connect before the deadline to temporal.internal:7233');
    err.name = 'ConnectionError';
    broker.willThrow('lastOperation', err);
    const res = await osbRequest(app, 'GET', '/v2/service_instances/inst-1/last_operation');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'ServiceUnavailable', description: expect.stringContaining('retry later') });
    expect(JSON.stringify(res.body)).not.toContain('temporal.internal');
  });
});

describe('unknown routes', () => {
  it.each([
    ['GET', '/nothing'],
    ['GET', '/v2/nothing'],
    ['POST', '/v2/catalog'],
    ['POST', '/v2/service_instances/inst-1'],
    ['GET', '/v2/service_instances/inst-1/service_bindings'],
  ])('%s %s: 404 with an OSB error body', async (method, path) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, method, path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'NotFound', description: `no route for ${method} ${path}` });
    expect(broker.calls).toEqual([]);
  });
});

describe('request bodies', () => {
  const notJson: [string, string][] = [
    ['malformed JSON', '{"service_id": '],
    ['empty', ''],
  ];
  const notObject: [string, string][] = [
    ['an array', '[1,2]'],
    ['a string', '"x"'],
    ['a number', '3'],
    ['null', 'null'],
  ];
  const bodyRoutes = [
    ['PUT instance', 'PUT', instancePath()],
    ['PATCH instance', 'PATCH', instancePath()],
    ['PUT binding', 'PUT', bindingPath()],
  ] as const;

  for (const [route, method, path] of bodyRoutes) {
    it.each(notJson)(`${route}, %s: 400, broker not asked`, async (_name, body) => {
      const { app, broker } = setup();
      const res = await osbRequest(app, method, path, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining('not valid JSON') });
      expect(broker.calls).toEqual([]);
    });

    it.each(notObject)(`${route}, %s: 400, broker not asked`, async (_name, body) => {
      const { app, broker } = setup();
      const res = await osbRequest(app, method, path, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'BadRequest', description: 'the request body must be a JSON object' });
      expect(broker.calls).toEqual([]);
    });
  }

  it('413 for a body larger than the limit (with Content-Length), broker not asked', async () => {
    const { app, broker } = setup({ maxBodyBytes: 100 });
    const body = JSON.stringify(provisionBody({ parameters: { greeting: 'x'.repeat(200) } }));
    const res = await osbRequest(app, 'PUT', instancePath(), body, { 'Content-Length': String(Buffer.byteLength(body)) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'PayloadTooLarge', description: 'the request body is larger than 100 bytes' });
    expect(broker.calls).toEqual([]);
  });

  it('413 for a body larger than the limit (streamed, no Content-Length), broker not asked', async () => {
    const { app, broker } = setup({ maxBodyBytes: 100 });
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody({ parameters: { greeting: 'x'.repeat(200) } }));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: 'PayloadTooLarge', description: 'the request body is larger than 100 bytes' });
    expect(broker.calls).toEqual([]);
  });

  it('a body just within the limit passes', async () => {
    const body = JSON.stringify(provisionBody());
    const { app } = setup({ maxBodyBytes: Buffer.byteLength(body) });
    expect((await osbRequest(app, 'PUT', instancePath(), body)).status).toBe(202);
  });
});

describe('ids in paths', () => {
  const badIds: [string, string][] = [
    ['with a space', 'a%20b'],
    ['starting with -', '-x'],
    ['ending with .', 'x.'],
    ['64 characters', 'a'.repeat(64)],
    ['with a slash', 'a%2Fb'],
    ['with a colon', 'a:b'],
  ];

  it.each(badIds)('instance id %s: 400 on every instance route, broker not asked', async (_name, id) => {
    const { app, broker } = setup();
    const requests: [string, string, unknown][] = [
      ['PUT', instancePath(id), provisionBody()],
      ['GET', `/v2/service_instances/${id}`, undefined],
      ['PATCH', instancePath(id), { service_id: SERVICE }],
      ['DELETE', instancePath(id, `?accepts_incomplete=true&service_id=${SERVICE}&plan_id=${PLAN}`), undefined],
      ['GET', `/v2/service_instances/${id}/last_operation`, undefined],
      ['PUT', `/v2/service_instances/${id}/service_bindings/bind-1`, bindBody()],
    ];
    for (const [method, path, body] of requests) {
      const res = await osbRequest(app, method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 400]);
      expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining('instance_id must be 1 to 63') });
    }
    expect(broker.calls).toEqual([]);
  });

  it.each(badIds)('binding id %s: 400 on every binding route, broker not asked', async (_name, id) => {
    const { app, broker } = setup();
    const requests: [string, string, unknown][] = [
      ['PUT', bindingPath(id), bindBody()],
      ['GET', bindingPath(id), undefined],
      ['DELETE', bindingPath(id, `?service_id=${SERVICE}&plan_id=${PLAN}`), undefined],
      ['GET', `${bindingPath(id)}/last_operation`, undefined],
    ];
    for (const [method, path, body] of requests) {
      const res = await osbRequest(app, method, path, body);
      expect([method, path, res.status]).toEqual([method, path, 400]);
      expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining('binding_id must be 1 to 63') });
    }
    expect(broker.calls).toEqual([]);
  });

  it('`..` never reaches a route: URL normalisation turns it into another path (404)', async () => {
    // pathId refuses `..` too (requests.test.ts); a URL cannot even carry it to the handler.
    const { app, broker } = setup();
    for (const id of ['..', '%2E%2E']) {
      expect((await osbRequest(app, 'PUT', instancePath(id), provisionBody())).status).toBe(404);
      expect((await osbRequest(app, 'PUT', bindingPath(id), bindBody())).status).toBe(404);
    }
    expect(broker.calls).toEqual([]);
  });

  it('accepts GUIDs, 63 characters and the allowed punctuation', async () => {
    const { app, broker } = setup();
    const ids = ['0f2b4a1e-6c3d-4e5f-8a9b-0c1d2e3f4a5b', 'a'.repeat(63), 'A.b_c-9', 'x'];
    for (const id of ids) expect((await osbRequest(app, 'PUT', instancePath(id), provisionBody())).status).toBe(202);
    expect(broker.callsOf('provision').map(([req]) => req.instanceId)).toEqual(ids);
  });
});

describe('PUT /v2/service_instances/:instance_id (provision)', () => {
  it('202 with the operation when the broker starts it', async () => {
    const { app, broker } = setup();
    broker.willReturn('provision', { status: 'accepted', operation: 'provision-abc' });
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody());
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ operation: 'provision-abc' });
  });

  it('200 {} when the instance exists with identical attributes', async () => {
    const { app, broker } = setup();
    broker.willReturn('provision', { status: 'exists' });
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
  });

  it('hands the broker the validated request: schema defaults applied, org and space from the context', async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'PUT', instancePath('inst-7'), provisionBody({ parameters: { replicas: 2 }, maintenance_info: { version: '1.0.0' } }));
    const req = broker.onlyCall('provision');
    expect(req).toMatchObject({
      instanceId: 'inst-7',
      parameters: { replicas: 2, greeting: 'hello' },
      context: { platform: 'cloudfoundry', organization_guid: 'org-1', space_guid: 'space-1' },
      org: 'org-1',
      space: 'space-1',
      maintenanceInfo: { version: '1.0.0' },
      acceptsIncomplete: true,
    });
    expect(req.service.id).toBe(SERVICE);
    expect(req.plan.id).toBe(PLAN);
  });

  it('applies every default when the request has no parameters, and takes the deprecated top-level org and space', async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'PUT', instancePath(), { service_id: SERVICE, plan_id: PLAN, organization_guid: 'org-9', space_guid: 'space-9' });
    const req = broker.onlyCall('provision');
    expect(req).toMatchObject({ parameters: { replicas: 1, greeting: 'hello' }, context: {}, org: 'org-9', space: 'space-9' });
    expect(req).not.toHaveProperty('maintenanceInfo');
  });

  it('passes accepts_incomplete as given; the broker decides about AsyncRequired', async () => {
    const { app, broker } = setup();
    broker.willThrow('provision', asyncRequired());
    for (const query of ['', '?accepts_incomplete=false', '?accepts_incomplete=yes']) {
      const res = await osbRequest(app, 'PUT', instancePath('inst-1', query), provisionBody());
      expect(res.status).toBe(422);
      expect(res.body.error).toBe('AsyncRequired');
    }
    expect(broker.callsOf('provision').map(([r]) => r.acceptsIncomplete)).toEqual([false, false, false]);
  });

  it('ignores unknown fields', async () => {
    const { app, broker } = setup();
    expect((await osbRequest(app, 'PUT', instancePath(), provisionBody({ something_new: { a: 1 } }))).status).toBe(202);
    expect(broker.onlyCall('provision')).not.toHaveProperty('something_new');
  });

  const invalid: [string, unknown, string][] = [
    ['service_id missing', provisionBody({ service_id: undefined }), 'service_id is required'],
    ['plan_id missing', provisionBody({ plan_id: undefined }), 'plan_id is required'],
    ['service_id empty', provisionBody({ service_id: '' }), 'service_id must not be empty'],
    ['service_id a number', provisionBody({ service_id: 3 }), 'service_id must be a string'],
    ['organization_guid missing (OSB 2.17 requires it even with a context)', provisionBody({ organization_guid: undefined }), 'organization_guid is required'],
    ['space_guid missing', provisionBody({ space_guid: undefined }), 'space_guid is required'],
    ['organization_guid empty', provisionBody({ organization_guid: '' }), 'organization_guid must not be empty'],
    ['space_guid empty', provisionBody({ space_guid: '' }), 'space_guid must not be empty'],
    ['organization_guid null', provisionBody({ organization_guid: null }), 'organization_guid is required'],
    ['unknown service_id', provisionBody({ service_id: 'nope' }), 'service_id nope is not in the catalog'],
    ['unknown plan_id', provisionBody({ plan_id: 'nope' }), 'plan_id nope is not a plan of service db'],
    ['context not an object', provisionBody({ context: 'x' }), 'context must be a JSON object'],
    ['parameters not an object', provisionBody({ parameters: [1] }), 'parameters must be a JSON object'],
    ['maintenance_info with a version that is not a string', provisionBody({ maintenance_info: { version: 1 } }), 'maintenance_info.version must be a string'],
    ['maintenance_info with an empty version', provisionBody({ maintenance_info: { version: '' } }), 'maintenance_info.version must not be empty'],
    ['maintenance_info not an object', provisionBody({ maintenance_info: '1.0.0' }), 'maintenance_info must be an object'],
    ['a parameter above its maximum', provisionBody({ parameters: { replicas: 9 } }), 'parameters.replicas must be <= 3'],
    ['a parameter of the wrong type', provisionBody({ parameters: { replicas: 'two' } }), 'parameters.replicas must be integer'],
    ['a parameter the plan does not declare', provisionBody({ parameters: { color: 'red' } }), 'parameters.color is not allowed'],
    ['a string too long', provisionBody({ parameters: { greeting: 'x'.repeat(11) } }), 'parameters.greeting'],
  ];

  it.each(invalid)('%s: 400 saying what is wrong, broker not asked', async (_name, body, says) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'PUT', instancePath(), body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining(says) });
    expect(broker.calls).toEqual([]);
  });

  it('422 MaintenanceInfoConflict for an outdated maintenance_info, broker not asked', async () => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'PUT', instancePath(), provisionBody({ maintenance_info: { version: '0.9.0' } }));
    expect(res.status).toBe(422);
    expect(res.body).toEqual({ error: 'MaintenanceInfoConflict', description: expect.stringContaining('1.0.0') });
    expect(broker.calls).toEqual([]);
  });
});

describe('GET /v2/service_instances/:instance_id', () => {
  it('200 with what the broker knows', async () => {
    const { app, broker } = setup();
    const details = {
      service_id: SERVICE,
      plan_id: PLAN,
      parameters: { replicas: 2 },
      context: { platform: 'cloudfoundry', instance_name: 'db' },
      metadata: { labels: {}, attributes: { namespace: 'ns' } },
    };
    broker.willReturn('getInstance', details);
    const res = await osbRequest(app, 'GET', '/v2/service_instances/inst-3');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(details);
    expect(broker.callsOf('getInstance')).toEqual([['inst-3']]);
  });

  it('404 when the broker says so', async () => {
    const { app, broker } = setup();
    broker.willThrow('getInstance', notFound('instance inst-3 does not exist'));
    const res = await osbRequest(app, 'GET', '/v2/service_instances/inst-3');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'NotFound', description: 'instance inst-3 does not exist' });
  });
});

describe('PATCH /v2/service_instances/:instance_id (update)', () => {
  it('202 with the operation when an update starts', async () => {
    const { app, broker } = setup();
    broker.willReturn('update', { status: 'accepted', operation: 'update-1' });
    const res = await osbRequest(app, 'PATCH', instancePath(), { service_id: SERVICE, parameters: { replicas: 2 } });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ operation: 'update-1' });
  });

  it('200 {} when nothing changes', async () => {
    const { app, broker } = setup();
    broker.willReturn('update', { status: 'unchanged' });
    const res = await osbRequest(app, 'PATCH', instancePath(), { service_id: SERVICE });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
  });

  it("hands the broker the target plan and only the parameters the request names (merging is the broker's)", async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'PATCH', instancePath('inst-2'), {
      service_id: SERVICE,
      plan_id: PLAN,
      parameters: { replicas: 3 },
      context: { platform: 'cloudfoundry' },
      maintenance_info: { version: '1.0.0' },
      previous_values: { plan_id: NOBIND },
    });
    const req = broker.onlyCall('update');
    expect(req).toMatchObject({
      instanceId: 'inst-2',
      parameters: { replicas: 3 },
      context: { platform: 'cloudfoundry' },
      maintenanceInfo: { version: '1.0.0' },
      acceptsIncomplete: true,
    });
    expect(req.service.id).toBe(SERVICE);
    expect(req.plan?.id).toBe(PLAN);
  });

  it('without plan_id or parameters the broker gets neither (the current ones stay)', async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'PATCH', instancePath('inst-2', ''), { service_id: SERVICE });
    const req = broker.onlyCall('update');
    expect(req).not.toHaveProperty('plan');
    expect(req).not.toHaveProperty('parameters');
    expect(req).toMatchObject({ context: {}, acceptsIncomplete: false });
  });

  it.each([
    ['service_id missing', { plan_id: PLAN }, 'service_id'],
    ['unknown service_id', { service_id: 'nope' }, 'service_id nope is not in the catalog'],
    ['unknown plan_id', { service_id: SERVICE, plan_id: 'nope' }, 'plan_id nope is not a plan of service db'],
    ['parameters not an object', { service_id: SERVICE, parameters: 'x' }, 'parameters must be a JSON object'],
  ])('%s: 400, broker not asked', async (_name, body, says) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'PATCH', instancePath(), body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining(says) });
    expect(broker.calls).toEqual([]);
  });
});

describe('DELETE /v2/service_instances/:instance_id (deprovision)', () => {
  const query = `?accepts_incomplete=true&service_id=${SERVICE}&plan_id=${PLAN}`;

  it('202 with the operation when a deprovision starts', async () => {
    const { app, broker } = setup();
    broker.willReturn('deprovision', { status: 'accepted', operation: 'deprovision-1' });
    const res = await osbRequest(app, 'DELETE', instancePath('inst-4', query));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ operation: 'deprovision-1' });
    expect(broker.onlyCall('deprovision')).toEqual({ instanceId: 'inst-4', serviceId: SERVICE, planId: PLAN, serviceKnown: true, acceptsIncomplete: true });
  });

  it('200 {} when it is done at once', async () => {
    const { app, broker } = setup();
    broker.willReturn('deprovision', { status: 'done' });
    const res = await osbRequest(app, 'DELETE', instancePath('inst-4', query));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
  });

  it('410 {} for an unknown instance', async () => {
    const { app, broker } = setup();
    broker.willThrow('deprovision', gone());
    const res = await osbRequest(app, 'DELETE', instancePath('inst-4', query));
    expect(res.status).toBe(410);
    expect(res.body).toEqual({});
  });

  it('a service_id the catalog does not serve goes to the broker as unknown (it may still have an instance to delete)', async () => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'DELETE', instancePath('inst-4', `?accepts_incomplete=true&service_id=nope&plan_id=${PLAN}`));
    expect(res.status).toBe(202);
    expect(broker.onlyCall('deprovision')).toMatchObject({ instanceId: 'inst-4', serviceId: 'nope', serviceKnown: false });
  });

  it.each([
    ['service_id missing', `?accepts_incomplete=true&plan_id=${PLAN}`, 'service_id is required'],
    ['plan_id missing', `?accepts_incomplete=true&service_id=${SERVICE}`, 'plan_id is required'],
  ])('%s: 400, broker not asked', async (_name, q, says) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'DELETE', instancePath('inst-4', q));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining(says) });
    expect(broker.calls).toEqual([]);
  });
});

describe('last_operation', () => {
  const routes = [
    { name: 'instance', path: '/v2/service_instances/inst-1/last_operation', method: 'lastOperation' as const },
    { name: 'binding', path: '/v2/service_instances/inst-1/service_bindings/bind-1/last_operation', method: 'bindingLastOperation' as const },
  ];
  const states: [LastOperation, boolean][] = [
    [{ state: 'in progress', description: 'provision in progress' }, true],
    [{ state: 'succeeded' }, false],
    [{ state: 'failed', description: 'it broke', instance_usable: true, update_repeatable: true }, false],
  ];

  for (const route of routes) {
    it.each(states)(`${route.name}: %j → 200 with it; Retry-After only while in progress`, async (state, retryAfter) => {
      const { app, broker } = setup();
      broker.willReturn(route.method, state);
      const res = await osbRequest(app, 'GET', route.path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(state);
      expect(res.headers.get('Retry-After')).toBe(retryAfter ? String(POLL) : null);
    });

    it(`${route.name}: passes the operation token, an empty one as none`, async () => {
      const { app, broker } = setup();
      await osbRequest(app, 'GET', `${route.path}?operation=provision-abc&service_id=${SERVICE}&plan_id=${PLAN}`);
      await osbRequest(app, 'GET', `${route.path}?operation=`);
      await osbRequest(app, 'GET', route.path);
      const operations = broker.callsOf(route.method).map((args) => args[args.length - 1]);
      expect(operations).toEqual(['provision-abc', undefined, undefined]);
    });

    it(`${route.name}: 410 {} after an asynchronous delete, 404 for an unknown resource`, async () => {
      const { app, broker } = setup();
      broker.willThrow(route.method, gone());
      expect(await osbRequest(app, 'GET', route.path)).toMatchObject({ status: 410, body: {} });
      broker.willThrow(route.method, notFound('no operation is known for this resource'));
      expect(await osbRequest(app, 'GET', route.path)).toMatchObject({
        status: 404,
        body: { error: 'NotFound', description: 'no operation is known for this resource' },
      });
    });
  }

  it('the binding route names both ids', async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'GET', '/v2/service_instances/inst-5/service_bindings/bind-5/last_operation?operation=bind-1');
    expect(broker.callsOf('bindingLastOperation')).toEqual([['inst-5', 'bind-5', 'bind-1']]);
  });
});

describe('PUT /v2/service_instances/:instance_id/service_bindings/:binding_id (bind)', () => {
  it('201 with the credentials when the binding is created', async () => {
    const { app, broker } = setup();
    broker.willReturn('bind', {
      status: 'created',
      credentials: { ...FAKE_CREDENTIALS },
      endpoints: [{ host: 'db.svc', ports: ['5432'] }],
      parameters: { role: 'reader' },
    });
    const res = await osbRequest(app, 'PUT', bindingPath(), bindBody());
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ credentials: FAKE_CREDENTIALS, endpoints: [{ host: 'db.svc', ports: ['5432'] }], parameters: { role: 'reader' } });
  });

  it('200 with the credentials when the identical binding exists', async () => {
    const { app, broker } = setup();
    broker.willReturn('bind', { status: 'exists', credentials: { ...FAKE_CREDENTIALS }, parameters: {} });
    const res = await osbRequest(app, 'PUT', bindingPath(), bindBody());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ credentials: FAKE_CREDENTIALS, parameters: {} });
  });

  it('202 with the operation and no credentials when the bind outlasts a synchronous answer', async () => {
    const { app, broker } = setup();
    broker.willReturn('bind', { status: 'accepted', operation: 'bind-1' });
    const res = await osbRequest(app, 'PUT', bindingPath('bind-1', '?accepts_incomplete=true'), bindBody());
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ operation: 'bind-1' });
    expect(res.body).not.toHaveProperty('credentials');
  });

  it('hands the broker the validated request: bind-schema defaults applied, bind_resource, context', async () => {
    const { app, broker } = setup();
    await osbRequest(
      app,
      'PUT',
      '/v2/service_instances/inst-8/service_bindings/bind-8?accepts_incomplete=true',
      bindBody({ bind_resource: { app_guid: 'app-1' }, context: { platform: 'cloudfoundry' } }),
    );
    const req = broker.onlyCall('bind');
    expect(req).toMatchObject({
      instanceId: 'inst-8',
      bindingId: 'bind-8',
      parameters: { role: 'reader' },
      bindResource: { app_guid: 'app-1' },
      context: { platform: 'cloudfoundry' },
      acceptsIncomplete: true,
    });
    expect(req.service.id).toBe(SERVICE);
    expect(req.plan.id).toBe(PLAN);
    expect(req).not.toHaveProperty('predecessorBindingId');
  });

  it('takes the deprecated app_guid as the bind resource', async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'PUT', bindingPath(), bindBody({ app_guid: 'app-2', parameters: { role: 'writer' } }));
    expect(broker.onlyCall('bind')).toMatchObject({
      bindResource: { app_guid: 'app-2' },
      parameters: { role: 'writer' },
      context: {},
      acceptsIncomplete: false,
    });
  });

  it('a rotation without parameters leaves them to the broker (inherited from the predecessor)', async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'PUT', bindingPath('bind-2'), bindBody({ predecessor_binding_id: 'bind-1' }));
    const req = broker.onlyCall('bind');
    expect(req.predecessorBindingId).toBe('bind-1');
    expect(req).not.toHaveProperty('parameters');
    expect(req).not.toHaveProperty('bindResource');
  });

  it('a rotation with parameters passes them validated', async () => {
    const { app, broker } = setup();
    await osbRequest(app, 'PUT', bindingPath('bind-2'), bindBody({ predecessor_binding_id: 'bind-1', parameters: {} }));
    expect(broker.onlyCall('bind')).toMatchObject({ predecessorBindingId: 'bind-1', parameters: { role: 'reader' } });
  });

  it.each([
    ['service_id missing', { plan_id: PLAN }, 'service_id and plan_id are required'],
    ['plan_id missing', { service_id: SERVICE }, 'service_id and plan_id are required'],
    ['unknown service_id', { service_id: 'nope', plan_id: PLAN }, 'service_id nope is not in the catalog'],
    ['unknown plan_id', { service_id: SERVICE, plan_id: 'nope' }, 'plan_id nope is not a plan of service db'],
    ['a plan that is not bindable', { service_id: SERVICE, plan_id: NOBIND }, 'plan nobind of service db is not bindable'],
    ['a parameter outside its enum', bindBody({ parameters: { role: 'admin' } }), 'parameters.role must be one of "reader", "writer"'],
    ['a parameter the plan does not declare', bindBody({ parameters: { ttl: 5 } }), 'parameters.ttl is not allowed'],
    ['bind_resource not an object', bindBody({ bind_resource: 'app' }), 'bind_resource must be a JSON object'],
  ])('%s: 400, broker not asked', async (_name, body, says) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'PUT', bindingPath(), body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining(says) });
    expect(broker.calls).toEqual([]);
  });

  it('409 {} for the same binding id with other attributes', async () => {
    const { app, broker } = setup();
    broker.willThrow('bind', conflict('binding bind-1 exists with other attributes'));
    expect(await osbRequest(app, 'PUT', bindingPath(), bindBody())).toMatchObject({ status: 409, body: {} });
  });
});

describe('GET /v2/service_instances/:instance_id/service_bindings/:binding_id', () => {
  it('200 with the binding', async () => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'GET', '/v2/service_instances/inst-6/service_bindings/bind-6');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ credentials: FAKE_CREDENTIALS, parameters: {} });
    expect(broker.callsOf('getBinding')).toEqual([['inst-6', 'bind-6']]);
  });
});

describe('DELETE /v2/service_instances/:instance_id/service_bindings/:binding_id (unbind)', () => {
  const query = `?service_id=${SERVICE}&plan_id=${PLAN}`;

  it('200 {} when the binding is deleted', async () => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'DELETE', '/v2/service_instances/inst-6/service_bindings/bind-6' + query);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(broker.onlyCall('unbind')).toEqual({ instanceId: 'inst-6', bindingId: 'bind-6', acceptsIncomplete: false });
  });

  it('202 with the operation when it outlasts a synchronous answer', async () => {
    const { app, broker } = setup();
    broker.willReturn('unbind', { status: 'accepted', operation: 'unbind-1' });
    const res = await osbRequest(app, 'DELETE', bindingPath('bind-1', `${query}&accepts_incomplete=true`));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ operation: 'unbind-1' });
    expect(broker.onlyCall('unbind').acceptsIncomplete).toBe(true);
  });

  it('410 {} for an unknown binding', async () => {
    const { app, broker } = setup();
    broker.willThrow('unbind', gone());
    expect(await osbRequest(app, 'DELETE', bindingPath('bind-1', query))).toMatchObject({ status: 410, body: {} });
  });

  it.each([
    ['service_id missing', `?plan_id=${PLAN}`, 'service_id is required'],
    ['plan_id missing', `?service_id=${SERVICE}`, 'plan_id is required'],
  ])('%s: 400, broker not asked', async (_name, q, says) => {
    const { app, broker } = setup();
    const res = await osbRequest(app, 'DELETE', bindingPath('bind-1', q));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'BadRequest', description: expect.stringContaining(says) });
    expect(broker.calls).toEqual([]);
  });
});
