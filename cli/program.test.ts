// The command line in-process: usage for every command, one-line usage errors with exit 2, and
// what each command line hands to the command it runs (the operator and offerings commands are
// replaced by recorders: they would talk to Temporal, Kubernetes or a broker API).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SHIPPED_CATALOG_DIR } from '../platform/config/config.js';
import { buildProgram, commandPath } from './program.js';
import { runCli } from './run.js';
import type { Command } from 'commander';

const calls = vi.hoisted(() => [] as unknown[][]);
vi.mock('./operator-commands.js', () => ({
  operatorCommand: (args: string[], flags: unknown) => {
    if (args.includes('boom')) return Promise.reject(new Error(`${args[0]} failed on purpose`));
    calls.push(['operator', args, flags]);
    return Promise.resolve(0);
  },
}));
vi.mock('./offerings-commands.js', () => ({ offeringsCommand: (...args: unknown[]) => (calls.push(['offerings', ...args.slice(0, 2)]), Promise.resolve(0)) }));
afterEach(() => {
  calls.length = 0;
  vi.unstubAllEnvs();
});

/** The command line's exit code and output; a last argument that is an object is the environment. */
async function run(...argv: (string | NodeJS.ProcessEnv)[]) {
  const env = typeof argv.at(-1) === 'object' ? (argv.pop() as NodeJS.ProcessEnv) : {};
  const printed = { stdout: '', stderr: '' };
  const code = await runCli(argv as string[], { writeOut: (s) => (printed.stdout += s), writeErr: (s) => (printed.stderr += s) }, env);
  return { code, ...printed };
}

/** Every command of the program, groups and the program itself included, as its words after the program name. */
function allCommands(): { words: string[]; cmd: Command }[] {
  const found: { words: string[]; cmd: Command }[] = [];
  const walk = (cmd: Command) => {
    found.push({ words: commandPath(cmd).split(' ').slice(1), cmd });
    cmd.commands.forEach(walk);
  };
  walk(buildProgram({ writeOut: () => {}, writeErr: () => {} }, () => {}));
  return found;
}
const leaves = allCommands().filter(({ cmd }) => cmd.commands.length === 0);

describe('usage', () => {
  it('covers the commands there are', () => {
    expect(leaves.map(({ words }) => words.join(' '))).toEqual([
      'serve',
      'worker',
      'dev',
      'catalog validate',
      'catalog render',
      'instances list',
      'instances show',
      'pods',
      'retry',
      'upgrade',
      'orphans',
      'offerings list',
      'offerings add',
      'offerings remove',
    ]);
  });

  it.each(allCommands().map(({ words, cmd }) => [words.join(' ') || '(the program)', words, cmd.description()] as const))(
    '%s --help: its own usage on stdout, exit 0',
    async (_name, words, description) => {
      const r = await run(...words, '--help');
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.split('\n')[0]).toMatch(new RegExp(`^usage: kubernetes-broker ${words.map((w) => `${w} `).join('')}`));
      expect(r.stdout.replace(/\s+/g, ' ')).toContain(description);
      expect(r.stdout).toContain('--debug');
    },
  );

  it('the program lists every command with its arguments and options, also for `help`', async () => {
    const r = await run('help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}catalog render \[--params <json>\] <dir> <service> <plan> /m);
    expect(r.stdout).toMatch(/^ {2}pods \[--org <guid>\] \[--json\] \[instance-id\] /m);
    for (const { words } of leaves) expect(r.stdout).toMatch(new RegExp(`^ {2}${words.join(' ')}( |$)`, 'm'));
  });

  it("`help <command>` prints that command's usage", async () => {
    const r = await run('help', 'pods');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: kubernetes-broker pods \[options\] \[instance-id\]$/m);
  });

  it('without a command, or a group without its command: the usage on stderr, exit 2', async () => {
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('usage: kubernetes-broker <command>');
    const group = await run('catalog');
    expect(group.code).toBe(2);
    expect(group.stderr).toContain('usage: kubernetes-broker catalog ');
    expect(group.stderr).toMatch(/^ {2}catalog validate <dir> /m);
  });
});

