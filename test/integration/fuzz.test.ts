// Hostile and malformed input against every route of the real broker (fast-check): the OSB
// endpoints, the admin routes (with and without the admin credentials, offerings' bodies) and the
// codec endpoint: malformed and huge JSON, wrong types, deep nesting (also inside parameters of
// an otherwise valid request), invalid UTF-8, duplicate keys, odd ids (traversal, unicode, very
// long, empty), bad headers, bad query strings. Every case carries at least one defect; every
// answer must be a 4xx with an OSB error body, never a 5xx; the process stays up; nothing is
// created.
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { LABELLED_MARKER_NAME } from '../../platform/kube/labelled-marker.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 3000);

let broker: RunningBroker;
const kube = kubeApi();
beforeAll(async () => {
  broker = await startBroker({ CATALOG_DIR: CATALOG, MAX_BODY_BYTES: String(128 * 1024), ADMIN_USER: 'admin', ADMIN_PASS: 'admin-password' });
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

const AUTH = `Basic ${Buffer.from('platform:test-password').toString('base64')}`;
const ADMIN_AUTH = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;

// ---- generators ---------------------------------------------------------------------------

const validId = fc.uuid();
const VALID_ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** Ids the broker must refuse (never a valid one: that would be a real request). */
const oddId = fc
  .oneof(
    fc.constantFrom(
      '',
      '..',
      '../..',
      '%2e%2e%2f%2e%2e',
      '.hidden',
      '-lead',
      'trail-',
      'a b',
      'a/b',
      'x'.repeat(64),
      'x'.repeat(5000),
      'ünïcödé',
      '😀',
      '%00',
      'a%2Fb',
      '\u202e',
    ),
    fc.string({ minLength: 64, maxLength: 300 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
  )
  .filter((s) => !VALID_ID.test(s));
const anyJson = fc.jsonValue({ maxDepth: 4 });
const wrongType = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(anyJson, { maxLength: 3 }), fc.double());
const deep = fc.integer({ min: 1000, max: 20000 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
const deepArray = fc.integer({ min: 1000, max: 20000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const malformed = fc.oneof(
  fc.constantFrom('', '{', '{"service_id": ', 'null', '[]', '"string"', '42', 'true', '{"a":1}}', '\u0000', '{"__proto__": {"polluted": true}}', 'NaN'),
  fc.string({ maxLength: 200 }).filter((s) => {
    try {
      const v = JSON.parse(s);
      return typeof v !== 'object' || v === null || Array.isArray(v);
    } catch {
      return true;
    }
  }),
  deep,
  deepArray,
  fc.integer({ min: 70_000, max: 200_000 }).map((n) => JSON.stringify({ service_id: SERVICE, plan_id: READY, parameters: { blob: 'x'.repeat(n) } })),
);
/** A body that parses but is wrong: unknown ids, wrong types, or parameters the schema refuses. */
const wrongBody = fc
  .oneof(
    fc.record(
      { service_id: fc.oneof(fc.string(), wrongType), plan_id: fc.oneof(fc.string(), wrongType), parameters: fc.option(anyJson) },
      { requiredKeys: [] },
    ),
    fc.record({
      service_id: fc.constant(SERVICE),
      plan_id: fc.constant(READY),
      parameters: fc.oneof(wrongType, fc.record({ replicas: fc.oneof(fc.integer({ min: 4 }), fc.string(), fc.constant(0)) }), fc.record({ unknown: anyJson })),
    }),
    fc.record({ service_id: fc.constant(SERVICE), plan_id: fc.constant(READY), context: wrongType }),
    fc.record({ service_id: fc.constant(SERVICE), plan_id: fc.constant(READY), maintenance_info: fc.oneof(wrongType, fc.record({ version: fc.string() })) }),
  )
  .map((b) => JSON.stringify(b));

type Case = { method: string; path: string; headers: Record<string, string>; body?: string; defect: string };

const endpoint = (instance: string, binding: string) =>
  fc.constantFrom(
    { method: 'GET', path: '/v2/catalog' },
    { method: 'PUT', path: `/v2/service_instances/${instance}` },
    { method: 'GET', path: `/v2/service_instances/${instance}` },
    { method: 'PATCH', path: `/v2/service_instances/${instance}` },
    { method: 'DELETE', path: `/v2/service_instances/${instance}` },
    { method: 'GET', path: `/v2/service_instances/${instance}/last_operation` },
    { method: 'PUT', path: `/v2/service_instances/${instance}/service_bindings/${binding}` },
    { method: 'GET', path: `/v2/service_instances/${instance}/service_bindings/${binding}` },
    { method: 'DELETE', path: `/v2/service_instances/${instance}/service_bindings/${binding}` },
    { method: 'GET', path: `/v2/service_instances/${instance}/service_bindings/${binding}/last_operation` },
  );

const goodHeaders = { Authorization: AUTH, 'X-Broker-API-Version': '2.17', 'Content-Type': 'application/json' };
const query = fc.oneof(
  fc.constant('?accepts_incomplete=true'),
  fc
    .record({ accepts_incomplete: fc.string(), service_id: fc.string(), plan_id: fc.string(), operation: fc.string() }, { requiredKeys: [] })
    .map((q) => `?${new URLSearchParams(q as Record<string, string>).toString()}`),
);

/** Every case has at least one defect that alone makes it a 4xx. */
const fuzzCase: fc.Arbitrary<Case> = fc.oneof(
  // Bad headers on any endpoint.
  fc
    .tuple(
      endpoint('i-1', 'b-1'),
      fc.oneof(
        fc.constant({ Authorization: '' }),
        fc.constant({ Authorization: 'Basic ' + Buffer.from('platform:wrong').toString('base64') }),
        fc.string({ maxLength: 50 }).map((s) => ({ Authorization: `Basic ${s}` })),
        fc.constantFrom('', '2.12', '3.0', '2', '2.17.1', 'two', '1.99').map((v) => ({ 'X-Broker-API-Version': v })),
        fc
          .string({ maxLength: 30 })
          .filter((v) => !/^2\.(1[3-9]|[2-9]\d|\d{3,})$/.test(v.trim()))
          .map((v) => ({ 'X-Broker-API-Version': v })),
      ),
    )
    .map(([e, h]) => ({
      ...e,
      path: `${e.path}?accepts_incomplete=true`,
      headers: Object.fromEntries(Object.entries({ ...goodHeaders, ...h }).filter(([, v]) => v !== '')),
      defect: `header ${JSON.stringify(h)}`,
    })),
  // Bad originating identity.
  fc
    .tuple(
      endpoint('i-1', 'b-1'),
      fc.oneof(fc.string({ maxLength: 40 }), fc.constant('cloudfoundry !!!'), fc.constant('cloudfoundry ' + Buffer.from('[1]').toString('base64'))),
    )
    .map(([e, o]) => ({
      ...e,
      headers: { ...goodHeaders, 'X-Broker-API-Originating-Identity': o || ' ' },
      defect: `originating identity ${JSON.stringify(o)}`,
    }))
    .filter(
      (c) => !/^\S+ \S+$/.test(c.headers['X-Broker-API-Originating-Identity']) || !c.headers['X-Broker-API-Originating-Identity'].startsWith('cloudfoundry e'),
    ),
  // Odd ids in the path.
  fc.tuple(fc.constantFrom('instance', 'binding'), oddId, validId, query).chain(([where, odd, good, q]) =>
    endpoint(where === 'instance' ? encodeURIComponent(odd) : good, where === 'binding' ? encodeURIComponent(odd) : good)
      .filter((e) => (where === 'instance' ? e.path !== '/v2/catalog' : e.path.includes('service_bindings')))
      .map((e) => ({
        ...e,
        path: `${e.path}${q}`,
        headers: goodHeaders,
        body: JSON.stringify({ service_id: SERVICE, plan_id: READY }),
        defect: `${where} id ${JSON.stringify(odd)}`,
      })),
  ),
  // Malformed or wrong bodies on the endpoints that take one.
  fc.tuple(validId, validId, fc.oneof(malformed, wrongBody), fc.constantFrom('PUT-i', 'PATCH-i', 'PUT-b')).map(([i, b, body, which]) => ({
    method: which.startsWith('PATCH') ? 'PATCH' : 'PUT',
    path: which === 'PUT-b' ? `/v2/service_instances/${i}/service_bindings/${b}` : `/v2/service_instances/${i}?accepts_incomplete=true`,
    headers: goodHeaders,
    body,
    defect: `body ${body.slice(0, 80)}`,
  })),
);

// ---- every other route, and defects inside otherwise valid OSB requests -------------------

const adminHeaders = { Authorization: ADMIN_AUTH, 'Content-Type': 'application/json' };
const invalidUtf8 = fc
  .constantFrom([0xff], [0xc3, 0x28], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80])
  .map((bad) => Buffer.concat([Buffer.from(`{"service_id":"${SERVICE}","plan_id":"${READY}","parameters":{"x":"`), Buffer.from(bad), Buffer.from('"}}')]));
/** Valid ids, so that the defect sits where the old code looked last: deep in parameters or context. */
const deepInside = fc
  .tuple(fc.constantFrom('parameters', 'context'), fc.integer({ min: 70, max: 3000 }))
  .map(
    ([field, n]) =>
      `{"service_id":"${SERVICE}","plan_id":"${READY}","organization_guid":"o","space_guid":"s","${field}":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`,
  );
/** Larger than a record may hold, smaller than the body limit: the field's own 413. */
const hugeField = fc
  .tuple(fc.constantFrom('parameters', 'context'), fc.integer({ min: 66_000, max: 120_000 }))
  .map(([field, n]) => JSON.stringify({ service_id: SERVICE, plan_id: READY, organization_guid: 'o', space_guid: 's', [field]: { blob: 'x'.repeat(n) } }));
/** Duplicate keys whose last value (the one JSON.parse keeps) is wrong. */
const duplicateKeys = fc.constantFrom(
  `{"service_id":"${SERVICE}","plan_id":"${READY}","plan_id":"no-such-plan"}`,
  `{"service_id":"${SERVICE}","service_id":7,"plan_id":"${READY}"}`,
  `{"service_id":"${SERVICE}","plan_id":"${READY}","parameters":{"replicas":1},"parameters":[]}`,
);
const codecBody = fc.oneof(
  malformed,
  fc.constantFrom(
    '{}',
    '{"payloads": 1}',
    '{"payloads": [{"data": "!!!"}]}',
    '{"payloads": [{"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="}, "data": "AAAA"}]}',
  ),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ payloads: [v] })),
);
const offeringBody = fc.oneof(
  malformed,
  wrongBody,
  fc
    .record({ files: fc.oneof(wrongType, fc.dictionary(fc.string({ maxLength: 30 }), fc.oneof(fc.string({ maxLength: 200 }), anyJson), { maxKeys: 4 })) })
    .map((b) => JSON.stringify(b)),
  fc
    .record({
      dynamicService: fc.oneof(
        wrongType,
        fc.record(
          {
            serviceName: fc.oneof(fc.string(), wrongType),
            planName: fc.oneof(fc.string(), wrongType),
            containers: fc.oneof(wrongType, fc.array(anyJson, { maxLength: 2 })),
          },
          { requiredKeys: [] },
        ),
      ),
    })
    .map((b) => JSON.stringify(b)),
  fc.integer({ min: 70, max: 3000 }).map((n) => `{"files":{"service.json":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}}`),
  // Deep nesting inside a file's text, which the catalog loader parses.
  fc
    .tuple(fc.constantFrom('service.json', 'p/plan.json', 'p/k8s/d.yaml'), fc.integer({ min: 1000, max: 20000 }))
    .map(([file, n]) => JSON.stringify({ files: { [file]: file.endsWith('yaml') ? `${'- '.repeat(n)}x` : `${'['.repeat(n)}${']'.repeat(n)}` } })),
);
const adminEndpoint = (instance: string) =>
  fc.constantFrom(
    { method: 'GET', path: '/admin/instances' },
    { method: 'GET', path: `/admin/instances/${instance}` },
    { method: 'GET', path: `/admin/instances/${instance}/pods` },
    { method: 'GET', path: '/admin/pods' },
    { method: 'POST', path: `/admin/instances/${instance}/retry` },
    { method: 'POST', path: `/admin/bindings/${instance}/retry` },
    { method: 'GET', path: '/admin/orphans' },
    { method: 'DELETE', path: '/admin/orphans' },
    { method: 'GET', path: '/admin/offerings' },
    { method: 'PUT', path: '/admin/offerings' },
    { method: 'DELETE', path: `/admin/offerings/${instance}` },
    { method: 'POST', path: '/codec/encode' },
    { method: 'POST', path: '/codec/decode' },
  );

const otherCase: fc.Arbitrary<Case & { bytes?: Buffer }> = fc.oneof(
  // Any admin or codec route without the admin credentials, or with the platform's.
  fc.tuple(adminEndpoint('i-1'), fc.constantFrom('', AUTH, `Basic ${Buffer.from('admin:wrong').toString('base64')}`, 'Bearer x')).map(([e, auth]) => ({
    ...e,
    headers: { 'Content-Type': 'application/json', ...(auth ? { Authorization: auth } : {}) },
    body: '{}',
    defect: `admin credentials ${JSON.stringify(auth.slice(0, 20))}`,
  })),
  // The admin routes that name an instance, with odd ids.
  fc
    .tuple(oddId, fc.constantFrom('GET /admin/instances/ID', 'GET /admin/instances/ID/pods', 'POST /admin/instances/ID/retry', 'POST /admin/bindings/ID/retry'))
    .map(([odd, route]) => {
      const [method, path] = route.split(' ') as [string, string];
      return { method, path: path.replace('ID', encodeURIComponent(odd)), headers: adminHeaders, defect: `admin id ${JSON.stringify(odd)}` };
      // '.' and '..' are resolved by the client (/admin/instances/../pods is /admin/pods): no defect left.
    })
    .filter((c) => !/\/\.\.?(\/|$)/.test(c.path) && !c.path.includes('/admin/instances//') && !c.path.endsWith('/admin/instances/')),
  // Offerings' bodies.
  offeringBody.map((body) => ({ method: 'PUT', path: '/admin/offerings', headers: adminHeaders, body, defect: `offering ${body.slice(0, 80)}` })),
  // The codec endpoint's bodies, and one larger than it reads.
  fc
    .tuple(fc.constantFrom('encode', 'decode'), fc.oneof(codecBody, fc.constant('x'.repeat(5 * 1024 * 1024))))
    .map(([action, body]) => ({
      method: 'POST',
      path: `/codec/${action}`,
      headers: { ...adminHeaders, 'X-Namespace': 'default' },
      body,
      defect: `codec ${body.slice(0, 80)} (${body.length} bytes)`,
    }))
    .filter((c) => {
      // Well-formed payloads are a real request, not a defect, except ciphertext that does not decrypt.
      const base64 = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
      try {
        const { payloads } = JSON.parse(c.body) as { payloads?: unknown };
        const wellFormed =
          Array.isArray(payloads) &&
          payloads.every(
            (p) =>
              p &&
              typeof p === 'object' &&
              !Array.isArray(p) &&
              Object.values((p as { metadata?: object }).metadata ?? {}).every(base64) &&
              ((p as { data?: unknown }).data === undefined || base64((p as { data?: unknown }).data)) &&
              Object.keys(p).every((k) => k === 'metadata' || k === 'data'),
          );
        return !wellFormed || (c.path.endsWith('decode') && c.body.includes('YmluYXJ5L2VuY3J5cHRlZA=='));
      } catch {
        return true;
      }
    }),
  // Defects inside otherwise valid OSB requests: deep nesting, huge fields, duplicate keys, invalid UTF-8.
  fc.tuple(validId, validId, fc.oneof(deepInside, hugeField, duplicateKeys), fc.constantFrom('PUT-i', 'PATCH-i', 'PUT-b')).map(([i, b, body, which]) => ({
    method: which.startsWith('PATCH') ? 'PATCH' : 'PUT',
    path: which === 'PUT-b' ? `/v2/service_instances/${i}/service_bindings/${b}?accepts_incomplete=true` : `/v2/service_instances/${i}?accepts_incomplete=true`,
    headers: goodHeaders,
    body,
    defect: `body ${body.slice(0, 80)}`,
  })),
  fc.tuple(validId, invalidUtf8).map(([i, bytes]) => ({
    method: 'PUT',
    path: `/v2/service_instances/${i}?accepts_incomplete=true`,
    headers: goodHeaders,
    bytes,
    defect: `invalid UTF-8 ${bytes.toString('hex').slice(0, 80)}`,
  })),
);

/** Sends each case and checks the answer: a 4xx with an OSB error body ({} for 409 and 410). */
async function hostile(cases: fc.Arbitrary<Case & { bytes?: Buffer }>, runs: number): Promise<void> {
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(cases, async (c) => {
      const body = c.bytes ?? c.body;
      const res = await fetch(`${broker.url}${c.path}`, {
        method: c.method,
        headers: c.headers,
        ...(body !== undefined && c.method !== 'GET' ? { body } : {}),
      });
      const text = await res.text();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const context = `${c.method} ${c.path.slice(0, 120)} (${c.defect.slice(0, 120)}) -> ${res.status} ${text.slice(0, 200)}`;
      expect(res.status, context).toBeGreaterThanOrEqual(400);
      expect(res.status, context).toBeLessThan(500);
      const answer = JSON.parse(text) as Record<string, unknown>;
      if (res.status !== 409 && res.status !== 410) expect(typeof answer['description'], context).toBe('string');
    }),
    { numRuns: runs, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31), verbose: 1 },
  );
  console.log(`fuzz: ${runs} cases, answers by status:`, statuses);
}

it(`answers ${RUNS} hostile OSB requests with 4xx OSB errors, never a 5xx`, async () => {
  await hostile(fuzzCase, RUNS);
}, 600_000);

it(`answers ${Math.ceil(RUNS / 3)} hostile requests to the admin and codec routes and defects inside valid OSB requests with 4xx, never a 5xx`, async () => {
  await hostile(otherCase, Math.ceil(RUNS / 3));
}, 600_000);

it('stays up and has created nothing', async () => {
  expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
  const created = await Promise.all([
    kube.list('v1', 'Secret', broker.config.BROKER_NAMESPACE, {}),
    kube.list('v1', 'ConfigMap', broker.config.BROKER_NAMESPACE, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }),
    ...(['Secret', 'Service', 'Pod'] as const).map((k) =>
      kube.list('v1', k, broker.config.INSTANCE_NAMESPACE, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }),
    ),
  ]);
  // The worker's labelling marker is the worker's own, written at its start and every minute, not by a request.
  const madeByRequests = (n: string) => !n.startsWith('default-token') && n !== LABELLED_MARKER_NAME;
  expect(created.flatMap((l) => l.items.map((o) => o.metadata.name)).filter(madeByRequests)).toEqual([]);
}, 600_000);
