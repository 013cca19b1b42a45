// Each shipped Redis, PostgreSQL and MariaDB plan's per-binding users, for real: the plan's bind
// and unbind hooks, rendered by the broker's own code, run with /bin/sh on this machine
// (real-servers/hook-job.ts) against a real server of the same software (Debian's packages,
// scripts/stack/install-db-servers.sh) with the environment their Jobs get, the instance's admin
// credentials from its rendered Secret. The bind Job's last container (kubectl) writes its Secret
// on the local stack with a token of the plan's own hook ServiceAccount, so the Role is proven
// too; the broker's code reads that Secret and renders the credentials. Then the credentials are
// used, for the one model of every shipped service: each binding its own user on the instance's
// one application database (keyspace), which its bindings share; a rotated binding sees the
// data; unbind refuses the user and ends its sessions and keeps what it wrote; no binding reaches
// the admin's or the system databases, runs admin commands or manages users. KWOK runs no
// container: hooks.test.ts and shipped-catalog.test.ts prove when the broker runs the hooks, this
// file what the scripts do.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../catalog/types.js';
import { eventually, kubeApi, suffix } from './helpers/stack.js';
import { hookHarness, pointAtLocal, serviceWithPort, shippedInstances, type HookHarness } from './real-servers/hook-job.js';
import { mariadbClient, startMariadb } from './real-servers/mariadb.js';
import { psql, startPostgres } from './real-servers/postgresql.js';
import { redisCli, startRedis } from './real-servers/redis.js';
import { runClient, type CommandResult, type DatabaseServer } from './real-servers/server-process.js';

const kube = kubeApi();
const namespace = `bindusers-${suffix()}`;
const FIELD_MANAGER = 'binding-users-test';

type Credentials = Record<string, string>;

/** What differs between the services: their server and image, and a client. */
interface Dialect {
  image: string;
  /** The port of the instance's Service. */
  port: number;
  start(admin: Record<string, string>): Promise<DatabaseServer>;
  /** Env names of the hook Jobs that hold the Service's host and port. */
  endpoint: [host: string, port: string];
  /** Appends `value` to the list `name` in the application database (a table or a key), creating it if absent. */
  append(s: DatabaseServer, c: Credentials, name: string, value: string): CommandResult;
  /** The list `name`, sorted, joined with ','. */
  list(s: DatabaseServer, c: Credentials, name: string): CommandResult;
  /** Puts the admin's data where no binding may reach (a key's value is not that: Redis has one keyspace). */
  adminData?(s: DatabaseServer, admin: Record<string, string>): void;
  /** Tries the admin's and system databases, admin commands and managing `other` (a user); the client's answer to each. */
  forbidden(s: DatabaseServer, c: Credentials, other: string): CommandResult[];
  /** Opens a connection and runs a trivial command; returns the client's error or ''. */
  connect(s: DatabaseServer, c: Credentials): string;
  /** A client of the credentials that waits on the server for 60 s: [program, args, env]. */
  waiting(s: DatabaseServer, c: Credentials): [string, string[], Record<string, string>];
  /** How many sessions of the user the server has, as the admin sees it. */
  sessions(s: DatabaseServer, user: string): number;
  /** The error a refused login gives. */
  refusedLogin: RegExp;
  /** The answer to each try of `forbidden`. */
  denied: RegExp;
}

const answer = (r: CommandResult) => `${r.stderr}${r.stdout}`.trim();
const fail = (r: CommandResult) => (r.status === 0 && !/error/i.test(r.stdout) ? '' : answer(r));
const ok = (r: CommandResult, what: string) => {
  if (r.status !== 0 || /^\(error\)|^ERR|NOPERM|WRONGPASS/m.test(r.stdout)) throw new Error(`${what}: ${answer(r)}`);
  return r.stdout.trim();
};

const redis = (s: DatabaseServer, user: string, password: string, ...args: string[]) =>
  runClient(redisCli(), ['--no-raw', '-h', s.host, '-p', String(s.port), '--user', user, ...args], { REDISCLI_AUTH: password });
