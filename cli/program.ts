// The command line's grammar (commander): every command with its arguments, options and usage.
// Building it loads nothing else: each action imports its implementation when it runs, so that
// `--help` answers at once and `serve` or `worker` load only what they run.
import { Command, Help } from 'commander';
import type { CommandOutput } from './catalog-commands.js';
import type { OperatorFlags } from './operator-commands.js';

/** Where the program writes; plain functions (no `this`), handed on to commander as they are. */
export interface CliIo {
  writeOut: (s: string) => void;
  writeErr: (s: string) => void;
}

const JSON_OPTION = ['--json', 'print the result as JSON'] as const;
const URL_OPTION = ['--url <url>', 'the broker API (default: BROKER_URL, else http://127.0.0.1:$PORT)'] as const;

/** `kubernetes-broker catalog render`: the names from the program down to `cmd`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Usage in lower case, as the commands' own messages; a group's commands listed with their
 * arguments and options in place of the group (`catalog validate <dir>`), so that the program's
 * usage shows every command that runs.
 */
const HELP: Partial<Help> = {
  styleTitle: (title) => (/^(Usage|Arguments|Options|Global Options|Commands):$/.test(title) ? title.toLowerCase() : title),
  showGlobalOptions: true,
  // Only in the usage text: the suggestions for a mistyped command still come from the commands themselves.
  formatHelp(cmd, helper) {
    const flat = Object.create(helper) as Help;
    flat.visibleCommands = (c) => helper.visibleCommands(c).flatMap((sub) => (sub.commands.length ? helper.visibleCommands(sub) : [sub]));
    return Help.prototype.formatHelp.call(flat, cmd, flat);
  },
  subcommandTerm: (sub) => {
    const options = sub.options.map((o) => `[${o.flags}]`);
    const args = sub.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
    return [commandPath(sub).replace(/^\S+ /, ''), ...options, ...args].join(' ');
  },
};

/**
 * The program. Each action reports its exit code to `done`; a usage error (unknown option,
 * missing argument) is written as one line naming it and thrown as a CommanderError.
 */
