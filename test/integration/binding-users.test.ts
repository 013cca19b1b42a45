// Each shipped service's per-binding users, for real: the plan's bind and unbind hooks, rendered
// by the broker's own code, run with /bin/sh on this machine against a real server of the same
// software (Debian's packages, scripts/stack/install-db-servers.sh) with the environment their
// Jobs get, the instance's admin credentials from its rendered Secret. The bind Job's last
// container (kubectl) writes its Secret on the local stack with a token of the plan's own hook
// ServiceAccount, so the Role is proven too; the broker's code reads that Secret and renders the
// credentials. Then the credentials are used: a connection, reads and writes in their own
// database, refusals in another binding's and the admin's, refusal after unbind; a new binding
// gets other credentials. KWOK runs no container: hooks.test.ts and shipped-catalog.test.ts prove
// when the broker runs the hooks, this file what the scripts do.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBindingHookSecret } from '../../activities/lifecycle-hooks.js';
import { renderCredentials } from '../../catalog/credentials.js';
import { sampleValues } from '../../catalog/check.js';
import { loadCatalog } from '../../catalog/load.js';
import { generateRandoms } from '../../catalog/randoms.js';
import { renderPlan } from '../../catalog/render.js';
import type { InstanceValues, KubernetesObject, Plan, ServiceOffering } from '../../catalog/types.js';
import { SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';
import { hookContainers, localVolume, runContainer, secretsOf } from './real-servers/hook-script.js';
import { mariadbClient, startMariadb } from './real-servers/mariadb.js';
import { psql, startPostgres } from './real-servers/postgresql.js';
import { redisCli, startRedis } from './real-servers/redis.js';
import { runClient, type DatabaseServer } from './real-servers/server-process.js';

const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
const kube = kubeApi();
const namespace = `bindusers-${suffix()}`;
const FIELD_MANAGER = 'binding-users-test';
/** The image's programs on this machine: Debian's client binaries; kubectl from the stack. */
const DEBIAN_PATH = '/usr/bin:/bin';

type Credentials = Record<string, string>;

/** What differs between the services: their server, the admin's own data, and a client. */
interface Dialect {
  start(admin: Record<string, string>): Promise<DatabaseServer>;
  /** Env of the hook Jobs that names the server: pointed at the local one. */
  endpoint(server: DatabaseServer): Record<string, string>;
  /** The admin's data, that no binding may reach; returns where it is (a key, a database). */
  adminData(server: DatabaseServer, admin: Record<string, string>): string;
  /** Writes then reads back a value in the credentials' own database (or key prefix). */
  writeOwn(server: DatabaseServer, c: Credentials, value: string): string;
  /** Tries to read and write what another binding wrote; the client's answer to each try. */
  readOther(server: DatabaseServer, c: Credentials, other: Credentials): string[];
  /** Tries to read the admin's data (and admin commands); the client's answer to each try. */
  readAdmin(server: DatabaseServer, c: Credentials, where: string): string[];
  /** Opens a connection and runs a trivial command; returns the client's error or ''. */
  connect(server: DatabaseServer, c: Credentials): string;
  /** A client of the credentials that waits on the server for 60 s: [program, args, env]. */
  waiting(server: DatabaseServer, c: Credentials): [string, string[], Record<string, string>];
  /** How many sessions of the user the server has, as the admin sees it. */
  sessions(server: DatabaseServer, user: string): number;
  /** The error a refused login gives. */
  refusedLogin: RegExp;
  /** The answer to each try of readOther and readAdmin. */
  denied: RegExp;
}

const fail = (r: { status: number | null; stdout: string; stderr: string }) =>
  r.status === 0 && !/error/i.test(r.stdout) ? '' : `${r.stderr}${r.stdout}`.trim();
const ok = (r: { status: number | null; stdout: string; stderr: string }, what: string) => {
  if (r.status !== 0 || /^\(error\)|^ERR|NOPERM|WRONGPASS/m.test(r.stdout)) throw new Error(`${what}: ${r.stderr}${r.stdout}`);
  return r.stdout.trim();
};

const redis = (server: DatabaseServer, user: string, password: string, ...args: string[]) =>
  runClient(redisCli(), ['--no-raw', '-h', server.host, '-p', String(server.port), '--user', user, ...args], { REDISCLI_AUTH: password });
const redisDialect: Dialect = {
  start: (admin) => startRedis(admin['password']!),
  endpoint: (s) => ({ REDIS_HOST: s.host, REDIS_PORT: String(s.port) }),
  adminData: (s) => (ok(redis(s, 'default', s.adminPassword, 'SET', 'admin:secret', 'admin-data'), 'admin SET'), 'admin:secret'),
  writeOwn: (s, c, value) => {
    ok(redis(s, c['username']!, c['password']!, 'SET', `${c['key_prefix']}k`, value), 'SET');
    return ok(redis(s, c['username']!, c['password']!, 'GET', `${c['key_prefix']}k`), 'GET').replace(/^"|"$/g, '');
  },
  readOther: (s, c, other) =>
    [
      redis(s, c['username']!, c['password']!, 'GET', `${other['key_prefix']}k`),
      redis(s, c['username']!, c['password']!, 'SET', `${other['key_prefix']}k`, 'x'),
    ].map((r) => r.stdout.trim()),
  readAdmin: (s, c, key) =>
    [
      redis(s, c['username']!, c['password']!, 'GET', key),
      redis(s, c['username']!, c['password']!, 'FLUSHALL'),
      redis(s, c['username']!, c['password']!, 'CONFIG', 'GET', '*'),
    ].map((r) => r.stdout.trim()),
  connect: (s, c) => {
    const r = redis(s, c['username']!, c['password']!, 'PING');
    return r.stdout.trim() === 'PONG' ? '' : `${r.stderr}${r.stdout}`.trim();
  },
  waiting: (s, c) => [
    redisCli(),
    ['--no-raw', '-h', s.host, '-p', String(s.port), '--user', c['username']!, 'BLPOP', `${c['key_prefix']}queue`, '60'],
    { REDISCLI_AUTH: c['password']! },
  ],
  sessions: (s, user) =>
    ok(redis(s, 'default', s.adminPassword, 'CLIENT', 'LIST'), 'CLIENT LIST')
      .split('\n')
      .filter((l) => l.includes(` user=${user} `)).length,
  refusedLogin: /WRONGPASS|AUTH failed/,
  denied: /^\(error\) NOPERM /,
};

const pg = (s: DatabaseServer, user: string, password: string, database: string, sql: string) =>
  runClient(
    psql(),
    ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-h', s.host, '-p', String(s.port), '-U', user, '-d', database],
    { PGPASSWORD: password },
    sql,
  );
const postgresDialect: Dialect = {
  start: (admin) => startPostgres(admin['username']!, admin['password']!),
  endpoint: (s) => ({ PGHOST: s.host, PGPORT: String(s.port) }),
  adminData: (s, admin) => {
    // The image's entrypoint creates POSTGRES_DB; the admin's table in it.
    ok(pg(s, s.adminUser, s.adminPassword, 'postgres', `CREATE DATABASE "${admin['database']}";`), 'CREATE DATABASE');
    ok(pg(s, s.adminUser, s.adminPassword, admin['database']!, "CREATE TABLE secret (v text); INSERT INTO secret VALUES ('admin-data');"), 'admin table');
    return admin['database']!;
  },
  writeOwn: (s, c, value) =>
    ok(
      pg(s, c['username']!, c['password']!, c['database']!, `CREATE TABLE IF NOT EXISTS t (v text); INSERT INTO t VALUES ('${value}'); SELECT v FROM t;`),
      'own database',
    ),
  readOther: (s, c, other) => [fail(pg(s, c['username']!, c['password']!, other['database']!, 'SELECT v FROM t;'))],
  readAdmin: (s, c, database) => [
    fail(pg(s, c['username']!, c['password']!, database, 'SELECT v FROM secret;')),
    fail(pg(s, c['username']!, c['password']!, 'postgres', 'SELECT 1;')),
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
  denied: /FATAL: {2}permission denied for database /,
};

const my = (s: DatabaseServer, user: string, password: string, sql: string) =>
  runClient(mariadbClient(), ['--no-defaults', '--protocol=TCP', '-h', s.host, '-P', String(s.port), '-u', user, '-N', '-B', '-e', sql], {
    MYSQL_PWD: password,
  });
const mariadbDialect: Dialect = {
  start: (admin) => startMariadb(admin['root-password']!),
  endpoint: (s) => ({ MARIADB_HOST: s.host, MARIADB_PORT: String(s.port) }),
  adminData: (s, admin) => {
    // What the image's entrypoint makes of MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD.
    const db = admin['database']!;
    ok(
      my(
        s,
        'root',
        s.adminPassword,
        `CREATE DATABASE \`${db}\`; CREATE USER '${admin['username']}'@'%' IDENTIFIED BY '${admin['password']}'; GRANT ALL ON \`${db}\`.* TO '${admin['username']}'@'%'; CREATE TABLE \`${db}\`.secret (v text); INSERT INTO \`${db}\`.secret VALUES ('admin-data');`,
      ),
      'admin database',
    );
    return db;
  },
  writeOwn: (s, c, value) =>
    ok(
      my(
        s,
        c['username']!,
        c['password']!,
        `CREATE TABLE IF NOT EXISTS \`${c['database']}\`.t (v text); INSERT INTO \`${c['database']}\`.t VALUES ('${value}'); SELECT v FROM \`${c['database']}\`.t;`,
      ),
      'own database',
    ),
  readOther: (s, c, other) =>
    [
      my(s, c['username']!, c['password']!, `SELECT v FROM \`${other['database']}\`.t;`),
      my(s, c['username']!, c['password']!, `INSERT INTO \`${other['database']}\`.t VALUES ('x');`),
    ].map(fail),
  readAdmin: (s, c, db) =>
    [my(s, c['username']!, c['password']!, `SELECT v FROM \`${db}\`.secret;`), my(s, c['username']!, c['password']!, 'SELECT user FROM mysql.user;')].map(fail),
  connect: (s, c) => fail(my(s, c['username']!, c['password']!, 'SELECT 1;')),
  waiting: (s, c) => [
    mariadbClient(),
    ['--no-defaults', '--protocol=TCP', '-h', s.host, '-P', String(s.port), '-u', c['username']!, '-e', 'SELECT SLEEP(60)'],
    { MYSQL_PWD: c['password']! },
  ],
  sessions: (s, user) =>
    Number(ok(my(s, 'root', s.adminPassword, `SELECT count(*) FROM information_schema.processlist WHERE user = '${user}';`), 'processlist')),
  refusedLogin: /Access denied for user/,
  denied: /ERROR 1142 \(42000\) at line 1: (SELECT|INSERT) command denied to user 'b-/,
};

const DIALECTS: Record<string, Dialect> = { redis: redisDialect, postgresql: postgresDialect, mariadb: mariadbDialect };
const cases = catalog.services.filter((s) => s.name in DIALECTS).flatMap((service) => service.plans.map((plan) => ({ service, plan })));

beforeAll(async () => {
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: FIELD_MANAGER, force: true });
});
afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, namespace);
  kube.close();
});