describe('usage errors: one line naming what is wrong, exit 2, no stack trace', () => {
  const oneLine = (r: { code: number; stdout: string; stderr: string }, words: string[], what: string) => {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const path = ['kubernetes-broker', ...words].join(' ');
    expect(r.stderr).toBe(`${path}: ${what}; see '${path} --help'\n`);
  };

  // With the options a command requires (commander names a missing one first).
  const requiredOptions = (cmd: Command) => cmd.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, 'x']);
  it.each(leaves.map(({ words, cmd }) => [words.join(' '), words, requiredOptions(cmd)] as const))(
    '%s --bogus: unknown option',
    async (_name, words, required) => {
      const r = await run(...words, ...required, '--bogus');
      oneLine(r, words, "unknown option '--bogus'");
    },
  );

  it.each(
    leaves
      .filter(({ cmd }) => cmd.registeredArguments.some((a) => a.required))
      .map(({ words, cmd }) => [words.join(' '), words, cmd.registeredArguments[0]!.name()] as const),
  )('%s without arguments: names the first missing one', async (_name, words, first) => {
    oneLine(await run(...words), words, `missing required argument '${first}'`);
  });

  it('catalog render without a plan names the plan', async () => {
    oneLine(await run('catalog', 'render', 'service-catalog', 'redis'), ['catalog', 'render'], "missing required argument 'plan'");
  });

  it('upgrade without --plan names it', async () => {
    oneLine(await run('upgrade', '--dry-run'), ['upgrade'], "required option '--plan <id>' not specified");
  });

  it('an option without its value, an argument too many, an unknown command', async () => {
    oneLine(await run('catalog', 'render', 'dir', 'redis', 'small', '--params'), ['catalog', 'render'], "option '--params <json>' argument missing");
    oneLine(await run('orphans', 'extra'), ['orphans'], "too many arguments for 'orphans'. Expected 0 arguments but got 1");
    oneLine(await run('instance', 'list'), [], "unknown command 'instance' (Did you mean instances?)");
  });
});

describe('what a command line runs', () => {
  it.each([
    [['instances', 'list'], ['instances', 'list'], {}],
    [['instances', 'show', 'i-1', '--json'], ['instances', 'show', 'i-1'], { json: true }],
    [['pods'], ['pods'], {}],
    [['pods', 'i-1'], ['pods', 'i-1'], {}],
    [['pods', '--org', 'org-1', '--json'], ['pods'], { org: 'org-1', json: true }],
    [['retry', 'i-1'], ['retry', 'i-1'], {}],
    [['retry', '--binding', 'b-1'], ['retry', 'b-1'], { binding: true }],
    [['orphans', '--delete'], ['orphans'], { delete: true }],
    [['upgrade', '--plan', 'p-1'], ['upgrade'], { plan: 'p-1' }],
    [['upgrade', '--plan', 'p-1', '--concurrency', '2', '--dry-run', '--json'], ['upgrade'], { plan: 'p-1', concurrency: '2', dryRun: true, json: true }],
  ])('%j runs the operator command %j with %j', async (argv, args, flags) => {
    expect((await run(...argv)).code).toBe(0);
    expect(calls).toEqual([['operator', args, flags]]);
  });

  it.each([
    [['offerings', 'list', '--json'], ['list'], { json: true }],
    [['offerings', 'add', './my-service', '--url', 'http://broker:8080'], ['add', './my-service'], { url: 'http://broker:8080' }],
    [['offerings', 'remove', 's-1'], ['remove', 's-1'], {}],
  ])('%j runs the offerings command %j with %j', async (argv, args, flags) => {
    expect((await run(...argv)).code).toBe(0);
    expect(calls).toEqual([['offerings', args, flags]]);
  });

  it('catalog render hands over directory, service, plan and parameters', async () => {
    const r = await run('catalog', 'render', SHIPPED_CATALOG_DIR, 'redis', 'small', '--params', '{"memory":"3Gi"}');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/parameters\.memory must be one of/);
    expect((await run('catalog', 'render', SHIPPED_CATALOG_DIR, 'redis', 'huge')).stderr).toBe('service redis has no plan "huge"; plans: persistent, small\n');
  });
});

describe('a failing command', () => {
  it('prints its message in one line, exit 1', async () => {
    const r = await run('retry', 'boom');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('kubernetes-broker: retry failed on purpose (--debug prints the stack trace)\n');
  });

  it('with --debug or BROKER_LOG_LEVEL=debug, its stack trace', async () => {
    for (const r of [await run('retry', 'boom', '--debug'), await run('--debug', 'retry', 'boom'), await run('retry', 'boom', { BROKER_LOG_LEVEL: 'DEBUG' })]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^kubernetes-broker: Error: retry failed on purpose\n\s+at /);
    }
  });

  it('a configuration error: its message, no hint (it is not a bug)', async () => {
    vi.stubEnv('AUTH_USER', '');
    vi.stubEnv('AUTH_PASS', '');
    const r = await run('serve');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kubernetes-broker: invalid configuration:\n {2}AUTH_USER: is required but not set\n/);
    expect(r.stderr).not.toMatch(/--debug|\bat /);
  });
});
