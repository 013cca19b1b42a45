// `npm run bench` runs every benchmark; `npm run bench -- <name> [options]` one of them.
// Benchmarks are not tests: they assert nothing about time, they print figures (each a ratio of
// two things measured side by side in one run) and write them to bench/results/latest.json.
// Needs the local stack (npm run stack:up). Every load generator talks to 127.0.0.1 only and
// stops by itself.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LOG_DIR } from './lib/common.js';

const BENCHES = ['provision-overhead', 'scale', 'api-cost', 'api-speed', 'startup', 'registry'] as const;
type Bench = (typeof BENCHES)[number];

const USAGE = `usage: npm run bench [-- <name>...] [options]

  provision-overhead  [--reps 3] [--plans redis/small,...]   every shipped plan: broker vs direct apply, tight and CF-style pollers
  scale               [--sizes 100,500]                       N instances provisioned then deprovisioned at once, vs direct; peak RSS
  api-cost            [--reps 3]                              API server requests per provision/deprovision (audit log) vs objects
  api-speed           [--seconds 10]                          catalog (seed) vs bare http; last_operation vs direct describe; 50 connections
  startup             [--reps 5]                              serve (built and tsx) until the catalog answers, vs node printing hello
  registry            [--sizes 0,1000,10000] [--reps 10]      one provision, bind, poll, fetch and the admin listings with N records in the registry

  --env KEY=VALUE,...   extra environment for the broker processes (e.g. POLL_INTERVAL=1)
  --with-worker         provision-overhead: the broker as one process (serve --with-worker: eager workflow starts)
                        instead of a worker and an API
  --profile             CPU profiles of the broker's processes (node --cpu-prof) into $TMPDIR/kubernetes-broker-bench/profiles;
                        summarise one with: node --import tsx bench/profile-summary.ts <file.cpuprofile>
`;

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      reps: { type: 'string' },
      plans: { type: 'string' },
      sizes: { type: 'string' },
      seconds: { type: 'string' },
      env: { type: 'string' },
      profile: { type: 'boolean' },
      'with-worker': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const unknown = positionals.filter((p) => !(BENCHES as readonly string[]).includes(p));
  if (unknown.length) {
    console.error(`unknown benchmark ${unknown.join(', ')}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const selected: Bench[] = positionals.length ? (positionals as Bench[]) : [...BENCHES];
  const env = Object.fromEntries(
    (values.env ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
  const nodeArgs = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.join(LOG_DIR, 'profiles')}`] : undefined;

  for (const bench of selected) {
    console.error(`\n== ${bench} (${new Date().toISOString()})`);
    switch (bench) {
      case 'provision-overhead': {
        const { provisionOverhead } = await import('./provision-overhead.js');
        await provisionOverhead({
          reps: num(values.reps, 3),
          plans: (values.plans ?? '').split(',').filter(Boolean),
          env,
          oneProcess: values['with-worker'] ?? false,
          ...(nodeArgs ? { nodeArgs } : {}),
        });
        break;
      }
      case 'scale': {
        const { scale } = await import('./scale.js');
        await scale({ sizes: (values.sizes ?? '100,500').split(',').map(Number), env, ...(nodeArgs ? { nodeArgs } : {}) });
        break;
      }
      case 'api-cost': {
        const { apiCost } = await import('./api-cost.js');
        await apiCost({ reps: num(values.reps, 3), env });
        break;
      }
      case 'api-speed': {
        const { apiSpeed } = await import('./api-speed.js');
        await apiSpeed({ seconds: num(values.seconds, 10), env, ...(nodeArgs ? { nodeArgs } : {}) });
        break;
      }
      case 'registry': {
        const { registry } = await import('./registry.js');
        await registry({ sizes: (values.sizes ?? '0,1000,10000').split(',').map(Number), reps: num(values.reps, 10), env });
        break;
      }
      case 'startup': {
        const { startup } = await import('./startup.js');
        await startup({ reps: num(values.reps, 5) });
        break;
      }
    }
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