const asBinding =
  (c: Credentials, ...args: string[]) =>
  (s: DatabaseServer) =>
    redis(s, c['username']!, c['password']!, ...args);
const redisDialect: Dialect = {
  image: 'redis:7.4',
  port: 6379,
  start: (admin) => startRedis(admin['password']!),
  endpoint: ['REDIS_HOST', 'REDIS_PORT'],
  append: (s, c, name, value) => asBinding(c, 'RPUSH', name, value)(s),
  list: (s, c, name) => {
    const r = asBinding(c, 'LRANGE', name, '0', '-1')(s);
    if (!/^\d+\) "/.test(r.stdout)) return r;
    // `1) "a1"` per element.
    const values = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.replace(/^\d+\) "(.*)"$/, '$1'));
    return { ...r, stdout: values.sort().join(',') };
  },
  forbidden: (s, c, other) =>
    [
      ['CONFIG', 'GET', '*'],
      ['ACL', 'LIST'],
      ['ACL', 'GETUSER', other],
      ['ACL', 'SETUSER', other, 'on', '>x', '+@all'],
      ['ACL', 'DELUSER', other],
      ['CLIENT', 'LIST'],
      ['FLUSHALL'],
      ['KEYS', '*'],
      ['FLUSHDB'],
      ['SLOWLOG', 'GET'],
      ['SAVE'],
    ].map((args) => asBinding(c, ...args)(s)),
  connect: (s, c) => {
    const r = asBinding(c, 'PING')(s);
    return r.stdout.trim() === 'PONG' ? '' : answer(r);
  },
  waiting: (s, c) => [
    redisCli(),
    ['--no-raw', '-h', s.host, '-p', String(s.port), '--user', c['username']!, 'BLPOP', `waiting-${c['username']}`, '60'],
    { REDISCLI_AUTH: c['password']! },
  ],
  sessions: (s, user) =>
    ok(redis(s, 'default', s.adminPassword, 'CLIENT', 'LIST'), 'CLIENT LIST')
      .split('\n')
      .filter((l) => l.includes(` user=${user} `)).length,
  refusedLogin: /WRONGPASS|AUTH failed/,
  denied: /^(\(error\) )?NOPERM /,
};

const pg = (s: DatabaseServer, user: string, password: string, database: string, sql: string) =>
  runClient(
    psql(),
    ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', s.host, '-p', String(s.port), '-U', user, '-d', database],
    { PGPASSWORD: password },
    sql,
  );
