// `serve` and `worker` as long-running processes: configuration from the environment, checked
// before anything heavy loads (a bad value fails at once), and a graceful stop on SIGTERM/SIGINT.
import { loadConfig } from '../platform/config/config.js';
import { createLogger, type Logger } from '../platform/observability/logger.js';

/** The OSB API; runs until a signal stops it. */
export async function serveProcess(): Promise<number> {
  const { config, logger } = configured();
  const { startServer } = await import('./serve.js');
  const server = await startServer(config, logger);
  onTerminate(logger, 'shutting down: finishing in-flight requests', () => server.close());
  return new Promise(() => {});
}

/**
 * The OSB API and the worker in one process (`serve --with-worker`): the API starts workflows on
 * the worker's connection, eagerly (broker/operation-start.ts). Stops the API first, then the worker.
 */
export async function serveWithWorkerProcess(): Promise<number> {
  const { config, logger } = configured();
  const [{ startServer }, { startWorker }] = await Promise.all([import('./serve.js'), import('./worker.js')]);
  const worker = await startWorker(config, logger);
  const server = await startServer(config, logger, { workerConnection: worker.connection });
  onTerminate(logger, 'shutting down: finishing in-flight requests, then letting running activities finish', async () => {
    await server.close();
    await worker.shutdown();
  });
  await worker.running;
  return 0;
}

/** The Temporal worker; returns 0 once it has stopped. */
export async function workerProcess(): Promise<number> {
  // The worker serves no OSB API: it needs no platform credentials.
  const { config, logger } = configured({ api: false });
  const { startWorker } = await import('./worker.js');
  const worker = await startWorker(config, logger);
  onTerminate(logger, 'shutting down: letting running activities finish', () => worker.shutdown());
  await worker.running;
  return 0;
}

function configured(options?: Parameters<typeof loadConfig>[1]) {
  const config = loadConfig(process.env, options);
  return { config, logger: createLogger(config.BROKER_LOG_LEVEL, config.LOG_PRETTY) };
}

function onTerminate(logger: Logger, message: string, stop: () => Promise<void>): void {
  const handler = () => {
    logger.info(message);
    void stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
