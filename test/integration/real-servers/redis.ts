// A real Redis server (Debian's redis-server) for tests, users as the shipped redis plans keep
// them: in an ACL file (ACL SAVE works), the default user's line made from the admin password.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { debianBinary, freePort, runClient, startServer, type DatabaseServer } from './server-process.js';

export const redisCli = () => debianBinary('redis-tools', '/usr/bin/redis-cli');

export async function startRedis(adminPassword: string): Promise<DatabaseServer> {
  const port = await freePort();
  const cli = redisCli();
  const server = await startServer({
    name: 'redis',
    command: debianBinary('redis-server', '/usr/bin/redis-server'),
    init: (dir) => {
      const sha = createHash('sha256').update(adminPassword).digest('hex');
      fs.writeFileSync(path.join(dir, 'users.acl'), `user default on #${sha} ~* &* +@all\n`, { mode: 0o600 });
    },
    args: (dir) => ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--aclfile', path.join(dir, 'users.acl')],
    ready: () => runClient(cli, ['-h', '127.0.0.1', '-p', String(port), 'PING'], { REDISCLI_AUTH: adminPassword }).stdout.trim() === 'PONG',
  });
  return { ...server, host: '127.0.0.1', port, adminUser: 'default', adminPassword };
}
