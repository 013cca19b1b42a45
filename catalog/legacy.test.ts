import { describe, expect, it } from 'vitest';
import { upgradeLegacy } from './legacy.js';
import type { KubernetesObject } from './types.js';

const workload = (kind: string, apiVersion: string, spec: Record<string, unknown> = {}): KubernetesObject => ({
  apiVersion,
  kind,
  metadata: { name: 'w' },
  spec: { template: { metadata: { labels: { app: 'a', service_id: '$service_id' } }, spec: { containers: [] } }, ...spec },
});

describe('upgradeLegacy', () => {
  it.each([
    ['Deployment', 'extensions/v1beta1'],
    ['Deployment', 'extensions/v1beta'],
    ['Deployment', 'apps/v1beta1'],
    ['Deployment', 'apps/v1beta2'],
    ['ReplicaSet', 'extensions/v1beta1'],
    ['DaemonSet', 'extensions/v1beta1'],
    ['StatefulSet', 'apps/v1beta1'],
    ['StatefulSet', 'apps/v1beta2'],
  ])('upgrades %s %s to apps/v1 with a selector from the pod labels', (kind, apiVersion) => {
    const { object, changes } = upgradeLegacy(workload(kind, apiVersion));
    expect(object.apiVersion).toBe('apps/v1');
    expect(object.spec).toMatchObject({ selector: { matchLabels: { app: 'a', service_id: '$service_id' } } });
    expect(changes).toEqual([`${kind} ${apiVersion} upgraded to apps/v1`, 'added spec.selector from the pod template labels']);
  });

  it('keeps an existing selector', () => {
    const selector = { matchLabels: { app: 'a' } };
    const { object, changes } = upgradeLegacy(workload('StatefulSet', 'apps/v1beta1', { selector, serviceName: 's' }));
    expect((object.spec as { selector: unknown }).selector).toEqual(selector);
    expect((object.spec as { serviceName: unknown }).serviceName).toBe('s');
    expect(changes).toEqual(['StatefulSet apps/v1beta1 upgraded to apps/v1']);
  });

  it('drops spec fields apps/v1 does not have', () => {
    const deployment = upgradeLegacy(workload('Deployment', 'extensions/v1beta1', { rollbackTo: { revision: 1 }, selectors: {}, serviceName: 'x', replicas: 2 }));
    expect(Object.keys(deployment.object.spec as object).sort()).toEqual(['replicas', 'selector', 'template']);
    expect(deployment.changes).toContain('dropped spec.rollbackTo, spec.selectors, spec.serviceName (not in apps/v1 Deployment)');
    const daemonSet = upgradeLegacy(workload('DaemonSet', 'extensions/v1beta1', { templateGeneration: 3 }));
    expect(daemonSet.object.spec).not.toHaveProperty('templateGeneration');
  });

  it('leaves current objects alone and returns them as they are', () => {
    for (const input of [workload('Deployment', 'apps/v1'), workload('StatefulSet', 'apps/v1'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }]) {
      const { object, changes } = upgradeLegacy(input);
      expect(changes).toEqual([]);
      expect(object).toBe(input);
    }
  });

  it('does not touch its input', () => {
    const input = workload('Deployment', 'extensions/v1beta1', { rollbackTo: {} });
    const copy = structuredClone(input);
    upgradeLegacy(input);
    expect(input).toEqual(copy);
  });

  it('moves the beta storage-class annotation of a claim to spec.storageClassName', () => {
    const claim: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'c', annotations: { 'volume.beta.kubernetes.io/storage-class': '$storage_class' } },
      spec: { accessModes: ['ReadWriteOnce'] },
    };
    const { object, changes } = upgradeLegacy(claim);
    expect(object.metadata).toEqual({ name: 'c' });
    expect(object.spec).toEqual({ accessModes: ['ReadWriteOnce'], storageClassName: '$storage_class' });
    expect(changes).toEqual(['PersistentVolumeClaim: moved annotation volume.beta.kubernetes.io/storage-class to spec.storageClassName']);
  });

  it('keeps other annotations and an explicit storageClassName', () => {
    const claim: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'c', annotations: { 'volume.beta.kubernetes.io/storage-class': 'old', keep: 'me' } },
      spec: { storageClassName: 'new' },
    };
    const { object, changes } = upgradeLegacy(claim);
    expect(object.metadata.annotations).toEqual({ keep: 'me' });
    expect((object.spec as { storageClassName: string }).storageClassName).toBe('new');
    expect(changes[0]).toContain('dropped annotation');
  });

  it('moves the annotation in StatefulSet claim templates too', () => {
    const set = workload('StatefulSet', 'apps/v1', {
      selector: { matchLabels: { app: 'a' } },
      volumeClaimTemplates: [{ metadata: { name: 'data', annotations: { 'volume.beta.kubernetes.io/storage-class': 'x' } }, spec: {} }],
    });
    const { object, changes } = upgradeLegacy(set);
    expect((object.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates[0]).toEqual({ metadata: { name: 'data' }, spec: { storageClassName: 'x' } });
    expect(changes).toEqual(['spec.volumeClaimTemplates[0]: moved annotation volume.beta.kubernetes.io/storage-class to spec.storageClassName']);
  });
});
