import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../catalog/types.js';
import { finishableDeletions, inForegroundDeletion } from './foreground-deletion.js';

const kind = (k: string) => ({ apiVersion: k === 'Pod' ? 'v1' : 'apps/v1', kind: k });
const DEPLOYMENT = kind('Deployment'),
  REPLICASET = kind('ReplicaSet'),
  POD = kind('Pod');
const obj = (name: string, metadata: Record<string, unknown> = {}): KubernetesObject => ({ apiVersion: 'v1', kind: 'x', metadata: { name, ...metadata } });
const deleting = (name: string, finalizers = ['foregroundDeletion']) => obj(name, { deletionTimestamp: '2026-12-04T21:00:00Z', finalizers });
const LISTED = [DEPLOYMENT, REPLICASET, POD];
const names = (r: { object: KubernetesObject }[]) => r.map((f) => f.object.metadata.name);

describe('inForegroundDeletion', () => {
  it('is true of a workload being deleted that waits only for the collector', () => {
    expect(inForegroundDeletion(REPLICASET, deleting('rs'))).toBe(true);
    expect(inForegroundDeletion(REPLICASET, deleting('rs', []))).toBe(true);
  });

  it('is false of one not being deleted, one with another finalizer, or a kind that makes nothing', () => {
    expect(inForegroundDeletion(REPLICASET, obj('rs', { finalizers: ['foregroundDeletion'] }))).toBe(false);
    expect(inForegroundDeletion(REPLICASET, deleting('rs', ['foregroundDeletion', 'example.com/hold']))).toBe(false);
    expect(inForegroundDeletion(POD, deleting('p'))).toBe(false);
  });

  it('is false of a CronJob: its Jobs carry no instance label, a list by that label cannot tell they are gone', () => {
    expect(inForegroundDeletion({ apiVersion: 'batch/v1', kind: 'CronJob' }, deleting('cj'))).toBe(false);
    expect(inForegroundDeletion({ apiVersion: 'batch/v1', kind: 'Job' }, deleting('job'))).toBe(true);
  });
});

describe('finishableDeletions', () => {
  it('finishes a Deployment and its ReplicaSet once no Pod is left', () => {
    const remaining = [
      { kind: DEPLOYMENT, objects: [deleting('d')] },
      { kind: REPLICASET, objects: [deleting('rs')] },
    ];
    expect(names(finishableDeletions(remaining, LISTED))).toEqual(['d', 'rs']);
  });

  it('finishes nothing while a Pod is left, being deleted or not', () => {
    const remaining = [
      { kind: DEPLOYMENT, objects: [deleting('d')] },
      { kind: REPLICASET, objects: [deleting('rs')] },
      { kind: POD, objects: [deleting('p', [])] },
    ];
    expect(finishableDeletions(remaining, LISTED)).toEqual([]);
  });

  it('leaves a Deployment whose ReplicaSet is not being deleted (a controller made it since)', () => {
    const remaining = [
      { kind: DEPLOYMENT, objects: [deleting('d')] },
      { kind: REPLICASET, objects: [obj('rs-new')] },
    ];
    expect(finishableDeletions(remaining, LISTED)).toEqual([]);
  });

  it('finishes only what the listing looked at the children of', () => {
    const remaining = [{ kind: REPLICASET, objects: [deleting('rs')] }];
    expect(finishableDeletions(remaining, [DEPLOYMENT, REPLICASET])).toEqual([]);
    expect(names(finishableDeletions(remaining, [REPLICASET, POD]))).toEqual(['rs']);
  });
});
