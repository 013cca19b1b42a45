// Operators roll a plan's new maintenance_info out (`kubernetes-broker upgrade`, POST
// /admin/plans/:id/upgrade): three instances provisioned by a broker whose catalog has the plan
// at 1.0.0 and one provisioned after the catalog moved to 2.0.0, whose new template one of the
// three cannot take (it names a container port after the greeting, and that greeting is no port name). The dry run changes nothing; the
// upgrade goes on when the CLI that started it is killed, and the CLI run again follows the same
// workflow to its summary; the admin route does the same.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';

const SOURCE = fileURLToPath(new URL('./fixtures/updates-catalog', import.meta.url));
const SERVICE = 'b7e0c1d2-7a41-4a0e-9c55-0a11ce0d0001';
// The upgrade workflow's id is the plan's: a plan id of this run only, so that no earlier run's upgrade is found.
const PLAN = `b7e0c1d2-7a41-4a0e-9c55-${suffix()}${suffix().slice(0, 4)}`;
const ADMIN = `Basic ${Buffer.from('admin:admin-password').toString('base64')}`;
const BAD_PORT_NAME = 'not a port name!';

const kube = kubeApi();
const catalogDir = mkdtempSync(path.join(tmpdir(), 'kb-upgrade-'));
const planDir = path.join(catalogDir, 'upgradable', 'current');
let broker: RunningBroker;
const ids = { a: `upg-a-${suffix()}`, b: `upg-b-${suffix()}`, failing: `upg-c-${suffix()}`, current: `upg-d-${suffix()}` };

const editJson = (file: string, edit: (json: any) => void) => {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  edit(json);
  writeFileSync(file, JSON.stringify(json, null, 2));
};

async function provision(id: string, greeting: string) {
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: PLAN, organization_guid: 'o', space_guid: 's', parameters: { greeting } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await broker.osb.waitForOperation(id, res.body.operation)).body).toEqual({ state: 'succeeded' });
}

const versionOf = async (id: string) => (await broker.osb.request('GET', `/v2/service_instances/${id}`)).body.maintenance_info?.version;

beforeAll(async () => {
  cpSync(SOURCE, catalogDir, { recursive: true });
  editJson(path.join(planDir, 'plan.json'), (p) => (p.id = PLAN));
  const v1 = await startBroker({ CATALOG_DIR: catalogDir });
  broker = v1;
  await Promise.all([provision(ids.a, 'hello'), provision(ids.b, 'hi'), provision(ids.failing, BAD_PORT_NAME)]);
  await v1.stop();

  // Version 2.0.0: the pods carry the greeting as a label and a port name (which the API server
  // refuses for the failing instance), and take 30 s to turn Ready (the time the test has to
  // kill the CLI and start it again while the upgrade runs).
  editJson(path.join(planDir, 'plan.json'), (p) => (p.maintenance_info = { version: '2.0.0' }));
  editJson(path.join(planDir, 'k8s', 'deployment.json'), (d) => {
    d.spec.template.metadata.labels.greeting = '$param_greeting';
    d.spec.template.spec.containers[0].ports.push({ name: '$param_greeting', containerPort: 9090 });
    d.spec.template.metadata.annotations = { 'kwok.kubernetes-broker.io/ready-after': '30s' };
  });
  const { config } = v1;
  broker = await startBroker({
    CATALOG_DIR: catalogDir,
    ADMIN_USER: 'admin',
    ADMIN_PASS: 'admin-password',
    TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
    BROKER_NAMESPACE: config.BROKER_NAMESPACE,
    INSTANCE_NAMESPACE: config.INSTANCE_NAMESPACE,
    CODEC_KEYS: config.CODEC_KEYS!,
  });
  await provision(ids.current, 'hey');
}, 300_000);

afterAll(async () => {
  await broker?.stop();
  kube.close();
  rmSync(catalogDir, { recursive: true, force: true });
});

