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
    const deployment = upgradeLegacy(
      workload('Deployment', 'extensions/v1beta1', { rollbackTo: { revision: 1 }, selectors: {}, serviceName: 'x', replicas: 2 }),
    );
    expect(Object.keys(deployment.object.spec as object).sort()).toEqual(['replicas', 'selector', 'template']);
    expect(deployment.changes).toContain('dropped spec.rollbackTo, spec.selectors, spec.serviceName (not in apps/v1 Deployment)');
    const daemonSet = upgradeLegacy(workload('DaemonSet', 'extensions/v1beta1', { templateGeneration: 3 }));
    expect(daemonSet.object.spec).not.toHaveProperty('templateGeneration');
  });

  it('leaves current objects alone and returns them as they are', () => {
    for (const input of [
      workload('Deployment', 'apps/v1'),
      workload('StatefulSet', 'apps/v1'),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } },
    ]) {
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
    expect((object.spec as { volumeClaimTemplates: unknown[] }).volumeClaimTemplates[0]).toEqual({
      metadata: { name: 'data' },
      spec: { storageClassName: 'x' },
    });
    expect(changes).toEqual(['spec.volumeClaimTemplates[0]: moved annotation volume.beta.kubernetes.io/storage-class to spec.storageClassName']);
  });
});

describe('upgradeLegacy: fields old API servers accepted', () => {
  const container = (securityContext: Record<string, unknown>, name = 'es') => ({ name, image: 'es', securityContext });
  const podKind = (kind: string, containers: unknown[], extra: Record<string, unknown> = {}): KubernetesObject => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: { name: 'w' },
    spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers, ...extra } } },
  });
  const headless = (spec: Record<string, unknown>): KubernetesObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec });

  it('moves a container securityContext.add under capabilities (the seed elasticsearch Deployments)', () => {
    const { object, changes, fieldFixes } = upgradeLegacy(podKind('Deployment', [container({ privileged: true, add: ['IPC_LOCK'] })]));
    expect((object.spec as any).template.spec.containers[0].securityContext).toEqual({ privileged: true, capabilities: { add: ['IPC_LOCK'] } });
    expect(changes).toEqual([]);
    expect(fieldFixes).toEqual([
      {
        field: 'spec.template.spec.containers[0].securityContext.add',
        message: 'moved to securityContext.capabilities.add (securityContext has no field add; old API servers ignored it)',
      },
    ]);
  });

  it('merges a misplaced add or drop into the capabilities already there', () => {
    const { object, fieldFixes } = upgradeLegacy(
      podKind('StatefulSet', [container({ add: ['IPC_LOCK', 'SYS_RESOURCE'], drop: ['ALL'], capabilities: { add: ['SYS_RESOURCE'] } })]),
    );
    expect((object.spec as any).template.spec.containers[0].securityContext).toEqual({ capabilities: { add: ['SYS_RESOURCE', 'IPC_LOCK'], drop: ['ALL'] } });
    expect(fieldFixes.map((f) => [f.field, f.message.split(' (')[0]])).toEqual([
      ['spec.template.spec.containers[0].securityContext.add', 'merged into securityContext.capabilities.add'],
      ['spec.template.spec.containers[0].securityContext.drop', 'moved to securityContext.capabilities.drop'],
    ]);
  });

  it('finds containers wherever a kind keeps its pods: init containers, Pods, CronJobs, legacy Deployments', () => {
    const init = upgradeLegacy(podKind('DaemonSet', [container({})], { initContainers: [container({ add: ['NET_ADMIN'] }, 'init')] }));
    expect(init.fieldFixes.map((f) => f.field)).toEqual(['spec.template.spec.initContainers[0].securityContext.add']);
    const pod = upgradeLegacy({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [container({}), container({ add: ['X'] })] } });
    expect((pod.object.spec as any).containers[1].securityContext).toEqual({ capabilities: { add: ['X'] } });
    expect(pod.fieldFixes.map((f) => f.field)).toEqual(['spec.containers[1].securityContext.add']);
    const cronJob = upgradeLegacy({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'c' },
      spec: { jobTemplate: { spec: { template: { spec: { containers: [container({ add: ['X'] })] } } } } },
    });
    expect(cronJob.fieldFixes.map((f) => f.field)).toEqual(['spec.jobTemplate.spec.template.spec.containers[0].securityContext.add']);
    // The seed's files are also legacy Deployments: both upgrades apply.
    const input = workload('Deployment', 'extensions/v1beta1');
    (input.spec as any).template.spec.containers = [container({ privileged: true, add: ['IPC_LOCK'] })];
    const both = upgradeLegacy(input);
    expect(both.object.apiVersion).toBe('apps/v1');
    expect((both.object.spec as any).template.spec.containers[0].securityContext).toEqual({ privileged: true, capabilities: { add: ['IPC_LOCK'] } });
    expect(both.changes).toHaveLength(2);
    expect(both.fieldFixes).toHaveLength(1);
  });

  it('renames a mis-cased Service spec.clusterIP, keeping its value and the field order', () => {
    const { object, changes, fieldFixes } = upgradeLegacy(headless({ ClusterIP: 'None', selector: { app: 'a' }, ports: [] }));
    expect(object.spec).toEqual({ clusterIP: 'None', selector: { app: 'a' }, ports: [] });
    expect(Object.keys(object.spec as object)).toEqual(['clusterIP', 'selector', 'ports']);
    expect(changes).toEqual([]);
    expect(fieldFixes).toEqual([
      { field: 'spec.ClusterIP', message: 'renamed to spec.clusterIP (field names are case-sensitive; old API servers matched them in any case)' },
    ]);
    expect(upgradeLegacy(headless({ clusterIp: 'None' })).object.spec).toEqual({ clusterIP: 'None' });
  });

  it('keeps the correctly cased field when both are there', () => {
    const { object, fieldFixes } = upgradeLegacy(headless({ ClusterIP: 'None', clusterIP: '10.0.0.1' }));
    expect(object.spec).toEqual({ clusterIP: '10.0.0.1' });
    expect(fieldFixes).toEqual([
      { field: 'spec.ClusterIP', message: 'dropped: spec.clusterIP is set (field names are case-sensitive; old API servers matched them in any case)' },
    ]);
  });

  it('leaves alone what it cannot fix, what is right, and other kinds', () => {
    const unfixable = podKind('Deployment', [
      container({ add: ['IPC_LOCK'], capabilities: { add: 'IPC_LOCK' } }),
      container({ add: ['X'], capabilities: 'all' }),
    ]);
    expect(upgradeLegacy(unfixable)).toEqual({ object: unfixable, changes: [], fieldFixes: [] });
    for (const input of [
      podKind('Deployment', [container({ privileged: true, capabilities: { add: ['IPC_LOCK'] } })]),
      headless({ clusterIP: 'None' }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, spec: { ClusterIP: 'None' }, data: { ClusterIP: 'None' } },
      podKind('Deployment', [container({})], { securityContext: { add: ['X'] } }),
    ]) {
      const result = upgradeLegacy(input);
      expect(result.fieldFixes).toEqual([]);
      expect(result.object).toBe(input);
    }
  });

  it('does not touch its input when fixing fields', () => {
    const input = headless({ ClusterIP: 'None' });
    const copy = structuredClone(input);
    upgradeLegacy(input);
    expect(input).toEqual(copy);
  });
});
