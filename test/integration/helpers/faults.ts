// Breaking the local stack for real (stopping its processes by pid) and checking afterwards
// that nothing the broker manages was left without an instance.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MANAGED_BY, MANAGED_BY_LABEL, INSTANCE_ID_LABEL } from '../../../catalog/labels.js';
import { PROJECT_ROOT } from '../../../platform/config/paths.js';
import type { KubeApi } from '../../../platform/kube/api.js';
import { RecordStore } from '../../../platform/kube/records.js';
import { stackEnv } from './stack.js';

/**
 * Stops one component of the stack: `signal` (SIGTERM), then SIGKILL if it has not exited within 15 s
 * (kube-apiserver drains in-flight requests on SIGTERM and may take up to its request timeout).
 * Resolves when the process is gone.
 */
export async function stopComponent(name: 'kube-apiserver' | 'temporal', signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  const pidFile = path.join(stackEnv()['KB_STACK_PIDS']!, `${name}.pid`);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  const gone = async (ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
      try {
        process.kill(pid, 0);
      } catch {
        return true;
      }
    }
    return false;
  };
  process.kill(pid, signal);
  if (await gone(15_000)) return;
  process.kill(pid, 'SIGKILL');
  if (!(await gone(10_000))) throw new Error(`${name} (pid ${pid}) did not exit after SIGKILL`);
}

/** Starts whatever component of the stack is not running (scripts/stack/up.sh is idempotent). */
export function restartStack(): void {
  const up = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts/stack/up.sh')], { encoding: 'utf8' });
  if (up.status !== 0) throw new Error(`scripts/stack/up.sh failed:\n${up.stdout}\n${up.stderr}`);
}

/** The kinds the broker's objects (and what controllers make of them) come in: where leftovers would be. */
export const MANAGED_KINDS: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'ReplicaSet'],
  ['v1', 'Pod'],
  ['v1', 'Service'],
  ['v1', 'Secret'],
  ['v1', 'ConfigMap'],
  ['v1', 'ServiceAccount'],
  ['v1', 'PersistentVolumeClaim'],
  ['policy/v1', 'PodDisruptionBudget'],
  ['rbac.authorization.k8s.io/v1', 'Role'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding'],
];
/** Objects labelled as managed by the broker whose instance has no record: must be none. */
export async function orphans(kube: KubeApi, instanceNamespace: string, brokerNamespace: string): Promise<string[]> {
  const live = new Set((await new RecordStore(kube, brokerNamespace).listInstances()).map((r) => r.instanceId));
  const lists = await Promise.all(MANAGED_KINDS.map(([v, k]) => kube.list(v, k, instanceNamespace, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` })));
  return lists.flatMap((l, i) =>
    l.items
      .filter((o) => !live.has(o.metadata.labels?.[INSTANCE_ID_LABEL] ?? ''))
      .map((o) => `${MANAGED_KINDS[i]![1]}/${o.metadata.name} (instance ${o.metadata.labels?.[INSTANCE_ID_LABEL]})`),
  );
}

/**
 * The broker's requests to the API server since `since`, from the API server's audit log (the
 * stack records every request of the broker's identity, user kubernetes-broker).
 */
export function brokerRequests(since: Date): { count: number; byVerb: Record<string, number> } {
  const ids = new Map<string, string>();
  for (const line of fs.readFileSync(stackEnv()['KB_AUDIT_LOG']!, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { auditID: string; verb: string; requestReceivedTimestamp: string; user: { username: string } };
    if (e.user.username === 'kubernetes-broker' && new Date(e.requestReceivedTimestamp) >= since) ids.set(e.auditID, e.verb);
  }
  const byVerb: Record<string, number> = {};
  for (const verb of ids.values()) byVerb[verb] = (byVerb[verb] ?? 0) + 1;
  return { count: ids.size, byVerb };
}