const postgresDialect: Dialect = {
  image: 'postgres:17',
  port: 5432,
  start: async (admin) => {
    const s = await startPostgres(admin['username']!, admin['password']!);
    // The image's entrypoint creates POSTGRES_DB, the application database.
    ok(pg(s, s.adminUser, s.adminPassword, 'postgres', `CREATE DATABASE "${admin['database']}";`), 'CREATE DATABASE');
    return s;
  },
  endpoint: ['PGHOST', 'PGPORT'],
  append: (s, c, name, value) =>
    pg(s, c['username']!, c['password']!, c['database']!, `CREATE TABLE IF NOT EXISTS "${name}" (v text); INSERT INTO "${name}" VALUES ('${value}');`),
  list: (s, c, name) => pg(s, c['username']!, c['password']!, c['database']!, `SELECT string_agg(v, ',' ORDER BY v) FROM "${name}";`),
  adminData: (s) =>
    ok(pg(s, s.adminUser, s.adminPassword, 'postgres', "CREATE TABLE secret (v text); INSERT INTO secret VALUES ('admin-data');"), 'admin table'),
  forbidden: (s, c, other) => [
    pg(s, c['username']!, c['password']!, 'postgres', 'SELECT v FROM secret;'),
    pg(s, c['username']!, c['password']!, 'template1', 'SELECT 1;'),
    pg(s, c['username']!, c['password']!, c['database']!, 'CREATE ROLE intruder LOGIN;'),
    pg(s, c['username']!, c['password']!, c['database']!, `ALTER ROLE "${other}" PASSWORD 'x';`),
    pg(s, c['username']!, c['password']!, c['database']!, 'ALTER ROLE app_owner LOGIN;'),
    pg(s, c['username']!, c['password']!, c['database']!, 'CREATE DATABASE intruder;'),
    pg(s, c['username']!, c['password']!, c['database']!, 'SELECT rolpassword FROM pg_authid;'),
    pg(s, c['username']!, c['password']!, c['database']!, 'CREATE SCHEMA intruder;'),
  ],
  connect: (s, c) => fail(pg(s, c['username']!, c['password']!, c['database']!, 'SELECT 1;')),
  waiting: (s, c) => [
    psql(),
    ['-X', '-q', '-h', s.host, '-p', String(s.port), '-U', c['username']!, '-d', c['database']!, '-c', 'SELECT pg_sleep(60)'],
    { PGPASSWORD: c['password']! },
  ],
  sessions: (s, user) =>
    Number(ok(pg(s, s.adminUser, s.adminPassword, 'postgres', `SELECT count(*) FROM pg_stat_activity WHERE usename = '${user}';`), 'pg_stat_activity')),
  refusedLogin: /password authentication failed|role .* does not exist|not permitted to log in/,
  denied: /permission denied|must be owner|must be superuser|must have CREATEROLE|ADMIN option/,
};

const my = (s: DatabaseServer, user: string, password: string, sql: string) =>
  runClient(mariadbClient(), ['--no-defaults', '--protocol=TCP', '-h', s.host, '-P', String(s.port), '-u', user, '-N', '-B', '-e', sql], {
    MYSQL_PWD: password,
  });
const mariadbDialect: Dialect = {
  image: 'mariadb:11.4',
  port: 3306,
  start: async (admin) => {
    const s = await startMariadb(admin['root-password']!);
    // What the image's entrypoint makes of MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD.
    const db = admin['database']!;
    ok(
      my(
        s,
        'root',
        s.adminPassword,
        `CREATE DATABASE \`${db}\`; CREATE USER '${admin['username']}'@'%' IDENTIFIED BY '${admin['password']}'; GRANT ALL ON \`${db}\`.* TO '${admin['username']}'@'%';`,
      ),
      'application database',
    );
    return s;
  },
  endpoint: ['MARIADB_HOST', 'MARIADB_PORT'],
  append: (s, c, name, value) =>
    my(
      s,
      c['username']!,
      c['password']!,
      `CREATE TABLE IF NOT EXISTS \`${c['database']}\`.\`${name}\` (v text); INSERT INTO \`${c['database']}\`.\`${name}\` VALUES ('${value}');`,
    ),
  list: (s, c, name) => my(s, c['username']!, c['password']!, `SELECT GROUP_CONCAT(v ORDER BY v SEPARATOR ',') FROM \`${c['database']}\`.\`${name}\`;`),
  adminData: (s) =>
    ok(
      my(
        s,
        'root',
        s.adminPassword,
        "CREATE DATABASE admin_only; CREATE TABLE admin_only.secret (v text); INSERT INTO admin_only.secret VALUES ('admin-data');",
      ),
      'admin database',
    ),
  forbidden: (s, c, other) =>
    [
      'SELECT v FROM admin_only.secret;',
      'SELECT user FROM mysql.user;',
      'CREATE DATABASE intruder;',
      "CREATE USER 'intruder'@'%' IDENTIFIED BY 'x';",
      `ALTER USER '${other}'@'%' IDENTIFIED BY 'x';`,
      `GRANT SELECT ON \`${c['database']}\`.* TO '${other}'@'%';`,
      'SHOW GRANTS FOR root;',
      'SET GLOBAL max_connections = 1;',
    ].map((sql) => my(s, c['username']!, c['password']!, sql)),
  connect: (s, c) => fail(my(s, c['username']!, c['password']!, 'SELECT 1;')),
  waiting: (s, c) => [
    mariadbClient(),
    ['--no-defaults', '--protocol=TCP', '-h', s.host, '-P', String(s.port), '-u', c['username']!, '-e', 'SELECT SLEEP(60)'],
    { MYSQL_PWD: c['password']! },
  ],
  sessions: (s, user) =>
    Number(ok(my(s, 'root', s.adminPassword, `SELECT count(*) FROM information_schema.processlist WHERE user = '${user}';`), 'processlist')),
  refusedLogin: /Access denied for user/,
  denied: /ERROR (1044|1142|1227|1045|1141|1410) \(\w+\) at line 1: .*(denied|not allowed|no such grant)/i,
};

