// The shipped RabbitMQ plans' bind and unbind hooks, run for real outside Kubernetes: each hook is
// rendered as the broker renders it (catalog/hooks.ts) and its script runs with /bin/sh on this
// machine against a real RabbitMQ node (Debian's rabbitmq-server), with the Job's env: the admin
// user from the instance's rendered Secret, and a token of the plan's own hooks ServiceAccount
// (rendered from k8s/hooks-access.yaml and applied to the local stack) to write the binding's
// Secret. Only the addresses differ: 127.0.0.1 and the node's ports instead of the instance's
// Service, the stack's API server instead of the in-cluster one. Credentials are then rendered by
// the broker's code from the Secret the hook wrote, and used with a real AMQP client (amqp-tools).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubernetesObject, Plan } from '../../catalog/types.js';
import { readBindingHookSecret } from '../../activities/lifecycle-hooks.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';
import { hookHarness, localUri, pointAtLocal, serviceWithPort, shippedInstances, type HookHarness } from './real-servers/hook-job.js';
import { managementApi, startRabbitmq, type RabbitmqServer } from './real-servers/rabbitmq.js';
import { debianBinary } from './real-servers/server-process.js';

const kube = kubeApi();
const namespace = `kb-bindusers-rabbitmq-${suffix()}`;
const FIELD_MANAGER = 'kb-test-bindusers';
const { service, values, instanceSecret } = await shippedInstances('rabbitmq', namespace);
let node: RabbitmqServer;

const amqpGet = () => debianBinary('amqp-tools', '/usr/bin/amqp-get');
const amqp = (tool: string, args: string[]) => spawnSync(`/usr/bin/${tool}`, args, { encoding: 'utf8', timeout: 30_000 });

beforeAll(async () => {
  amqpGet();
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: FIELD_MANAGER });
  node = await startRabbitmq(instanceSecret['username']!, instanceSecret['password']!);
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await kube.delete('v1', 'Namespace', undefined, namespace).catch(() => undefined);
  kube.close();
});

