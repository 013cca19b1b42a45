import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseClusters } from '../config/clusters.js';
import { KubeClusters, UnknownClusterError } from './clusters.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-clusters-'));

/** A kubeconfig file with one context per server. */
function kubeconfig(name: string, servers: Record<string, string>): string {
  const file = path.join(dir, name);
  const entries = Object.entries(servers);
  fs.writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: entries.map(([ctx, server]) => ({ name: ctx, cluster: { server } })),
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: entries.map(([ctx]) => ({ name: ctx, context: { cluster: ctx, user: 'u' } })),
      'current-context': entries[0]![0],
    }),
  );
  return file;
}

describe('KubeClusters', () => {
  let clusters: KubeClusters | undefined;
  afterEach(() => clusters?.close());

  it('one client per cluster; no name means the default cluster', () => {
    const env = { KUBECONFIG: kubeconfig('home', { home: 'https://home.example:6443' }) };
    const other = kubeconfig('other', { first: 'https://first.example:6443', second: 'https://second.example:6443' });
    const config = parseClusters(`clusters:\n  - {name: b, kubeconfig: ${other}, context: second}\n`, path.join(dir, 'clusters.yaml'));
    clusters = KubeClusters.connect(config, env);
    expect(clusters.names).toEqual(['default', 'b']);
    expect(clusters.get('b').serverUrl).toBe('https://second.example:6443/');
    expect(clusters.get(undefined).serverUrl).toBe('https://home.example:6443/');
    expect(clusters.home).toBe(clusters.get('default'));
    expect(clusters.has('b') && clusters.has(undefined) && !clusters.has('c')).toBe(true);
  });

  it('an unknown cluster is an error that names the configured ones', () => {
    clusters = KubeClusters.connect(parseClusters('', path.join(dir, 'c.yaml')), { KUBECONFIG: kubeconfig('single', { one: 'https://one.example' }) });
    expect(() => clusters!.get('gone')).toThrow(UnknownClusterError);
    expect(() => clusters!.get('gone')).toThrow('cluster gone is not configured (clusters: default)');
  });

  it("a context that is not in the kubeconfig stops the start with the cluster's name", () => {
    const file = kubeconfig('ctx', { only: 'https://only.example' });
    const config = parseClusters(`clusters:\n  - {name: b, kubeconfig: ${file}, context: missing}\n`, path.join(dir, 'x.yaml'));
    expect(() => KubeClusters.connect(config, { KUBECONFIG: file })).toThrow(`cluster b: context "missing" is not in ${file} (contexts: only)`);
  });
});
