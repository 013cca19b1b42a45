// Runs a shipped plan's bind or unbind hook outside Kubernetes, as the broker renders it: the Job
// of catalog/hooks.ts renderHookJobs, its pod's containers in order (init containers first), each
// command with the container's env (secretKeyRef resolved from the instance's rendered Secret) and
// what the kubelet adds (emptyDir volumes as local folders, the ServiceAccount's token and CA, the
// API server's address). Containers of the server's image run their `/bin/sh -c` script with this
// machine's programs of that software (Debian's, or the caller's `path`); a `registry.k8s.io/kubectl`
// container runs the stack's kubectl with the token. What differs from a pod is said by the
// caller: `adapt` replaces env values that name cluster addresses (checked to hold them first).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readBindingHookSecret } from '../../../activities/lifecycle-hooks.js';
import { renderCredentials } from '../../../catalog/credentials.js';
import { sampleValues } from '../../../catalog/check.js';
import { renderHookJobs } from '../../../catalog/hooks.js';
import { loadCatalog } from '../../../catalog/load.js';
import { CURRENT_NAME_SCHEME } from '../../../catalog/naming.js';
import { generateRandoms } from '../../../catalog/randoms.js';
import { renderPlan } from '../../../catalog/render.js';
import type { HookEvent, InstanceValues, KubernetesObject, Plan, ServiceFacts, ServiceOffering } from '../../../catalog/types.js';
import { SHIPPED_CATALOG_DIR } from '../../../platform/config/config.js';
import type { KubeApi } from '../../../platform/kube/api.js';
import { stackEnv } from '../helpers/stack.js';
import type { Container, PodSpec } from './pod-spec.js';

const KUBECTL_IMAGE = 'registry.k8s.io/kubectl:';
const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The hook's one Job and its pod spec, as the broker renders them. */
export function renderHook(service: ServiceOffering, plan: Plan, event: HookEvent, values: InstanceValues, bindingId: string) {
  const jobs = renderHookJobs(service, plan, event, values, bindingId);
  if (jobs.length !== 1) throw new Error(`${plan.name} ${event}: expected one Job, got ${jobs.length}`);
  const job = jobs[0]!;
  const pod = (job as KubernetesObject & { spec: { template: { spec: PodSpec } } }).spec.template.spec;
  return { job, pod };
}

/** The container's env as the kubelet gives it: literal values, and secretKeyRefs read from `secrets` (the rendered objects). */
export function containerEnv(container: Container, secrets: KubernetesObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const secret = secrets.find((s): s is KubernetesObject & { data?: Record<string, string> } => s.kind === 'Secret' && s.metadata.name === name);
      const raw = secret?.data?.[key];
      if (raw === undefined) throw new Error(`container ${container.name}: env ${e.name} refers to Secret ${name} key ${key}, which the plan does not render`);
      env[e.name] = Buffer.from(raw, 'base64').toString('utf8');
    } else throw new Error(`env ${e.name}: only value and secretKeyRef are resolved here`);
  }
  return env;
}

/** A ServiceAccount token of the local stack for `account` in `namespace`, with the stack's CA, in a folder laid out as in a pod, and a kubeconfig of it. */
function serviceAccountDir(namespace: string, account: string): { dir: string; kubeconfig: string } {
  const stack = stackEnv();
  const kubectl = path.join(stack['KB_STACK_BIN']!.split(':')[0]!, 'kubectl');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-sa-'));
  const token = execFileSync(kubectl, ['--kubeconfig', stack['KUBECONFIG']!, '-n', namespace, 'create', 'token', account, '--duration', '10m'], {
    encoding: 'utf8',
  }).trim();
  fs.writeFileSync(path.join(dir, 'token'), token, { mode: 0o600 });
  fs.copyFileSync(stack['KB_TEMPORAL_TLS_CA']!, path.join(dir, 'ca.crt'));
  fs.writeFileSync(path.join(dir, 'namespace'), namespace);
  // What kubectl reads in a pod (its in-cluster config): the same token, CA and namespace.
  const kubeconfig = path.join(dir, 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'stack', cluster: { server: stack['KUBERNETES_API_URL'], 'certificate-authority': path.join(dir, 'ca.crt') } }],
    users: [{ name: account, user: { tokenFile: path.join(dir, 'token') } }],
    contexts: [{ name: 'hook', context: { cluster: 'stack', user: account, namespace } }],
    'current-context': 'hook',
  };
  fs.writeFileSync(kubeconfig, JSON.stringify(config), { mode: 0o600 });
  return { dir, kubeconfig };
}

export interface HookRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** What the pod left in its emptyDir volumes, by path in the pod (`/hook/secret.json`). */
  files: Record<string, string>;
}

