// kubernetes-broker: the command line. `serve` (OSB API), `worker` (Temporal worker), `dev`
// (both, with the local stack), and the catalog authors' `catalog validate|render`.
// Each command loads only what it needs: the catalog tools start without Temporal or Kubernetes.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../platform/config/config.js';
import { CatalogLoadError } from '../catalog/errors.js';
import { createLogger } from '../platform/observability/logger.js';

const USAGE = `usage: kubernetes-broker <command>

  serve                                    run the OSB API (configuration from the environment, see docs/configuration.md)
  worker                                   run the Temporal worker
  dev                                      start the local stack, the worker and the API with the shipped catalog
  catalog validate <dir>                   check a catalog directory; lists every problem
  catalog render <dir> <service> <plan> [--params JSON]
                                           print the Kubernetes objects a plan renders to

operators (configuration from the environment, as the worker's; add --json for JSON):
  instances list                           every instance: service, plan, state, namespace
  instances show <instance-id>             its objects in Kubernetes and their readiness, bindings, workflows with Temporal UI links
  pods [<instance-id>] [--org GUID]        pod status of one instance, or of all (of an organization)
  retry <instance-id> | --binding <id>     run the last failed operation again from its start (Temporal reset)
  orphans [--delete]                       objects labelled as the broker's without an instance record

offerings added at runtime, through the broker API (--url, BROKER_URL; ADMIN_USER, ADMIN_PASS; --json):
  offerings list                           the offerings added at runtime
  offerings add <dir> | <file.json>        add (or update) one: a service folder of the catalog format, or a JSON body
                                           (the old broker's dynamicservice body, or {"files": {...}})
  offerings remove <service-id>            remove one that has no instances
`;

const out = { log: (s: string) => console.log(s), error: (s: string) => console.error(s) };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const config = loadConfig();
      const logger = createLogger(config.BROKER_LOG_LEVEL, config.LOG_PRETTY);
      const { startServer } = await import('./serve.js');
      const server = await startServer(config, logger);
      onTerminate(async () => {
        logger.info('shutting down: finishing in-flight requests');
        await server.close();
      });
      return new Promise(() => {});
    }
    case 'worker': {
      // The worker serves no OSB API: it needs no platform credentials.
      const config = loadConfig(process.env, { api: false });
      const logger = createLogger(config.BROKER_LOG_LEVEL, config.LOG_PRETTY);
      const { startWorker } = await import('./worker.js');
      const worker = await startWorker(config, logger);
      onTerminate(async () => {
        logger.info('shutting down: letting running activities finish');
        await worker.shutdown();
      });
      await worker.running;
      return 0;
    }
    case 'dev':
      await (await import('./dev.js')).dev();
      return 0;
    case 'catalog': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { params: { type: 'string' } } });
      const [sub, dir, service, plan] = positionals;
      const { catalogRender, catalogValidate } = await import('./catalog-commands.js');
      if (sub === 'validate' && dir) return catalogValidate(dir, out);
      if (sub === 'render' && dir && service && plan) return catalogRender(dir, service, plan, values.params, out);
      break;
    }
    case 'instances':
    case 'pods':
    case 'retry':
    case 'orphans': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { json: { type: 'boolean' }, delete: { type: 'boolean' }, org: { type: 'string' }, binding: { type: 'boolean' } },
      });
      const { operatorCommand } = await import('./operator-commands.js');
      return operatorCommand([command, ...positionals], values, out);
    }
    case 'offerings': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' }, url: { type: 'string' } } });
      const { offeringsCommand } = await import('./offerings-commands.js');
      return offeringsCommand(positionals, values, out);
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
