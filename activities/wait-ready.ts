// Waits until every workload of an instance is ready, driven by one Kubernetes watch per
// workload kind (activities/watch-until.ts keeps them open, heartbeats the workloads still
// pending, stops on cancellation). Fails at the deadline with what is not ready and why.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { instanceSelector } from '../catalog/labels.js';
import type { KubernetesObject } from '../catalog/types.js';
import type { ObjectRef } from '../workflows/types.js';
import type { ActivityDeps } from './deps.js';
import type { KubeApi } from '../platform/kube/api.js';
import type { RecordReadAhead } from '../platform/kube/records.js';
import { byDeadline, clusterClient, NON_RETRYABLE } from './failures.js';
import { podDiagnosis, readiness } from '../platform/kube/readiness.js';
import { refKey } from './refs.js';
import { WATCH_SECONDS, watchUntil } from './watch-until.js';

export interface WaitReadyInput {
  instanceId: string;
  namespace: string;
  /** The objects applied; the workloads among them are waited for. */
  objects: ObjectRef[];
  /** Epoch milliseconds: when the operation gives up. */
  deadline: number;
  /** The instance's cluster (absent: the default). */
  cluster?: string;
  /** Mark the instance ready once its workloads are (a provision without a create hook; workflows/VERSIONS.md, `ready-with-wait`). */
  markReady?: boolean;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'DaemonSet', 'Job', 'Pod']);

/**
 * `markReady`: the state update the provision's last step makes (setInstanceState, with its checks
 * of the calling workflow and the record: activities/verify.ts), from the record read while waiting.
 */
export function createWaitReadyActivities(
  { clusters, records }: ActivityDeps,
  markReady: (instanceId: string, readAhead: RecordReadAhead) => Promise<unknown>,
) {
  /** Why the instance is not ready, for the failure description: workloads, then their pods. */
  async function diagnose(kube: KubeApi, instanceId: string, namespace: string, pending: string[]): Promise<string> {
    let pods: string[] = [];
    try {
      const list = await kube.list('v1', 'Pod', namespace, { labelSelector: instanceSelector(instanceId) });
      pods = list.items
        .map((p) => podDiagnosis({ ...p, kind: 'Pod' }))
        .filter((d): d is string => d !== undefined)
        .slice(0, 5);
    } catch {
      // the description is still useful without pod details
    }
    return [...pending, ...pods].join('; ');
  }

  async function waitReady(input: WaitReadyInput): Promise<void> {
    const ctx = Context.current();
    const kube = clusterClient(clusters, input.cluster, input.instanceId);
    const workloads = input.objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
    if (workloads.length === 0) return;
    const wanted = new Set(workloads.map(refKey));
    const seen = new Map<string, KubernetesObject>();
    const kinds = [...new Map(workloads.map((w) => [`${w.apiVersion}/${w.kind}`, w])).values()];
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

    await watchUntil(ctx, {
      watches: kinds.map((target) => ({
        what: `watch ${target.kind}s of instance ${input.instanceId}`,
        // A new watch lists the kind's objects again.
        onStart: () => {
          for (const key of [...seen.keys()]) if (key.startsWith(`${target.kind}/`)) seen.delete(key);
        },
        open: (onEvent, signal) =>
          kube.watch(
            target.apiVersion,
            target.kind,
            input.namespace,
            { labelSelector: instanceSelector(input.instanceId), timeoutSeconds: WATCH_SECONDS },
            onEvent,
            signal,
          ),
        onEvent: (type, obj) => {
          const key = refKey({ kind: obj.kind ?? target.kind, name: obj.metadata.name, namespace: obj.metadata.namespace });
          if (type === 'DELETED') seen.delete(key);
          else if (type !== 'BOOKMARK') seen.set(key, { ...obj, kind: target.kind });
        },
      })),
      verdict: () => {
        const { pending, failed } = status();
        if (failed) return { fail: ApplicationFailure.nonRetryable(`instance ${input.instanceId} cannot become ready: ${failed}`, NON_RETRYABLE.notReady) };
        return pending.length === 0 ? 'done' : 'waiting';
      },
      deadline: input.deadline,
      atDeadline: async () =>
        ApplicationFailure.nonRetryable(
          `instance ${input.instanceId} was not ready within its deadline: ${await diagnose(kube, input.instanceId, input.namespace, status().pending)}`,
          NON_RETRYABLE.notReady,
        ),
      progress: () => ({ pending: status().pending.slice(0, 10) }),
    });
  }

  return {
    waitInstanceReady: (input: WaitReadyInput) =>
      byDeadline(input.deadline, async () => {
        // The record is read while the workloads start, not after: once they are ready, marking
        // it is one write (read afresh if it changed meanwhile).
        const readAhead = input.markReady ? records.readAhead(input.instanceId) : undefined;
        await waitReady(input);
        if (readAhead) await markReady(input.instanceId, readAhead);
      }),
  };
}
