// The shipped MongoDB plans' bind and unbind hooks, run outside Kubernetes: each hook is rendered
// as the broker renders it (catalog/hooks.ts) and its script runs with /bin/sh and mongosh 2.12 on
// this machine, with the Job's env (root user from the instance's rendered Secret, a token of the
// plan's own hooks ServiceAccount applied to the local stack). MongoDB itself is in no registry
// here; the server is FerretDB v1.24.2, which speaks MongoDB's protocol and authenticates SCRAM
// users, but implements no roles and no authorization. So on the wire, and only there, createUser
// and updateUser go out with `roles: []` (real-servers/ferretdb.ts rolesShim) and the test checks
// the roles the hook asked for instead: readWrite on the instance's database, nothing else. What
// this cannot show (that MongoDB then keeps the user out of other databases and of `admin`) only
// a real MongoDB shows; see service-catalog/README.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../catalog/types.js';
import { readBindingHookSecret } from '../../activities/lifecycle-hooks.js';
import { kubeApi, suffix } from './helpers/stack.js';
import { startFerretdb, mongosh, MONGOSH_BIN, rolesShim, type FerretdbServer } from './real-servers/ferretdb.js';
import { hookHarness, localUri, pointAtLocal, serviceWithPort, shippedInstances, type HookHarness } from './real-servers/hook-job.js';

const kube = kubeApi();
const namespace = `kb-bindusers-mongodb-${suffix()}`;
const FIELD_MANAGER = 'kb-test-bindusers';
const { service, values, instanceSecret } = await shippedInstances('mongodb', namespace);
let server: FerretdbServer;
let scratch: string;

beforeAll(async () => {
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: FIELD_MANAGER });
  server = await startFerretdb(instanceSecret['root-username']!, instanceSecret['root-password']!);
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-mongodb-hooks-'));
}, 120_000);
afterAll(async () => {
  await server?.stop();
  await kube.delete('v1', 'Namespace', undefined, namespace).catch(() => undefined);
  kube.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe.each(service.plans.map((plan) => [plan.name, plan] as const))('mongodb/%s: a user per binding, against FerretDB', (_name, plan: Plan) => {
  const instance = values(`mdb-${plan.name}-${suffix()}`, plan);
  const rolesLog = () => path.join(scratch, `roles-${plan.name}.jsonl`);
  let harness: HookHarness;

  beforeAll(async () => {
    harness = await hookHarness({ service, plan, instance }, kube, {
      image: 'mongo:8.0',
      path: [MONGOSH_BIN],
      // The instance's Service, as the Job reaches it; here FerretDB on 127.0.0.1.
      adapt: (env, rendered) => ({
        ...pointAtLocal(env, serviceWithPort(rendered, 27017), { MONGODB_HOST: '127.0.0.1', MONGODB_PORT: String(server.port) }),
        ...rolesShim(scratch, rolesLog()),
      }),
    });
  });
  afterAll(() => harness?.cleanup());

  const uriOf = (creds: Record<string, string>) => localUri(creds['uri']!, namespace, server.port, 27017);
  const requestedRoles = () =>
    fs
      .readFileSync(rolesLog(), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { command: string; db: string; user: string; roles: unknown });

  it('bind: a user of its own in the instance database, asking for readWrite there only; unbind drops it; a new binding gets new credentials', async () => {
    const database = instanceSecret['database']!;
    const [b1, b2] = [`b1-${suffix()}`, `b2-${suffix()}`];
    const first = await harness.bind(b1);

    // The credentials: the binding's own user, nothing of root's nor of the init script's user.
    expect(first.creds['username']).toBe(`binding-${b1}`);
    expect(first.creds['password']).toMatch(/^[0-9a-f]{64}$/);
    expect(first.creds['database']).toBe(database);
    for (const key of ['root-password', 'password', 'username']) expect(JSON.stringify(first.creds)).not.toContain(instanceSecret[key]!);
    // The user is made in the database, with readWrite on it: the only roles the hook asked for.
    expect(requestedRoles()).toEqual([{ command: 'createUser', db: database, user: `binding-${b1}`, roles: [{ role: 'readWrite', db: database }] }]);

    // The credentials log in (SCRAM, authSource = the URI's database) and write and read there.
    const uri1 = uriOf(first.creds);
    const written = mongosh(uri1, `db.things.insertOne({ by: '${b1}' }); print(db.things.countDocuments({ by: '${b1}' }))`);
    expect(written.stderr).toBe('');
    expect(written.stdout.trim()).toBe('1');
    const wrong = mongosh(uri1.replace(first.creds['password']!, 'f'.repeat(64)), 'db.runCommand({ ping: 1 })');
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr + wrong.stdout).toMatch(/Authentication failed/);

    // Rotation: a second binding gets other credentials and sees the first one's data.
    const second = await harness.bind(b2);
    expect(second.creds['username']).toBe(`binding-${b2}`);
    expect(second.creds['password']).not.toBe(first.creds['password']);
    const uri2 = uriOf(second.creds);
    expect(mongosh(uri2, `print(db.things.countDocuments({ by: '${b1}' }))`).stdout.trim()).toBe('1');

    // A run of the bind hook again (a retried pod): updateUser, same password, its Secret kept.
    const again = await harness.run('onBindInstance', b2);
    expect(again.status, again.stderr).toBe(0);
    expect(await readBindingHookSecret(kube, namespace, instance.instanceId, b2)).toEqual(second.hookSecret);
    expect(requestedRoles().slice(-1)).toEqual([{ command: 'updateUser', db: database, user: `binding-${b2}`, roles: [{ role: 'readWrite', db: database }] }]);
    expect(mongosh(uri2, 'print(db.runCommand({ ping: 1 }).ok)').stdout.trim()).toBe('1');

    // Unbind the first: its user is gone, its credentials refused; the second works on.
    const unbind = await harness.run('onUnbindInstance', b1);
    expect(unbind.stderr).toBe('');
    expect(unbind.status).toBe(0);
    const root = `mongodb://${encodeURIComponent(server.rootUser)}:${encodeURIComponent(server.rootPassword)}@127.0.0.1:${server.port}/admin`;
    const users = mongosh(root, `print(JSON.stringify(db.getSiblingDB('${database}').runCommand({ usersInfo: 1 }).users.map((u) => u.user)))`);
    expect(JSON.parse(users.stdout.trim())).toEqual([`binding-${b2}`]);
    const refused = mongosh(uri1, 'db.runCommand({ ping: 1 })');
    expect(refused.status).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/Authentication failed/);
    expect(mongosh(uri2, `print(db.things.countDocuments({ by: '${b1}' }))`).stdout.trim()).toBe('1');
    const changed = mongosh(uri2, `db.things.updateOne({ by: '${b1}' }, { $set: { seenBy: '${b2}' } }); print(db.things.countDocuments({ seenBy: '${b2}' }))`);
    expect(changed.stderr).toBe('');
    expect(changed.stdout.trim()).toBe('1');

    // Unbind is idempotent (a retried pod); then the second goes too.
    expect((await harness.run('onUnbindInstance', b1)).status).toBe(0);
    expect((await harness.run('onUnbindInstance', b2)).status).toBe(0);
    expect(mongosh(uri2, 'db.runCommand({ ping: 1 })').status).not.toBe(0);
  }, 180_000);
});