/** A kubeconfig with a token of the plan's hook ServiceAccount: what the bind Job's pod holds. */
function serviceAccountKubeconfig(account: string, dir: string): string {
  const admin = stackEnv()['KUBECONFIG']!;
  const token = execFileSync('kubectl', ['--kubeconfig', admin, '-n', namespace, 'create', 'token', account, '--duration', '10m'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: stackPath() },
  }).trim();
  const file = path.join(dir, 'kubeconfig');
  const ca = path.join(path.dirname(admin), 'ca.crt');
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'stack', cluster: { server: stackEnv()['KUBERNETES_API_URL'], 'certificate-authority': ca } }],
      users: [{ name: account, user: { token } }],
      contexts: [{ name: 'hook', context: { cluster: 'stack', user: account, namespace } }],
      'current-context': 'hook',
    }),
    { mode: 0o600 },
  );
  return file;
}
/** Starts a client in the background; resolves when it exits. */
function startClient(command: string, args: string[], env: Record<string, string>): Promise<{ status: number | null; output: string; ms: number }> {
  const started = Date.now();
  const child = spawn(command, args, { env: { PATH: DEBIAN_PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, output, ms: Date.now() - started })));
}

const stackPath = () => `${stackEnv()['KB_STACK_BIN']}:${DEBIAN_PATH}`;

