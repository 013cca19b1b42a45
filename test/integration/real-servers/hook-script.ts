// A shipped plan's bind and unbind hooks, run outside Kubernetes as their Jobs would run: the
// Job rendered by the broker's own code (catalog/hooks.ts renderHookJobs), its containers in
// order (init containers first), each container's command with the environment Kubernetes would
// give it (values, the instance Secret's keys for secretKeyRef), volumes as local folders. What
// cannot be the same here is said where it happens: the server's host and port (the test's
// real server instead of the Service), the binaries (Debian's, first in PATH, instead of the
// image's) and the pod's ServiceAccount token (a token of the same ServiceAccount on the stack).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderHookJobs } from '../../../catalog/hooks.js';
import type { HookEvent, InstanceValues, KubernetesObject, Plan, ServiceOffering } from '../../../catalog/types.js';
import type { EnvVar, PodSpec } from './pod-spec.js';
import { runClient, type CommandResult } from './server-process.js';

/** The decoded data of every Secret among the instance's rendered objects, by name. */
export function secretsOf(objects: KubernetesObject[]): Record<string, Record<string, string>> {
  const secrets: Record<string, Record<string, string>> = {};
  for (const o of objects.filter((o) => o.kind === 'Secret')) {
    const { data = {}, stringData = {} } = o as KubernetesObject & { data?: Record<string, string>; stringData?: Record<string, string> };
    secrets[o.metadata.name] = {
      ...Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
      ...stringData,
    };
  }
  return secrets;
}

export interface HookContainer {
  name: string;
  image: string;
  argv: string[];
  /** The container's environment as Kubernetes would set it. */
  env: Record<string, string>;
  mountPaths: string[];
}

/** The containers of the event's Jobs, in the order they run; the pod's ServiceAccount with them. */
export function hookContainers(
  service: ServiceOffering,
  plan: Plan,
  event: HookEvent,
  values: InstanceValues,
  bindingId: string,
  secrets: Record<string, Record<string, string>>,
): { serviceAccountName?: string; containers: HookContainer[] }[] {
  return renderHookJobs(service, plan, event, values, bindingId).map((job) => {
    const pod = (job as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
    const containers = [...(pod.initContainers ?? []), ...pod.containers].map((c) => ({
      name: c.name,
      image: c.image,
      argv: [...(c.command ?? []), ...(c.args ?? [])],
      env: Object.fromEntries((c.env ?? []).map((e) => [e.name, envValue(e, secrets, c.name)])),
      mountPaths: (c.volumeMounts ?? []).map((m) => m.mountPath),
    }));
    return { serviceAccountName: pod.serviceAccountName, containers };
  });
}

function envValue(e: EnvVar, secrets: Record<string, Record<string, string>>, container: string): string {
  const ref = e.valueFrom?.secretKeyRef;
  if (!ref) return e.value ?? '';
  const value = secrets[ref.name]?.[ref.key];
  if (value === undefined) throw new Error(`container ${container}: env ${e.name} reads Secret ${ref.name} key ${ref.key}, which the instance does not have`);
  return value;
}

export interface LocalRun {
  /** Env values replaced for this machine (the server's host and port); each must exist in the Job. */
  override?: Record<string, string>;
  /** Folders standing in for the pod's volumes: mount path -> local folder. */
  volumes?: Record<string, string>;
  /** PATH of the run: where this machine has the image's programs. */
  path: string;
  /** Further variables that are not the Job's (KUBECONFIG of the ServiceAccount's token). */
  extra?: Record<string, string>;
}

/** Runs one container's command on this machine; throws with its output when it fails. */
export function runContainer(c: HookContainer, local: LocalRun): CommandResult {
  for (const name of Object.keys(local.override ?? {})) {
    if (!(name in c.env)) throw new Error(`container ${c.name} has no env ${name} to point at the local server`);
  }
  const volumes = Object.entries(local.volumes ?? {});
  for (const p of c.mountPaths) if (!local.volumes?.[p]) throw new Error(`container ${c.name} mounts ${p}: give it a local folder`);
  const translate = (s: string) => volumes.reduce((text, [mount, dir]) => (text.startsWith(mount + '/') ? dir + text.slice(mount.length) : text), s);
  const env = Object.fromEntries(Object.entries({ ...c.env, ...local.override }).map(([k, v]) => [k, translate(v)]));
  const [command, ...args] = c.argv.map(translate);
  const r = runClient(command!, args, { ...env, ...local.extra, PATH: local.path, HOME: os.tmpdir() });
  if (r.status !== 0) throw new Error(`container ${c.name} (${c.image}) exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r;
}

/** A fresh folder standing in for an emptyDir volume. */
export function localVolume(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kb-hook-volume-'));
}