const DIALECTS: Record<string, Dialect> = { redis: redisDialect, postgresql: postgresDialect, mariadb: mariadbDialect };
const services = await Promise.all(Object.keys(DIALECTS).map((name) => shippedInstances(name, namespace)));
const cases = services.flatMap(({ service, values, instanceSecret }) =>
  service.plans.map((plan: Plan) => ({
    name: `${service.name}/${plan.name}`,
    service,
    plan,
    instance: values(`bu-${plan.name}-${suffix()}`, plan),
    admin: instanceSecret,
  })),
);

beforeAll(async () => {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: FIELD_MANAGER, force: true });
});
afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, namespace);
  kube.close();
});

/** Starts a client in the background; resolves when it exits. */
function startClient(command: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; output: string; ms: number }> {
  const started = Date.now();
  const child = spawn(command, args, { env: { PATH: '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output, ms: Date.now() - started })));
}

describe.each(cases)('$name: a user per binding on the shared application database, on a real server', ({ service, plan, instance, admin }) => {
  const d = DIALECTS[service.name]!;
  let s: DatabaseServer;
  let harness: HookHarness;
  beforeAll(async () => {
    s = await d.start(admin);
    harness = await hookHarness({ service, plan, instance }, kube, {
      image: d.image,
      // The instance's Service, as the Job reaches it; here the server on 127.0.0.1. Debian's clients stand in for the image's.
      adapt: (env, rendered) => pointAtLocal(env, serviceWithPort(rendered, d.port), { [d.endpoint[0]]: s.host, [d.endpoint[1]]: String(s.port) }),
    });
  }, 120_000);
  afterAll(async () => {
    harness?.cleanup();
    await s?.stop();
  });

  const must = (r: CommandResult, what: string) => expect(fail(r), what).toBe('');
  const listed = (c: Credentials, name: string) => {
    const r = d.list(s, c, name);
    must(r, `list ${name} as ${c['username']}`);
    return r.stdout.trim();
  };
  const unbind = async (bindingId: string) => {
    const r = await harness.run('onUnbindInstance', bindingId);
    expect(r.status, answer(r)).toBe(0);
  };

  it('shares the data between bindings, keeps it through rotation and unbind, and keeps every binding out of the admin and system databases', async () => {
    d.adminData?.(s, admin);
    const [a, b] = [`ba-${suffix()}`, `bb-${suffix()}`];
    // Two apps bound at once, the instance's first bindings: both pods set up the shared parts.
    const [{ creds: ca }, { creds: cb }] = await Promise.all([harness.bind(a), harness.bind(b)]);

    // No secret of the instance (its users and passwords; its database's name is no secret) is in a
    // binding's credentials; each binding has its own user; they point at the instance's Service,
    // and the databases of both are the instance's one.
    const secrets = Object.entries(admin).filter(([k, v]) => k !== 'database' && v.length >= 8);
    for (const c of [ca, cb]) for (const [, v] of secrets) expect(JSON.stringify(c)).not.toContain(v);
    expect(ca['username']).not.toBe(cb['username']);
    expect(ca['password']).not.toBe(cb['password']);
    const svc = serviceWithPort(harness.objects, d.port);
    expect(ca['hostname']).toBe(`${svc.metadata.name}.${namespace}.svc.cluster.local`);
    expect(String(ca['port'])).toBe(String(d.port));
    expect(ca['database']).toBe(admin['database']);
    expect(cb['database']).toBe(ca['database']);

    // Shared: what A writes (A makes the table), B reads and adds to, and A reads back.
    expect(d.connect(s, ca)).toBe('');
    must(d.append(s, ca, 'things', 'a1'), 'A writes');
    expect(listed(cb, 'things')).toBe('a1');
    must(d.append(s, cb, 'things', 'b1'), 'B writes to the table A made');
    expect(listed(ca, 'things')).toBe('a1,b1');
    if (service.name === 'postgresql') {
      // Made as the binding's own role (after SET ROLE NONE): A's, until A is unbound.
      must(
        pg(s, ca['username']!, ca['password']!, ca['database']!, "SET ROLE NONE; CREATE TABLE own (v text); INSERT INTO own VALUES ('a-own');"),
        'A as itself',
      );
    }

    // Not the admin's or the system databases, no admin command, no other user.
    for (const [c, other] of [
      [ca, cb['username']!],
      [cb, ca['username']!],
    ] as const) {
      for (const r of d.forbidden(s, c, other)) expect(answer(r)).toMatch(d.denied);
    }

    // Unbind A: its open session ends (not after the 60 s it waits), it is refused from then on;
    // B reads and writes on what A wrote; a second run is harmless.
    const session = startClient(...d.waiting(s, ca));
    await eventually("the binding's session is open", () => (d.sessions(s, ca['username']!) > 0 ? true : undefined), 20_000);
    await unbind(a);
    const ended = await session;
    expect(ended.ms).toBeLessThan(30_000);
    expect(ended.status, ended.output).not.toBe(0);
    expect(d.sessions(s, ca['username']!)).toBe(0);
    expect(d.connect(s, ca)).toMatch(d.refusedLogin);
    must(d.append(s, cb, 'things', 'b2'), 'B writes after A is gone');
    expect(listed(cb, 'things')).toBe('a1,b1,b2');
    if (service.name === 'postgresql') {
      // What A owned itself passed to the shared owner: B reads and writes it.
      must(pg(s, cb['username']!, cb['password']!, cb['database']!, "INSERT INTO own VALUES ('b-own');"), 'B writes the table A owned');
      expect(listed(cb, 'own')).toBe('a-own,b-own');
    }
    await unbind(a);

    // Rotation: a new binding id, other credentials, the same data.
    const c = `bc-${suffix()}`;
    const { creds: cc } = await harness.bind(c);
    expect(cc['username']).not.toBe(ca['username']);
    expect(cc['password']).not.toBe(ca['password']);
    expect(listed(cc, 'things')).toBe('a1,b1,b2');
    must(d.append(s, cc, 'things', 'c1'), 'C writes');

    // A retried bind pod (killed after the user was made, before the Secret was written): the new
    // pod makes the user again; the Secret's password works and sees the data, the first attempt's does not.
    const r = `br-${suffix()}`;
    const interrupted = await harness.run('onBindInstance', r, { stopBefore: 'write-secret' });
    expect(interrupted.status, answer(interrupted)).toBe(0);
    const firstAttempt = (JSON.parse(interrupted.files['/hook/secret.json']!) as { stringData: Credentials }).stringData;
    const { creds: cr } = await harness.bind(r);
    expect(cr['username']).toBe(firstAttempt['username']);
    expect(cr['password']).not.toBe(firstAttempt['password']);
    expect(d.connect(s, { ...cr, password: firstAttempt['password']! })).toMatch(d.refusedLogin);
    expect(listed(cr, 'things')).toBe('a1,b1,b2,c1');

    // Every binding gone: refused; the data stays with the instance.
    for (const id of [b, c, r]) await unbind(id);
    for (const creds of [cb, cc, cr]) expect(d.connect(s, creds)).toMatch(d.refusedLogin);
  }, 180_000);
});
