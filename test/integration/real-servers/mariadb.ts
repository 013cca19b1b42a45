// A real MariaDB server (Debian's mariadb-server) for tests: `root` with a password from any
// host, as the official image makes it from MARIADB_ROOT_PASSWORD.
import path from 'node:path';
import { debianBinary, freePort, runClient, startServer, type DatabaseServer } from './server-process.js';

export const mariadbClient = () => debianBinary('mariadb-client', '/usr/bin/mariadb');

export async function startMariadb(adminPassword: string): Promise<DatabaseServer> {
  const port = await freePort();
  const socket = (dir: string) => path.join(dir, 'mysqld.sock');
  const data = (dir: string) => path.join(dir, 'data');
  const server = await startServer({
    name: 'mariadb',
    user: 'mysql',
    command: debianBinary('mariadb-server', '/usr/sbin/mariadbd'),
    init: (dir, run) =>
      run(debianBinary('mariadb-server', '/usr/bin/mariadb-install-db'), [
        '--no-defaults',
        `--datadir=${data(dir)}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ]),
    args: (dir) => [
      '--no-defaults',
      `--datadir=${data(dir)}`,
      `--socket=${socket(dir)}`,
      `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=32M',
    ],
    ready: (dir) => runClient(mariadbClient(), ['--no-defaults', `--socket=${socket(dir)}`, '-uroot', '-e', 'SELECT 1']).status === 0,
  });
  // What the image's entrypoint does with MARIADB_ROOT_PASSWORD and MARIADB_ROOT_HOST=%: root
  // from localhost and from anywhere, with it; mariadb-install-db's other root accounts go.
  const sql = `DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost'; FLUSH PRIVILEGES; CREATE USER 'root'@'%' IDENTIFIED BY '${adminPassword}'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION; ALTER USER 'root'@'localhost' IDENTIFIED BY '${adminPassword}';`;
  const r = runClient(mariadbClient(), ['--no-defaults', `--socket=${socket(server.dir)}`, '-uroot', '-e', sql]);
  if (r.status !== 0) {
    await server.stop();
    throw new Error(`setting MariaDB's root password failed: ${r.stderr}`);
  }
  return { ...server, host: '127.0.0.1', port, adminUser: 'root', adminPassword };
}
