import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exceededQuota, loadClusters, parseClusters, routeCluster, SINGLE_CLUSTER, type ClustersConfig } from './clusters.js';
import { ConfigError } from './config.js';

const FILE = '/etc/broker/clusters.yaml';

/** The ConfigError message of a clusters file that must not load. */
function problems(source: string): string {
  try {
    parseClusters(source, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('the clusters file loaded');
}

const TWO = `
clusters:
  - name: b
    kubeconfig: b.kubeconfig
    context: ctx-b
  - name: c
    inCluster: true
routing:
  - organization: org-b
    cluster: b
  - space: space-c
    clusterid: k8s-c
    cluster: c
  - namespace: team-c
    cluster: c
quotas:
  - organization: "*"
    maxInstances: 10
  - organization: org-b
    maxInstances: 2
    cluster: b
`;

describe('parseClusters', () => {
  it('keeps the cluster of KUBECONFIG/KUBE_CONTEXT as the default one, and resolves kubeconfigs beside the file', () => {
    const config = parseClusters(TWO, FILE);
    expect(config.defaultCluster).toBe('default');
    expect(config.clusters).toEqual([
      { name: 'default', source: 'env' },
      { name: 'b', source: 'kubeconfig', kubeconfig: '/etc/broker/b.kubeconfig', context: 'ctx-b' },
      { name: 'c', source: 'in-cluster' },
    ]);
    expect(config.routing).toHaveLength(3);
    expect(config.quotas).toEqual([
      { organization: '*', maxInstances: 10 },
      { organization: 'org-b', maxInstances: 2, cluster: 'b' },
    ]);
  });

  it('reads JSON too, and lets the file define the default cluster itself', () => {
    const config = parseClusters(
      JSON.stringify({
        default: 'home',
        clusters: [
          { name: 'home', kubeconfig: '/k/home' },
          { name: 'default', kubeconfig: '/k/default' },
        ],
      }),
      FILE,
    );
    expect(config.defaultCluster).toBe('home');
    expect(config.clusters.map((c) => [c.name, c.source])).toEqual([
      ['home', 'kubeconfig'],
      ['default', 'kubeconfig'],
    ]);
  });

  it('an empty file is the single cluster', () => {
    expect(parseClusters('', FILE)).toEqual(SINGLE_CLUSTER);
  });

  it('names the file and every bad field', () => {
    const message = problems(`
clusters:
  - name: B_bad
    kubeconfig: x
  - name: nokube
  - name: both
    inCluster: true
    kubeconfig: y
routing:
  - cluster: default
  - organization: o
quotas:
  - organization: o
    maxInstances: -1
extra: 1
`);
    expect(message).toContain(`invalid clusters file ${FILE}`);
    expect(message).toContain('clusters[0].name: must be a cluster name');
    expect(message).toContain('clusters[1].kubeconfig: needs a kubeconfig file, or inCluster: true');
    expect(message).toContain('clusters[2].inCluster: inCluster: true takes no kubeconfig or context');
    expect(message).toContain('routing[0]: a rule needs at least one of organization, space, clusterid, namespace');
    expect(message).toContain('routing[1].cluster: must be a cluster name');
    expect(message).toContain('quotas[0].maxInstances: must not be negative');
    expect(message).toMatch(/Unrecognized key.*"extra"/);
  });

  it('refuses references to clusters that do not exist, and duplicate names', () => {
    const message = problems(`
default: nowhere
clusters:
  - {name: b, kubeconfig: a}
  - {name: b, kubeconfig: b}
routing:
  - {organization: o, cluster: c}
quotas:
  - {organization: o, maxInstances: 1, cluster: d}
`);
    expect(message).toContain('clusters[1].name: cluster b is listed twice');
    expect(message).toContain('default: no cluster is named nowhere (clusters: b)');
    expect(message).toContain('routing[0].cluster: no cluster is named c');
    expect(message).toContain('quotas[0].cluster: no cluster is named d');
  });

  it('keeps the cluster of KUBECONFIG as `default` only when the file names no other default', () => {
    expect(parseClusters(TWO, FILE).clusters.map((c) => c.name)).toEqual(['default', 'b', 'c']);
    expect(parseClusters(`default: b\n${TWO}`, FILE).clusters.map((c) => c.name)).toEqual(['b', 'c']);
  });

  it('refuses what is not YAML', () => {
    expect(problems('clusters: [unclosed')).toContain('not YAML or JSON');
  });
});

describe('loadClusters', () => {
  it('without CLUSTERS_FILE: the one cluster of KUBECONFIG/KUBE_CONTEXT', () => {
    expect(loadClusters({})).toBe(SINGLE_CLUSTER);
  });

  it('reads the file; a missing file names the variable and the path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clusters-'));
    const file = path.join(dir, 'clusters.yaml');
    fs.writeFileSync(file, TWO);
    expect(loadClusters({ CLUSTERS_FILE: file }).clusters[1]).toMatchObject({ kubeconfig: path.join(dir, 'b.kubeconfig') });
    expect(() => loadClusters({ CLUSTERS_FILE: path.join(dir, 'missing.yaml') })).toThrow(/CLUSTERS_FILE: cannot read .*missing\.yaml \(ENOENT\)/);
  });
});

