// 5. Start-up: from spawning `serve` (seed catalog) until GET /v2/catalog answers 200, against
// spawning node to print hello. Built JS (`node bin/kubernetes-broker.js serve`, after
// `npm run build`) and the tsx path (`node --import tsx cli/main.ts serve`). Alternating, medians.
// bin/ prefers dist/ when it exists, so this benchmark deletes dist/ afterwards: other tests and
// processes started through bin/ would otherwise run stale code.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { requireSeedCatalog } from '../test/seed-catalog.js';
import { fmt, machine, printMachine, printTable, saveResult, sleep, stackEnv, stats } from './lib/common.js';
import { BROKER_ROOT as PROJECT_ROOT, BrokerProcesses, freePort } from './lib/processes.js';

const SEED_CATALOG = requireSeedCatalog();

function get(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
  });
}

/** ms from spawn until `ready` says so (bounded). */
async function timeToServe(args: string[]): Promise<number> {
  const port = await freePort();
  const env = {
    ...(process.env as Record<string, string>),
    ...stackEnv(),
    KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
    AUTH_USER: 'platform',
    AUTH_PASS: 'bench-password',
    PORT: String(port),
    HOST: '127.0.0.1',
    CATALOG_DIR: SEED_CATALOG,
    BROKER_LOG_LEVEL: 'WARNING',
  };
  const headers = { Authorization: `Basic ${Buffer.from('platform:bench-password').toString('base64')}`, 'X-Broker-API-Version': '2.17' };
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env, cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  try {
    while (performance.now() - t0 < 60_000) {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
      if ((await get(`http://127.0.0.1:${port}/v2/catalog`, headers)) === 200) return performance.now() - t0;
      await sleep(5);
    }
    throw new Error('serve did not answer within 60 s');
  } finally {
    await BrokerProcesses.stop(child);
  }
}

async function timeToHello(): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', 'console.log("hello")'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const ms = performance.now() - t0;
  await new Promise((r) => child.once('exit', r));
  return ms;
}

export async function startup(options: { reps: number }) {
  const m = machine();
  const dist = path.join(PROJECT_ROOT, 'dist');
  console.error('  npm run build ...');
  const build = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  // tsc emits even with type errors elsewhere in the tree; what matters is that the entry point exists.
  if (!fs.existsSync(path.join(dist, 'cli/main.js'))) throw new Error(`npm run build produced no dist/cli/main.js:\n${build.stdout}\n${build.stderr}`);
  const hello: number[] = [],
    built: number[] = [],
    tsx: number[] = [];
  try {
    await timeToServe([path.join(PROJECT_ROOT, 'bin/kubernetes-broker.js'), 'serve']); // warm the file cache
    await timeToServe(['--import', 'tsx', path.join(PROJECT_ROOT, 'cli/main.ts'), 'serve']);
    for (let i = 0; i < options.reps; i++) {
      hello.push(await timeToHello());
      built.push(await timeToServe([path.join(PROJECT_ROOT, 'bin/kubernetes-broker.js'), 'serve']));
      tsx.push(await timeToServe(['--import', 'tsx', path.join(PROJECT_ROOT, 'cli/main.ts'), 'serve']));
    }
  } finally {
    fs.rmSync(dist, { recursive: true, force: true });
  }
  const result = {
    machine: m,
    brokerRoot: PROJECT_ROOT,
    reps: options.reps,
    catalog: SEED_CATALOG,
    buildExitCode: build.status,
    helloMs: stats(hello),
    builtMs: stats(built),
    tsxMs: stats(tsx),
    builtMinusHelloMs: stats(built.map((b, i) => b - hello[i]!)),
    tsxMinusHelloMs: stats(tsx.map((t, i) => t - hello[i]!)),
    builtOverHello: stats(built.map((b, i) => b / hello[i]!)),
    distRemoved: true,
  };
  printMachine(m);
  printTable(
    `start-up until GET /v2/catalog answers, seed catalog (${options.reps} alternating reps; ms median [min–max])`,
    ['process', 'ms', 'minus node hello', 'target'],
    [
      ['node -e console.log("hello")', fmt(result.helloMs, 0), '-', ''],
      ['node bin/kubernetes-broker.js serve (dist/)', fmt(result.builtMs, 0), fmt(result.builtMinusHelloMs, 0), '< 1000 ms'],
      ['node --import tsx cli/main.ts serve', fmt(result.tsxMs, 0), fmt(result.tsxMinusHelloMs, 0), '(report)'],
    ],
  );
  saveResult('startup', result);
  return result;
}
