// 4. OSB API speed at 50 concurrent connections (autocannon, 127.0.0.1 only, fixed duration):
// - GET /v2/catalog with the full seed catalog loaded, against a bare node:http server (its own
//   process, like the API) returning the same bytes;
// - GET last_operation of operations in flight (provisions of a plan whose pods never turn
//   ready), against the Temporal calls it needs issued directly: the same describe, through
//   @temporalio/client with the same payload codec, 50 at a time.
// Rounds alternate the two sides of each pair; figures are medians over rounds.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { instanceWorkflowId } from '../platform/temporal/ids.js';
import { clientDataConverter } from '../platform/temporal/codec.js';
import { requireSeedCatalog } from '../test/seed-catalog.js';
import { fmt, LOG_DIR, machine, printMachine, printTable, round, saveResult, stackEnv, stats, suffix } from './lib/common.js';
import { adminKube, deleteNamespaces } from './lib/direct.js';
import { operationOf, waitForOperation } from './lib/osb.js';
import { BrokerProcesses, freePort } from './lib/processes.js';
import { staggered } from './lib/staggered.js';

const CONNECTIONS = 50;
const ROUNDS = 3;
const SEED_CATALOG = requireSeedCatalog();
const FIXTURES = fileURLToPath(new URL('../test/integration/fixtures/catalog', import.meta.url));
const TESTAPP = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const STUCK = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0103';
// One operation per connection, on both sides: no two concurrent polls of one operation.
const IN_FLIGHT = CONNECTIONS;

/** A bare node:http server in its own process answering every request with the file's bytes. */
async function bareServer(file: string, contentType: string) {
  const port = await freePort();
  const script = `
    const body = require('fs').readFileSync(process.argv[1]);
    require('http').createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': ${JSON.stringify(contentType)}, 'Content-Length': body.length });
      res.end(body);
    }).listen(${port}, '127.0.0.1', () => console.log('listening'));`;
  const child = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return { url: `http://127.0.0.1:${port}`, stop: () => BrokerProcesses.stop(child) };
}

async function load(url: string, seconds: number, headers: Record<string, string>, paths: string[]) {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error('load only against 127.0.0.1');
  const r = await autocannon({ url, connections: CONNECTIONS, duration: seconds, headers, requests: staggered(paths) });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    bytesPerSecond: r.throughput.average,
  };
}

