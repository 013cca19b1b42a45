// A real Redis server (Debian's redis-server) for tests: password-protected default user, as
// the shipped redis plans run it (requirepass), no persistence.
import { debianBinary, freePort, runClient, startServer, type DatabaseServer } from './server-process.js';

export const redisCli = () => debianBinary('redis-tools', '/usr/bin/redis-cli');

export async function startRedis(adminPassword: string): Promise<DatabaseServer> {
  const port = await freePort();
  const cli = redisCli();
  const server = await startServer({
    name: 'redis',
    command: debianBinary('redis-server', '/usr/bin/redis-server'),
    args: (dir) => ['--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no', '--requirepass', adminPassword],
    ready: () => runClient(cli, ['-h', '127.0.0.1', '-p', String(port), 'PING'], { REDISCLI_AUTH: adminPassword }).stdout.trim() === 'PONG',
  });
  return { ...server, host: '127.0.0.1', port, adminUser: 'default', adminPassword };
}
