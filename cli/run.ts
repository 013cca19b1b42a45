// Runs one command line to its exit code: 0 done (or usage asked for), 1 the command failed,
// 2 the command line is wrong (commander has said which, in one line). A failure prints its
// message only; its stack trace with --debug or BROKER_LOG_LEVEL=debug (or trace).
import { inspect } from 'node:util';
import { CommanderError } from 'commander';
import { buildProgram, type CliIo } from './program.js';

export const USAGE_ERROR = 2;

const processIo: CliIo = { writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) };

export async function runCli(argv: string[], io: CliIo = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : USAGE_ERROR;
    const debug = program.opts<{ debug?: boolean }>().debug || /^(debug|trace)$/i.test(env['BROKER_LOG_LEVEL'] ?? '');
    io.writeErr(`kubernetes-broker: ${await describe(err, debug)}\n`);
    return 1;
  }
}

/** What went wrong: for a person, the message (an unexpected error says how to see more); in debug, everything. */
async function describe(err: unknown, debug: boolean): Promise<string> {
  if (debug) return inspect(err);
  if (!(err instanceof Error)) return String(err);
  // Expected failures (bad configuration, bad catalog) say all there is to say.
  const [{ ConfigError }, { CatalogLoadError }] = await Promise.all([import('../platform/config/config.js'), import('../catalog/errors.js')]);
  if (err instanceof ConfigError || err instanceof CatalogLoadError) return err.message;
  return `${err.message} (--debug prints the stack trace)`;
}
