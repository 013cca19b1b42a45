// Hostile and malformed input against every OSB endpoint of the real broker (fast-check):
// malformed and huge JSON, wrong types, deep nesting, odd ids (traversal, unicode, very long,
// empty), bad headers, bad query strings. Every case carries at least one defect; every answer
// must be a 4xx with an OSB error body, never a 5xx; the process stays up; nothing is created.
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 3000);

let broker: RunningBroker;
const kube = kubeApi();
beforeAll(async () => {
  broker = await startBroker({ CATALOG_DIR: CATALOG, MAX_BODY_BYTES: String(64 * 1024) });
});
afterAll(async () => {
  await broker?.stop();
  kube.close();
});

const AUTH = `Basic ${Buffer.from('platform:test-password').toString('base64')}`;

// ---- generators ---------------------------------------------------------------------------

const validId = fc.uuid();
const VALID_ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** Ids the broker must refuse (never a valid one: that would be a real request). */
const oddId = fc
  .oneof(
    fc.constantFrom('', '..', '../..', '%2e%2e%2f%2e%2e', '.hidden', '-lead', 'trail-', 'a b', 'a/b', 'x'.repeat(64), 'x'.repeat(5000), 'ünïcödé', '😀', '%00', 'a%2Fb', '\u202e'),
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
const wrongBody = fc.oneof(
  fc.record({ service_id: fc.oneof(fc.string(), wrongType), plan_id: fc.oneof(fc.string(), wrongType), parameters: fc.option(anyJson) }, { requiredKeys: [] }),
  fc.record({ service_id: fc.constant(SERVICE), plan_id: fc.constant(READY), parameters: fc.oneof(wrongType, fc.record({ replicas: fc.oneof(fc.integer({ min: 4 }), fc.string(), fc.constant(0)) }), fc.record({ unknown: anyJson })) }),
  fc.record({ service_id: fc.constant(SERVICE), plan_id: fc.constant(READY), context: wrongType }),
  fc.record({ service_id: fc.constant(SERVICE), plan_id: fc.constant(READY), maintenance_info: fc.oneof(wrongType, fc.record({ version: fc.string() })) }),
).map((b) => JSON.stringify(b));

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
  fc.record({ accepts_incomplete: fc.string(), service_id: fc.string(), plan_id: fc.string(), operation: fc.string() }, { requiredKeys: [] }).map((q) => `?${new URLSearchParams(q as Record<string, string>)}`),
);

/** Every case has at least one defect that alone makes it a 4xx. */
const fuzzCase: fc.Arbitrary<Case> = fc.oneof(
  // Bad headers on any endpoint.
  fc.tuple(endpoint('i-1', 'b-1'), fc.oneof(
    fc.constant({ Authorization: '' }),
    fc.constant({ Authorization: 'Basic ' + Buffer.from('platform:wrong').toString('base64') }),
    fc.string({ maxLength: 50 }).map((s) => ({ Authorization: `Basic ${s}` })),
    fc.constantFrom('', '2.12', '3.0', '2', '2.17.1', 'two', '1.99').map((v) => ({ 'X-Broker-API-Version': v })),
    fc.string({ maxLength: 30 }).filter((v) => !/^2\.(1[3-9]|[2-9]\d|\d{3,})$/.test(v.trim())).map((v) => ({ 'X-Broker-API-Version': v })),
  )).map(([e, h]) => ({ ...e, path: `${e.path}?accepts_incomplete=true`, headers: Object.fromEntries(Object.entries({ ...goodHeaders, ...h }).filter(([, v]) => v !== '')), defect: `header ${JSON.stringify(h)}` })),
  // Bad originating identity.
  fc.tuple(endpoint('i-1', 'b-1'), fc.oneof(fc.string({ maxLength: 40 }), fc.constant('cloudfoundry !!!'), fc.constant('cloudfoundry ' + Buffer.from('[1]').toString('base64')))).map(([e, o]) => ({
    ...e,
    headers: { ...goodHeaders, 'X-Broker-API-Originating-Identity': o || ' ' },
    defect: `originating identity ${JSON.stringify(o)}`,
  })).filter((c) => !/^\S+ \S+$/.test(c.headers['X-Broker-API-Originating-Identity']!) || !c.headers['X-Broker-API-Originating-Identity']!.startsWith('cloudfoundry e')),
  // Odd ids in the path.
  fc.tuple(fc.constantFrom('instance', 'binding'), oddId, validId, query).chain(([where, odd, good, q]) =>
    endpoint(where === 'instance' ? encodeURIComponent(odd) : good, where === 'binding' ? encodeURIComponent(odd) : good)
      .filter((e) => where === 'instance' ? e.path !== '/v2/catalog' : e.path.includes('service_bindings'))
      .map((e) => ({ ...e, path: `${e.path}${q}`, headers: goodHeaders, body: JSON.stringify({ service_id: SERVICE, plan_id: READY }), defect: `${where} id ${JSON.stringify(odd)}` })),
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

it(`answers ${RUNS} hostile requests with 4xx OSB errors, never a 5xx, and creates nothing`, async () => {
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(fuzzCase, async (c) => {
      const res = await fetch(`${broker.url}${c.path}`, { method: c.method, headers: c.headers, ...(c.body !== undefined && c.method !== 'GET' ? { body: c.body } : {}) });
      const text = await res.text();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const context = `${c.method} ${c.path.slice(0, 120)} (${c.defect.slice(0, 120)}) -> ${res.status} ${text.slice(0, 200)}`;
      expect(res.status, context).toBeGreaterThanOrEqual(400);
      expect(res.status, context).toBeLessThan(500);
      const body = JSON.parse(text) as Record<string, unknown>;
      // An OSB error body: {error, description}, or {} for 409/410.
      if (res.status !== 409 && res.status !== 410) expect(typeof body['description'], context).toBe('string');
    }),
    { numRuns: RUNS, seed: Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31), verbose: 1 },
  );
  console.log(`fuzz: ${RUNS} cases, answers by status:`, statuses);
  expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
  const created = await Promise.all([
    kube.list('v1', 'Secret', broker.config.BROKER_NAMESPACE, {}),
    ...(['Secret', 'Service', 'Pod'] as const).map((k) => kube.list('v1', k, broker.config.INSTANCE_NAMESPACE, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` })),
  ]);
  expect(created.flatMap((l) => l.items.map((o) => o.metadata.name)).filter((n) => !n.startsWith('default-token'))).toEqual([]);
}, 600_000);
