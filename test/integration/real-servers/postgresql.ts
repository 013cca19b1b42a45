// A real PostgreSQL server (Debian's postgresql) for tests: a superuser with a password and
// scram-sha-256 over TCP, as the official image runs it with POSTGRES_USER and POSTGRES_PASSWORD.
import fs from 'node:fs';
import path from 'node:path';
import { debianBinary, freePort, runClient, startServer, type DatabaseServer } from './server-process.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
export const psql = () => debianBinary('postgresql-client', '/usr/bin/psql', `${PG_BIN}/psql`);

export async function startPostgres(adminUser: string, adminPassword: string): Promise<DatabaseServer> {
  const port = await freePort();
  const data = (dir: string) => path.join(dir, 'data');
  const server = await startServer({
    name: 'postgresql',
    user: 'postgres',
    command: debianBinary('postgresql', `${PG_BIN}/postgres`),
    init: (dir, run) => {
      const pwfile = path.join(dir, 'pwfile');
      fs.writeFileSync(pwfile, adminPassword);
      run(debianBinary('postgresql', `${PG_BIN}/initdb`), ['-D', data(dir), '-U', adminUser, '--auth', 'scram-sha-256', '--pwfile', pwfile, '-E', 'UTF8']);
      fs.rmSync(pwfile);
    },
    args: (dir) => ['-D', data(dir), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    ready: () => runClient(debianBinary('postgresql', `${PG_BIN}/pg_isready`), ['-h', '127.0.0.1', '-p', String(port)]).status === 0,
  });
  return { ...server, host: '127.0.0.1', port, adminUser, adminPassword };
}
