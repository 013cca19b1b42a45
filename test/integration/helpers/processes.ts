// The broker as separate processes (`kubernetes-broker worker` and `serve`), so that tests can
// kill them for real (SIGKILL) and start them again.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../../platform/config/paths.js';
import { Osb } from './broker.js';
import { eventually, stackEnv, suffix } from './stack.js';

// The sources, through tsx: a stale dist/ build must not be what the tests exercise.
const MAIN = path.join(PROJECT_ROOT, 'cli/main.ts');

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export class BrokerProcesses {
  readonly env: Record<string, string>;
  readonly osb: Osb;
  worker?: ChildProcess;
  api?: ChildProcess;
  private output: string[] = [];

  private constructor(
    port: number,
    overrides: Record<string, string>,
    /** The program and its first arguments: the sources through tsx, or a build's bin/. */
    private readonly entry: string[],
  ) {
    const id = suffix();
    this.env = {
      ...(process.env as Record<string, string>),
      ...stackEnv(),
      KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
      AUTH_USER: 'platform',
      AUTH_PASS: 'test-password',
      PORT: String(port),
      HOST: '127.0.0.1',
      STORAGE_CLASS: 'standard',
      TEMPORAL_TASK_QUEUE: `proc-test-${id}`,
      BROKER_NAMESPACE: `kb-records-${id}`,
      INSTANCE_NAMESPACE: `kb-instances-${id}`,
      BROKER_LOG_LEVEL: 'INFO',
      POLL_INTERVAL: '1',
      CODEC_KEYS: `test:${randomBytes(32).toString('base64')}`,
      ...overrides,
    };
    this.osb = new Osb(`http://127.0.0.1:${port}`, 'platform', 'test-password');
  }

  static async create(overrides: Record<string, string> = {}, entry: string[] = ['--import', 'tsx', MAIN]): Promise<BrokerProcesses> {
    return new BrokerProcesses(await freePort(), overrides, entry);
  }

  /** Everything the processes printed (for assertions on logs and for failure messages). */
  get logs(): string {
    return this.output.join('');
  }

  private spawn(command: 'worker' | 'serve', ...args: string[]): ChildProcess {
    const child = spawn(process.execPath, [...this.entry, command, ...args], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => this.output.push(d.toString()));
    child.stderr.on('data', (d) => this.output.push(d.toString()));
    return child;
  }

  async startWorker(): Promise<void> {
    this.worker = this.spawn('worker');
    await eventually('the worker to start', () => (this.logs.includes('worker started') ? true : undefined), 60_000).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${this.logs.slice(-3000)}`);
    });
  }

  async startApi(): Promise<void> {
    this.api = this.spawn('serve');
    await eventually('the API to answer', async () => ((await this.osb.request('GET', '/healthz')).status === 200 ? true : undefined), 60_000);
  }

  /** `serve --with-worker`: the API and the worker in one process (`api`; `worker` stays unset). */
  async startApiWithWorker(): Promise<void> {
    this.api = this.spawn('serve', '--with-worker');
    await eventually(
      'the API with its worker to answer',
      async () => ((await this.osb.request('GET', '/healthz')).status === 200 ? true : undefined),
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it printed:\n${this.logs.slice(-3000)}`);
    });
  }

  /** kill -9: no shutdown hook runs. */
  static async kill(child: ChildProcess | undefined): Promise<void> {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await Promise.all([BrokerProcesses.kill(this.worker), BrokerProcesses.kill(this.api)]);
  }
}
