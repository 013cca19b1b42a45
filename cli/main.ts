// kubernetes-broker: the command line. `serve` (OSB API), `worker` (Temporal worker), `dev`
// (both, with the local stack), and the catalog authors' `catalog validate|render`.
import { parseArgs } from 'node:util';
import { catalogRender, catalogValidate } from './catalog-commands.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { CatalogLoadError } from '../catalog/errors.js';
import { createLogger } from '../observability/logger.js';
import { dev } from './dev.js';
import { startServer } from './serve.js';
import { startWorker } from './worker.js';

const USAGE = `usage: kubernetes-broker <command>

  serve                                    run the OSB API (configuration from the environment, see README)
  worker                                   run the Temporal worker
  dev                                      start the local stack, the worker and the API with the shipped catalog
  catalog validate <dir>                   check a catalog directory; lists every problem
  catalog render <dir> <service> <plan> [--params JSON]
                                           print the Kubernetes objects a plan renders to
`;

const out = { log: (s: string) => console.log(s), error: (s: string) => console.error(s) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const config = loadConfig();
      const logger = createLogger(config.BROKER_LOG_LEVEL, config.LOG_PRETTY);
      const server = await startServer(config, logger);
      onTerminate(async () => {
        logger.info('shutting down: finishing in-flight requests');
        await server.close();
      });
      return new Promise(() => {});
    }
    case 'worker': {
      const config = loadConfig();
      const logger = createLogger(config.BROKER_LOG_LEVEL, config.LOG_PRETTY);
      const worker = await startWorker(config, logger);
      onTerminate(async () => {
        logger.info('shutting down: letting running activities finish');
        await worker.shutdown();
      });
      await worker.running;
      return 0;
    }
    case 'dev':
      await dev();
      return 0;
    case 'catalog': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { params: { type: 'string' } } });
      const [sub, dir, service, plan] = positionals;
      if (sub === 'validate' && dir) return catalogValidate(dir, out);
      if (sub === 'render' && dir && service && plan) return catalogRender(dir, service, plan, values.params, out);
      break;
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return command ? 0 : 2;
  }
  console.error(USAGE);
  return 2;
}

function onTerminate(stop: () => Promise<void>): void {
  const handler = () => void stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError || err instanceof CatalogLoadError) console.error(`kubernetes-broker: ${err.message}`);
    else console.error(`kubernetes-broker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
