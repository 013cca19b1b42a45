// The stand-in for MongoDB, which no registry here provides: FerretDB (a MongoDB wire-protocol
// server, on its embedded SQLite) built by scripts/stack/install-mongodb-stand-ins.sh, with its
// new authentication on (SCRAM users, createUser/updateUser/dropUser) and a root user in `admin`
// as the mongo image makes it from MONGO_INITDB_ROOT_USERNAME/PASSWORD. What FerretDB v1 lacks:
// roles (createUser accepts only `roles: []`) and any authorization: an authenticated user may
// do everything. mongosh 2.12 (npm) is the shell the mongo image runs the hooks with.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, runClient, startServer, type RealServer } from './server-process.js';

const CACHE = process.env['KB_CACHE_DIR'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'kubernetes-broker');
const HINT = 'install it with: bash scripts/stack/install-mongodb-stand-ins.sh';
export const FERRETDB = path.join(CACHE, 'ferretdb-v1.24.2', 'bin', 'ferretdb');
/** The folder with the `mongosh` command. */
export const MONGOSH_BIN = path.join(CACHE, 'mongosh-2.12.0', 'bin');
export const MONGOSH = path.join(MONGOSH_BIN, 'mongosh');

export interface FerretdbServer extends RealServer {
  host: string;
  port: number;
  rootUser: string;
  rootPassword: string;
}

export async function startFerretdb(rootUser: string, rootPassword: string): Promise<FerretdbServer> {
  for (const file of [FERRETDB, MONGOSH]) if (!fs.existsSync(file)) throw new Error(`${file} not found; ${HINT}`);
  const port = await freePort();
  const server = await startServer({
    name: 'ferretdb',
    init: (dir) => fs.mkdirSync(path.join(dir, 'data')),
    command: FERRETDB,
    args: (dir) => [
      '--handler=sqlite',
      `--sqlite-url=file:${path.join(dir, 'data')}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--debug-addr=-',
      '--telemetry=disable',
      '--test-enable-new-auth',
      '--setup-database=admin',
      `--setup-username=${rootUser}`,
      `--setup-password=${rootPassword}`,
    ],
    ready: () =>
      mongosh(`mongodb://${rootUser}:${encodeURIComponent(rootPassword)}@127.0.0.1:${port}/admin`, 'db.runCommand({ ping: 1 }).ok').stdout.trim() === '1',
  });
  return { ...server, host: '127.0.0.1', port, rootUser, rootPassword };
}

/** Runs `script` in mongosh connected to `uri`. */
export const mongosh = (uri: string, script: string) => runClient(MONGOSH, ['--quiet', '--norc', uri, '--eval', script], { HOME: os.tmpdir() });

// Preloaded into mongosh (NODE_OPTIONS=--require) when a MongoDB hook runs against FerretDB,
// which implements no roles: createUser and updateUser go out with `roles: []`, and the roles the
// hook asked for are appended to $KB_ROLES_LOG (one JSON line each) for the test to check.
// Nothing else of the hook changes.
// Written to a file of its own (mongosh loads it with NODE_OPTIONS); returns the env that loads it.
export function rolesShim(dir: string, rolesLog: string): Record<string, string> {
  const file = path.join(dir, 'ferretdb-roles-shim.cjs');
  fs.writeFileSync(file, ROLES_SHIM);
  return { NODE_OPTIONS: `--require ${file}`, KB_ROLES_LOG: rolesLog, KB_MONGOSH_PACKAGE: path.join(MONGOSH_BIN, '..', 'node_modules', 'mongosh') };
}

const ROLES_SHIM = `const fs = require('node:fs');
const driver = require(require.resolve('mongodb', { paths: [process.env.KB_MONGOSH_PACKAGE] }));

const command = driver.Db.prototype.command;
driver.Db.prototype.command = function (cmd, ...rest) {
  const name = ['createUser', 'updateUser'].find((n) => cmd && cmd[n] !== undefined && 'roles' in cmd);
  if (name) {
    fs.appendFileSync(process.env.KB_ROLES_LOG, \`\${JSON.stringify({ command: name, db: this.databaseName, user: cmd[name], roles: cmd.roles })}\n\`);
    cmd = { ...cmd, roles: [] };
  }
  return command.call(this, cmd, ...rest);
};
`;
