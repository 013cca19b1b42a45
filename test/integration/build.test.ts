// The production build runs the real broker: `npm run build` (tsc, the esbuild bundle that
// bin/kubernetes-broker.js prefers, the prebuilt workflow bundle) in a copy of the tree, then that
// copy's `worker` and `serve` through bin/, with node_modules pruned as the image's are (no
// workflow bundler), an instance provisioned, fetched and deprovisioned on the local stack. (The
// other tests run the TypeScript sources through tsx.) The copy keeps a build out of this
// checkout, whose bin/ would otherwise run it instead of the sources.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { orphans } from './helpers/faults.js';
import { BrokerProcesses } from './helpers/processes.js';
import { kubeApi, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const SKIP = new Set(['node_modules', 'dist', '.stack', '.git', 'test-artifacts', 'coverage']);

const kube = kubeApi();
let copy: string;
let broker: BrokerProcesses;

beforeAll(async () => {
  copy = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-build-'));
  fs.cpSync(PROJECT_ROOT, copy, { recursive: true, filter: (src) => !SKIP.has(path.basename(src)) });
  fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const build = spawnSync('npm', ['run', 'build'], { cwd: copy, encoding: 'utf8', timeout: 300_000 });
  expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
  expect(fs.existsSync(path.join(copy, 'dist/bundle/main.js'))).toBe(true);
  expect(fs.existsSync(path.join(copy, 'dist/workflow-bundle.js'))).toBe(true);
  // Only the bundle can run now: no CLI sources for tsx, no unbundled dist/cli.
  for (const dir of ['cli', 'dist/cli']) fs.rmSync(path.join(copy, dir), { recursive: true });
  // The dependencies as the image has them: a copy (hard links: the same files, separate
  // directories) pruned by the Dockerfile's step. A worker that tried to bundle would fail (no swc).
  fs.unlinkSync(path.join(copy, 'node_modules'));
  const link = spawnSync('cp', ['-al', path.join(PROJECT_ROOT, 'node_modules'), path.join(copy, 'node_modules')], { encoding: 'utf8' });
  expect(link.status, link.stderr).toBe(0);
  const prune = spawnSync(process.execPath, [path.join(copy, 'scripts/prune-runtime.mjs'), path.join(copy, 'node_modules')], { encoding: 'utf8' });
  expect(prune.status, prune.stderr).toBe(0);
  expect(prune.stdout).toMatch(/^removed @swc$/m);
  expect(fs.existsSync(path.join(copy, 'node_modules/@swc/core'))).toBe(false);
  broker = await BrokerProcesses.create({ CATALOG_DIR: CATALOG }, [path.join(copy, 'bin/kubernetes-broker.js')]);
  await Promise.all([broker.startWorker(), broker.startApi()]);
}, 400_000);
afterAll(async () => {
  await broker?.stop();
  kube.close();
  if (copy) fs.rmSync(copy, { recursive: true, force: true });
});

it('the bundled broker provisions, serves and deprovisions an instance', async () => {
  expect(broker.logs).toMatch(/"workflows":"prebuilt [^"]*\/dist\/workflow-bundle\.js"/);
  const id = `build-${suffix()}`;
  const catalog = await broker.osb.request('GET', '/v2/catalog');
  expect(catalog.body.services.map((s: { id: string }) => s.id)).toContain(SERVICE);
  const put = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY });
  expect(put.status, JSON.stringify(put.body)).toBe(202);
  expect((await broker.osb.waitForOperation(id, put.body.operation)).body).toEqual({ state: 'succeeded' });
  expect((await broker.osb.request('GET', `/v2/service_instances/${id}`)).body).toMatchObject({ service_id: SERVICE, plan_id: READY });
  const del = await broker.osb.deprovision(id, SERVICE, READY);
  expect(del.status).toBe(202);
  expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
  expect(await orphans(kube, broker.env['INSTANCE_NAMESPACE']!, broker.env['BROKER_NAMESPACE']!)).toEqual([]);
}, 180_000);
