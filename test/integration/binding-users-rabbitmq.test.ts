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
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleValues } from '../../catalog/check.js';
import { renderCredentials } from '../../catalog/credentials.js';
import { loadCatalog } from '../../catalog/load.js';
import { CURRENT_NAME_SCHEME } from '../../catalog/naming.js';
import { generateRandoms } from '../../catalog/randoms.js';
import { renderPlan } from '../../catalog/render.js';
import type { InstanceValues, KubernetesObject, Plan, ServiceFacts } from '../../catalog/types.js';
import { readBindingHookSecret } from '../../activities/lifecycle-hooks.js';
import { SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';
import { containerEnv, renderHook, runContainer, serviceAccountDir, type HookRun } from './real-servers/hook-job.js';
import { managementApi, startRabbitmq, type RabbitmqServer } from './real-servers/rabbitmq.js';
import { debianBinary } from './real-servers/server-process.js';

const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
const service = catalog.services.find((s) => s.name === 'rabbitmq')!;
const kube = kubeApi();
const namespace = `kb-bindusers-rabbitmq-${suffix()}`;
const FIELD_MANAGER = 'kb-test-bindusers';
// One set of instance randoms: every plan's instance has the node's admin user.
const randoms = generateRandoms();
let node: RabbitmqServer;
const tempDirs: string[] = [];

const amqpGet = () => debianBinary('amqp-tools', '/usr/bin/amqp-get');
const amqp = (tool: string, args: string[]) => spawnSync(`/usr/bin/${tool}`, args, { encoding: 'utf8', timeout: 30_000 });

beforeAll(async () => {
  amqpGet();
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: FIELD_MANAGER });
  const plan = service.plans[0]!;
  const secret = renderPlan(service, plan, { ...values('probe'), parameters: sampleValues(plan).parameters }).find(
    (o) => o.kind === 'Secret',
  ) as KubernetesObject & {
    data: Record<string, string>;
  };
  const decode = (k: string) => Buffer.from(secret.data[k]!, 'base64').toString('utf8');
  node = await startRabbitmq(decode('username'), decode('password'));
}, 120_000);
afterAll(async () => {
  await node?.stop();
  await kube.delete('v1', 'Namespace', undefined, namespace).catch(() => undefined);
  kube.close();
  tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});

function values(instanceId: string): InstanceValues {
  return { instanceId, org: 'org-1', space: 'space-1', namespace, storageClass: '', parameters: {}, randoms, nameScheme: CURRENT_NAME_SCHEME };
}

describe.each(service.plans.map((plan) => [plan.name, plan] as const))('rabbitmq/%s: a user per binding, on a real RabbitMQ node', (_name, plan: Plan) => {
  const instanceId = `rmq-${plan.name}-${suffix()}`;
  // Parameters: their defaults.
  const instance: InstanceValues = { ...values(instanceId), parameters: sampleValues(plan).parameters };
  let objects: KubernetesObject[];
  let saDir: string;

  beforeAll(async () => {
    objects = renderPlan(service, plan, instance);
    // The hooks' identity, as the plan creates it: ServiceAccount, Role, RoleBinding.
    for (const o of objects.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind)))
      await kube.apply(o, { fieldManager: FIELD_MANAGER, force: true });
    const { pod } = renderHook(service, plan, 'onBindInstance', instance, 'probe');
    const env = stackEnv();
    saDir = serviceAccountDir(
      path.join(env['KB_STACK_BIN']!.split(':')[0]!, 'kubectl'),
      env['KUBECONFIG']!,
      env['KB_TEMPORAL_TLS_CA']!,
      namespace,
      pod.serviceAccountName!,
    );
    tempDirs.push(saDir);
  });

  /** Runs the hook's script for a binding; returns the run. */
  function hook(event: 'onBindInstance' | 'onUnbindInstance', bindingId: string): HookRun {
    const { pod } = renderHook(service, plan, event, instance, bindingId);
    const container = pod.containers[0]!;
    expect(container.image).toBe('rabbitmq:4.3-management');
    const env = containerEnv(container, objects);
    // The instance's management Service, as the Job reaches it; here the node on 127.0.0.1.
    const svc = objects.find((o) => o.kind === 'Service' && ports(o).some((p) => p.port === 15672))!;
    expect(env['RABBITMQ_HOST']).toBe(`${svc.metadata.name}.${namespace}.svc`);
    expect(env['RABBITMQ_MANAGEMENT_PORT']).toBe('15672');
    env['RABBITMQ_HOST'] = '127.0.0.1';
    env['RABBITMQ_MANAGEMENT_PORT'] = String(node.managementPort);
    if (event === 'onBindInstance') {
      expect(env['SERVICE_ACCOUNT_DIR']).toBe('/var/run/secrets/kubernetes.io/serviceaccount');
      env['SERVICE_ACCOUNT_DIR'] = saDir;
      const api = new URL(stackEnv()['KUBERNETES_API_URL']!);
      Object.assign(env, { KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port });
    }
    // The image's own ENV (HOME=/var/lib/rabbitmq): erl wants a home.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-hook-home-'));
    tempDirs.push(home);
    return runContainer(container, { ...env, HOME: home });
  }

  /** Binds: runs the bind hook, then renders the credentials from the Secret it wrote, as the broker does. */
  async function bind(bindingId: string) {
    const run = hook('onBindInstance', bindingId);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const hookSecret = await readBindingHookSecret(kube, namespace, instanceId, bindingId);
    expect(hookSecret).toBeDefined();
    const creds = renderCredentials(service, plan, { ...instance, bindingId }, { env: {}, services: serviceFacts(objects), hookSecret }) as Record<
      string,
      string
    >;
    return { creds, hookSecret: hookSecret! };
  }

  /** The credentials' AMQP URI, pointed at the node instead of the instance's Service. */
  const local = (uri: string) => {
    const u = new URL(uri);
    expect(u.hostname).toMatch(new RegExp(`^[a-z0-9-]+-rabbitmq\\.${namespace}\\.svc\\.cluster\\.local$`));
    expect(u.port).toBe('5672');
    u.hostname = '127.0.0.1';
    u.port = String(node.amqpPort);
    return u.toString();
  };
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
        path.join(saDir, 'ca.crt'),
        '--token',
        fs.readFileSync(path.join(saDir, 'token'), 'utf8'),
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
    const again = hook('onBindInstance', b2);
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
    const unbind = hook('onUnbindInstance', b1);
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

    // Unbind is idempotent: a second run (a retried pod) succeeds.
    expect(hook('onUnbindInstance', b1).status).toBe(0);
    expect(hook('onUnbindInstance', b2).status).toBe(0);
    expect(amqp('amqp-get', ['--url', uri2, '-q', queue]).status).not.toBe(0);
  }, 180_000);

  async function connectionsOf(user: string): Promise<number> {
    const list = (await managementApi(node, node.adminUser, node.adminPassword, 'GET', '/api/connections')).body as { user: string }[];
    return list.filter((c) => c.user === user).length;
  }
});

function ports(o: KubernetesObject): { port: number; targetPort?: number }[] {
  return (o as { spec?: { ports?: { port: number; targetPort?: number }[] } }).spec?.ports ?? [];
}

/** The rendered Services as the broker reads them from a running instance (ClusterIP, cluster DNS names). */
function serviceFacts(objects: KubernetesObject[]): ServiceFacts[] {
  return objects
    .filter((o) => o.kind === 'Service')
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((s) => ({
      name: s.metadata.name,
      hostname: `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`,
      ports: ports(s).map((p) => ({ port: p.port, targetPort: p.targetPort ?? p.port })),
    }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function expectEventually(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(200);
  }
}