export async function apiSpeed(options: { seconds: number; env: Record<string, string>; nodeArgs?: string[] }) {
  const nodeArgs = options.nodeArgs ? { nodeArgs: options.nodeArgs } : {};
  const m = machine();
  const seconds = options.seconds;

  // ---- catalog -------------------------------------------------------------------------------
  const api = await BrokerProcesses.start({ ...nodeArgs, apiOnly: true, env: { ...options.env, CATALOG_DIR: SEED_CATALOG, BROKER_LOG_LEVEL: 'INFO' } });
  const catalogRes = await api.osb.request('GET', '/v2/catalog');
  if (catalogRes.status !== 200) throw new Error(`GET /v2/catalog: ${catalogRes.status}`);
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const bodyFile = path.join(LOG_DIR, `catalog-${suffix()}.json`);
  // The exact bytes the broker sends.
  const raw = await fetch(`${api.osb.url}/v2/catalog`, { headers: api.osb.headers });
  const catalogBody = Buffer.from(await raw.arrayBuffer());
  const catalogBytes = catalogBody.length;
  fs.writeFileSync(bodyFile, catalogBody);
  const bare = await bareServer(bodyFile, 'application/json');
  const catalogRounds: { bare: Awaited<ReturnType<typeof load>>; broker: Awaited<ReturnType<typeof load>> }[] = [];
  try {
    await load(api.osb.url, 2, api.osb.headers, ['/v2/catalog']); // warm-up
    await load(bare.url, 2, {}, ['/v2/catalog']);
    for (let i = 0; i < ROUNDS; i++) {
      const first = i % 2 === 0;
      const a = first ? await load(bare.url, seconds, {}, ['/v2/catalog']) : undefined;
      const broker = await load(api.osb.url, seconds, api.osb.headers, ['/v2/catalog']);
      const b = a ?? (await load(bare.url, seconds, {}, ['/v2/catalog']));
      catalogRounds.push({ bare: b, broker });
    }
  } finally {
    await bare.stop();
    await api.stop();
    api.osb.close();
    fs.rmSync(bodyFile, { force: true });
  }

  // ---- last_operation of operations in flight ------------------------------------------------------
  const broker = await BrokerProcesses.start({ ...nodeArgs, env: { ...options.env, CATALOG_DIR: FIXTURES } });
  const admin = adminKube();
  const connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS']! });
  const dataConverter = clientDataConverter({ CODEC_KEYS: broker.env['CODEC_KEYS'] });
  const client = new Client({ connection, namespace: stackEnv()['TEMPORAL_NAMESPACE'] ?? 'default', ...(dataConverter ? { dataConverter } : {}) });
  const lastOpRounds: { direct: { rps: number }; broker: Awaited<ReturnType<typeof load>> }[] = [];
  const ops: { id: string; operation: string }[] = [];
  try {
    for (let i = 0; i < IN_FLIGHT; i++) {
      const id = `as-${suffix()}`;
      const put = await broker.osb.provision(id, { service_id: TESTAPP, plan_id: STUCK, organization_guid: 'o', space_guid: 's' });
      ops.push({ id, operation: operationOf(put, `PUT ${id}`) });
    }
    // last_operation holds the polls of an operation younger than LAST_OPERATION_WAIT until it
    // finishes (or is that old): measured here is the steady state of long operations, so every
    // operation is older than that first.
    const waitMs = Number(broker.env['LAST_OPERATION_WAIT'] ?? 5) * 1000;
    await new Promise((r) => setTimeout(r, waitMs));
    const paths = ops.map((o) => `/v2/service_instances/${o.id}/last_operation?operation=${o.operation}`);
    const first = await broker.osb.request('GET', paths[0]!);
    if (first.body?.state !== 'in progress') throw new Error(`expected in progress: ${first.text}`);

    /** The Temporal calls last_operation needs (one describe), 50 at a time, for `secs` seconds. */
    async function directDescribe(secs: number) {
      let n = 0;
      const end = performance.now() + secs * 1000;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async (_, c) => {
          for (let i = c; performance.now() < end; i++) {
            await client.workflow.getHandle(instanceWorkflowId(ops[i % ops.length]!.id)).describe();
            n++;
          }
        }),
      );
      return { rps: n / ((performance.now() - t0) / 1000) };
    }
    await directDescribe(2); // warm-up
    await load(broker.osb.url, 2, broker.osb.headers, paths);
    for (let i = 0; i < ROUNDS; i++) {
      const first = i % 2 === 0;
      const a = first ? await directDescribe(seconds) : undefined;
      const b = await load(broker.osb.url, seconds, broker.osb.headers, paths);
      lastOpRounds.push({ direct: a ?? (await directDescribe(seconds)), broker: b });
    }
  } finally {
    // A DELETE during provisioning stops the provision and deletes what it made.
    await Promise.all(
      ops.map(async (o) => {
        const del = await broker.osb.deprovision(o.id, TESTAPP, STUCK).catch(() => undefined);
        if (del?.status === 202 && del.body?.operation)
          await waitForOperation(broker.osb, o.id, del.body.operation, { kind: 'tight', intervalMs: 250 }, 120_000).catch(() => undefined);
      }),
    );
    await connection.close();
    await broker.stop();
    broker.osb.close();
    await deleteNamespaces(admin, [broker.instanceNamespace, broker.recordNamespace]);
    admin.close();
  }

  const catalogRatio = stats(catalogRounds.map((r) => r.broker.rps / r.bare.rps));
  const lastOpRatio = stats(lastOpRounds.map((r) => r.broker.rps / r.direct.rps));
  const result = {
    machine: m,
    connections: CONNECTIONS,
    seconds,
    rounds: ROUNDS,
    env: options.env,
    catalog: {
      dir: SEED_CATALOG,
      bytes: catalogBytes,
      brokerRps: stats(catalogRounds.map((r) => r.broker.rps)),
      bareRps: stats(catalogRounds.map((r) => r.bare.rps)),
      brokerP99Ms: stats(catalogRounds.map((r) => r.broker.p99)),
      bareP99Ms: stats(catalogRounds.map((r) => r.bare.p99)),
      ratio: catalogRatio,
      errors: catalogRounds.reduce((s, r) => s + r.broker.errors + r.broker.non2xx, 0),
    },
    lastOperation: {
      inFlight: IN_FLIGHT,
      brokerRps: stats(lastOpRounds.map((r) => r.broker.rps)),
      directDescribeRps: stats(lastOpRounds.map((r) => r.direct.rps)),
      brokerP99Ms: stats(lastOpRounds.map((r) => r.broker.p99)),
      ratio: lastOpRatio,
      errors: lastOpRounds.reduce((s, r) => s + r.broker.errors + r.broker.non2xx, 0),
    },
  };
  printMachine(m);
  printTable(
    `OSB API speed (${CONNECTIONS} connections, ${seconds} s per side, ${ROUNDS} alternating rounds; median [min–max])`,
    ['endpoint', 'broker req/s', 'reference', 'reference req/s', 'ratio', 'target', 'errors'],
    [
      [
        'GET /v2/catalog (seed)',
        fmt(result.catalog.brokerRps, 0),
        'bare node:http, same bytes',
        fmt(result.catalog.bareRps, 0),
        fmt(catalogRatio),
        '≥ 0.95',
        result.catalog.errors,
      ],
      [
        'GET last_operation (in flight)',
        fmt(result.lastOperation.brokerRps, 0),
        'describe via @temporalio/client',
        fmt(result.lastOperation.directDescribeRps, 0),
        fmt(lastOpRatio),
        '≥ 1.0',
        result.lastOperation.errors,
      ],
    ],
  );
  console.log(
    `catalog body: ${round(result.catalog.bytes / 1024, 0)} KiB; p99 broker ${fmt(result.catalog.brokerP99Ms, 0)} ms vs bare ${fmt(result.catalog.bareP99Ms, 0)} ms`,
  );
  saveResult('api-speed', result);
  return result;
}
