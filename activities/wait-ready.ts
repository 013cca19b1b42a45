// Waits until every workload of an instance is ready, driven by one Kubernetes watch per
// workload kind. Heartbeats with the current state, so Temporal notices a dead worker and
// retries elsewhere, and an operator sees the progress in the UI. Fails at the deadline with
// what is not ready and why.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { instanceSelector } from '../catalog/labels.js';
import type { KubernetesObject } from '../catalog/types.js';
import { KubeApiError, KubeUnavailableError } from '../platform/kube/errors.js';
import type { ObjectRef } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import type { KubeApi } from '../platform/kube/api.js';
import { clusterClient, NON_RETRYABLE, toActivityFailure } from './failures.js';
import { podDiagnosis, readiness } from '../platform/kube/readiness.js';
import { refKey } from './refs.js';

export interface WaitReadyInput {
  instanceId: string;
  namespace: string;
  /** The objects applied; the workloads among them are waited for. */
  objects: ObjectRef[];
  /** Epoch milliseconds: when the operation gives up. */
  deadline: number;
  /** The instance's cluster (absent: the default). */
  cluster?: string;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'DaemonSet', 'Job', 'Pod']);
// Cancellation reaches an activity only in the answer to a heartbeat: heartbeat often enough
// that a DELETE during provisioning stops the wait within seconds (the worker's heartbeat
// throttle is set to match).
export const HEARTBEAT_MS = 2_000;

export function createWaitReadyActivities({ clusters }: ActivityDeps) {
  /** Why the instance is not ready, for the failure description: workloads, then their pods. */
  async function diagnose(kube: KubeApi, instanceId: string, namespace: string, pending: string[]): Promise<string> {
    let pods: string[] = [];
    try {
      const list = await kube.list('v1', 'Pod', namespace, { labelSelector: instanceSelector(instanceId) });
      pods = list.items.map((p) => podDiagnosis({ ...p, kind: 'Pod' })).filter((d): d is string => d !== undefined).slice(0, 5);
    } catch {
      // the description is still useful without pod details
    }
    return [...pending, ...pods].join('; ');
  }

  return {
    async waitInstanceReady(input: WaitReadyInput): Promise<void> {
      const ctx = Context.current();
      const kube = clusterClient(clusters, input.cluster, input.instanceId);
      const workloads = input.objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
      if (workloads.length === 0) return;
      const wanted = new Set(workloads.map(refKey));
      const seen = new Map<string, KubernetesObject>();
      const kinds = [...new Map(workloads.map((w) => [`${w.apiVersion}/${w.kind}`, w])).values()];
      const abort = new AbortController();
      ctx.cancellationSignal.addEventListener('abort', () => abort.abort(), { once: true });

      const status = () => {
        const pending: string[] = [];
        let failed: string | undefined;
        for (const key of wanted) {
          const obj = seen.get(key);
          if (!obj) {
            pending.push(`${key.split('/')[0]} ${key.split('/').at(-1)}: not found yet`);
            continue;
          }
          const r = readiness(obj);
          if (r.failed) failed = r.detail;
          if (!r.ready) pending.push(r.detail);
        }
        return { pending, failed };
      };

      let deadlineTimer: NodeJS.Timeout | undefined;
      const outcome = new Promise<void>((resolve, reject) => {
        const check = () => {
          const { pending, failed } = status();
          if (failed) reject(ApplicationFailure.nonRetryable(`instance ${input.instanceId} cannot become ready: ${failed}`, NON_RETRYABLE.notReady));
          else if (pending.length === 0) resolve();
        };
        for (const target of kinds) {
          void watchKind(target, check).catch(reject);
        }
        const remaining = input.deadline - Date.now();
        deadlineTimer = setTimeout(() => {
          void diagnose(kube, input.instanceId, input.namespace, status().pending).then((why) =>
            reject(
              ApplicationFailure.nonRetryable(
                `instance ${input.instanceId} was not ready within its deadline: ${why}`,
                NON_RETRYABLE.notReady,
              ),
            ),
          );
        }, Math.max(0, remaining));
      });

      // Watches end now and then (server timeouts, API server restarts): start them again from
      // the current state, backing off while the API server is unreachable.
      async function watchKind(target: ObjectRef, onChange: () => void): Promise<void> {
        let backoff = 500;
        while (!abort.signal.aborted) {
          for (const key of [...seen.keys()]) if (key.startsWith(`${target.kind}/`)) seen.delete(key);
          try {
            await kube.watch(
              target.apiVersion,
              target.kind,
              input.namespace,
              { labelSelector: instanceSelector(input.instanceId), timeoutSeconds: 300 },
              (type, obj) => {
                backoff = 500;
                const key = refKey({ kind: obj.kind ?? target.kind, name: obj.metadata.name, namespace: obj.metadata.namespace });
                if (type === 'DELETED') seen.delete(key);
                else if (type !== 'BOOKMARK') seen.set(key, { ...obj, kind: target.kind });
                onChange();
              },
              abort.signal,
            );
          } catch (err) {
            if (abort.signal.aborted) return;
            const transient = err instanceof KubeUnavailableError || (err instanceof KubeApiError && err.transient);
            if (!transient) throw toActivityFailure(err, `watch ${target.kind}s of instance ${input.instanceId}`);
            await new Promise((r) => setTimeout(r, backoff));
            backoff = Math.min(backoff * 2, 5_000);
          }
        }
      }

      const heartbeat = setInterval(() => ctx.heartbeat({ pending: status().pending.slice(0, 10) }), HEARTBEAT_MS);
      try {
        ctx.heartbeat({ pending: [] });
        await Promise.race([outcome, ctx.cancelled]);
      } finally {
        clearInterval(heartbeat);
        clearTimeout(deadlineTimer);
        abort.abort();
      }
    },
  };
}
