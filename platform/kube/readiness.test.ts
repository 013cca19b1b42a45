import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../catalog/types.js';
import { podDiagnosis, readiness } from './readiness.js';

/** A workload as the API server returns it: generation 2 observed unless said otherwise. */
function obj(kind: string, spec: Record<string, unknown>, status: Record<string, unknown> | undefined, generation = 2): KubernetesObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'web', generation },
    spec,
    ...(status ? { status: { observedGeneration: generation, ...status } } : {}),
  };
}

describe('readiness: Deployment', () => {
  const deployment = (status: Record<string, unknown>, replicas = 2, generation = 2) => obj('Deployment', { replicas }, status, generation);

  it('is ready when every replica is updated and available', () => {
    expect(readiness(deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 }))).toEqual({
      ready: true,
      detail: 'Deployment web: 2/2 available',
    });
  });

  it('waits for the controller to observe the latest generation', () => {
    const d = deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
    (d['status'] as Record<string, unknown>)['observedGeneration'] = 1;
    expect(readiness(d)).toEqual({ ready: false, detail: 'Deployment web: waiting for the controller' });
  });

  it('waits when the controller has not reported at all', () => {
    expect(readiness(obj('Deployment', { replicas: 1 }, undefined))).toMatchObject({ ready: false, detail: 'Deployment web: waiting for the controller' });
  });

  it('waits while the rollout has not updated every replica', () => {
    expect(readiness(deployment({ replicas: 2, updatedReplicas: 1, availableReplicas: 2 }))).toEqual({
      ready: false,
      detail: 'Deployment web: 1/2 replicas updated',
    });
  });

  it('waits while old replicas are terminating', () => {
    expect(readiness(deployment({ replicas: 3, updatedReplicas: 2, availableReplicas: 2 }))).toEqual({
      ready: false,
      detail: 'Deployment web: 1 old replicas terminating',
    });
  });

  it('waits until the replicas are available', () => {
    expect(readiness(deployment({ replicas: 2, updatedReplicas: 2, availableReplicas: 1 }))).toEqual({
      ready: false,
      detail: 'Deployment web: 1/2 replicas available',
    });
  });

  it('defaults spec.replicas to 1, and a Deployment scaled to 0 is ready at once', () => {
    expect(readiness(obj('Deployment', {}, { replicas: 1, updatedReplicas: 1, availableReplicas: 1 })).ready).toBe(true);
    expect(readiness(obj('Deployment', {}, { replicas: 1, updatedReplicas: 1, availableReplicas: 0 })).ready).toBe(false);
    expect(readiness(deployment({}, 0)).ready).toBe(true);
  });
});

describe('readiness: StatefulSet', () => {
  const sts = (status: Record<string, unknown>, spec: Record<string, unknown> = { replicas: 3 }) => obj('StatefulSet', spec, status);

  it('is ready when every replica is ready and updated to the current revision', () => {
    expect(readiness(sts({ readyReplicas: 3, updatedReplicas: 3, currentRevision: 'r2', updateRevision: 'r2' }))).toEqual({
      ready: true,
      detail: 'StatefulSet web: 3/3 ready',
    });
  });

  it('waits for the controller', () => {
    expect(readiness(obj('StatefulSet', { replicas: 1 }, { readyReplicas: 1, observedGeneration: 1 }, 2)).detail).toBe(
      'StatefulSet web: waiting for the controller',
    );
  });

  it('waits while replicas are not ready', () => {
    expect(readiness(sts({ readyReplicas: 1, updatedReplicas: 3, currentRevision: 'r2', updateRevision: 'r2' }))).toEqual({
      ready: false,
      detail: 'StatefulSet web: 1/3 replicas ready',
    });
  });

  it('waits while a rolling update is in progress (replicas or revision)', () => {
    expect(readiness(sts({ readyReplicas: 3, updatedReplicas: 2, currentRevision: 'r1', updateRevision: 'r2' }))).toEqual({
      ready: false,
      detail: 'StatefulSet web: 2/3 replicas updated',
    });
    expect(readiness(sts({ readyReplicas: 3, updatedReplicas: 3, currentRevision: 'r1', updateRevision: 'r2' })).ready).toBe(false);
  });

  it('with OnDelete updates, ready replicas are enough', () => {
    const s = sts({ readyReplicas: 3, updatedReplicas: 0, currentRevision: 'r1', updateRevision: 'r2' }, { replicas: 3, updateStrategy: { type: 'OnDelete' } });
    expect(readiness(s).ready).toBe(true);
  });

  it('counts ready replicas as updated when the controller does not report updatedReplicas', () => {
    expect(readiness(sts({ readyReplicas: 3, currentRevision: 'r1', updateRevision: 'r1' })).ready).toBe(true);
  });
});

describe('readiness: ReplicaSet, ReplicationController, DaemonSet', () => {
  it.each(['ReplicaSet', 'ReplicationController'])('%s is ready when enough replicas are ready', (kind) => {
    expect(readiness(obj(kind, { replicas: 2 }, { readyReplicas: 2 }))).toEqual({ ready: true, detail: `${kind} web: 2/2 replicas ready` });
    expect(readiness(obj(kind, { replicas: 2 }, { readyReplicas: 1 }))).toEqual({ ready: false, detail: `${kind} web: 1/2 replicas ready` });
    expect(readiness(obj(kind, { replicas: 2 }, { readyReplicas: 2, observedGeneration: 1 }, 2)).ready).toBe(false);
  });

  it('a DaemonSet is ready when every scheduled pod is ready and updated', () => {
    expect(readiness(obj('DaemonSet', {}, { desiredNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2 }))).toEqual({
      ready: true,
      detail: 'DaemonSet web: 2/2 pods ready',
    });
    expect(readiness(obj('DaemonSet', {}, { desiredNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2 })).ready).toBe(false);
    // A rollout in progress: all ready, not all updated.
    expect(readiness(obj('DaemonSet', {}, { desiredNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 1 })).ready).toBe(false);
    expect(readiness(obj('DaemonSet', {}, { desiredNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, observedGeneration: 1 }, 2)).ready).toBe(
      false,
    );
  });
});

