// Runs a plan's bind or unbind hook outside Kubernetes, as the broker renders it: the Job of
// catalog/hooks.ts renderHookJobs, its container's command run with /bin/sh on this machine, with
// the container's env (secretKeyRef resolved from the instance's rendered Secret) and what the
// kubelet adds (KUBERNETES_SERVICE_HOST/PORT, the ServiceAccount's token and CA). What differs
// from a pod is said by the caller: `overrides` of env values that name cluster addresses
// (checked to hold the rendered value first) and the folder of the token.
import { execFileSync, spawnSync } from 'node:child_process';
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
import type { Container } from './pod-spec.js';

export interface HookPod {
  serviceAccountName?: string;
  containers: Container[];
}

/** The hook's one Job and its pod spec, as the broker renders them. */
export function renderHook(service: ServiceOffering, plan: Plan, event: HookEvent, values: InstanceValues, bindingId: string) {
  const jobs = renderHookJobs(service, plan, event, values, bindingId);
  if (jobs.length !== 1) throw new Error(`${plan.name} ${event}: expected one Job, got ${jobs.length}`);
  const job = jobs[0]!;
  const pod = (job as KubernetesObject & { spec: { template: { spec: HookPod } } }).spec.template.spec;
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
      if (raw === undefined) throw new Error(`env ${e.name} refers to Secret ${name} key ${key}, which the plan does not render`);
      env[e.name] = Buffer.from(raw, 'base64').toString('utf8');
    } else throw new Error(`env ${e.name}: only value and secretKeyRef are resolved here`);
  }
  return env;
}

/** A ServiceAccount token of the local stack for `account` in `namespace`, with the stack's CA, in a folder laid out as in a pod. */
export function serviceAccountDir(kubectl: string, kubeconfig: string, caFile: string, namespace: string, account: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-sa-'));
  const token = execFileSync(kubectl, ['--kubeconfig', kubeconfig, '-n', namespace, 'create', 'token', account, '--duration', '10m'], { encoding: 'utf8' });
  fs.writeFileSync(path.join(dir, 'token'), token.trim(), { mode: 0o600 });
  fs.copyFileSync(caFile, path.join(dir, 'ca.crt'));
  fs.writeFileSync(path.join(dir, 'namespace'), namespace);
  return dir;
}

export interface HookRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the container's command (`/bin/sh -c <script>`) with exactly `env` (and a PATH). */
export function runContainer(container: Container, env: Record<string, string>, extraPath: string[] = []): HookRun {
  const argv = [...(container.command ?? []), ...(container.args ?? [])];
  if (argv[0] !== '/bin/sh') throw new Error(`container ${container.name} runs ${argv[0]}, not /bin/sh`);
  const PATH = [...extraPath, '/usr/local/bin', '/usr/bin', '/bin'].join(':');
  // The image's own ENV gives a home (erl and mongosh want one); here a fresh folder.
  const HOME = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-hook-home-'));
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { PATH, HOME, ...env }, timeout: 120_000 });
  fs.rmSync(HOME, { recursive: true, force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface HookHarness {
  /** The plan's objects for the instance, rendered. */
  objects: KubernetesObject[];
  /** Runs the hook's container for a binding with its env, after `adapt` changed what names cluster addresses. */
  run(event: 'onBindInstance' | 'onUnbindInstance', bindingId: string): HookRun;
  /** Runs the bind hook (it must succeed) and renders the credentials from the Secret it wrote, as the broker does. */
  bind(bindingId: string): Promise<{ creds: Record<string, string>; hookSecret: Record<string, string> }>;
  /** The token folder of the hooks' ServiceAccount. */
  serviceAccountDir: string;
}

export interface HookTarget {
  service: ServiceOffering;
  plan: Plan;
  instance: InstanceValues;
}

export interface HarnessOptions {
  image: string;
  /** Turns the Job's env into this machine's: server addresses, and the image's own ENV (HOME). Checks what it replaces. */
  adapt: (env: Record<string, string>, objects: KubernetesObject[]) => Record<string, string>;
  /** Folders put before the system's on PATH (the image's tools). */
  path?: string[];
}

const FIELD_MANAGER = 'kb-test-hooks';

/**
 * The hooks of one instance of a plan, set up as on a cluster: the plan's ServiceAccount, Role and
 * RoleBinding applied to the instance's namespace on the local stack, a token of that account.
 */
export async function hookHarness(target: HookTarget, kube: KubeApi, o: HarnessOptions): Promise<HookHarness & { cleanup(): void }> {
  const { service, plan, instance } = target;
  const stack = stackEnv();
  const objects = renderPlan(service, plan, instance);
  for (const obj of objects.filter((x) => ['ServiceAccount', 'Role', 'RoleBinding'].includes(x.kind)))
    await kube.apply(obj, { fieldManager: FIELD_MANAGER, force: true });
  const account = renderHook(service, plan, 'onBindInstance', instance, 'probe').pod.serviceAccountName!;
  const kubectl = path.join(stack['KB_STACK_BIN']!.split(':')[0]!, 'kubectl');
  const saDir = serviceAccountDir(kubectl, stack['KUBECONFIG']!, stack['KB_TEMPORAL_TLS_CA']!, instance.namespace, account);
  const run = (event: 'onBindInstance' | 'onUnbindInstance', bindingId: string): HookRun => {
    const { pod } = renderHook(service, plan, event, instance, bindingId);
    const container = pod.containers[0]!;
    if (container.image !== o.image) throw new Error(`${event} runs image ${container.image}, not ${o.image}`);
    const env = o.adapt(containerEnv(container, objects), objects);
    if (env['SERVICE_ACCOUNT_DIR'] !== undefined) {
      if (env['SERVICE_ACCOUNT_DIR'] !== '/var/run/secrets/kubernetes.io/serviceaccount')
        throw new Error(`SERVICE_ACCOUNT_DIR is ${env['SERVICE_ACCOUNT_DIR']}`);
      // What the kubelet gives a pod with a ServiceAccount token: here, the stack's API server.
      const api = new URL(stack['KUBERNETES_API_URL']!);
      Object.assign(env, { SERVICE_ACCOUNT_DIR: saDir, KUBERNETES_SERVICE_HOST: api.hostname, KUBERNETES_SERVICE_PORT: api.port });
    }
    return runContainer(container, env, o.path);
  };
  return {
    objects,
    serviceAccountDir: saDir,
    run,
    async bind(bindingId) {
      const r = run('onBindInstance', bindingId);
      if (r.status !== 0) throw new Error(`bind hook exited ${r.status}: ${r.stderr}`);
      const hookSecret = await readBindingHookSecret(kube, instance.namespace, instance.instanceId, bindingId);
      if (!hookSecret) throw new Error(`the bind hook wrote no Secret for binding ${bindingId}`);
      const creds = renderCredentials(service, plan, { ...instance, bindingId }, { env: {}, services: serviceFacts(objects), hookSecret });
      return { creds: creds as Record<string, string>, hookSecret };
    },
    cleanup: () => fs.rmSync(saDir, { recursive: true, force: true }),
  };
}

export function ports(o: KubernetesObject): { port: number; targetPort?: number }[] {
  return (o as { spec?: { ports?: { port: number; targetPort?: number }[] } }).spec?.ports ?? [];
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
 * randoms, so that every plan's instance has the same admin credentials (the one server's), given
 * decoded as the instance's Secret holds them.
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