/** The CLI from the sources with the broker's configuration; `until`: kill it (SIGKILL) once its output matches. */
function cli(args: string[], until?: RegExp): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli/main.ts'), ...args], {
    env: {
      ...process.env,
      ...stackEnv(),
      KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
      CATALOG_DIR: catalogDir,
      TEMPORAL_TASK_QUEUE: broker.config.TEMPORAL_TASK_QUEUE,
      BROKER_NAMESPACE: broker.config.BROKER_NAMESPACE,
      INSTANCE_NAMESPACE: broker.config.INSTANCE_NAMESPACE,
      CODEC_KEYS: broker.config.CODEC_KEYS!,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (until?.test(stdout)) child.kill('SIGKILL');
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

const admin = (method: string, p: string) =>
  fetch(`${broker.url}/admin${p}`, { method, headers: { Authorization: ADMIN } }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

describe('upgrading every instance of a plan', () => {
  it('--dry-run says what would be upgraded and changes nothing', async () => {
    const r = await cli(['upgrade', '--plan', PLAN, '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('dry run: nothing is started. Plan current of service upgradable is at maintenance_info 2.0.0.');
    expect(lines.slice(1, 4).sort()).toEqual([ids.a, ids.b, ids.failing].map((id) => `would upgrade ${id} (from 1.0.0)`).sort());
    expect(lines.slice(4)).toEqual([`already current ${ids.current}`, 'would upgrade 3, already current 1, cannot upgrade now 0']);
    expect(await Promise.all([ids.a, ids.b, ids.failing].map(versionOf))).toEqual(['1.0.0', '1.0.0', '1.0.0']);
    expect((await admin('GET', `/plans/${PLAN}/upgrade`)).status).toBe(404);
  });

  it('a PATCH naming the old version is a MaintenanceInfoConflict naming the new one; GET reports the version each instance has', async () => {
    const res = await broker.osb.update(ids.a, { service_id: SERVICE, maintenance_info: { version: '1.0.0' } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'MaintenanceInfoConflict', description: expect.stringContaining('2.0.0') });
    expect(await versionOf(ids.a)).toBe('1.0.0');
    expect(await versionOf(ids.current)).toBe('2.0.0');
  });

  it('goes on when the CLI is killed; the CLI run again follows the same workflow: progress, a summary, the failure with its description', async () => {
    const started = /run (\S+)\):/;
    const killed = await cli(['upgrade', '--plan', PLAN, '--concurrency', '2'], started);
    expect(killed.status).toBeNull(); // killed by the signal
    const run = started.exec(killed.stdout)![1];

    const again = await cli(['upgrade', '--plan', PLAN, '--concurrency', '2']);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(1); // an instance failed
    const lines = again.stdout.trim().split('\n');
    expect(lines[0]).toContain(`run ${run}):`);
    const progress = lines.slice(1, 5);
    expect(progress.map((l) => l.replace(/^\[\d\/4\] /, '').replace(/: .*$/, '')).sort()).toEqual(
      [`upgraded ${ids.a}`, `upgraded ${ids.b}`, `failed ${ids.failing}`, `already current ${ids.current}`].sort(),
    );
    expect(progress.map((l) => l.slice(0, 6))).toEqual(['[1/4] ', '[2/4] ', '[3/4] ', '[4/4] ']);
    expect(lines[5]).toBe('upgraded 2, already current 1, failed 1');
    expect(lines[6]).toMatch(new RegExp(`^  ${ids.failing}: update failed: .*ports.*Nothing was changed; it is usable\\.$`));
    expect(lines).toHaveLength(7);

    // The upgraded instances run the new template and report the new version; the failed one
    // reports the old, its last_operation says why, and it still binds.
    expect(await Promise.all([ids.a, ids.b, ids.failing, ids.current].map(versionOf))).toEqual(['2.0.0', '2.0.0', '1.0.0', '2.0.0']);
    const [deployment] = (
      await kube.list<KubernetesObject & { spec: any }>('apps/v1', 'Deployment', broker.config.INSTANCE_NAMESPACE, {
        labelSelector: instanceSelector(ids.a),
      })
    ).items;
    expect(deployment!.spec.template.metadata.labels.greeting).toBe('hello');
    const last = await broker.osb.lastOperation(ids.failing);
    expect(last.body).toMatchObject({ state: 'failed', description: lines[6]!.replace(`  ${ids.failing}: `, '') });
    expect((await broker.osb.bind(ids.failing, `b-${ids.failing}`, { service_id: SERVICE, plan_id: PLAN })).status).toBe(201);
  }, 180_000);

  it('the admin route: a dry run, then an upgrade it reports as it goes and when done', async () => {
    const dry = await admin('POST', `/plans/${PLAN}/upgrade?dry_run=true`);
    expect(dry.status).toBe(200);
    expect(dry.body.wouldUpgrade).toEqual([{ instanceId: ids.failing, from: '1.0.0' }]);

    const start = await admin('POST', `/plans/${PLAN}/upgrade?concurrency=3`);
    expect(start.status).toBe(202);
    let status;
    for (const deadline = Date.now() + 60_000; !status?.done; await new Promise((r) => setTimeout(r, 500))) {
      if (Date.now() > deadline) throw new Error(`upgrade not done: ${JSON.stringify(status)}`);
      status = (await admin('GET', `/plans/${PLAN}/upgrade`)).body;
    }
    expect(status).toMatchObject({ workflowId: start.body.workflowId, runId: start.body.runId, status: 'COMPLETED', total: 4, version: '2.0.0' });
    expect(
      status.outcomes
        .filter((o: any) => o.outcome === 'current')
        .map((o: any) => o.instanceId)
        .sort(),
    ).toEqual([ids.a, ids.b, ids.current].sort());
    expect(status.outcomes.filter((o: any) => o.outcome === 'failed')).toEqual([
      { instanceId: ids.failing, outcome: 'failed', description: expect.stringMatching(/^update failed: .*Nothing was changed/) },
    ]);
    expect((await admin('POST', `/plans/no-such-plan/upgrade`)).body).toEqual({ error: 'BadRequest', description: 'plan no-such-plan is not in the catalog' });
  }, 120_000);
});
