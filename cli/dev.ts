// Dev mode: the local stack (Temporal dev server, Kubernetes with KWOK), the worker and the
// API in one process, with the shipped catalog. Prints where everything is.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../platform/config/config.js';
import { PROJECT_ROOT } from '../platform/config/paths.js';
import { readStackEnv, STACK_DIR } from '../platform/config/stack-env.js';
import { createLogger } from '../platform/observability/logger.js';
import { startServer } from './serve.js';
import { startWorker } from './worker.js';

/** Dev secrets survive restarts: a registered platform keeps working, old payloads stay readable. */
function devSecret(name: string, make: () => string): string {
  const file = path.join(STACK_DIR, name);
  if (!fs.existsSync(file)) fs.writeFileSync(file, make(), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

export async function dev(): Promise<void> {
  const up = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts/stack/up.sh')], { stdio: 'inherit' });
  if (up.status !== 0) throw new Error('the local stack did not start; see the messages above');
  const stack = readStackEnv();
  const env = {
    AUTH_USER: 'broker',
    // One the environment gives wins (below) and is not made: nothing is written for it.
    AUTH_PASS: process.env['AUTH_PASS'] ?? devSecret('dev-password', () => randomBytes(12).toString('base64url')),
    ADMIN_USER: 'admin',
    ADMIN_PASS: process.env['ADMIN_PASS'] ?? devSecret('dev-admin-password', () => randomBytes(12).toString('base64url')),
    CODEC_KEYS: process.env['CODEC_KEYS'] ?? `dev:${devSecret('dev-codec-key', () => randomBytes(32).toString('base64'))}`,
    // The local Temporal UI decodes payloads through the broker (see scripts/stack/up.sh); its
    // calls carry no credentials, so the dev API listens on loopback only.
    HOST: '127.0.0.1',
    PORT: stack['KB_BROKER_PORT'] ?? '8080',
    CODEC_AUTH: 'none',
    WORKER_METRICS_ADDRESS: '127.0.0.1:9464',
    STORAGE_CLASS: 'standard',
    LOG_PRETTY: 'true',
    ...stack,
    ...process.env,
  };
  const config = loadConfig(env);
  const logger = createLogger(config.BROKER_LOG_LEVEL, config.LOG_PRETTY);
  const worker = await startWorker(config, logger);
  // The API starts workflows on the worker's connection: eagerly, one dispatch fewer per operation.
  const server = await startServer(config, logger, { workerConnection: worker.connection });
  const line = '-'.repeat(72);
  console.log(
    [
      line,
      `kubernetes-broker is running (dev mode)`,
      `  broker URL     ${server.url}   (OSB API under /v2)`,
      `  credentials    ${config.AUTH_USER} / ${config.AUTH_PASS}   (admin and codec: ${config.ADMIN_USER} / ${config.ADMIN_PASS})`,
      `  Temporal UI    ${stack['TEMPORAL_UI_URL'] ?? ''}`,
      `  KUBECONFIG     ${stack['KUBECONFIG'] ?? ''}`,
      `  catalog        ${config.CATALOG_DIR}`,
      `  try            curl -u ${config.AUTH_USER}:${config.AUTH_PASS} -H 'X-Broker-API-Version: 2.17' ${server.url}/v2/catalog`,
      `  stop           Ctrl-C (the stack keeps running; npm run stack:down stops it)`,
      line,
    ].join('\n'),
  );
  const stop = async () => {
    await server.close();
    await worker.shutdown();
    console.log('kubernetes-broker dev mode stopped (the local stack keeps running)');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  await worker.running;
}