/** Runs `argv` with exactly `env`, a fresh HOME (the image's ENV gives one: erl and mongosh want it) and a PATH; at most 120 s. */
async function runCommand(argv: string[], env: Record<string, string>, extraPath: string[]): Promise<Omit<HookRun, 'files'>> {
  const PATH = [...extraPath, '/usr/local/bin', '/usr/bin', '/bin'].join(':');
  const HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-hook-home-'));
  // Not spawnSync: the pods of two hooks run at once, as on a cluster.
  const child = spawn(argv[0]!, argv.slice(1), { env: { PATH, HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  let [stdout, stderr] = ['', ''];
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const status = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', (code) => resolve(code)));
  fs.rmSync(HOME, { recursive: true, force: true });
  return { status, stdout, stderr };
}

export interface HookHarness {
  /** The plan's objects for the instance, rendered. */
  objects: KubernetesObject[];
  /**
   * Runs the hook's pod for a binding: its containers in order, until one fails. `stopBefore`: the
   * pod ends before that container (a pod killed there, whose retry is a new pod).
   */
  run(event: 'onBindInstance' | 'onUnbindInstance', bindingId: string, opts?: { stopBefore?: string }): Promise<HookRun>;
  /** Runs the bind hook (it must succeed) and renders the credentials from the Secret it wrote, as the broker does. */
  bind(bindingId: string): Promise<{ creds: Record<string, string>; hookSecret: Record<string, string> }>;
  /** The token folder of the hooks' ServiceAccount. */
  serviceAccountDir: string;
  cleanup(): void;
}

export interface HookTarget {
  service: ServiceOffering;
  plan: Plan;
  instance: InstanceValues;
}

export interface HarnessOptions {
  /** The server's image, which the hook's scripts run in. */
  image: string;
  /** Turns the Job's env into this machine's: server addresses (checked to name the instance's Services first), and extra variables. */
  adapt: (env: Record<string, string>, objects: KubernetesObject[]) => Record<string, string>;
  /** Folders put before the system's on PATH (the image's tools). */
  path?: string[];
}

const FIELD_MANAGER = 'kb-test-hooks';

/**
 * The hooks of one instance of a plan, set up as on a cluster: the plan's ServiceAccount, Role and
 * RoleBinding applied to the instance's namespace on the local stack, a token of that account.
 */
export async function hookHarness(target: HookTarget, kube: KubeApi, o: HarnessOptions): Promise<HookHarness> {
  const { service, plan, instance } = target;
  const stack = stackEnv();
  const objects = renderPlan(service, plan, instance);
  for (const obj of objects.filter((x) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(x.kind)))
    await kube.apply(obj, { fieldManager: FIELD_MANAGER, force: true });
  const account = renderHook(service, plan, 'onBindInstance', instance, 'probe').pod.serviceAccountName!;
  const sa = serviceAccountDir(instance.namespace, account);
  const kubectlDir = stack['KB_STACK_BIN']!.split(':')[0]!;

  const runContainer = (container: Container, volumes: Map<string, string>): Promise<Omit<HookRun, 'files'>> => {
    const mounts = (container.volumeMounts ?? []).map((m) => [m.mountPath, volumes.get(m.name)!] as const);
    const local = (s: string) => mounts.reduce((text, [mount, dir]) => (text.startsWith(mount + '/') ? dir + text.slice(mount.length) : text), s);
    const argv = [...(container.command ?? []), ...(container.args ?? [])].map(local);
    const env = Object.fromEntries(Object.entries(containerEnv(container, objects)).map(([k, v]) => [k, local(v)]));
    if (container.image.startsWith(KUBECTL_IMAGE)) {
      if (argv[0] !== 'kubectl') throw new Error(`container ${container.name} runs ${argv[0]}, not kubectl`);
      // The stack's kubectl stands in for the image's; the token is the Job's ServiceAccount's.
      return runCommand([path.join(kubectlDir, 'kubectl'), ...argv.slice(1)], { ...env, KUBECONFIG: sa.kubeconfig }, []);
    }
    if (container.image !== o.image) throw new Error(`container ${container.name} runs image ${container.image}, not ${o.image}`);
    if (argv[0] !== '/bin/sh') throw new Error(`container ${container.name} runs ${argv[0]}, not /bin/sh`);
    const adapted = o.adapt(env, objects);
    if (adapted['SERVICE_ACCOUNT_DIR'] !== undefined) {
      if (adapted['SERVICE_ACCOUNT_DIR'] !== SERVICE_ACCOUNT_MOUNT) throw new Error(`SERVICE_ACCOUNT_DIR is ${adapted['SERVICE_ACCOUNT_DIR']}`);
      // What the kubelet gives a pod with a ServiceAccount token: here, the stack's API server.
      const api = new URL(stack['KUBERNETES_API_URL']!);
      Object.assign(adapted, { SERVICE_ACCOUNT_DIR: sa.dir, KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port });
    }
    return runCommand(argv, adapted, o.path ?? []);
  };

  const run: HookHarness['run'] = async (event, bindingId, opts = {}) => {
    const { pod } = renderHook(service, plan, event, instance, bindingId);
    // emptyDir volumes: a folder each, for this pod only.
    const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, fs.mkdtempSync(path.join(os.tmpdir(), 'kb-hook-volume-'))]));
    try {
      let result: Omit<HookRun, 'files'> = { status: 0, stdout: '', stderr: '' };
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        if (container.name === opts.stopBefore) break;
        result = await runContainer(container, volumes);
        if (result.status !== 0) break;
      }
      const mountOf = (name: string) => [...(pod.initContainers ?? []), ...pod.containers].flatMap((c) => c.volumeMounts ?? []).find((m) => m.name === name)!;
      const files = Object.fromEntries(
        [...volumes].flatMap(([name, dir]) => fs.readdirSync(dir).map((f) => [`${mountOf(name).mountPath}/${f}`, fs.readFileSync(path.join(dir, f), 'utf8')])),
      );
      return { ...result, files };
    } finally {
      for (const dir of volumes.values()) fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  return {
    objects,
    serviceAccountDir: sa.dir,
    run,
    async bind(bindingId) {
      const r = await run('onBindInstance', bindingId);
      if (r.status !== 0) throw new Error(`bind hook exited ${r.status}: ${r.stderr}${r.stdout}`);
      const hookSecret = await readBindingHookSecret(kube, instance.namespace, instance.instanceId, bindingId);
      if (!hookSecret) throw new Error(`the bind hook wrote no Secret for binding ${bindingId}`);
      const creds = renderCredentials(service, plan, { ...instance, bindingId }, { env: {}, services: serviceFacts(objects), hookSecret });
      return { creds: creds as Record<string, string>, hookSecret };
    },
    cleanup: () => fs.rmSync(sa.dir, { recursive: true, force: true }),
  };
}

export function ports(o: KubernetesObject): { port: number; targetPort?: number }[] {
  return (o as { spec?: { ports?: { port: number; targetPort?: number }[] } }).spec?.ports ?? [];
}

/** The rendered Service that exposes `port`. */
export function serviceWithPort(objects: KubernetesObject[], port: number): KubernetesObject {
  const svc = objects.find((o) => o.kind === 'Service' && ports(o).some((p) => p.port === port));
  if (!svc) throw new Error(`the plan renders no Service with port ${port}`);
  return svc;
}

/**
 * Env values pointed at this machine's server: each of `local`'s names must hold, in the Job, the
 * rendered Service's name (`name` or `name.<namespace>.svc`) or its port.
 */
export function pointAtLocal(env: Record<string, string>, svc: KubernetesObject, local: Record<string, string>): Record<string, string> {
  const names = [svc.metadata.name, `${svc.metadata.name}.${svc.metadata.namespace}.svc`];
  const servicePorts = ports(svc).map((p) => String(p.port));
  for (const name of Object.keys(local)) {
    const value = env[name];
    if (value === undefined || ![...names, ...servicePorts].includes(value))
      throw new Error(`env ${name} is ${value ?? 'not set'}, not the address of Service ${svc.metadata.name}`);
  }
  return { ...env, ...local };
}

/** The rendered Services as the broker reads them from a running instance (ClusterIP, cluster DNS names). */
function serviceFacts(objects: KubernetesObject[]): ServiceFacts[] {
  return objects
    .filter((s) => s.kind === 'Service')
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((s) => ({
      name: s.metadata.name,
      hostname: `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`,
      ports: ports(s).map((p) => ({ port: p.port, targetPort: p.targetPort ?? p.port })),
    }));
}

/** A credentials URI pointed at the local server instead of the instance's Service (checked to be that Service's). */
export function localUri(uri: string, namespace: string, port: number, servicePort: number): string {
  const u = new URL(uri);
  if (!u.hostname.endsWith(`.${namespace}.svc.cluster.local`) || u.port !== String(servicePort))
    throw new Error(`${u.host} is not a Service of ${namespace} on port ${servicePort}`);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/**
 * A shipped service's instances for hook tests: a namespace name of their own and one set of
 * randoms, so that every plan's instance has the same admin credentials, given decoded as the
 * instance's Secret holds them.
 */
export async function shippedInstances(serviceName: string, namespace: string) {
  const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
  const service = catalog.services.find((s) => s.name === serviceName);
  if (!service) throw new Error(`the shipped catalog has no service ${serviceName}`);
  const randoms = generateRandoms();
  const values = (instanceId: string, plan: Plan): InstanceValues => ({
    instanceId,
    org: 'org-1',
    space: 'space-1',
    namespace,
    storageClass: '',
    parameters: sampleValues(plan).parameters,
    randoms,
    nameScheme: CURRENT_NAME_SCHEME,
  });
  const plan = service.plans[0]!;
  const secret = renderPlan(service, plan, values('probe', plan)).find((o): o is KubernetesObject & { data: Record<string, string> } => o.kind === 'Secret');
  const instanceSecret = Object.fromEntries(Object.entries(secret?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { service, values, instanceSecret };
}
