import { describe, expect, it } from 'vitest';
import { afterDeletionEvent, blocking, removedAtOnce, without } from './delete-objects.js';

describe('afterDeletionEvent', () => {
  it('waits until everything listed is deleted', () => {
    const left = new Set(['Pod/a', 'Pod/b']);
    expect(afterDeletionEvent(left, 'DELETED', 'Pod/a', true)).toBe('wait');
    expect(afterDeletionEvent(left, 'MODIFIED', 'Pod/b', true)).toBe('wait');
    expect(afterDeletionEvent(left, 'BOOKMARK', '/', false)).toBe('wait');
    expect(afterDeletionEvent(left, 'DELETED', 'Pod/b', true)).toBe('list again');
    expect(left.size).toBe(0);
  });

  it('lists again when a controller made something new that nobody deletes yet', () => {
    const left = new Set(['Pod/a']);
    expect(afterDeletionEvent(left, 'ADDED', 'Pod/c', true)).toBe('wait');
    expect(afterDeletionEvent(left, 'ADDED', 'Pod/c', false)).toBe('list again');
    expect(afterDeletionEvent(left, 'MODIFIED', 'Pod/d', false)).toBe('list again');
  });
});

describe('removedAtOnce', () => {
  // A deletecollection answers with each object as it was before the delete.
  const meta = (metadata: Record<string, unknown>) => ({ metadata: { name: 'x', ...metadata } });

  it('is true of an object without finalizers, of any kind but Pod and the workloads', () => {
    expect(removedAtOnce('Secret', meta({}))).toBe(true);
    expect(removedAtOnce('Service', meta({ finalizers: [] }))).toBe(true);
  });

  it('is false of a workload: deleted in the foreground, it stays until what it made is gone', () => {
    for (const kind of ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']) expect(removedAtOnce(kind, meta({})), kind).toBe(false);
  });

  it('is false of a Pod (graceful deletion), an object with finalizers, or one already being deleted', () => {
    expect(removedAtOnce('Pod', meta({}))).toBe(false);
    expect(removedAtOnce('PersistentVolumeClaim', meta({ finalizers: ['kubernetes.io/pvc-protection'] }))).toBe(false);
    expect(removedAtOnce('Secret', meta({ deletionTimestamp: '2026-11-26T22:00:00Z' }))).toBe(false);
  });
});

describe('blocking', () => {
  const deleting = (name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'x',
    metadata: { name, deletionTimestamp: '2026-12-04T21:00:00Z', finalizers: ['foregroundDeletion'] },
  });
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', deletionTimestamp: '2026-12-04T21:00:00Z' } };
  const RS = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  const POD = { apiVersion: 'v1', kind: 'Pod' };

  it('watches the Pods, not the workloads that wait for them in foreground deletion', () => {
    const remaining = [
      { kind: RS, objects: [deleting('rs')] },
      { kind: POD, objects: [pod] },
    ];
    expect(blocking(remaining)).toEqual([{ kind: POD, objects: [pod] }]);
  });

  it('watches everything when only such workloads are left', () => {
    const remaining = [{ kind: RS, objects: [deleting('rs')] }];
    expect(blocking(remaining)).toEqual(remaining);
  });
});

describe('without', () => {
  it('drops the objects seen gone, and the kinds left with none', () => {
    const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', uid: 'u1' } };
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', uid: 'u2' } };
    const remaining = [
      { kind: { apiVersion: 'apps/v1', kind: 'ReplicaSet' }, objects: [rs] },
      { kind: { apiVersion: 'v1', kind: 'Pod' }, objects: [pod] },
    ];
    expect(without(remaining, [{ objects: [pod] }])).toEqual([remaining[0]]);
  });
});
