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
import { renderHookJobs } from '../../../catalog/hooks.js';
import type { HookEvent, InstanceValues, KubernetesObject, Plan, ServiceOffering } from '../../../catalog/types.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
}
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
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: { PATH, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
