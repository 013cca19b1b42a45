// When is a workload ready? Judged from the workload's own status, the way `kubectl rollout
// status` does, so one watch per workload kind tells the whole story. Pure functions.
import type { KubernetesObject } from '../../catalog/types.js';

export interface Readiness {
  ready: boolean;
  /** The workload can never become ready (a failed Job or Pod): stop waiting. */
  failed?: boolean;
  /** Short, human-readable; shown in heartbeats and failure descriptions. No secrets. */
  detail: string;
}

interface Condition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
}

// The fields read below, of every workload kind. Counts stay `unknown`: `num` checks them.
interface WorkloadSpec {
  replicas?: unknown;
  updateStrategy?: { type?: string };
}

interface WorkloadStatus {
  observedGeneration?: unknown;
  replicas?: unknown;
  updatedReplicas?: unknown;
  availableReplicas?: unknown;
  readyReplicas?: unknown;
  currentRevision?: string;
  updateRevision?: string;
  desiredNumberScheduled?: unknown;
  numberReady?: unknown;
  updatedNumberScheduled?: unknown;
  succeeded?: unknown;
  conditions?: Condition[];
  phase?: string;
  reason?: string;
  message?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses?: ContainerStatus[];
}

type Obj = KubernetesObject & { spec?: WorkloadSpec; status?: WorkloadStatus };

const num = (v: unknown, fallback = 0) => (typeof v === 'number' ? v : fallback);

function generationObserved(o: Obj): boolean {
  const generation = num(o.metadata.generation, 0);
  return num(o.status?.observedGeneration, 0) >= generation;
}

function condition(o: Obj, type: string): Condition | undefined {
  return o.status?.conditions?.find((c) => c.type === type);
}

export function readiness(obj: KubernetesObject): Readiness {
  const o = obj as Obj;
  const name = `${o.kind} ${o.metadata.name}`;
  const replicas = num(o.spec?.replicas, 1);
  const s: WorkloadStatus = o.status ?? {};
  switch (o.kind) {
    case 'Deployment': {
      if (!generationObserved(o)) return { ready: false, detail: `${name}: waiting for the controller` };
      const updated = num(s.updatedReplicas),
        available = num(s.availableReplicas),
        total = num(s.replicas);
      if (updated < replicas) return { ready: false, detail: `${name}: ${updated}/${replicas} replicas updated` };
      if (total > updated) return { ready: false, detail: `${name}: ${total - updated} old replicas terminating` };
      if (available < replicas) return { ready: false, detail: `${name}: ${available}/${replicas} replicas available` };
      return { ready: true, detail: `${name}: ${available}/${replicas} available` };
    }
    case 'StatefulSet': {
      if (!generationObserved(o)) return { ready: false, detail: `${name}: waiting for the controller` };
      const ready = num(s.readyReplicas),
        updated = num(s.updatedReplicas, ready);
      if (ready < replicas) return { ready: false, detail: `${name}: ${ready}/${replicas} replicas ready` };
      if (o.spec?.updateStrategy?.type !== 'OnDelete' && (updated < replicas || s.currentRevision !== s.updateRevision)) {
        return { ready: false, detail: `${name}: ${updated}/${replicas} replicas updated` };
      }
      return { ready: true, detail: `${name}: ${ready}/${replicas} ready` };
    }
    case 'ReplicaSet':
    case 'ReplicationController': {
      if (!generationObserved(o)) return { ready: false, detail: `${name}: waiting for the controller` };
      const ready = num(s.readyReplicas);
      return { ready: ready >= replicas, detail: `${name}: ${ready}/${replicas} replicas ready` };
    }
    case 'DaemonSet': {
      if (!generationObserved(o)) return { ready: false, detail: `${name}: waiting for the controller` };
      const desired = num(s.desiredNumberScheduled),
        ready = num(s.numberReady),
        updated = num(s.updatedNumberScheduled);
      return { ready: ready >= desired && updated >= desired, detail: `${name}: ${ready}/${desired} pods ready` };
    }
    case 'Job': {
      const failed = condition(o, 'Failed');
      if (failed?.status === 'True') return { ready: false, failed: true, detail: `${name} failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim() };
      const complete = condition(o, 'Complete');
      return { ready: complete?.status === 'True', detail: `${name}: ${num(s.succeeded)} succeeded` };
    }
    case 'Pod': {
      if (s.phase === 'Failed') return { ready: false, failed: true, detail: `${name} failed: ${s.reason ?? ''} ${s.message ?? ''}`.trim() };
      const ready = condition(o, 'Ready')?.status === 'True' || s.phase === 'Succeeded';
      return { ready, detail: `${name}: ${s.phase ?? 'Pending'}${ready ? ', ready' : ''}` };
    }
    default:
      return { ready: true, detail: `${name}: exists` };
  }
}

/** Why a pod is not ready, for a failure description: scheduling, image pulls, crashes, probes. */
export function podDiagnosis(pod: KubernetesObject): string | undefined {
  const p = pod as Obj;
  const s: WorkloadStatus = p.status ?? {};
  if (readiness(pod).ready) return undefined;
  const scheduled = condition(p, 'PodScheduled');
  if (scheduled?.status === 'False') return `pod ${p.metadata.name} not scheduled: ${scheduled.message ?? scheduled.reason ?? ''}`;
  const states = [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])];
  const reasons = states
    .filter((c) => !c.ready)
    .map((c) => {
      const w = c.state?.waiting,
        t = c.state?.terminated;
      if (w) return `container ${c.name} waiting: ${w.reason ?? ''}${w.message ? ` (${w.message})` : ''}`;
      if (t) return `container ${c.name} terminated: ${t.reason ?? ''} exit code ${t.exitCode ?? '?'}`;
      return `container ${c.name} not ready (readiness probe failing)`;
    });
  return `pod ${p.metadata.name} ${s.phase ?? 'Pending'}${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
}
