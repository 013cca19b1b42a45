// kubernetes-broker: the command line. `serve` (OSB API), `worker` (Temporal worker), `dev`
// (both, with the local stack), the catalog authors' `catalog validate|render`, and the
// operators' commands; `kubernetes-broker --help` lists them (the grammar is cli/program.ts).
import { runCli } from './run.js';

// Exit as soon as the command is done: clients it used may keep idle sockets open.
void runCli(process.argv.slice(2)).then((code) => process.exit(code));
