// Offerings added at runtime, for real: two API processes and a worker against the local stack.
// An offering added through one replica's admin API (the old dynamicservice body, or a template
// folder) is served by the other within seconds, provisions real objects (pods Ready through
// KWOK), binds with the credentials of its mapping, survives restarts of the API and the worker,
// cannot be removed while an instance lives, and leaves the catalog of every replica when removed.
// Bad input is refused naming the problem, and nothing is stored. The CLI goes through the API.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/load.js';
import { instanceSelector } from '../../catalog/labels.js';
import { CURRENT_NAME_SCHEME, shortServiceId } from '../../catalog/naming.js';
import { SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import type { KubeApi } from '../../platform/kube/api.js';
import { dynamicPlanId, dynamicServiceId } from '../../catalog/offerings/dynamic-service.js';
import { OFFERING_SELECTOR, OfferingStore, storedOffering } from '../../platform/kube/offering-store.js';
import { MONGO_DYNAMIC_SERVICE, templateFolder } from '../../catalog/offerings/testing.js';
import { Osb } from './helpers/broker.js';
import { BrokerProcesses } from './helpers/processes.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';

const ADMIN = { ADMIN_USER: 'admin', ADMIN_PASS: 'admin-password' };
const MONGO_ID = dynamicServiceId('dynamic-mongo');
const MONGO_PLAN = dynamicPlanId('dynamic-mongo', 'dynamic-mongo');
const KV_ID = `kv-${suffix()}`;
const KV_PLAN = `kv-small-${suffix()}`;
const KV_NAME = `kv-${suffix()}`;

let one: BrokerProcesses;
let two: BrokerProcesses;
let admin1: Osb;
let admin2: Osb;
let kube: KubeApi;

const catalogIds = async (p: BrokerProcesses) => ((await p.osb.request('GET', '/v2/catalog')).body.services as { id: string }[]).map((s) => s.id);
const storedOfferings = async () =>
  (await kube.list('v1', 'ConfigMap', one.env['BROKER_NAMESPACE'], { labelSelector: OFFERING_SELECTOR })).items.map((o) => o.metadata.name);
const count = (text: string, what: string) => text.split(what).length - 1;

/** Waits until an operation ends; returns its final last_operation body. */
async function finished(osb: Osb, id: string, operation: string) {
  return (await osb.waitForOperation(id, operation, 90_000)).body;
}

beforeAll(async () => {
  kube = kubeApi();
  one = await BrokerProcesses.create(ADMIN);
  const shared = Object.fromEntries(['TEMPORAL_TASK_QUEUE', 'BROKER_NAMESPACE', 'INSTANCE_NAMESPACE', 'CODEC_KEYS'].map((k) => [k, one.env[k]!]));
  two = await BrokerProcesses.create({ ...ADMIN, ...shared });
  await one.startWorker();
  await Promise.all([one.startApi(), two.startApi()]);
  admin1 = new Osb(one.osb.url, 'admin', 'admin-password');
  admin2 = new Osb(two.osb.url, 'admin', 'admin-password');
}, 180_000);
afterAll(async () => {
  await Promise.all([one?.stop(), two?.stop()]);
  kube?.close();
});

describe('offerings added at runtime', () => {
  it('refuses bad input with a 4xx naming the problem, and stores nothing', async () => {
    const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
    const redis = catalog.services.find((s) => s.name === 'redis')!;

    const colliding = await admin1.request('PUT', '/admin/offerings', { files: templateFolder(redis.id, redis.plans[0]!.id, 'redis') });
    expect(colliding.status).toBe(409);
    expect(colliding.body.problems).toEqual([
      expect.objectContaining({ file: 'service.json', field: 'id', message: expect.stringContaining('the file catalog') }),
      expect.objectContaining({ file: 'service.json', field: 'name' }),
      expect.objectContaining({ file: 'small/plan.json', field: 'id' }),
    ]);

    const invalid = templateFolder(KV_ID, KV_PLAN, KV_NAME);
    invalid['small/k8s/deployment.yaml'] = (invalid['small/k8s/deployment.yaml'] as string).replace(
      'name: $short_serviceid-kv',
      'name: $short_serviceid-$what',
    );
    invalid['small/plan.json'] = { id: KV_PLAN, name: 'small' };
    const badTemplate = await admin1.request('PUT', '/admin/offerings', { files: invalid });
    expect(badTemplate.status).toBe(400);
    expect(badTemplate.body.error).toBe('BadRequest');
    expect(badTemplate.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'small/plan.json', field: 'description' }),
        expect.objectContaining({ file: 'small/k8s/deployment.yaml', message: expect.stringContaining('$what') }),
      ]),
    );
    expect(badTemplate.body.description).toContain('small/plan.json description');

    const missing = await admin1.request('PUT', '/admin/offerings', { dynamicService: { serviceName: 'x', planName: 'y' } });
    expect(missing.status).toBe(400);
    expect(missing.body.problems).toEqual([{ file: 'dynamicService', field: 'containers', message: expect.stringContaining('is required') }]);

    const noAdmin = await one.osb.request('PUT', '/admin/offerings', MONGO_DYNAMIC_SERVICE);
    expect(noAdmin.status).toBe(401);

    expect(await storedOfferings()).toEqual([]);
    expect((await admin2.request('GET', '/admin/offerings')).body.offerings).toEqual([]);
  });

  it('serves an added offering on every replica, provisions and binds it, survives restarts, refuses removal while it lives', async () => {
    // Added through replica one (old body), seen by replica two.
    const added = await admin1.request('PUT', '/admin/offerings', MONGO_DYNAMIC_SERVICE);
    expect(added.status).toBe(201);
    expect(added.body.offering).toMatchObject({ id: MONGO_ID, plans: [{ id: MONGO_PLAN, name: 'dynamic-mongo' }], source: 'dynamicservice' });
    const t0 = Date.now();
    await eventually('replica two to serve dynamic-mongo', async () => ((await catalogIds(two)).includes(MONGO_ID) ? true : undefined), 10_000);
    expect(Date.now() - t0).toBeLessThan(5000);
    // Added through replica two (template folder), seen by replica one.
    const kv = await admin2.request('PUT', '/admin/offerings', { files: templateFolder(KV_ID, KV_PLAN, KV_NAME) });
    expect(kv.status).toBe(201);
    await eventually('replica one to serve the kv offering', async () => ((await catalogIds(one)).includes(KV_ID) ? true : undefined), 10_000);
    expect((await admin1.request('PUT', '/admin/offerings', MONGO_DYNAMIC_SERVICE)).body.result).toBe('unchanged');
    expect((await storedOfferings()).length).toBe(2);

    // Provision through replica two: real objects, pods Ready.
    const ns = one.env['INSTANCE_NAMESPACE']!;
    const id = randomUUID();
    const prov = await two.osb.provision(id, { service_id: MONGO_ID, plan_id: MONGO_PLAN, organization_guid: 'org', space_guid: 'space' });
    expect(prov.status).toBe(202);
    expect(await finished(two.osb, id, prov.body.operation)).toEqual({ state: 'succeeded' });
    const short = shortServiceId(id, CURRENT_NAME_SCHEME);
    const deployment = await kube.get<any>('apps/v1', 'Deployment', ns, short);
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ name: 'k-mongodb30', image: 'frodenas/mongodb:3.0' });
    const pods = await kube.list<any>('v1', 'Pod', ns, { labelSelector: instanceSelector(id) });
    expect(pods.items).toHaveLength(1);
    expect(pods.items[0].status.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));

    // Bind: the credentials of the mapping, from the running instance.
    const hostname = `${short}.${ns}.svc.cluster.local`;
    const expected = {
      dbname: 'test',
      hostname,
      password: 'user',
      port: '27017',
      ports: { '27017/tcp': '27017' },
      uri: `mongodb://password:user@${hostname}:27017/test`,
      username: 'password',
    };
    const bind = await one.osb.bind(id, 'b1-' + suffix(), { service_id: MONGO_ID, plan_id: MONGO_PLAN });
    expect(bind.status).toBe(201);
    expect(bind.body.credentials).toEqual(expected);
    // The operator CLI names the instance's offering and plan.
    const listed = await cli(['instances', 'list', '--json'], one.env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(
      expect.objectContaining({ instanceId: id, service: 'dynamic-mongo', plan: 'dynamic-mongo', state: 'ready' }),
    );

    // Restart the API and the worker (kill -9): still served, still operable.
    const started = count(one.logs, 'worker started');
    await BrokerProcesses.kill(one.api);
    await BrokerProcesses.kill(one.worker);
    one.worker = undefined;
    await one.startApi();
    await one.startWorker();
    await eventually('the new worker to start', () => (count(one.logs, 'worker started') > started ? true : undefined), 60_000);
    expect(await catalogIds(one)).toEqual(expect.arrayContaining([MONGO_ID, KV_ID]));
    const again = await one.osb.bind(id, 'b2-' + suffix(), { service_id: MONGO_ID, plan_id: MONGO_PLAN });
    expect(again.status).toBe(201);
    expect(again.body.credentials).toEqual(expected);

    // The template-folder offering provisions and binds too (its Secret's random password via secretKeyRef).
    const kvId = randomUUID();
    const kvProv = await one.osb.provision(kvId, { service_id: KV_ID, plan_id: KV_PLAN });
    expect(await finished(one.osb, kvId, kvProv.body.operation)).toEqual({ state: 'succeeded' });
    const kvBind = await one.osb.bind(kvId, 'b3-' + suffix(), { service_id: KV_ID, plan_id: KV_PLAN });
    expect(kvBind.status).toBe(201);
    expect(kvBind.body.credentials).toEqual({
      host: `${shortServiceId(kvId, CURRENT_NAME_SCHEME)}-kv.${ns}.svc.cluster.local`,
      port: '7000',
      password: expect.stringMatching(/^[A-Za-z0-9]{10}$/),
    });

    // Removal refused while the instances live.
    const refused = await admin2.request('DELETE', `/admin/offerings/${MONGO_ID}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'Conflict' });
    expect(refused.body.description).toContain(`1 live instance or provision in progress (${id}): deprovision them first`);
    expect(await catalogIds(two)).toContain(MONGO_ID);

    // Deprovision (bindings go with it), then removal succeeds and every replica drops it.
    for (const [instance, service, plan] of [
      [id, MONGO_ID, MONGO_PLAN],
      [kvId, KV_ID, KV_PLAN],
    ] as const) {
      const del = await two.osb.deprovision(instance, service, plan);
      expect(del.status).toBe(202);
      expect((await two.osb.waitForOperation(instance, del.body.operation, 90_000)).status).toBe(410);
    }
    const removed = await admin2.request('DELETE', `/admin/offerings/${MONGO_ID}`);
    expect(removed).toMatchObject({ status: 200, body: { removed: { id: MONGO_ID, name: 'dynamic-mongo' } } });
    expect((await admin1.request('DELETE', `/admin/offerings/${KV_ID}`)).status).toBe(200);
    for (const p of [one, two]) {
      await eventually(
        'the offerings to leave the catalog',
        async () => {
          const ids = await catalogIds(p);
          return ids.includes(MONGO_ID) || ids.includes(KV_ID) ? undefined : true;
        },
        10_000,
      );
    }
    expect(await storedOfferings()).toEqual([]);
    expect((await kube.list('v1', 'Pod', ns, { labelSelector: instanceSelector(id) })).items).toEqual([]);
  }, 300_000);

  it('a stored offering that does not load is not served, and can still be removed', async () => {
    const id = `broken-${suffix()}`;
    // As if edited by hand: valid storage, a service.json that is not JSON.
    const store = new OfferingStore(kube, one.env['BROKER_NAMESPACE']!);
    expect(await store.create(storedOffering(id, { 'service.json': '{ not json' }, 'files'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await catalogIds(one)).not.toContain(id);
    const removed = await admin1.request('DELETE', `/admin/offerings/${id}`);
    expect(removed.status, JSON.stringify(removed.body)).toBe(200);
    expect(await store.get(id)).toBeUndefined();
    expect((await admin1.request('DELETE', `/admin/offerings/${id}`)).status).toBe(404);
  });

  it('the CLI lists, adds and removes offerings through the API', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-offering-'));
    const id = `cli-${suffix()}`;
    const name = `cli-kv-${suffix()}`;
    try {
      for (const [file, content] of Object.entries(templateFolder(id, `${id}-plan`, name))) {
        fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content));
      }
      const env = { BROKER_URL: two.osb.url, ...ADMIN };
      const add = await cli(['offerings', 'add', dir], env);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stdout).toContain(`created offering ${name} (${id})`);
      await eventually('replica one to serve the CLI offering', async () => ((await catalogIds(one)).includes(id) ? true : undefined), 10_000);
      const list = await cli(['offerings', 'list'], { ...env, BROKER_URL: one.osb.url });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toMatch(new RegExp(`${id}\\s+${name}\\s+small\\s+files`));
      const json = await cli(['offerings', 'list', '--json'], env);
      expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id, name, source: 'files' })]);

      // A broken folder: exit 1, every problem on its own line, nothing changed.
      fs.writeFileSync(path.join(dir, 'small/plan.json'), '{"id": "x"');
      const bad = await cli(['offerings', 'add', dir], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('400 BadRequest: the offering was refused');
      expect(bad.stderr).toMatch(/small\/plan.json:\d+: invalid JSON/);

      const remove = await cli(['offerings', 'remove', id], env);
      expect(remove.code, remove.stderr).toBe(0);
      expect(remove.stdout).toContain(`removed offering ${name} (${id})`);
      expect((await cli(['offerings', 'list'], env)).stdout.trim()).toBe('no offerings added at runtime');
      const unknown = await cli(['offerings', 'remove', id], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain(`no offering ${id} was added at runtime`);
      const noCredentials = await cli(['offerings', 'list'], { BROKER_URL: two.osb.url, ADMIN_USER: '', ADMIN_PASS: '' });
      expect(noCredentials.code).toBe(1);
      expect(noCredentials.stderr).toContain('set ADMIN_USER and ADMIN_PASS');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** The CLI through its real entry point; killed after a minute. */
function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/kubernetes-broker.js'), ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
