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
import { byDeadline, clusterClient, NON_RETRYABLE, toActivityFailure } from './failures.js';
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

/** The brief wait's time ran out with workloads still pending: not a failure, the regular wait follows. */
class StillWaiting extends Error {}

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

  /** Resolves once every workload is ready; `until` (epoch ms): rejects with StillWaiting then (not the deadline's failure). */
  async function waitReady(input: WaitReadyInput, until?: number): Promise<void> {
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
      deadline: until ?? input.deadline,
      atDeadline: async () =>
        until !== undefined
          ? new StillWaiting()
          : ApplicationFailure.nonRetryable(
              `instance ${input.instanceId} was not ready within its deadline: ${await diagnose(kube, input.instanceId, input.namespace, status().pending)}`,
              NON_RETRYABLE.notReady,
            ),
      progress: () => ({ pending: status().pending.slice(0, 10) }),
    });
  }

  /** Waits until `until` at most (the deadline when absent); then marks the instance ready if asked. False: not ready by `until`. */
  async function waitThenMark(input: WaitReadyInput, until?: number): Promise<boolean> {
    // The record is read while the workloads start, not after: once they are ready, marking
    // it is one write (read afresh if it changed meanwhile).
    const readAhead = input.markReady ? records.readAhead(input.instanceId) : undefined;
    try {
      await waitReady(input, until);
    } catch (err) {
      if (err instanceof StillWaiting) return false;
      throw err;
    }
    if (readAhead) await markReady(input.instanceId, readAhead);
    return true;
  }

  return {
    waitInstanceReady: (input: WaitReadyInput) => byDeadline(input.deadline, async () => void (await waitThenMark(input))),
    /**
     * The same wait, for `withinMs` at most, as a local step inside the workflow task of the
     * apply (patch `brief-wait-first`, workflows/VERSIONS.md): workloads that are ready within
     * that time end the provision in that one workflow task, without the activity's dispatch,
     * its persisted completion and the workflow task after it. False when they are not ready by
     * then (or the operation's deadline comes first): the heartbeating wait takes over.
     */
    async waitInstanceReadyBriefly(input: WaitReadyInput & { withinMs: number }): Promise<boolean> {
      try {
        return await waitThenMark(input, Math.min(input.deadline, Date.now() + input.withinMs));
      } catch (err) {
        const failure = toActivityFailure(err, 'talk to Kubernetes');
        // What a retry could mend is the heartbeating wait's to retry, at its pace; a workload
        // that cannot become ready, a refused step or a cancellation end the provision as there.
        if ((failure instanceof ApplicationFailure && failure.nonRetryable) || Context.current().cancellationSignal.aborted) throw failure;
        return false;
      }
    },
  };
}
