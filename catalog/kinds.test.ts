import { describe, expect, it } from 'vitest';
import { creationRank, isClusterScopedKind, isWorkloadKind, kindFromFileName } from './kinds.js';

describe('kinds', () => {
  it.each([
    ['secret.json', 'Secret'],
    ['secretClustered.json', 'Secret'],
    ['persistentvolumeclaim_node0.json', 'PersistentVolumeClaim'],
    ['statefulset-server.json', 'StatefulSet'],
    ['deployment-sentinel-proxy.json', 'Deployment'],
    ['replicationcontroller.json', 'ReplicationController'],
    ['service-master.json', 'Service'],
    ['serviceaccount.yaml', 'ServiceAccount'],
    ['account-node1.json', 'ServiceAccount'],
    ['job-init.json', 'Job'],
    ['configmap.json', 'ConfigMap'],
    ['Deployment.json', 'Deployment'],
    ['role.json', undefined],
  ])('the file name %s implies %s', (name, kind) => {
    expect(kindFromFileName(name)).toBe(kind);
  });

  it('orders creation: accounts, secrets, config, claims, others, workloads, Services', () => {
    const kinds = ['Service', 'Deployment', 'Role', 'PersistentVolumeClaim', 'ConfigMap', 'Secret', 'ServiceAccount', 'StatefulSet', 'Job', 'Pod'];
    const sorted = [...kinds].sort((a, b) => creationRank(a) - creationRank(b));
    expect(sorted).toEqual(['ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Role', 'StatefulSet', 'Deployment', 'Job', 'Pod', 'Service']);
    expect(creationRank('MyCustomResource')).toBe(creationRank('Role'));
  });

  it('knows workloads and cluster-scoped kinds', () => {
    expect(['Deployment', 'StatefulSet', 'ReplicaSet', 'DaemonSet', 'ReplicationController', 'Job', 'Pod'].every(isWorkloadKind)).toBe(true);
    expect(isWorkloadKind('Service')).toBe(false);
    expect(isClusterScopedKind('ClusterRole')).toBe(true);
    expect(isClusterScopedKind('Role')).toBe(false);
  });
});