describe('routeCluster', () => {
  const config = parseClusters(TWO, FILE);
  const route = (org: string, space: string, context: Record<string, unknown> = {}) => routeCluster(config, { org, space, context });

  it('the first rule whose every condition matches wins', () => {
    expect(route('org-b', 'space-c', { clusterid: 'k8s-c' })).toBe('b');
    expect(route('org-x', 'space-c', { clusterid: 'k8s-c' })).toBe('c');
    expect(route('org-x', 'any', { namespace: 'team-c' })).toBe('c');
  });

  it('a rule with several conditions needs all of them; what matches nothing goes to the default cluster', () => {
    expect(route('org-x', 'space-c')).toBe('default');
    expect(route('org-x', 'space-x', { clusterid: 'k8s-c' })).toBe('default');
    expect(routeCluster(SINGLE_CLUSTER, { org: 'org-b', space: 's', context: {} })).toBe('default');
  });
});

describe('exceededQuota', () => {
  const config: ClustersConfig = parseClusters(TWO, FILE);
  const records = (n: number, org: string, cluster?: string) => Array.from({ length: n }, () => ({ org, ...(cluster ? { cluster } : {}) }));

  it("counts the organization's instances; `*` applies to each organization on its own", () => {
    expect(exceededQuota(config, { org: 'o1', cluster: 'default' }, [...records(9, 'o1'), ...records(50, 'o2')])).toBeUndefined();
    expect(exceededQuota(config, { org: 'o1', cluster: 'default' }, records(10, 'o1'))).toEqual({
      quota: { organization: '*', maxInstances: 10 },
      count: 10,
    });
  });

  it('a quota of one cluster counts the instances recorded there (no cluster: the default) and applies to provisions routed there', () => {
    const existing = [...records(1, 'org-b', 'b'), ...records(3, 'org-b'), ...records(1, 'org-b', 'c')];
    expect(exceededQuota(config, { org: 'org-b', cluster: 'b' }, existing)).toBeUndefined();
    const full = [...existing, ...records(1, 'org-b', 'b')];
    expect(exceededQuota(config, { org: 'org-b', cluster: 'b' }, full)).toEqual({ quota: { organization: 'org-b', maxInstances: 2, cluster: 'b' }, count: 2 });
    // On another cluster only the all-cluster quota counts (6 of 10).
    expect(exceededQuota(config, { org: 'org-b', cluster: 'default' }, full)).toBeUndefined();
  });

  it('maxInstances 0 closes the organization', () => {
    const closed = parseClusters('quotas: [{organization: o, maxInstances: 0}]', FILE);
    expect(exceededQuota(closed, { org: 'o', cluster: 'default' }, [])).toEqual({ quota: { organization: 'o', maxInstances: 0 }, count: 0 });
  });
});