describe('readiness: Job', () => {
  const job = (conditions: unknown[], succeeded?: number) =>
    ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'init' },
      spec: {},
      status: { conditions, ...(succeeded === undefined ? {} : { succeeded }) },
    }) as KubernetesObject;

  it('is ready when Complete', () => {
    expect(readiness(job([{ type: 'Complete', status: 'True' }], 1))).toEqual({ ready: true, detail: 'Job init: 1 succeeded' });
  });

  it('waits while running', () => {
    expect(readiness(job([]))).toEqual({ ready: false, detail: 'Job init: 0 succeeded' });
    expect(readiness(job([{ type: 'Complete', status: 'False' }])).ready).toBe(false);
  });

  it('has failed for good when Failed, with the reason and message', () => {
    expect(
      readiness(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }])),
    ).toEqual({
      ready: false,
      failed: true,
      detail: 'Job init failed: BackoffLimitExceeded Job has reached the specified backoff limit',
    });
    expect(readiness(job([{ type: 'Failed', status: 'True' }]))).toEqual({ ready: false, failed: true, detail: 'Job init failed:' });
  });

  it('a Failed condition that is not True is not a failure', () => {
    expect(
      readiness(
        job([
          { type: 'Failed', status: 'False' },
          { type: 'Complete', status: 'True' },
        ]),
      ).ready,
    ).toBe(true);
  });
});

describe('readiness: Pod', () => {
  const pod = (status: Record<string, unknown> | undefined) =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0' }, spec: {}, ...(status ? { status } : {}) }) as KubernetesObject;

  it('is ready when its Ready condition is True', () => {
    expect(readiness(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }))).toEqual({ ready: true, detail: 'Pod web-0: Running, ready' });
  });

  it('a pod that ran to completion counts as ready', () => {
    expect(readiness(pod({ phase: 'Succeeded' })).ready).toBe(true);
  });

  it('waits while Pending or Running without Ready', () => {
    expect(readiness(pod(undefined))).toEqual({ ready: false, detail: 'Pod web-0: Pending' });
    expect(readiness(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] }))).toEqual({ ready: false, detail: 'Pod web-0: Running' });
  });

  it('has failed for good when Failed', () => {
    expect(readiness(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }))).toEqual({
      ready: false,
      failed: true,
      detail: 'Pod web-0 failed: Evicted The node was low on resource: memory.',
    });
  });
});

describe('readiness: other kinds', () => {
  it.each(['Service', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'MyCustomResource'])('%s is ready once it exists', (kind) => {
    expect(readiness({ apiVersion: 'v1', kind, metadata: { name: 'x' } })).toEqual({ ready: true, detail: `${kind} x: exists` });
  });
});

describe('podDiagnosis', () => {
  const pod = (status: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0' }, status }) as KubernetesObject;

  it('says nothing about a ready pod', () => {
    expect(podDiagnosis(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }))).toBeUndefined();
  });

  it("an unschedulable pod: the scheduler's message", () => {
    const p = pod({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient memory.' }],
    });
    expect(podDiagnosis(p)).toBe('pod web-0 not scheduled: 0/2 nodes are available: 2 Insufficient memory.');
    // Without a message, the reason.
    expect(podDiagnosis(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] }))).toBe(
      'pod web-0 not scheduled: Unschedulable',
    );
  });

  it('an image that cannot be pulled', () => {
    const p = pod({
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'True' }],
      containerStatuses: [{ name: 'db', ready: false, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "postgres:99"' } } }],
    });
    expect(podDiagnosis(p)).toBe('pod web-0 Pending: container db waiting: ImagePullBackOff (Back-off pulling image "postgres:99")');
  });

  it('a crashing container, and one that terminated', () => {
    const p = pod({
      phase: 'Running',
      containerStatuses: [
        { name: 'db', ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } } },
        { name: 'sidecar', ready: false, state: { terminated: { reason: 'Error', exitCode: 137 } } },
        { name: 'ok', ready: true, state: { running: {} } },
      ],
    });
    expect(podDiagnosis(p)).toBe('pod web-0 Running: container db waiting: CrashLoopBackOff; container sidecar terminated: Error exit code 137');
  });

  it('a running container whose readiness probe fails', () => {
    const p = pod({ phase: 'Running', containerStatuses: [{ name: 'web', ready: false, state: { running: { startedAt: '2025-01-01T00:00:00Z' } } }] });
    expect(podDiagnosis(p)).toBe('pod web-0 Running: container web not ready (readiness probe failing)');
  });

  it('init containers are diagnosed first', () => {
    const p = pod({
      phase: 'Pending',
      initContainerStatuses: [{ name: 'migrate', ready: false, state: { terminated: { reason: 'Error' } } }],
      containerStatuses: [{ name: 'web', ready: false, state: { waiting: { reason: 'PodInitializing' } } }],
    });
    expect(podDiagnosis(p)).toBe('pod web-0 Pending: container migrate terminated: Error exit code ?; container web waiting: PodInitializing');
  });

  it('a pod without status is Pending with nothing more to say', () => {
    expect(podDiagnosis({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0' } })).toBe('pod web-0 Pending');
  });
});