export function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const out: CommandOutput = { log: (s) => io.writeOut(`${s}\n`), error: (s) => io.writeErr(`${s}\n`) };
  const act =
    <A extends unknown[]>(run: (...args: A) => Promise<number>) =>
    async (...args: A) =>
      done(await run(...args));

  const program = new Command('kubernetes-broker')
    .usage('<command> [options]')
    .description('Open Service Broker API v2.17 broker: services from a catalog of Kubernetes templates, every operation a Temporal workflow.')
    .option('--debug', 'print the stack trace of a failure (so does BROKER_LOG_LEVEL=debug)')
    .helpOption('-h, --help', 'print this usage')
    .configureHelp(HELP)
    .configureOutput({ writeOut: io.writeOut, writeErr: io.writeErr })
    .exitOverride()
    .commandsGroup('commands:');
  program.helpCommand('help [command]', 'print the usage of a command');

  program
    .command('serve')
    .description('run the OSB API (configuration from the environment, see docs/configuration.md)')
    .option('--with-worker', 'run the Temporal worker in the same process too; workflows start eagerly on it (one dispatch fewer per operation)')
    .action(
      act(async (options: { withWorker?: boolean }) => {
        const processes = await import('./processes.js');
        return options.withWorker ? processes.serveWithWorkerProcess() : processes.serveProcess();
      }),
    );
  program
    .command('worker')
    .description("run the Temporal worker (configuration from the environment, as serve's without AUTH_USER/AUTH_PASS)")
    .action(act(async () => (await import('./processes.js')).workerProcess()));
  program
    .command('dev')
    .description('start the local stack, the worker and the API with the shipped catalog')
    .action(
      act(async () => {
        await (await import('./dev.js')).dev();
        return 0;
      }),
    );

  const catalog = group(program, 'catalog', 'check and render a catalog directory (no Temporal or Kubernetes needed)');
  catalog
    .command('validate')
    .description('check a catalog directory; lists every problem')
    .argument('<dir>', 'the catalog directory')
    .action(act(async (dir: string) => (await import('./catalog-commands.js')).catalogValidate(dir, out)));
  catalog
    .command('render')
    .description('print the Kubernetes objects a plan renders to, as YAML, for a sample instance')
    .argument('<dir>', 'the catalog directory')
    .argument('<service>', 'the service, by name or id')
    .argument('<plan>', 'the plan, by name or id')
    .option('--params <json>', 'the instance parameters, a JSON object')
    .action(
      act(async (dir: string, service: string, plan: string, opts: { params?: string }) =>
        (await import('./catalog-commands.js')).catalogRender(dir, service, plan, opts.params, out),
      ),
    );

  program.commandsGroup("operators (configuration from the environment, as the worker's):");
  const operator =
    (...args: string[]) =>
    async (flags: OperatorFlags) =>
      (await import('./operator-commands.js')).operatorCommand(args, flags, out);
  const instances = group(program, 'instances', 'the instances the broker keeps');
  instances
    .command('list')
    .description('every instance: service, plan, state, namespace')
    .option(...JSON_OPTION)
    .action(act(operator('instances', 'list')));
  instances
    .command('show')
    .description('its objects in Kubernetes and their readiness, bindings, workflows with Temporal UI links')
    .argument('<instance-id>')
    .option(...JSON_OPTION)
    .action(act(async (id: string, flags: OperatorFlags) => operator('instances', 'show', id)(flags)));
  program
    .command('pods')
    .description('pod status of one instance, or of all (of an organization)')
    .argument('[instance-id]')
    .option('--org <guid>', 'only the instances of this organization')
    .option(...JSON_OPTION)
    .action(act(async (id: string | undefined, flags: OperatorFlags) => operator('pods', ...(id ? [id] : []))(flags)));
  program
    .command('retry')
    .description('run the last failed operation again from its start (Temporal reset)')
    .argument('<id>', 'the instance id (a binding id with --binding)')
    .option('--binding', "the id is a binding's")
    .option(...JSON_OPTION)
    .action(act(async (id: string, flags: OperatorFlags) => operator('retry', id)(flags)));
  program
    .command('upgrade')
    .description(
      "roll the plan's maintenance_info out to each of its instances: a workflow that goes on if this command stops (run it again to follow it); exit 1 if any failed",
    )
    .requiredOption('--plan <id>', 'the plan, by id')
    .option('--concurrency <n>', 'how many instances update at once (default 4)')
    .option('--dry-run', 'say what would be upgraded; start nothing')
    .option(...JSON_OPTION)
    .action(act(operator('upgrade')));
  program
    .command('orphans')
    .description("objects labelled with this broker's installation whose instance has no record")
    .option('--delete', 'delete them')
    .option(...JSON_OPTION)
    .action(act(operator('orphans')));

  program.commandsGroup('offerings added at runtime, through the broker API (credentials from ADMIN_USER and ADMIN_PASS):');
  type OfferingsFlags = { json?: boolean; url?: string };
  const offerings = group(program, 'offerings', 'offerings added at runtime, through the broker API');
  const offeringsCommand = async (args: string[], flags: OfferingsFlags) => (await import('./offerings-commands.js')).offeringsCommand(args, flags, out);
  // Each talks to the broker API: where it is, and how to print the answer.
  const offeringsLeaf = (name: string, description: string) =>
    offerings
      .command(name)
      .description(description)
      .option(...URL_OPTION)
      .option(...JSON_OPTION);
  offeringsLeaf('list', 'the offerings added at runtime').action(act(async (flags: OfferingsFlags) => offeringsCommand(['list'], flags)));
  offeringsLeaf(
    'add',
    'add (or update) one: a service folder of the catalog format, or a JSON body (the old broker\'s dynamicservice body, or {"files": {...}})',
  )
    .argument('<dir|file.json>')
    .action(act(async (source: string, flags: OfferingsFlags) => offeringsCommand(['add', source], flags)));
  offeringsLeaf('remove', 'remove one that has no instances')
    .argument('<service-id>')
    .action(act(async (id: string, flags: OfferingsFlags) => offeringsCommand(['remove', id], flags)));

  // After every command exists: each names itself in its usage errors (settings are copied to a
  // subcommand when it is added, so this cannot be set once on the program).
  forEachCommand(program, (cmd) => cmd.configureOutput({ outputError: (message, write) => write(`${usageError(cmd, message)}\n`) }));
  return program;
}

/** A command that only groups others; without one of them it prints its usage (exit 2). */
function group(parent: Command, name: string, description: string): Command {
  return parent.command(name).description(description).helpCommand(false).commandsGroup(parent.commandsGroup());
}

function forEachCommand(cmd: Command, visit: (cmd: Command) => void): void {
  visit(cmd);
  for (const sub of cmd.commands) forEachCommand(sub, visit);
}

/** Commander's message (`error: unknown option '--x'`, perhaps with a suggestion on a second line) as one line. */
function usageError(cmd: Command, message: string): string {
  const what = message
    .replace(/^error: /, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim()
    .replace(/\.$/, '');
  return `${commandPath(cmd)}: ${what}; see '${commandPath(cmd)} --help'`;
}
