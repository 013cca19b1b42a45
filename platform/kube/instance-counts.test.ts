import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '../../catalog/types.js';
import { CountTable } from './instance-counts.js';
import { RECORD_CLUSTER_LABEL, RECORD_ORG_LABEL } from './records.js';

/** A table of exactly these records, as after a list. */
function listed(objects: KubernetesObject[]): CountTable {
  const table = new CountTable();
  for (const o of objects) table.put(o);
  return table;
}

const secret = (name: string, org?: string, cluster?: string): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name,
    labels: { ...(org === undefined ? {} : { [RECORD_ORG_LABEL]: org }), ...(cluster === undefined ? {} : { [RECORD_CLUSTER_LABEL]: cluster }) },
  },
});

describe('CountTable', () => {
  it('counts the records of one organization label by cluster, and no one else’s', () => {
    const table = listed([secret('a1', 'org-a'), secret('a2', 'org-a', 'b'), secret('a3', 'org-a', 'b'), secret('o1', 'org-o')]);
    expect(table.counted('A', 'org-a')).toEqual([{ org: 'A' }, { org: 'A', cluster: 'b' }, { org: 'A', cluster: 'b' }]);
    expect(table.counted('O', 'org-o')).toEqual([{ org: 'O' }]);
    expect(table.counted('N', 'nobody')).toEqual([]);
    expect(table.size).toBe(4);
  });

  it('counts a record seen twice (a relist, a MODIFIED event) once, and moves it when its labels change', () => {
    const table = new CountTable();
    table.put(secret('a1', 'org-a'));
    table.put(secret('a1', 'org-a'));
    expect(table.counted('A', 'org-a')).toHaveLength(1);
    table.put(secret('a1', 'org-a', 'b'));
    expect(table.counted('A', 'org-a')).toEqual([{ org: 'A', cluster: 'b' }]);
    table.put(secret('a1', 'org-o'));
    expect(table.counted('A', 'org-a')).toEqual([]);
    expect(table.counted('O', 'org-o')).toEqual([{ org: 'O' }]);
  });

  it('stops counting a deleted record, and one that lost its organization label', () => {
    const table = listed([secret('a1', 'org-a'), secret('a2', 'org-a')]);
    table.remove('a1');
    table.remove('never-seen');
    expect(table.counted('A', 'org-a')).toHaveLength(1);
    table.put(secret('a2'));
    expect(table.counted('A', 'org-a')).toEqual([]);
    expect(table.size).toBe(0);
  });
});
