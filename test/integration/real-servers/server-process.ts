// Real servers for tests, outside Kubernetes: the Debian packages that
// scripts/stack/install-db-servers.sh installs, one process per test on a free port of
// 127.0.0.1, its data in a folder of its own under the stack dir, stopped by its pid (never by
// name: other engineers' servers run on the same machine). One file per server beside this one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { STACK_DIR } from '../../../platform/config/stack-env.js';

export const INSTALL_HINT = 'install it with: bash scripts/stack/install-db-servers.sh (as root)';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The first of the paths that exists: Debian puts some binaries outside PATH (postgres). */
export function debianBinary(pkg: string, ...candidates: string[]): string {
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new Error(`${candidates.join(' or ')} not found: the Debian package ${pkg} is missing; ${INSTALL_HINT}`);
  return found;
}

/** uid and gid of a system user (the package's own: postgres refuses to run as root). */
export function systemUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) => {
    const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`no system user ${name} (${r.stderr.trim()}); ${INSTALL_HINT}`);
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

export interface ServerSpec {
  /** Names the folder and the log: `<name>-<random>`. */
  name: string;
  command: string;
  /** Given the server's folder (data, socket, config go there). */
  args: (dir: string) => string[];
  /** Runs as this system user when the tests run as root. */
  user?: string;
  /** Prepares the folder before the start (initdb, mariadb-install-db), as the same user. */
  init?: (dir: string, run: (command: string, args: string[]) => void) => void;
  /** True once the server answers. */
  ready: (dir: string) => boolean | Promise<boolean>;
  startTimeoutMs?: number;
}

export interface RealServer {
  dir: string;
  pid: number;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** SIGTERM, then SIGKILL after 20 s; removes the folder. */
  stop(): Promise<void>;
}

/** A started database server and its admin account (what the instance Secret holds). */
export interface DatabaseServer extends RealServer {
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
}

export async function startServer(spec: ServerSpec): Promise<RealServer> {
  // Under the system's temporary folder, not the checkout: the servers run as their own users
  // (postgres, mysql, rabbitmq), who cannot traverse a checkout inside a private (0700) folder.
  const root = path.join(os.tmpdir(), `kubernetes-broker-real-servers-${path.basename(STACK_DIR)}`);
  fs.mkdirSync(root, { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, `${spec.name}-`));
  const ids = spec.user && process.getuid?.() === 0 ? systemUser(spec.user) : undefined;
  if (ids) {
    fs.chmodSync(root, 0o755);
    fs.chownSync(dir, ids.uid, ids.gid);
  }
  const run = (command: string, args: string[]) => {
    const r = spawnSync(command, args, { encoding: 'utf8', ...ids, cwd: dir });
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr || r.stdout}`);
  };
  spec.init?.(dir, run);
  const logFile = path.join(dir, 'server.log');
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(spec.command, spec.args(dir), { stdio: ['ignore', out, out], cwd: dir, ...ids });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const server: RealServer = {
    dir,
    pid: child.pid!,
    log,
    async stop() {
      if (!gone) {
        child.kill('SIGTERM');
        const killed = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(killed);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + (spec.startTimeoutMs ?? 60_000);
  for (;;) {
    if (gone) {
      const text = log();
      await server.stop();
      throw new Error(`${spec.command} exited before it was ready:\n${text.slice(-2000)}`);
    }
    if (await spec.ready(dir)) return server;
    if (Date.now() > deadline) {
      const text = log();
      await server.stop();
      throw new Error(`${spec.command} was not ready within ${spec.startTimeoutMs ?? 60_000} ms:\n${text.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client command (redis-cli, psql, mariadb) with its own environment only. */
export function runClient(command: string, args: string[], env: Record<string, string> = {}, input?: string): CommandResult {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, input, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