class Instance {
  readonly values: InstanceValues;
  readonly objects: KubernetesObject[];
  readonly secrets: Record<string, Record<string, string>>;
  readonly work = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-binding-users-'));
  server!: DatabaseServer;

  constructor(
    readonly service: ServiceOffering,
    readonly plan: Plan,
    readonly dialect: Dialect,
  ) {
    this.values = { ...sampleValues(plan, generateRandoms()), instanceId: `bu-${suffix()}`, namespace };
    this.objects = renderPlan(service, plan, this.values);
    this.secrets = secretsOf(this.objects);
  }

  /** The instance Secret's keys: the admin credentials the hooks read. */
  get admin(): Record<string, string> {
    const [secret] = Object.values(this.secrets);
    return secret!;
  }

  async start(): Promise<void> {
    this.server = await this.dialect.start(this.admin);
    // The hook ServiceAccount, its Role and RoleBinding, as the plan's k8s/ creates them.
    for (const o of this.objects.filter((o) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(o.kind))) {
      await kube.apply(o, { fieldManager: FIELD_MANAGER, force: true });
    }
  }

  /**
   * Runs the bind hook's containers; the broker's reader takes the Secret; the broker renders the
   * credentials. `retriedPod`: the first container runs twice, as in a pod retried after its first
   * attempt created the user but failed before the Secret was written; returns that attempt's password.
   */
  async bind(bindingId: string, retriedPod = false): Promise<{ credentials: Credentials; firstAttemptPassword?: string }> {
    const volume = localVolume();
    let firstAttemptPassword: string | undefined;
    for (const job of hookContainers(this.service, this.plan, 'onBindInstance', this.values, bindingId, this.secrets)) {
      const [createUser, writeSecret, ...more] = job.containers;
      expect(more).toEqual([]);
      expect(createUser!.image.split(':')[0]).toBe(this.imageName());
      const run = () => runContainer(createUser!, { override: this.dialect.endpoint(this.server), volumes: { '/hook': volume }, path: DEBIAN_PATH });
      run();
      if (retriedPod) {
        firstAttemptPassword = (JSON.parse(fs.readFileSync(path.join(volume, 'secret.json'), 'utf8')) as { stringData: Credentials }).stringData['password'];
        run();
      }
      // kubectl of the stack stands in for the kubectl image; the token is the Job's ServiceAccount's.
      const kubeconfig = serviceAccountKubeconfig(job.serviceAccountName!, this.work);
      runContainer(writeSecret!, { volumes: { '/hook': volume }, path: stackPath(), extra: { KUBECONFIG: kubeconfig } });
    }
    fs.rmSync(volume, { recursive: true, force: true });
    const hookSecret = await readBindingHookSecret(kube, namespace, this.values.instanceId, bindingId);
    expect(hookSecret, 'the Secret the bind hook wrote').toBeDefined();
    const services = this.objects
      .filter((o) => o.kind === 'Service')
      .map((o) => {
        const { ports } = (o as unknown as { spec: { ports: { port: number; targetPort?: number }[] } }).spec;
        return {
          name: o.metadata.name,
          hostname: this.server.host,
          ports: ports.map((p) => ({ port: this.server.port, targetPort: p.targetPort ?? p.port })),
        };
      });
    const credentials = renderCredentials(this.service, this.plan, { ...this.values, bindingId }, { env: {}, services, hookSecret }) as Credentials;
    return { credentials, firstAttemptPassword };
  }