describe.each(service.plans.map((plan) => [plan.name, plan] as const))('rabbitmq/%s: a user per binding, on a real RabbitMQ node', (_name, plan: Plan) => {
  const instanceId = `rmq-${plan.name}-${suffix()}`;
  // Parameters: their defaults.
  const instance = values(instanceId, plan);
  let harness: HookHarness;
  let objects: KubernetesObject[];

  beforeAll(async () => {
    harness = await hookHarness({ service, plan, instance }, kube, {
      image: 'rabbitmq:4.3-management',
      // The instance's management Service, as the Job reaches it; here the node on 127.0.0.1.
      adapt: (env, rendered) =>
        pointAtLocal(env, serviceWithPort(rendered, 15672), { RABBITMQ_HOST: '127.0.0.1', RABBITMQ_MANAGEMENT_PORT: String(node.managementPort) }),
    });
    objects = harness.objects;
  });
  afterAll(() => harness?.cleanup());

  const hook = (event: 'onBindInstance' | 'onUnbindInstance', bindingId: string) => harness.run(event, bindingId);
  const bind = (bindingId: string) => harness.bind(bindingId);
  const local = (uri: string) => localUri(uri, namespace, node.amqpPort, 5672);
  const saDir = () => harness.serviceAccountDir;
  const inVhost = (uri: string, vhost: string) => {
    const u = new URL(uri);
    u.pathname = `/${encodeURIComponent(vhost)}`;
    return u.toString();
  };

  it('bind: a user of its own, read, write and configure in the application vhost only, not administrator; unbind revokes it and closes its connections; a new binding gets new credentials', async () => {
    const [b1, b2] = [`b1-${suffix()}`, `b2-${suffix()}`];
    const first = await bind(b1);
    const admin = { user: node.adminUser, password: node.adminPassword };

    // The credentials: the binding's own user, nothing of the admin's.
    expect(first.creds['username']).toBe(`binding-${b1}`);
    expect(first.creds['password']).toMatch(/^[0-9a-f]{64}$/);
    expect(first.creds['vhost']).toBe('app');
    expect(JSON.stringify(first.creds)).not.toContain(admin.password);
    expect(JSON.stringify(first.creds)).not.toContain(admin.user);
    const uri1 = local(first.creds['uri']!);

    // Configure, write and read in its vhost, over AMQP.
    const queue = `q-${suffix()}`;
    expect(amqp('amqp-declare-queue', ['--url', uri1, '-q', queue, '-d']).status).toBe(0);
    expect(amqp('amqp-publish', ['--url', uri1, '-r', queue, '-b', 'from-b1']).status).toBe(0);
    expect(amqp('amqp-publish', ['--url', uri1, '-r', queue, '-b', 'kept-for-b2']).status).toBe(0);
    const got = amqp('amqp-get', ['--url', uri1, '-q', queue]);
    expect(got.status).toBe(0);
    expect(got.stdout).toBe('from-b1');

    // Not the default vhost `/`, nor another vhost of the node.
    expect((await managementApi(node, admin.user, admin.password, 'PUT', '/api/vhosts/other-vhost', {})).status).toBeLessThan(300);
    for (const vhost of ['/', 'other-vhost']) {
      const refused = amqp('amqp-declare-queue', ['--url', inVhost(uri1, vhost), '-q', queue]);
      expect(refused.status, `vhost ${vhost}`).not.toBe(0);
      expect(refused.stderr).toMatch(/ACCESS_REFUSED|access to vhost|opening connection/i);
    }
    // Its user: tag management only; the management API shows it nothing of the server.
    const user = (await managementApi(node, admin.user, admin.password, 'GET', `/api/users/binding-${b1}`)).body as { tags: unknown };
    expect([user.tags].flat().join(',')).toBe('management');
    const users = await managementApi(node, `binding-${b1}`, first.creds['password']!, 'GET', '/api/users');
    expect(users.status).toBe(401);
    expect(JSON.stringify(users.body)).toMatch(/not administrator/i);
    const vhosts = (await managementApi(node, `binding-${b1}`, first.creds['password']!, 'GET', '/api/vhosts')).body as { name: string }[];
    expect(vhosts.map((v) => v.name)).toEqual(['app']);
    // Nor may it manage users or permissions.
    const made = await managementApi(node, `binding-${b1}`, first.creds['password']!, 'PUT', '/api/users/intruder', { password: 'x', tags: 'administrator' });
    expect(made.status).toBe(401);
    const granted = await managementApi(node, `binding-${b1}`, first.creds['password']!, 'PUT', `/api/permissions/other-vhost/binding-${b1}`, {
      configure: '.*',
      write: '.*',
      read: '.*',
    });
    expect(granted.status).toBe(401);

    // The hooks' token may create Secrets and nothing else: it cannot read the instance's.
    const env = stackEnv();
    const secretName = objects.find((o) => o.kind === 'Secret')!.metadata.name;
    const readWithToken = spawnSync(
      path.join(env['KB_STACK_BIN']!.split(':')[0]!, 'kubectl'),
      [
        '--kubeconfig',
        '/dev/null',
        '--server',
        env['KUBERNETES_API_URL']!,
        '--certificate-authority',
        path.join(saDir(), 'ca.crt'),
        '--token',
        fs.readFileSync(path.join(saDir(), 'token'), 'utf8'),
        '-n',
        namespace,
        'get',
        'secret',
        secretName,
      ],
      { encoding: 'utf8' },
    );
    expect(readWithToken.status).not.toBe(0);
    expect(readWithToken.stderr).toMatch(/forbidden/i);

    // Rotation: a second binding gets other credentials; both work, in the same vhost.
    const second = await bind(b2);
    expect(second.creds['username']).toBe(`binding-${b2}`);
    expect(second.creds['password']).not.toBe(first.creds['password']);
    const uri2 = local(second.creds['uri']!);

    // A run of the bind hook again (a retried pod) changes nothing: same password, its Secret kept.
    const again = await hook('onBindInstance', b2);
    expect(again.status, again.stderr).toBe(0);
    expect(await readBindingHookSecret(kube, namespace, instanceId, b2)).toEqual(second.hookSecret);

    // An open connection of the first binding: a consumer waiting for messages.
    // (On a queue of its own: it would take the message kept for the second binding.)
    const idle = `idle-${suffix()}`;
    expect(amqp('amqp-declare-queue', ['--url', uri1, '-q', idle]).status).toBe(0);
    const consumer = spawn('/usr/bin/amqp-consume', ['--url', uri1, '-q', idle, 'cat'], { stdio: 'ignore' });
    const consumerExit = new Promise<number | null>((resolve) => consumer.once('exit', (code) => resolve(code)));
    await expectEventually(async () => (await connectionsOf(`binding-${b1}`)) > 0);

    // Unbind the first: its user is gone, its connection closed, its credentials refused.
    const unbind = await hook('onUnbindInstance', b1);
    expect(unbind.stderr).toBe('');
    expect(unbind.status).toBe(0);
    expect(await Promise.race([consumerExit.then(() => 'closed'), sleep(15_000).then(() => 'still open')])).toBe('closed');
    const refused = amqp('amqp-get', ['--url', uri1, '-q', queue]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/ACCESS_REFUSED|authentication|login/i);
    expect((await managementApi(node, admin.user, admin.password, 'GET', `/api/users/binding-${b1}`)).status).toBe(404);

    // The second binding still works, and reads what the first left in the shared vhost.
    const kept = amqp('amqp-get', ['--url', uri2, '-q', queue]);
    expect(kept.status, kept.stderr).toBe(0);
    expect(kept.stdout).toBe('kept-for-b2');
    // And writes there: the queue the first declared outlives it.
    expect(amqp('amqp-publish', ['--url', uri2, '-r', queue, '-b', 'from-b2']).status).toBe(0);
    expect(amqp('amqp-get', ['--url', uri2, '-q', queue]).stdout).toBe('from-b2');

    // Unbind is idempotent: a second run (a retried pod) succeeds.
    expect((await hook('onUnbindInstance', b1)).status).toBe(0);
    expect((await hook('onUnbindInstance', b2)).status).toBe(0);
    expect(amqp('amqp-get', ['--url', uri2, '-q', queue]).status).not.toBe(0);
  }, 180_000);

  async function connectionsOf(user: string): Promise<number> {
    const list = (await managementApi(node, node.adminUser, node.adminPassword, 'GET', '/api/connections')).body as { user: string }[];
    return list.filter((c) => c.user === user).length;
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function expectEventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(200);
  }
}
