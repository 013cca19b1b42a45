// A real RabbitMQ node (Debian's rabbitmq-server, management plugin on) for tests: an
// administrator user with a password and the default vhost `/`, as the official image makes them
// from RABBITMQ_DEFAULT_USER and RABBITMQ_DEFAULT_PASS. AMQP and the management API on free ports
// of 127.0.0.1; a node name of its own, so that several nodes run side by side. Erlang starts
// epmd (port 4369) for the node name if none runs; epmd outlives the node, as with any Erlang node.
import fs from 'node:fs';
import path from 'node:path';
import { debianBinary, freePort, startServer, type RealServer } from './server-process.js';

export interface RabbitmqServer extends RealServer {
  host: string;
  amqpPort: number;
  managementPort: number;
  adminUser: string;
  adminPassword: string;
}

export async function startRabbitmq(adminUser: string, adminPassword: string): Promise<RabbitmqServer> {
  const [amqpPort, managementPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const server = await startServer({
    name: 'rabbitmq',
    user: 'rabbitmq',
    init: (dir) => {
      fs.writeFileSync(path.join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
      fs.writeFileSync(
        path.join(dir, 'rabbitmq.conf'),
        [
          `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
          `management.tcp.ip = 127.0.0.1`,
          `management.tcp.port = ${managementPort}`,
          `default_user = ${adminUser}`,
          `default_pass = ${adminPassword}`,
          `loopback_users = none`,
          '',
        ].join('\n'),
        { mode: 0o644 },
      );
      fs.writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
    },
    // The server's own settings through its environment, none of the machine's /etc/rabbitmq.
    command: '/usr/bin/env',
    args: (dir) => [
      `HOME=${dir}`,
      `RABBITMQ_NODENAME=kb-${path
        .basename(dir)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')}@localhost`,
      `RABBITMQ_DIST_PORT=${distPort}`,
      `RABBITMQ_CONF_ENV_FILE=${path.join(dir, 'rabbitmq-env.conf')}`,
      `RABBITMQ_CONFIG_FILE=${path.join(dir, 'rabbitmq.conf')}`,
      `RABBITMQ_ENABLED_PLUGINS_FILE=${path.join(dir, 'enabled_plugins')}`,
      `RABBITMQ_MNESIA_BASE=${path.join(dir, 'mnesia')}`,
      `RABBITMQ_LOG_BASE=${path.join(dir, 'log')}`,
      `RABBITMQ_PID_FILE=${path.join(dir, 'rabbitmq.pid')}`,
      'RABBITMQ_LOGS=-',
      debianBinary('rabbitmq-server', '/usr/lib/rabbitmq/bin/rabbitmq-server'),
    ],
    ready: async () => (await managementApi({ managementPort }, adminUser, adminPassword, 'GET', '/api/overview').catch(() => undefined))?.status === 200,
    startTimeoutMs: 90_000,
  });
  return { ...server, host: '127.0.0.1', amqpPort, managementPort, adminUser, adminPassword };
}

/** One request to the node's management HTTP API as `user`. */
export async function managementApi(
  server: Pick<RabbitmqServer, 'managementPort'>,
  user: string,
  password: string,
  method: string,
  apiPath: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${server.managementPort}${apiPath}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body: parsed };
}
