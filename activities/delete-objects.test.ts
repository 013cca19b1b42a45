import { describe, expect, it } from 'vitest';
import { afterDeletionEvent, kindsToRelist, sweptKinds } from './delete-objects.js';
import type { Catalog } from '../catalog/types.js';

const catalog = { services: [] } as unknown as Catalog;
const all = sweptKinds(catalog, true);
const kind = (k: string) => all.find((r) => r.kind === k)!;
const names = (ks: { kind: string }[]) => ks.map((k) => k.kind).sort();

describe('kindsToRelist', () => {
  it('lists only what is left and what its controllers make', () => {
    expect(names(kindsToRelist(all, [kind('Deployment'), kind('Secret')]))).toEqual(['Deployment', 'Pod', 'ReplicaSet', 'Secret']);
    expect(names(kindsToRelist(all, [kind('StatefulSet')]))).toEqual(['PersistentVolumeClaim', 'Pod', 'StatefulSet']);
    expect(names(kindsToRelist(all, [kind('Pod')]))).toEqual(['Pod']);
  });

  it('lists every kind again when something it does not know is left (a Namespace, a custom resource)', () => {
    expect(kindsToRelist(all, [kind('Namespace')])).toEqual(all);
    expect(kindsToRelist(all, [kind('Pod'), { apiVersion: 'example.com/v1', kind: 'Widget' }])).toEqual(all);
  });
});

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
