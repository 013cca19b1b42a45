// `npm run dev` as a developer runs it: on free ports (PORT and WORKER_METRICS_ADDRESS from the
// environment), on the running local stack (KB_STACK_DIR: its up.sh leaves running components
// alone), with its own task queue and namespaces. The test provisions a shipped service through
// the URL and credentials dev mode prints, then stops it with Ctrl-C (SIGINT to its process
// group, as a terminal sends it); the stack keeps running.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { STACK_DIR } from '../../platform/config/stack-env.js';
import { Osb } from './helpers/broker.js';
import { freePort } from './helpers/processes.js';
import { eventually, suffix } from './helpers/stack.js';

let dev: ChildProcess | undefined;
let output = '';

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Whether any process of the group `pgid` (one this test started) is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ctrl-C: SIGINT to the process group of npm, the shell and node; resolves with how npm ended. */
async function interrupt(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!running(child)) return { code: child.exitCode, signal: child.signalCode };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  process.kill(-child.pid!, 'SIGINT');
  return exited;
}

afterAll(async () => {
  if (dev && running(dev)) await interrupt(dev);
});

it('npm run dev serves the shipped catalog on the port it is given, provisions through the URL and credentials it prints, and stops on Ctrl-C', async () => {
  const id = suffix();
  const port = await freePort();
  const password = randomBytes(12).toString('base64url');
  dev = spawn('npm', ['run', 'dev'], {
    cwd: PROJECT_ROOT,
    // Its own process group: Ctrl-C reaches npm, the shell and node, and nothing else.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      KB_STACK_DIR: STACK_DIR,
      PORT: String(port),
      WORKER_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_TASK_QUEUE: `dev-test-${id}`,
      BROKER_NAMESPACE: `kb-records-dev-${id}`,
      INSTANCE_NAMESPACE: `kb-instances-dev-${id}`,
      // Given, so that dev mode writes no secrets of its own into the shared stack's directory.
      AUTH_PASS: password,
      ADMIN_PASS: randomBytes(12).toString('base64url'),
      CODEC_KEYS: `dev-test:${randomBytes(32).toString('base64')}`,
      BROKER_LOG_LEVEL: 'WARNING',
    },
  });
  dev.stdout!.on('data', (d) => (output += d.toString()));
  dev.stderr!.on('data', (d) => (output += d.toString()));

  const banner = await eventually('the dev banner', () => (output.includes('kubernetes-broker is running (dev mode)') ? output : undefined), 180_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}; it printed:\n${output.slice(-3000)}`);
    },
  );
  const url = /broker URL\s+(\S+)/.exec(banner)?.[1];
  const [, user, pass] = /credentials\s+(\S+) \/ (\S+)/.exec(banner) ?? [];
  expect(url).toBe(`http://127.0.0.1:${port}`);
  expect(pass).toBe(password);

  const osb = new Osb(url!, user!, pass!);
  const catalog = await osb.request('GET', '/v2/catalog');
  expect(catalog.status).toBe(200);
  const redis = catalog.body.services.find((s: { name: string }) => s.name === 'redis');
  const plan = redis.plans[0];
  const instance = `dev-${id}`;
  const provision = await osb.provision(instance, { service_id: redis.id, plan_id: plan.id });
  expect(provision.status, JSON.stringify(provision.body)).toBe(202);
  expect((await osb.waitForOperation(instance, provision.body.operation, 180_000)).body).toEqual({ state: 'succeeded' });
  const deprovision = await osb.deprovision(instance, redis.id, plan.id);
  expect((await osb.waitForOperation(instance, deprovision.body.operation, 180_000)).status).toBe(410);

  // npm ends by the signal it forwarded (or 0); node stops the API and the worker, then exits.
  const ended = await interrupt(dev);
  expect(ended.code === 0 || ended.signal === 'SIGINT', JSON.stringify(ended)).toBe(true);
  await eventually('every process of dev mode to exit', () => (groupAlive(dev!.pid!) ? undefined : true), 30_000);
  expect(output).toContain('kubernetes-broker dev mode stopped');
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
}, 420_000);