  unbind(bindingId: string): void {
    for (const job of hookContainers(this.service, this.plan, 'onUnbindInstance', this.values, bindingId, this.secrets)) {
      for (const c of job.containers) {
        expect(c.image.split(':')[0]).toBe(this.imageName());
        runContainer(c, { override: this.dialect.endpoint(this.server), path: DEBIAN_PATH });
      }
    }
  }

  /** The image of the instance's server: the hooks run in it. */
  imageName(): string {
    const deployment = this.objects.find((o) => o.kind === 'Deployment') as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
    return deployment.spec.template.spec.containers[0]!.image.split(':')[0]!;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

describe.each(cases)('$service.name/$plan.name: a user per binding, on a real server', ({ service, plan }) => {
  const instance = new Instance(service, plan, DIALECTS[service.name]!);
  const d = instance.dialect;
  beforeAll(() => instance.start(), 120_000);
  afterAll(() => instance.stop());

  it('binds, isolates, rotates and unbinds', async () => {
    const s = instance.server;
    const adminWhere = d.adminData(s, instance.admin);
    const b1 = `b1-${suffix()}`;
    const b2 = `b2-${suffix()}`;
    const { credentials: c1 } = await instance.bind(b1);
    const { credentials: c2 } = await instance.bind(b2);

    // No secret of the instance is in a binding's credentials; each binding has its own.
    const adminValues = Object.values(instance.admin).filter((v) => v.length >= 8);
    for (const c of [c1, c2]) for (const v of adminValues) expect(JSON.stringify(c)).not.toContain(v);
    expect(c1['username']).not.toBe(c2['username']);
    expect(c1['password']).not.toBe(c2['password']);
    expect(c1['hostname']).toBe(s.host);
    expect(Number(c1['port'])).toBe(s.port);

    // Their own database: a real connection, a write, a read.
    expect(d.connect(s, c1)).toBe('');
    expect(d.writeOwn(s, c1, 'one')).toBe('one');
    expect(d.writeOwn(s, c2, 'two')).toBe('two');
    // Not the other binding's, not the admin's.
    const refusals = [...d.readOther(s, c1, c2), ...d.readOther(s, c2, c1), ...d.readAdmin(s, c1, adminWhere)];
    for (const answer of refusals) expect(answer).toMatch(d.denied);

    // Unbind: its open session ends (not after the 60 s it waits), it is refused from then on;
    // the other binding is untouched; a second run is harmless.
    const session = startClient(...d.waiting(s, c1));
    await eventually("the binding's session is open", () => (d.sessions(s, c1['username']!) > 0 ? true : undefined), 20_000);
    instance.unbind(b1);
    const ended = await session;
    expect(ended.ms).toBeLessThan(30_000);
    expect(ended.status, ended.output).not.toBe(0);
    expect(d.sessions(s, c1['username']!)).toBe(0);
    expect(d.connect(s, c1)).toMatch(d.refusedLogin);
    expect(d.connect(s, c2)).toBe('');
    instance.unbind(b1);

    // A retried bind pod creates the user again: the password of the Secret it writes works, the
    // first attempt's does not.
    const b4 = `b4-${suffix()}`;
    const { credentials: c4, firstAttemptPassword } = await instance.bind(b4, true);
    expect(firstAttemptPassword).toBeDefined();
    expect(firstAttemptPassword).not.toBe(c4['password']);
    expect(d.connect(s, { ...c4, password: firstAttemptPassword! })).toMatch(d.refusedLogin);
    expect(d.writeOwn(s, c4, 'four')).toBe('four');
    instance.unbind(b4);

    // Rotation: a new binding id, new credentials.
    const b3 = `b3-${suffix()}`;
    const { credentials: c3 } = await instance.bind(b3);
    expect(c3['username']).not.toBe(c1['username']);
    expect(c3['password']).not.toBe(c1['password']);
    expect(d.writeOwn(s, c3, 'three')).toBe('three');
    instance.unbind(b2);
    instance.unbind(b3);
    expect(d.connect(s, c2)).toMatch(d.refusedLogin);
    expect(d.connect(s, c3)).toMatch(d.refusedLogin);
  });
});
