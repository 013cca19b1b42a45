import { describe, expect, it } from 'vitest';
import type { Catalog, Plan } from '../catalog/types.js';
import { coversKinds, kindsOfInstance, kindsToRelist, kindsToSweep, sweptKinds, unionKinds } from './owned-kinds.js';

const catalog = { services: [] } as unknown as Catalog;
const all = sweptKinds(catalog, true);
const kind = (k: string) => all.find((r) => r.kind === k)!;
const names = (ks: { kind: string }[]) => ks.map((k) => k.kind).sort();
const widget = { apiVersion: 'example.com/v1', kind: 'Widget' };

describe('kindsToRelist', () => {
  it('lists only what is left and what its controllers make', () => {
    expect(names(kindsToRelist(all, [kind('Deployment'), kind('Secret')]))).toEqual(['Deployment', 'Pod', 'ReplicaSet', 'Secret']);
    expect(names(kindsToRelist(all, [kind('StatefulSet')]))).toEqual(['PersistentVolumeClaim', 'Pod', 'StatefulSet']);
    expect(names(kindsToRelist(all, [kind('Pod')]))).toEqual(['Pod']);
  });

  it('lists every kind again when something it does not know is left (a Namespace, a custom resource)', () => {
    expect(kindsToRelist(all, [kind('Namespace')])).toEqual(all);
    expect(kindsToRelist(all, [kind('Pod'), widget])).toEqual(all);
  });
});

describe('kindsToSweep', () => {
  it('sweeps the recorded kinds and what their controllers make', () => {
    expect(names(kindsToSweep(all, [kind('Secret'), kind('Deployment'), kind('Service')]))).toEqual(['Deployment', 'Pod', 'ReplicaSet', 'Secret', 'Service']);
    expect(names(kindsToSweep(all, [kind('StatefulSet'), kind('Service')]))).toEqual(['PersistentVolumeClaim', 'Pod', 'Service', 'StatefulSet']);
  });

  it('sweeps every kind when the record lists none (written before it did, or gone)', () => {
    expect(kindsToSweep(all, undefined)).toEqual(all);
  });

  it('sweeps every kind, and the recorded ones, when one may make anything (a custom resource, a Namespace)', () => {
    expect(names(kindsToSweep(all, [kind('Service'), widget]))).toEqual(names([...all, widget]));
    expect(kindsToSweep(all, [kind('Namespace'), kind('Secret')])).toEqual(all);
  });
});

describe('kindsOfInstance', () => {
  const plan = (hooks: Plan['hooks']) => ({ hooks }) as unknown as Plan;
  const objects = [kind('Secret'), kind('Deployment'), kind('Secret')];

  it("is the objects' kinds, each once", () => {
    expect(kindsOfInstance(plan(undefined), objects)).toEqual([kind('Secret'), kind('Deployment')]);
    expect(kindsOfInstance(plan({ onCreateInstance: [] }), objects)).toEqual([kind('Secret'), kind('Deployment')]);
  });

  it('is unknown when the plan has a lifecycle hook: its Jobs may make anything', () => {
    expect(kindsOfInstance(plan({ onBindInstance: [{}] } as unknown as Plan['hooks']), objects)).toBeUndefined();
  });
});

describe('coversKinds and unionKinds', () => {
  it('compare kinds by apiVersion and kind', () => {
    expect(coversKinds([kind('Secret'), kind('Service')], [kind('Service')])).toBe(true);
    expect(coversKinds([kind('Secret')], [kind('Secret'), kind('Service')])).toBe(false);
    expect(coversKinds([kind('Deployment')], [{ apiVersion: 'apps/v1beta1', kind: 'Deployment' }])).toBe(false);
    expect(unionKinds([kind('Secret')], [kind('Service'), kind('Secret')])).toEqual([kind('Secret'), kind('Service')]);
  });
});
