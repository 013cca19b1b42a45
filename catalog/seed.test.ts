// The real catalog of the broker this project replaces (SEED_CATALOG_DIR, outside this
// repository): it must load unmodified, and every plan must render, objects and credentials.
// Skipped, and saying so, where the catalog is absent; old-format.test.ts covers the format's
// quirks on the repository's own fixture in any case.
import { beforeAll, describe, expect, it } from 'vitest';
import { itLetsTheClusterChooseTheStorageClass, itRendersEveryPlan, NAMESPACE, plansOf, renderAll, values, type Obj } from '../test/catalog-rendering.js';
import { SEED_CATALOG_DIR, SEED_CATALOG_PRESENT, SEED_SKIP_NOTE } from '../test/seed-catalog.js';
import { formatProblem } from './errors.js';
import { loadCatalog, type LoadResult } from './load.js';
import { SAMPLE_INSTANCE_ID } from './check.js';
import { shortServiceId } from './naming.js';
import { generateRandoms } from './randoms.js';
import type { Plan, ServiceOffering } from './types.js';

let loaded: LoadResult;
let loadMs: number;
const { all: allPlans, find } = plansOf(() => loaded);

describe.skipIf(!SEED_CATALOG_PRESENT)(`the seed catalog${SEED_SKIP_NOTE}`, () => {
  beforeAll(async () => {
    const start = performance.now();
    loaded = await loadCatalog(SEED_CATALOG_DIR);
    loadMs = performance.now() - start;
  });

  it('loads unmodified: 31 services, 61 plans, no problem, quickly', () => {
    expect(loaded.catalog.services).toHaveLength(31);
    expect(allPlans()).toHaveLength(61);
    expect(loaded.catalog.osbCatalog.services).toHaveLength(31);
    expect(loaded.catalog.osbCatalog.services.flatMap((s) => s.plans as unknown[])).toHaveLength(61);
    expect(loadMs).toBeLessThan(3000);
  });

  it('serves the metadata the old broker dropped', () => {
    const mysql = loaded.catalog.osbCatalog.services.find((s) => s.name === 'mysql56-multinode')!;
    expect(mysql.metadata).toMatchObject({ displayName: 'MySQL 5.6', providerDisplayName: 'Pivotal Software' });
    expect(mysql.tags).toEqual(['mysql56', 'mysql', 'relational', 'k8s', 'clustered']);
    expect((mysql.plans as { name: string }[]).map((p) => p.name)).toEqual(['clustered', 'clustered persistent', 'persistent', 'free']);
  });

  it('says what it upgraded and what looks wrong', () => {
    const warnings = loaded.warnings.map(formatProblem);
    expect(warnings).toContain('redis32/standard-ha/k8s/statefulset-server.json: StatefulSet apps/v1beta1 upgraded to apps/v1');
    expect(warnings).toContain(
      'redis32/standard-ha/k8s/deployment-sentinel.json: Deployment apps/v1beta1 upgraded to apps/v1; dropped spec.serviceName, spec.selectors (not in apps/v1 Deployment); added spec.selector from the pod template labels',
    );
    expect(warnings).toContain('mysql56/simple/k8s/deployment.json: Deployment extensions/v1beta upgraded to apps/v1');
    expect(warnings).toContain(
      'mysql56/persistent/k8s/persistentvolumeclaim.json: PersistentVolumeClaim: moved annotation volume.beta.kubernetes.io/storage-class to spec.storageClassName',
    );
    expect(warnings).toContain('nginx/simple/credentials-mappings.json:8: trailing comma before } or ] tolerated (it is not JSON)');
    expect(warnings).toContain('nginx/simple/credentials-mappings.json: $uri: the plan has no uri_cluster_template, so it is an empty string');
    expect(warnings).toContain(
      'mysql56/clustered/uri_cluster_template: $env_MYSQL_USERNAME: no container of the plan declares MYSQL_USERNAME, so it is always empty (declared: MYSQL_USER)',
    );
    // Every upgraded legacy object is one warning: 74 Deployments, 7 StatefulSets.
    expect(warnings.filter((w) => / upgraded to apps\/v1/.test(w))).toHaveLength(81);
  });

  it('fixes the fields current API servers refuse, one warning each', () => {
    const fixes = loaded.warnings.filter((w) => /^(moved to|merged into|renamed to|dropped:) /.test(w.message)).map(formatProblem);
    const add = (dir: string) =>
      `${dir}/k8s/deployment.json spec.template.spec.containers[0].securityContext.add: moved to securityContext.capabilities.add (securityContext has no field add; old API servers ignored it)`;
    const clusterIP = (dir: string) =>
      `${dir}/k8s/service-discovery.json spec.ClusterIP: renamed to spec.clusterIP (field names are case-sensitive; old API servers matched them in any case)`;
    expect(fixes.sort()).toEqual(
      [
        ...['elasticsearch17/1x', 'elasticsearch17/3x', 'elasticsearch17/6x', 'elasticsearch17/12x'].map(add),
        ...['elasticsearch23/1x', 'elasticsearch23/3x', 'elasticsearch23/6x'].map(add),
        ...['elasticsearch24/1x', 'elasticsearch24/3x', 'elasticsearch24/6x', 'elasticsearch24/12x'].map(add),
        ...['elasticsearch24/medium-ha', 'elasticsearch56/medium-ha', 'elasticsearch56/medium'].map(clusterIP),
      ].sort(),
    );
    const es17 = find('elasticsearch17', '1x');
    const es = renderAll(es17.service, es17.plan).objects;
    expect(es.find((o) => o.kind === 'Deployment')!.spec.template.spec.containers[0].securityContext).toEqual({
      privileged: true,
      capabilities: { add: ['IPC_LOCK'] },
    });
    const discovery = find('elasticsearch56', 'medium');
    const headless = renderAll(discovery.service, discovery.plan).objects.filter((o) => o.kind === 'Service' && o.spec.clusterIP === 'None');
    expect(headless).toHaveLength(1);
    expect(JSON.stringify(headless[0])).not.toContain('ClusterIP');
  });

  itRendersEveryPlan(() => loaded);

  it('renders every plan under both naming schemes alike: only the short id differs, no label is lost', () => {
    const randoms = generateRandoms();
    const [legacy, hashed] = (['legacy', 'hashed'] as const).map((nameScheme) => ({
      short: shortServiceId(SAMPLE_INSTANCE_ID, nameScheme),
      render: (service: ServiceOffering, plan: Plan) => renderAll(service, plan, values({ nameScheme, randoms })),
    }));
    // Longer names of new instances must still fit every name and label value of the seed.
    const decoded = (objects: Obj[]) =>
      objects.map((o) => (o.data ? { ...o, data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])) } : o));
    const asLegacy = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll(hashed!.short, legacy!.short));
    for (const { service, plan } of allPlans()) {
      const old = legacy!.render(service, plan);
      const now = hashed!.render(service, plan);
      expect(
        now.objects.some((o) => o.metadata.name.startsWith(hashed!.short)),
        plan.dir,
      ).toBe(true);
      expect(asLegacy(decoded(now.objects)), plan.dir).toEqual(decoded(old.objects));
      expect(asLegacy(now.credentials), plan.dir).toEqual(old.credentials);
    }
  });

  it('gives a Secret and the containers reading it the same random values', () => {
    const { service, plan } = find('mysql56', 'simple');
    const v = values();
    const { objects, credentials } = renderAll(service, plan, v);
    const secret = objects.find((o) => o.kind === 'Secret')!;
    expect(Buffer.from(secret.data!['mysql-password']!, 'base64').toString()).toBe(v.randoms.random1);
    expect(credentials).toMatchObject({
      password: v.randoms.random1,
      username: v.randoms.random2,
      dbname: v.randoms.random3,
      port: '3306',
      hostname: `x00000000000040.${NAMESPACE}.svc.cluster.local`,
      uri: `mysql://${v.randoms.random2}:${v.randoms.random1}@x00000000000040.${NAMESPACE}.svc.cluster.local:3306/${v.randoms.random3}`,
    });
  });

  it('lists every node of the clustered mysql56 plan in nodes and $uri', () => {
    const { service, plan } = find('mysql56', 'clustered');
    const v = values();
    const { credentials } = renderAll(service, plan, v);
    const hosts = ['x00000000000040-node1', 'x00000000000041-node2', 'x00000000000042-node3'];
    expect(credentials).toEqual({
      username: v.randoms.random2,
      password: v.randoms.random1,
      dbname: v.randoms.random3,
      // The seed's uri_cluster_template asks for MYSQL_USERNAME, which these containers call MYSQL_USER.
      uri: `mysql:loadbalance://:${v.randoms.random1}@${hosts.map((h) => `${h}.${NAMESPACE}.svc.cluster.local:3306`).join(',')}/${v.randoms.random3}`,
      nodes: hosts.map((h) => ({ nodeName: h, host: `${h}.${NAMESPACE}.svc.cluster.local`, ports: { '3306/tcp': '3306' } })),
    });
    // The persistent variant also has a Service for the whole cluster on 3306: one more entry.
    const persistent = find('mysql56', 'clustered-persistent');
    const creds = renderAll(persistent.service, persistent.plan).credentials as { nodes: { nodeName: string }[]; uri: string };
    expect(creds.nodes.map((n) => n.nodeName)).toEqual(['x00000000000040-cluster', 'x00000000000041-node1', 'x00000000000042-node2', 'x00000000000043-node3']);
    expect(creds.uri.split(',')).toHaveLength(4);
  });

  it('renders the clustered mongodb30 and postgresql94 node lists', () => {
    const mongo = find('mongodb30', 'clustered');
    const creds = renderAll(mongo.service, mongo.plan).credentials as { replicas: { replicaName: string; host: string; ports: object }[]; serviceName: string };
    expect(creds.serviceName).toBe('mongodb30-multinode');
    expect(creds.replicas.map((r) => r.replicaName)).toEqual(['x00000000000040-node0', 'x00000000000041-node1', 'x00000000000042-node2']);
    expect(creds.replicas[0]).toEqual({
      replicaName: 'x00000000000040-node0',
      host: `x00000000000040-node0.${NAMESPACE}.svc.cluster.local`,
      ports: { '27017/tcp': '27017' },
    });
    const pg = find('postgresql94', 'clustered');
    expect((renderAll(pg.service, pg.plan).credentials as { nodes: unknown[] }).nodes).toHaveLength(4);
  });

  it('keeps the longest placeholder prefix and the rest as text', () => {
    const { service, plan } = find('postgresql94', 'clustered');
    const secret = renderAll(service, plan).objects.find((o) => o.metadata.name.endsWith('-postgresql-clustered-credentials'))!;
    const decoded = (key: string) => Buffer.from(secret.data![key]!, 'base64').toString();
    // secretClustered.json is the second Secret of the plan: index 1.
    expect(decoded('master-host-name')).toBe('x00000000000041_MASTER_SERVICE_HOST');
    expect(decoded('slave-2-host-name')).toBe('x00000000000041_SLAVE_2_SERVICE_HOST');
    expect(decoded('pg-data-home')).toBe('/var/lib/postgresql/9.4/main');
    expect(secret.data!['replication-host']).toBe('');
  });

  it('leaves shell variables in commands alone', () => {
    const { service, plan } = find('postgresql94', 'clustered');
    const pgpool = renderAll(service, plan).objects.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-pgpool'))!;
    expect(pgpool.spec.template.spec.containers[0].args[1]).toContain(
      'export MASTER_HOST_NAME=${MASTER_HOST_NAME^^} && export REPLICATION_HOST=${!MASTER_HOST_NAME}',
    );
  });

  itLetsTheClusterChooseTheStorageClass(() => loaded, ['redis32', 'standard'], ['mysql56', 'persistent'], '10Gi');

  it('gives nginx/simple empty values where its mapping asks for what the plan lacks', () => {
    const { service, plan } = find('nginx', 'simple');
    const v = values();
    expect(renderAll(service, plan, v).credentials).toEqual({
      name: 'nginx-multinode',
      hostname: `x00000000000040.${NAMESPACE}.svc.cluster.local`,
      port: '',
      username: v.randoms.random2,
      password: v.randoms.random1,
      dbname: v.randoms.random3,
      uri: '',
    });
  });

  it('creates what workloads need before them and Services last', () => {
    const { service, plan } = find('redis32', 'standard-ha');
    expect(renderAll(service, plan).objects.map((o) => o.kind)).toEqual([
      'ServiceAccount',
      'Secret',
      'StatefulSet',
      'Deployment',
      'Deployment',
      'Service',
      'Service',
      'Service',
    ]);
  });
});
