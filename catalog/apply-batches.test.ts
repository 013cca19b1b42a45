import { describe, expect, it } from 'vitest';
import { applyBatches } from './apply-batches.js';

const obj = (kind: string, name = kind.toLowerCase()) => ({ apiVersion: 'v1', kind, metadata: { name } });
const kindsOf = (batches: ReturnType<typeof applyBatches>) => batches.map((b) => b.map((o) => `${o.kind}/${o.metadata.name}`));

describe('applyBatches', () => {
  it('applies a redis plan in three round trips: what workloads use, the RoleBinding after its Role, then workloads and Services', () => {
    const objects = ['NetworkPolicy', 'ServiceAccount', 'Secret', 'Role', 'RoleBinding', 'Deployment', 'Service'].map((k) => obj(k));
    expect(kindsOf(applyBatches(objects))).toEqual([
      ['NetworkPolicy/networkpolicy', 'ServiceAccount/serviceaccount', 'Secret/secret', 'Role/role'],
      ['RoleBinding/rolebinding'],
      ['Deployment/deployment', 'Service/service'],
    ]);
  });

  it('keeps a namespace, custom resources and quotas apart, in creation order', () => {
    const objects = [
      obj('Namespace'),
      obj('NetworkPolicy'),
      obj('Secret', 'a'),
      obj('Secret', 'b'),
      obj('ResourceQuota'),
      obj('Certificate'),
      obj('StatefulSet'),
      obj('Deployment'),
      obj('Service'),
    ];
    expect(kindsOf(applyBatches(objects))).toEqual([
      ['Namespace/namespace'],
      ['NetworkPolicy/networkpolicy', 'Secret/a', 'Secret/b'],
      ['ResourceQuota/resourcequota'],
      ['Certificate/certificate'],
      ['StatefulSet/statefulset', 'Deployment/deployment', 'Service/service'],
    ]);
  });

  it('never moves an object before one that came earlier', () => {
    const objects = [obj('Service', 'first'), obj('Secret'), obj('Service', 'last')];
    expect(kindsOf(applyBatches(objects))).toEqual([['Service/first'], ['Secret/secret'], ['Service/last']]);
  });
});
