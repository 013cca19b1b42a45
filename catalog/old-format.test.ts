// The old broker's catalog format on the repository's own fixture (test/fixtures/old-format-catalog,
// written here): every quirk seed.test.ts checks on the real catalog, checked always, so that a
// clone without that catalog still tests the format.
import { beforeAll, describe, expect, it } from 'vitest';
import { host, itLetsTheClusterChooseTheStorageClass, itRendersEveryPlan, plansOf, renderAll, values, type Obj } from '../test/catalog-rendering.js';
import { OLD_FORMAT_CATALOG_DIR } from '../test/seed-catalog.js';
import { formatProblem } from './errors.js';
import { loadCatalog, type LoadResult } from './load.js';

let loaded: LoadResult;
beforeAll(async () => {
  loaded = await loadCatalog(OLD_FORMAT_CATALOG_DIR);
});
const { all: allPlans, find } = plansOf(() => loaded);
const decoded = (secret: Obj, key: string) => Buffer.from(secret.data![key]!, 'base64').toString();

describe('a catalog in the old broker format (the repository fixture)', () => {
  it('loads unmodified: 3 services, 6 plans, no problem', () => {
    expect(loaded.catalog.services).toHaveLength(3);
    expect(allPlans()).toHaveLength(6);
    expect(loaded.catalog.osbCatalog.services.flatMap((s) => s.plans as unknown[])).toHaveLength(6);
  });

  it('serves the metadata the old broker dropped, plans in folder order', () => {
    const sqldb = loaded.catalog.osbCatalog.services.find((s) => s.name === 'sqldb-multinode')!;
    expect(sqldb.metadata).toEqual({ displayName: 'SQL DB 5', providerDisplayName: 'Old Format Fixtures' });
    expect(sqldb.tags).toEqual(['sqldb', 'relational', 'k8s', 'clustered']);
    // Folders clustered, persistent, simple; simple's plan is named free.
    expect((sqldb.plans as { name: string }[]).map((p) => p.name)).toEqual(['clustered', 'persistent', 'free']);
  });

  it('says what it upgraded, fixed and tolerated, one warning each', () => {
    expect(loaded.warnings.map(formatProblem).sort()).toEqual([
      'kvstore/replicated/k8s/deployment-proxy.json: Deployment apps/v1beta1 upgraded to apps/v1; dropped spec.serviceName, spec.selectors (not in apps/v1 Deployment); added spec.selector from the pod template labels',
      'kvstore/replicated/k8s/statefulset-server.json: StatefulSet apps/v1beta1 upgraded to apps/v1; added spec.selector from the pod template labels',
      'kvstore/standard/k8s/statefulset.json: StatefulSet apps/v1beta1 upgraded to apps/v1; added spec.selector from the pod template labels',
      'sqldb/clustered/k8s/deployment-node1.json: Deployment extensions/v1beta1 upgraded to apps/v1',
      'sqldb/clustered/k8s/deployment-node2.json: Deployment extensions/v1beta1 upgraded to apps/v1',
      'sqldb/clustered/uri_cluster_template: $env_SQL_USERNAME: no container of the plan declares SQL_USERNAME, so it is always empty (declared: SQL_USER)',
      'sqldb/persistent/k8s/deployment.json: Deployment extensions/v1beta1 upgraded to apps/v1',
      'sqldb/persistent/k8s/persistentvolumeclaim.json: PersistentVolumeClaim: moved annotation volume.beta.kubernetes.io/storage-class to spec.storageClassName',
      'sqldb/simple/k8s/deployment.json: Deployment extensions/v1beta upgraded to apps/v1',
      'webserver/simple/credentials-mappings.json: $port_80: no Service of the plan forwards to port 80 (they forward to 7946, 8080), so it is always empty',
      'webserver/simple/credentials-mappings.json: $uri: the plan has no uri_cluster_template, so it is an empty string',
      'webserver/simple/credentials-mappings.json:7: trailing comma before } or ] tolerated (it is not JSON)',
      'webserver/simple/k8s/deployment.json spec.template.spec.containers[0].securityContext.add: moved to securityContext.capabilities.add (securityContext has no field add; old API servers ignored it)',
      'webserver/simple/k8s/deployment.json: Deployment extensions/v1beta1 upgraded to apps/v1; added spec.selector from the pod template labels',
      'webserver/simple/k8s/service-peers.json spec.ClusterIP: renamed to spec.clusterIP (field names are case-sensitive; old API servers matched them in any case)',
    ]);
  });

  it('renders the fixed fields as current API servers expect them', () => {
    const { service, plan } = find('webserver', 'simple');
    const { objects } = renderAll(service, plan);
    expect(objects.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].securityContext).toEqual({
      privileged: false,
      capabilities: { add: ['NET_BIND_SERVICE'] },
    });
    const headless = objects.filter((o) => o.kind === 'Service' && o.spec.clusterIP === 'None');
    expect(headless.map((o) => o.metadata.name)).toEqual(['x00000000000040-peers']);
    expect(JSON.stringify(headless[0])).not.toContain('ClusterIP');
  });

  itRendersEveryPlan(() => loaded);

  it("gives the service's shared Secret and the containers reading it the same random values", () => {
    const { service, plan } = find('sqldb', 'simple');
    const v = values();
    const { objects, credentials } = renderAll(service, plan, v);
    // The plan has no Secret of its own: both of secretTemplates/ are created for it.
    const secrets = objects.filter((o) => o.kind === 'Secret');
    expect(secrets.map((o) => o.metadata.name)).toEqual(['x0000000000004-sql-credentials', 'x0000000000004-sql-cluster']);
    expect(decoded(secrets[0]!, 'sql-password')).toBe(v.randoms.random1);
    expect(credentials).toEqual({
      hostname: host('x00000000000040'),
      port: '5500',
      username: v.randoms.random2,
      password: v.randoms.random1,
      dbname: v.randoms.random3,
      uri: `sql://${v.randoms.random2}:${v.randoms.random1}@${host('x00000000000040')}:5500/${v.randoms.random3}`,
    });
  });

  it('lists every Service of the clustered plan in $nodes, unquoted in the mapping, and in $uri', () => {
    const { service, plan } = find('sqldb', 'clustered');
    const v = values();
    const nodes = ['x00000000000040-cluster', 'x00000000000041-node1', 'x00000000000042-node2'];
    expect(renderAll(service, plan, v).credentials).toEqual({
      username: v.randoms.random2,
      password: v.randoms.random1,
      dbname: v.randoms.random3,
      // uri_cluster_template asks for SQL_USERNAME, which these containers call SQL_USER.
      uri: `sql:multi://:${v.randoms.random1}@${nodes.map((n) => `${host(n)}:5500`).join(',')}/${v.randoms.random3}`,
      members: nodes.map((n) => ({ member: n, host: host(n), ports: { '5500/tcp': '5500' } })),
    });
  });

  it('keeps the longest placeholder prefix and the rest as text', () => {
    const { service, plan } = find('sqldb', 'clustered');
    const secret = renderAll(service, plan).objects.find((o) => o.metadata.name.endsWith('-sql-cluster'))!;
    // secretClustered.json is the second Secret of the plan: index 1.
    expect(decoded(secret, 'primary-host-name')).toBe('x00000000000041_PRIMARY_SERVICE_HOST');
    expect(decoded(secret, 'data-dir')).toBe('/var/lib/sqldb/5/data');
    expect(secret.data!['follow-host']).toBe('');
  });

  it('leaves shell variables in commands alone', () => {
    const { service, plan } = find('sqldb', 'clustered');
    const node = renderAll(service, plan).objects.find((o) => o.kind === 'Deployment')!;
    expect(node.spec.template.spec.containers[0].args).toEqual([
      'export PRIMARY_HOST_NAME=${PRIMARY_HOST_NAME^^} && export FOLLOW_HOST=${!PRIMARY_HOST_NAME} && exec sqldb',
    ]);
  });

  itLetsTheClusterChooseTheStorageClass(() => loaded, ['kvstore', 'standard'], ['sqldb', 'persistent'], '2Gi');

  it('gives empty values where a mapping asks for what the plan lacks, and $name the service name', () => {
    const { service, plan } = find('webserver', 'simple');
    const v = values();
    expect(renderAll(service, plan, v).credentials).toEqual({
      name: 'webserver-multinode',
      hostname: host('x00000000000040-peers'),
      port: '',
      username: v.randoms.random2,
      password: v.randoms.random1,
      uri: '',
    });
  });

  it('creates what workloads need before them and Services last', () => {
    const { service, plan } = find('kvstore', 'replicated');
    expect(renderAll(service, plan).objects.map((o) => o.kind)).toEqual(['ServiceAccount', 'Secret', 'StatefulSet', 'Deployment', 'Service', 'Service']);
  });
});
