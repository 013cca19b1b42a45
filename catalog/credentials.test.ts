import { describe, expect, it } from 'vitest';
import { renderCredentials } from './credentials.js';
import { RenderError } from './errors.js';
import { renderPlan } from './render.js';
import { baseCatalog, deployment, service, temporaryCatalogs } from './testing.js';
import type { InstanceFacts, InstanceValues, Randoms, ServiceFacts } from './types.js';

const ID = 'a33b4370-50ee-4c1d-9e2f-123456789abc';
const { load } = temporaryCatalogs();

const randoms = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`random${i}`, `Rnd${i}abcdef`])) as Randoms;
const values: InstanceValues = { instanceId: ID, org: 'o', space: 's', namespace: 'ns', storageClass: '', parameters: {}, randoms };
const svc = (name: string, ports: [port: number, targetPort: number][]): ServiceFacts => ({
  name,
  hostname: `${name}.ns.svc.cluster.local`,
  ports: ports.map(([port, targetPort]) => ({ port, targetPort })),
});
const facts = (env: Record<string, string>, services: ServiceFacts[]): InstanceFacts => ({ env, services });

describe('renderCredentials', () => {
  it('fills env, host and port of the running instance', async () => {
    const { service, plan } = await load(baseCatalog());
    const creds = renderCredentials(service, plan, values, facts({ DB_USER: 'u', DB_PASSWORD: 'p' }, [svc('xa33b437050ee40', [[5432, 5432]])]));
    expect(creds).toEqual({
      hostname: 'xa33b437050ee40.ns.svc.cluster.local',
      port: '5432',
      username: 'u',
      password: 'p',
      uri: 'postgres://u:p@xa33b437050ee40.ns.svc.cluster.local:5432/db',
    });
  });

  it('reads env names with digits (the old broker could not)', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/k8s/deployment.json': deployment('$idx_and_short_serviceid', {
          env: [
            { name: 'PG2_PASS', value: 'x' },
            { name: 'PG2', value: 'y' },
          ],
        }),
        'db/small/credentials-mappings.json': { a: '$env_PG2_PASS', b: '$env_PG2' },
      }),
    );
    expect(renderCredentials(service, plan, values, facts({ PG2_PASS: 'secret', PG2: 'two' }, [svc('s', [[5432, 5432]])]))).toEqual({ a: 'secret', b: 'two' });
  });

  it('refuses a missing env var, naming it', async () => {
    const { service, plan } = await load(baseCatalog());
    expect(() => renderCredentials(service, plan, values, facts({ DB_USER: 'u' }, [svc('s', [[5432, 5432]])]))).toThrow(
      new RenderError("$env_DB_PASSWORD: the instance's containers have no environment variable DB_PASSWORD", 'db/small/credentials-mappings.json'),
    );
  });

  it('refuses a port no Service forwards to, and $hostname without Service', async () => {
    const { service, plan } = await load(baseCatalog());
    const env = { DB_USER: 'u', DB_PASSWORD: 'p' };
    expect(() => renderCredentials(service, plan, values, facts(env, [svc('s', [[80, 8080]])]))).toThrow(
      /\$port_5432: no Service of the instance forwards to port 5432/,
    );
    expect(() => renderCredentials(service, plan, values, facts(env, []))).toThrow(RenderError);
  });

  it("takes host and port from the Service exposing the mapping's port; the first Service without port", async () => {
    const { service: offering, plan } = await load(
      baseCatalog({
        'db/small/k8s/service-admin.json': service('$idx_and_short_serviceid-admin', [{ port: 80, targetPort: 8080 }]),
        'db/small/credentials-mappings.json': '{"h": "$hostname", "p": "$port_5432", "admin": "$port_8080"}',
      }),
    );
    const services = [svc('a-admin', [[80, 8080]]), svc('b-db', [[30432, 5432]])];
    expect(renderCredentials(offering, plan, values, facts({}, services))).toEqual({ h: 'b-db.ns.svc.cluster.local', p: '30432', admin: '80' });
    const noPort = await load(baseCatalog({ 'db/small/credentials-mappings.json': { h: '$hostname', n: '$name' } }));
    expect(renderCredentials(noPort.service, noPort.plan, values, facts({}, services))).toEqual({ h: 'a-admin.ns.svc.cluster.local', n: 'db' });
  });

  it('fills template placeholders too, with the values the templates got', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/credentials-mappings.json': {
          id: '$service_id',
          pw: '$random1',
          pw64: '$base64-$random1',
          plan: '$catalog_plan_id',
          ns: '$namespace',
          short: '$short_serviceid',
        },
      }),
    );
    const secret = renderPlan(service, plan, values).find((o) => o.kind === 'Secret')! as unknown as { data: Record<string, string> };
    const creds = renderCredentials(service, plan, values, facts({}, [svc('s', [[5432, 5432]])]));
    expect(creds).toEqual({ id: ID, pw: 'Rnd1abcdef', pw64: secret.data.password, plan: 'db-small-id', ns: 'ns', short: 'xa33b437050ee4' });
  });

  it('inserts values as data: no value can add keys, objects or placeholders', async () => {
    const { service, plan } = await load(baseCatalog());
    const evil = '", "admin": true, "x": {"$service_id": "}\n]}';
    const creds = renderCredentials(service, plan, values, facts({ DB_USER: evil, DB_PASSWORD: '$random1\\' }, [svc('s', [[5432, 5432]])]));
    expect(Object.keys(creds)).toEqual(['hostname', 'port', 'username', 'password', 'uri']);
    expect(creds.username).toBe(evil);
    expect(creds.password).toBe('$random1\\');
    expect(creds.uri).toBe(`postgres://${evil}:$random1\\@s.ns.svc.cluster.local:5432/db`);
  });

  it('renders nothing without a mapping', async () => {
    const files = baseCatalog();
    delete files['db/small/credentials-mappings.json'];
    const { service, plan, warnings } = await load(files);
    expect(renderCredentials(service, plan, values, facts({}, []))).toEqual({});
    expect(warnings.map((w) => w.message)).toContain('is bindable but has no credentials-mappings*.json: bindings get empty credentials');
  });

  it('renders placeholders no template can fill as empty, as the old broker did, and said so at load', async () => {
    const { service, plan, warnings } = await load(
      baseCatalog({ 'db/small/credentials-mappings.json': { db: '$env_DB_NAME', user: '$env_DB_USER', admin: '$port_9999' } }),
    );
    expect(warnings.map((w) => `${w.file}: ${w.message}`)).toEqual(
      expect.arrayContaining([
        'db/small/credentials-mappings.json: $env_DB_NAME: no container of the plan declares DB_NAME, so it is always empty',
        'db/small/credentials-mappings.json: $port_9999: no Service of the plan forwards to port 9999 (they forward to 5432), so it is always empty',
      ]),
    );
    expect(plan.credentials!.unfillable).toEqual({ env: ['DB_NAME'], ports: [9999] });
    expect(renderCredentials(service, plan, values, facts({ DB_USER: 'u' }, [svc('s', [[5432, 5432]])]))).toEqual({ db: '', user: 'u', admin: '' });
  });

  it('tolerates the trailing comma of an old mapping, with a warning naming the file', async () => {
    const { service, plan, warnings } = await load(baseCatalog({ 'db/small/credentials-mappings.json': '{\n  "user": "$env_DB_USER",\n}\n' }));
    expect(warnings).toContainEqual({
      file: 'db/small/credentials-mappings.json',
      line: 2,
      message: 'trailing comma before } or ] tolerated (it is not JSON)',
    });
    expect(renderCredentials(service, plan, values, facts({ DB_USER: 'u' }, []))).toEqual({ user: 'u' });
  });

  it('makes $uri empty in plans without uri_cluster_template, with a warning', async () => {
    const { service, plan, warnings } = await load(baseCatalog({ 'db/small/credentials-mappings.json': { uri: '$uri', user: '$env_DB_USER' } }));
    expect(warnings).toContainEqual({
      file: 'db/small/credentials-mappings.json',
      message: '$uri: the plan has no uri_cluster_template, so it is an empty string',
    });
    expect(renderCredentials(service, plan, values, facts({ DB_USER: 'u' }, []))).toEqual({ uri: '', user: 'u' });
  });

  describe('clustered plans', () => {
    const clustered = baseCatalog({
      'db/small/k8s/deployment.json': deployment('$idx_and_short_serviceid', {
        env: [
          { name: 'DB_USER', value: 'u' },
          { name: 'DB_PASSWORD', value: 'p' },
        ],
      }),
      'db/small/k8s/service-node1.json': service('$idx_and_short_serviceid-node1', [{ port: 5432 }]),
      'db/small/k8s/service-node2.json': service('$idx_and_short_serviceid-node2', [{ port: 5432 }]),
      'db/small/k8s/service-admin.json': service('$idx_and_short_serviceid-admin', [{ port: 80, targetPort: 8080 }]),
      'db/small/credentials-mappings.json': '{\n  "user": "$env_DB_USER",\n  "uri": "$uri",\n  "nodes": [\n    $nodes\n  ]\n}\n',
      'db/small/node_template.json': '{\n  "nodeName": "$nodeName",\n  "host": "$hostname",\n  "ports": { "5432/tcp": "$port_5432" }\n}\n',
      'db/small/uri_cluster_template': 'pg://$env_DB_USER:$env_DB_PASSWORD@$hostname:$port_5432/db\n',
    });
    const services = [svc('x-admin', [[80, 8080]]), svc('x-node1', [[31001, 5432]]), svc('x-node2', [[31002, 5432]])];

    it('renders a node per Service exposing the node ports and every host:port in $uri', async () => {
      const { service, plan } = await load(clustered);
      expect(renderCredentials(service, plan, values, facts({ DB_USER: 'u', DB_PASSWORD: 'p' }, services))).toEqual({
        user: 'u',
        uri: 'pg://u:p@x-node1.ns.svc.cluster.local:31001,x-node2.ns.svc.cluster.local:31002/db',
        nodes: [
          { nodeName: 'x-node1', host: 'x-node1.ns.svc.cluster.local', ports: { '5432/tcp': '31001' } },
          { nodeName: 'x-node2', host: 'x-node2.ns.svc.cluster.local', ports: { '5432/tcp': '31002' } },
        ],
      });
    });

    it('keeps node values as data too', async () => {
      const { service, plan } = await load(clustered);
      const evil = [{ ...svc('x-node1', [[31001, 5432]]), hostname: '"}, {"evil": true}, {"x": "' }];
      const creds = renderCredentials(service, plan, values, facts({ DB_USER: 'u', DB_PASSWORD: 'p' }, evil)) as { nodes: unknown[] };
      expect(creds.nodes).toEqual([{ nodeName: 'x-node1', host: '"}, {"evil": true}, {"x": "', ports: { '5432/tcp': '31001' } }]);
    });

    it('cannot bind an instance whose Services are gone', async () => {
      const { service, plan } = await load(clustered);
      expect(() => renderCredentials(service, plan, values, facts({ DB_USER: 'u', DB_PASSWORD: 'p' }, [svc('x-admin', [[80, 8080]])]))).toThrow(
        'db/small/uri_cluster_template: $port_5432: no Service of the instance forwards to port 5432',
      );
    });

    it('gives an empty node list when no Service exposes the node ports', async () => {
      const { service, plan } = await load({ ...clustered, 'db/small/credentials-mappings.json': '{"nodes": [$nodes]}' });
      expect(renderCredentials(service, plan, values, facts({}, [svc('x-admin', [[80, 8080]])]))).toEqual({ nodes: [] });
    });
  });
});
