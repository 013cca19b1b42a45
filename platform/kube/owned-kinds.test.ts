import { describe, expect, it } from 'vitest';
import type { Catalog, Plan } from '../../catalog/types.js';
import {
  coversKinds,
  kindsOfInstance,
  kindsToListFirst,
  kindsToRelist,
  kindsToSweep,
  listingGenerations,
  makesObjects,
  sweepRounds,
  sweptKinds,
  unionKinds,
} from './owned-kinds.js';

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

describe('sweepRounds', () => {
  it('deletes the kinds that make others first, then what they make', () => {
    const rounds = sweepRounds(kindsToSweep(all, [kind('Secret'), kind('Deployment'), kind('Service')]));
    expect(rounds.map(names)).toEqual([
      ['Deployment', 'Secret', 'Service'],
      ['Pod', 'ReplicaSet'],
    ]);
    expect(sweepRounds([kind('StatefulSet'), kind('Pod'), kind('PersistentVolumeClaim')]).map(names)).toEqual([
      ['StatefulSet'],
      ['PersistentVolumeClaim', 'Pod'],
    ]);
  });

  it('is one round when no kind makes another', () => {
    expect(sweepRounds([kind('Secret'), kind('ConfigMap')]).map(names)).toEqual([['ConfigMap', 'Secret']]);
    expect(sweepRounds([widget, kind('Pod')]).map(names)).toEqual([['Pod', 'Widget']]);
  });

  it('keeps every kind of every sweep, once', () => {
    expect(names(sweepRounds(all).flat())).toEqual(names(all));
  });
});

describe('kindsToListFirst', () => {
  const gone = (k: string) => ({ ...kind(k), gone: true as const });

  it('skips the kinds removed at once that nothing found makes', () => {
    // redis/small: only the Deployment's children can still be there or be made again.
    expect(names(kindsToListFirst(all, [gone('Secret'), gone('Service'), gone('Deployment'), gone('ReplicaSet'), kind('Pod')]))).toEqual(['Pod', 'ReplicaSet']);
    // A StatefulSet's Pods and claims (pvc-protection) are left.
    expect(names(kindsToListFirst(all, [gone('Service'), gone('StatefulSet'), kind('Pod'), kind('PersistentVolumeClaim')]))).toEqual([
      'PersistentVolumeClaim',
      'Pod',
    ]);
    expect(kindsToListFirst(all, [gone('Secret'), gone('ConfigMap')])).toEqual([]);
  });

  it('lists a kind removed at once when a kind found makes it', () => {
    expect(names(kindsToListFirst(all, [kind('Deployment'), gone('ReplicaSet')]))).toEqual(['Deployment', 'Pod', 'ReplicaSet']);
  });

  it('is kindsToRelist when nothing is known gone (older histories)', () => {
    const found = [kind('Secret'), kind('Deployment')];
    expect(kindsToListFirst(all, found)).toEqual(kindsToRelist(all, found));
  });

  it('lists every kind when something found may make anything (a Namespace, a custom resource)', () => {
    expect(kindsToListFirst(all, [gone('Namespace'), gone('Secret')])).toEqual(all);
    expect(kindsToListFirst(all, [{ ...widget, gone: true }, gone('Secret')])).toEqual(all);
  });
});

describe('listingGenerations', () => {
  const generations = (ks: string[]) => listingGenerations(ks.map(kind)).map(names);

  it('looks at a kind only after every kind that makes it', () => {
    expect(generations(['Pod', 'Secret', 'ReplicaSet', 'Deployment', 'Service'])).toEqual([['Deployment', 'Secret', 'Service'], ['ReplicaSet'], ['Pod']]);
    expect(generations(['PersistentVolumeClaim', 'Pod', 'StatefulSet'])).toEqual([['StatefulSet'], ['PersistentVolumeClaim', 'Pod']]);
    expect(generations(['Pod', 'Secret'])).toEqual([['Pod', 'Secret']]);
  });

  it('looks at a kind that may make anything before all the others', () => {
    expect(generations(['Secret', 'Namespace', 'Pod', 'ReplicaSet'])).toEqual([['Namespace'], ['ReplicaSet', 'Secret'], ['Pod']]);
    expect(listingGenerations([widget, kind('Pod')])).toEqual([[widget], [kind('Pod')]]);
  });

  it('keeps every kind, once', () => {
    expect(names(listingGenerations(all).flat())).toEqual(names(all));
  });
});

describe('makesObjects', () => {
  it('is true of the workloads, whose controllers make Pods, ReplicaSets, Jobs, claims', () => {
    expect(['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'].every((k) => makesObjects({ kind: k }))).toBe(
      true,
    );
    expect(['Pod', 'Secret', 'Namespace', 'Widget'].some((k) => makesObjects({ kind: k }))).toBe(false);
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
  const plan = (hooks: Plan['hooks']) => ({ hooks, templates: [] }) as unknown as Plan;
  const objects = [kind('Secret'), kind('Deployment'), kind('Secret')];

  it("is the objects' kinds, each once", () => {
    expect(kindsOfInstance(plan(undefined), objects)).toEqual([kind('Secret'), kind('Deployment')]);
    expect(kindsOfInstance(plan({ onCreateInstance: [] }), objects)).toEqual([kind('Secret'), kind('Deployment')]);
  });

  it("is unknown when a lifecycle hook's Job may make anything (its pod holds the namespace's default token)", () => {
    const job = { body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'hook' }, spec: { template: { spec: {} } } } };
    expect(kindsOfInstance(plan({ onBindInstance: [job] } as unknown as Plan['hooks']), objects)).toBeUndefined();
  });

  it("adds a hook Job's kinds when its pod holds no token", () => {
    const pod = { automountServiceAccountToken: false };
    const job = { body: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'hook' }, spec: { template: { spec: pod } } } };
    const kinds = kindsOfInstance(plan({ onBindInstance: [job] } as unknown as Plan['hooks']), objects);
    expect(kinds?.map((k) => k.kind)).toEqual(['Secret', 'Deployment', 'Job', 'Pod']);
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
