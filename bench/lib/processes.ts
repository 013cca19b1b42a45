// The broker as child processes (`worker` and `serve`, from the TypeScript sources through tsx,
// as test/integration/helpers/processes.ts runs them), each on its own task queue and
// namespaces, with their memory sampled from /proc/<pid>/status.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { LOG_DIR, sleep, stackEnv, suffix } from './common.js';
import { Osb } from './osb.js';

/**
 * The checkout whose broker the benchmarks run: this one, or KB_BENCH_BROKER_ROOT (a copy of the
 * tree with a change reverted, say, for a before/after comparison on the same stack).
 */
export const BROKER_ROOT = process.env['KB_BENCH_BROKER_ROOT'] ?? PROJECT_ROOT;
const MAIN = path.join(BROKER_ROOT, 'cli/main.ts');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM (peak) of a process, in MiB; undefined once it is gone. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process's memory every `everyMs`; peak() is the highest VmHWM/VmRSS seen. */
export class MemorySampler {
  private timer: NodeJS.Timeout;
  private peakRss = 0;
  private hwm = 0;
  constructor(
    private readonly pid: number,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }
  private sample() {
    const m = memoryOf(this.pid);
    if (!m) return;
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.hwm = Math.max(this.hwm, m.hwm);
  }
  /** Peak resident memory in MiB (VmHWM, the kernel's own high-water mark). */
  peak(): { peakRssMiB: number; vmHwmMiB: number } {
    this.sample();
    return { peakRssMiB: Math.round(this.peakRss), vmHwmMiB: Math.round(this.hwm) };
  }
  stop() {
    clearInterval(this.timer);
  }
}

export interface BrokerProcessOptions {
  /** Extra environment (POLL_INTERVAL, ...). */
  env?: Record<string, string>;
  /** Extra node options of both processes (--cpu-prof ...). */
  nodeArgs?: string[];
  /** Only the API (serving the catalog needs no worker). */
  apiOnly?: boolean;
  /** One process, `serve --with-worker` (eager workflow starts): `api` and `worker` are the same child. */
  oneProcess?: boolean;
}

export class BrokerProcesses {
  readonly id = suffix();
  readonly env: Record<string, string>;
  readonly osb: Osb;
  worker?: ChildProcess;
  api?: ChildProcess;
  workerMemory?: MemorySampler;
  apiMemory?: MemorySampler;

  private constructor(
    readonly port: number,
    private readonly options: BrokerProcessOptions,
  ) {
    const stack = stackEnv();
    this.env = {
      ...(process.env as Record<string, string>),
      ...stack,
      // The broker's own identity: its requests are the ones in the API server's audit log.
      KUBECONFIG: stack['BROKER_KUBECONFIG']!,
      AUTH_USER: 'platform',
      AUTH_PASS: 'bench-password',
      PORT: String(port),
      HOST: '127.0.0.1',
      STORAGE_CLASS: 'standard',
      TEMPORAL_TASK_QUEUE: `bench-${this.id}`,
      BROKER_NAMESPACE: `kb-bench-records-${this.id}`,
      INSTANCE_NAMESPACE: `kb-bench-instances-${this.id}`,
      BROKER_LOG_LEVEL: 'INFO',
      // Payloads encrypted, as in production.
      CODEC_KEYS: `bench:${randomBytes(32).toString('base64')}`,
      ...options.env,
    };
    this.osb = new Osb(`http://127.0.0.1:${port}`, 'platform', 'bench-password');
  }

  static async start(options: BrokerProcessOptions = {}): Promise<BrokerProcesses> {
    const p = new BrokerProcesses(await freePort(), options);
    if (options.oneProcess) {
      await p.startApiWithWorker();
      return p;
    }
    if (!options.apiOnly) await p.startWorker();
    await p.startApi();
    return p;
  }

  get instanceNamespace() {
    return this.env['INSTANCE_NAMESPACE']!;
  }
  get recordNamespace() {
    return this.env['BROKER_NAMESPACE']!;
  }

  private spawn(command: 'worker' | 'serve', ...args: string[]): { child: ChildProcess; log: string } {
    fs.mkdirSync(LOG_DIR, { recursive: true });
    const log = path.join(LOG_DIR, `${command}-${this.id}.log`);
    const fd = fs.openSync(log, 'a');
    const child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), '--import', 'tsx', MAIN, command, ...args], {
      env: this.env,
      cwd: BROKER_ROOT,
      stdio: ['ignore', fd, fd],
    });
    fs.closeSync(fd);
    return { child, log };
  }

  private async until(what: string, child: ChildProcess, log: string, ok: () => Promise<boolean>, timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}); log: ${log}\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
      if (await ok().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`${what} did not start within ${timeoutMs / 1000}s; log: ${log}`);
  }

  async startWorker(): Promise<void> {
    const { child, log } = this.spawn('worker');
    this.worker = child;
    this.workerMemory = new MemorySampler(child.pid!);
    await this.until('the worker', child, log, async () => (await fs.promises.readFile(log, 'utf8')).includes('worker started'));
  }

  async startApi(): Promise<void> {
    const { child, log } = this.spawn('serve');
    this.api = child;
    this.apiMemory = new MemorySampler(child.pid!);
    await this.until('the API', child, log, async () => (await this.osb.request('GET', '/healthz')).status === 200);
  }

  async startApiWithWorker(): Promise<void> {
    const { child, log } = this.spawn('serve', '--with-worker');
    this.api = this.worker = child;
    this.apiMemory = new MemorySampler(child.pid!);
    await this.until('the API with its worker', child, log, async () => (await this.osb.request('GET', '/healthz')).status === 200);
  }

  /** Peak memory of both processes so far. */
  memory() {
    return { api: this.apiMemory?.peak(), worker: this.workerMemory?.peak() };
  }

  /** SIGTERM (graceful: the profile, if any, is written), SIGKILL after 20 s. */
  static async stop(child: ChildProcess | undefined): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.workerMemory?.stop();
    this.apiMemory?.stop();
    await Promise.all([BrokerProcesses.stop(this.api), this.worker !== this.api && BrokerProcesses.stop(this.worker)]);
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, children reaped included. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime are fields 14-17 of stat (11-14 after the command).
    return fields.slice(11, 15).reduce((s, f) => s + Number(f), 0) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** The local stack's processes by name (from .stack/pids), for CPU accounting. */
export function stackPids(): Record<string, number> {
  const dir = stackEnv()['KB_STACK_PIDS'];
  if (!dir || !fs.existsSync(dir)) return {};
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => [f.replace(/\.pid$/, ''), Number(fs.readFileSync(path.join(dir, f), 'utf8'))]),
  );
}

/** CPU seconds each process spends between start() and stop(): where a 2-core machine's time went. */
export class CpuMeter {
  private before: Record<string, number> = {};
  constructor(private readonly pids: () => Record<string, number>) {}
  start(): void {
    this.before = Object.fromEntries(Object.entries(this.pids()).map(([n, p]) => [n, cpuSeconds(p)]));
  }
  /** CPU seconds per process since start(), rounded to 0.1 s. */
  stop(): Record<string, number> {
    return Object.fromEntries(Object.entries(this.elapsed()).map(([n, s]) => [n, Math.round(s * 10) / 10]));
  }
  /** CPU seconds per process since start(), as counted (10 ms ticks): for sums over many short runs. */
  elapsed(): Record<string, number> {
    return Object.fromEntries(
      Object.entries(this.pids())
        .filter(([n]) => n in this.before)
        .map(([n, p]) => [n, cpuSeconds(p) - this.before[n]!]),
    );
  }
}
