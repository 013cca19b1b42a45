import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogLoadError } from './errors.js';
import { loadCatalog } from './load.js';
import { baseCatalog, deployment, removeCatalog, service, writeCatalog, type FileContent } from './testing.js';
import type { CatalogProblem } from './types.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeCatalog));

function dirOf(files: Record<string, FileContent>): string {
  const dir = writeCatalog(files);
  dirs.push(dir);
  return dir;
}

async function load(files: Record<string, FileContent>) {
  return loadCatalog(dirOf(files));
}

/** The problems of a catalog that must not load. */
async function problems(files: Record<string, FileContent>): Promise<CatalogProblem[]> {
  try {
    await load(files);
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogLoadError);
    return (err as CatalogLoadError).problems;
  }
  throw new Error('the catalog loaded');
}

const without = (files: Record<string, FileContent>, ...paths: string[]) => {
  const copy = { ...files };
  for (const p of paths) delete copy[p];
  return copy;
};

describe('loadCatalog', () => {
  it('loads a valid catalog', async () => {
    const { catalog, warnings } = await load(baseCatalog());
    expect(warnings).toEqual([]);
    expect(catalog.services.map((s) => s.name)).toEqual(['db']);
    const plan = catalog.services[0]!.plans[0]!;
    expect(plan).toMatchObject({
      id: 'db-small-id',
      name: 'small',
      free: true,
      bindable: true,
      planUpdateable: false,
      bindingRotatable: false,
      dir: 'db/small',
    });
    expect(plan.templates.map((t) => [t.file, t.kind, t.index])).toEqual([
      ['db/small/k8s/secret.json', 'Secret', 0],
      ['db/small/k8s/deployment.json', 'Deployment', 0],
      ['db/small/k8s/service.json', 'Service', 0],
    ]);
    expect(plan.credentials?.file).toBe('db/small/credentials-mappings.json');
    expect(catalog.findService('db-service-id')?.name).toBe('db');
    expect(catalog.findPlan('db-service-id', 'db-small-id')?.plan.name).toBe('small');
    expect(catalog.findPlan('db-service-id', 'nope')).toBeUndefined();
    expect(catalog.findService('nope')).toBeUndefined();
  });

  it('serves every OSB field of service.json and plan.json, plans and services in folder order', async () => {
    const serviceJson = {
      id: 'svc',
      name: 'svc',
      description: 'd',
      bindable: false,
      tags: ['a'],
      requires: ['volume_mount'],
      metadata: { displayName: 'Svc', 'displayName:': 'kept as is' },
      dashboard_client: { id: 'c', secret: 's', redirect_uri: 'https://x' },
      plan_updateable: true,
      instances_retrievable: true,
      bindings_retrievable: true,
      allow_context_updates: true,
      x_extra: { any: 1 },
    };
    const planJson = (id: string) => ({
      id,
      name: id,
      description: 'd',
      free: false,
      bindable: true,
      plan_updateable: false,
      metadata: { bullets: ['b'] },
      schemas: { service_instance: { create: { parameters: { type: 'object' } } } },
      maximum_polling_duration: 600,
      maintenance_info: { version: '1.2.3-rc.1', description: 'm' },
      binding_rotatable: true,
    });
    const files = {
      ...baseCatalog(),
      'zz/service.json': serviceJson,
      'zz/b-plan/plan.json': planJson('p2'),
      'zz/b-plan/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
      'zz/a-plan/plan.json': planJson('p1'),
      'zz/a-plan/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
      'aa/service.json': { id: 'aa', name: 'aa', description: 'd', bindable: false },
      'aa/only/plan.json': { id: 'aa-only', name: 'only', description: 'd' },
      'aa/only/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
    };
    const { catalog } = await load(files);
    const body = catalog.osbCatalog.services;
    expect(body.map((s) => s.id)).toEqual(['aa', 'db-service-id', 'svc']);
    expect(body[2]).toEqual({ ...serviceJson, plans: [planJson('p1'), planJson('p2')] });
    expect(Object.isFrozen(body[2]!.metadata)).toBe(true);
    const zz = catalog.findService('svc')!;
    expect(zz).toMatchObject({ bindable: false, planUpdateable: true, instancesRetrievable: true, bindingsRetrievable: true, allowContextUpdates: true });
    expect(zz.plans[0]).toMatchObject({
      free: false,
      bindable: true,
      planUpdateable: false,
      bindingRotatable: true,
      maximumPollingDuration: 600,
      maintenanceInfo: { version: '1.2.3-rc.1' },
    });
    // Effective values default to the service's.
    expect(catalog.findPlan('aa', 'aa-only')!.plan).toMatchObject({ free: true, bindable: false, planUpdateable: false });
  });

  it('ignores README files, other folders and a plans field (with a warning)', async () => {
    const { catalog, warnings } = await load(
      baseCatalog({
        'README.md': '# catalog',
        'notes/readme.txt': 'not a service',
        'db/small/README.md': '# plan $nodeName',
        'db/secretTemplates/README.md': '$foo',
        'db/docs/plan.md': 'not a plan',
        'db/service.json': { id: 'db-service-id', name: 'db', description: 'A database', bindable: true, plans: [{}] },
      }),
    );
    expect(catalog.services).toHaveLength(1);
    expect(catalog.services[0]!.plans).toHaveLength(1);
    expect(warnings).toEqual([{ file: 'db/service.json', field: 'plans', message: 'is ignored: plans are the folders with a plan.json' }]);
  });

  it('reads YAML templates with several documents, in document order', async () => {
    const yaml = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: $short_serviceid-b\ndata:\n  replicas: "$param_replicas"',
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: $short_serviceid-a\n',
      '',
    ].join('\n---\n');
    const { catalog } = await load(
      baseCatalog({
        'db/small/plan.json': {
          id: 'db-small-id',
          name: 'small',
          description: 'Small',
          schemas: { service_instance: { update: { parameters: { type: 'object', properties: { replicas: { type: 'integer' } } } } } },
        },
        'db/small/k8s/config.yml': yaml,
      }),
    );
    const configs = catalog.services[0]!.plans[0]!.templates.filter((t) => t.kind === 'ConfigMap');
    expect(configs.map((t) => [t.body.metadata.name, t.index])).toEqual([
      ['$short_serviceid-b', 0],
      ['$short_serviceid-a', 1],
    ]);
  });

  it("gives plans without Secret of their own the service's shared Secrets", async () => {
    const shared = { apiVersion: 'v1', kind: 'Secret', metadata: { name: '$short_serviceid-shared' }, data: { a: '$base64-$random2' } };
    const { catalog } = await load({
      ...without(baseCatalog(), 'db/small/k8s/secret.json'),
      'db/small/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
      'db/secretTemplates/secret.json': shared,
      'db/secretTemplates/secretOther.json': { ...shared, metadata: { name: '$short_serviceid-other' } },
      'db/secretTemplates/notes.json': { not: 'a secret file' },
      'db/big/plan.json': { id: 'db-big-id', name: 'big', description: 'Big' },
      'db/big/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
      'db/big/k8s/secret.json': { ...shared, metadata: { name: '$short_serviceid-own' } },
    });
    const [big, small] = catalog.services[0]!.plans;
    expect(small!.templates.filter((t) => t.kind === 'Secret').map((t) => [t.file, t.index])).toEqual([
      ['db/secretTemplates/secret.json', 0],
      ['db/secretTemplates/secretOther.json', 1],
    ]);
    expect(big!.templates.filter((t) => t.kind === 'Secret').map((t) => t.file)).toEqual(['db/big/k8s/secret.json']);
  });

  it('takes the kind from the file name when the object has none, as the old broker did', async () => {
    const { catalog, warnings } = await load(
      baseCatalog({
        'db/small/k8s/account.json': { metadata: { name: '$idx_and_short_serviceid' } },
        'db/small/k8s/secret.json': { apiVersion: 'v1', metadata: { name: '$short_serviceid-creds' }, data: { password: '$base64-$random1' } },
      }),
    );
    const kinds = catalog.services[0]!.plans[0]!.templates.map((t) => `${t.kind} ${t.body.kind} ${t.body.apiVersion}`);
    expect(kinds).toEqual(['ServiceAccount ServiceAccount v1', 'Secret Secret v1', 'Deployment Deployment apps/v1', 'Service Service v1']);
    expect(warnings).toEqual([{ file: 'db/small/k8s/account.json', field: 'apiVersion', message: 'is missing; using v1' }]);
  });

  it('upgrades legacy apiVersions and says so, one warning per object', async () => {
    const legacy = structuredClone(baseCatalog()['db/small/k8s/deployment.json']) as Record<string, any>;
    legacy.apiVersion = 'extensions/v1beta1';
    delete legacy.spec.selector;
    const { catalog, warnings } = await load(baseCatalog({ 'db/small/k8s/deployment.json': legacy }));
    expect(warnings).toEqual([
      { file: 'db/small/k8s/deployment.json', message: 'Deployment extensions/v1beta1 upgraded to apps/v1; added spec.selector from the pod template labels' },
    ]);
    const body = catalog.services[0]!.plans[0]!.templates[1]!.body;
    expect(body.apiVersion).toBe('apps/v1');
    expect(body.spec).toMatchObject({ selector: { matchLabels: { service_id: '$service_id', component: 'main' } } });
  });

  it('fixes fields old API servers accepted and current ones refuse, one warning per fix with file and field', async () => {
    const dep = structuredClone(baseCatalog()['db/small/k8s/deployment.json']) as Record<string, any>;
    dep.spec.template.spec.containers[0].securityContext = { privileged: true, add: ['IPC_LOCK'] };
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: '$idx_and_short_serviceid-discovery' },
      spec: { ClusterIP: 'None', selector: { service_id: '$service_id' }, ports: [{ port: 9300 }] },
    };
    const yaml =
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: $idx_and_short_serviceid-a\nspec:\n  ports: [{port: 1}]\n---\n' +
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: $idx_and_short_serviceid-b\nspec:\n  ClusterIP: None\n  ports: [{port: 1}]\n';
    const { catalog, warnings } = await load(
      baseCatalog({ 'db/small/k8s/deployment.json': dep, 'db/small/k8s/service-discovery.json': svc, 'db/small/k8s/services.yaml': yaml }),
    );
    const caseSensitive = '(field names are case-sensitive; old API servers matched them in any case)';
    expect(warnings).toEqual([
      {
        file: 'db/small/k8s/deployment.json',
        field: 'spec.template.spec.containers[0].securityContext.add',
        message: 'moved to securityContext.capabilities.add (securityContext has no field add; old API servers ignored it)',
      },
      { file: 'db/small/k8s/service-discovery.json', field: 'spec.ClusterIP', message: `renamed to spec.clusterIP ${caseSensitive}` },
      { file: 'db/small/k8s/services.yaml', field: 'document 2 spec.ClusterIP', message: `renamed to spec.clusterIP ${caseSensitive}` },
    ]);
    const byFile = (file: string) => catalog.services[0]!.plans[0]!.templates.filter((t) => t.file === file).map((t) => t.body as any);
    expect(byFile('db/small/k8s/deployment.json')[0].spec.template.spec.containers[0].securityContext).toEqual({
      privileged: true,
      capabilities: { add: ['IPC_LOCK'] },
    });
    expect(byFile('db/small/k8s/service-discovery.json')[0].spec).toEqual({
      clusterIP: 'None',
      selector: { service_id: '$service_id' },
      ports: [{ port: 9300 }],
    });
    expect(byFile('db/small/k8s/services.yaml').map((b) => b.spec.clusterIP)).toEqual([undefined, 'None']);
  });

  it('warns about references to objects the plan does not create, with a hint about indexes', async () => {
    const withRefs = structuredClone(baseCatalog()['db/small/k8s/deployment.json']) as Record<string, any>;
    const podSpec = withRefs.spec.template.spec;
    podSpec.serviceAccountName = '$idx_and_short_serviceid';
    podSpec.volumes = [
      { name: 'd', persistentVolumeClaim: { claimName: '$short_serviceid-missing' } },
      { name: 'e', secret: { secretName: 'external-secret' } },
    ];
    const { warnings } = await load(
      baseCatalog({
        'db/small/k8s/account-a.json': { metadata: { name: '$idx_and_short_serviceid-a' } },
        'db/small/k8s/account-b.json': { metadata: { name: '$idx_and_short_serviceid' } },
        'db/small/k8s/deployment.json': withRefs,
        'db/small/k8s/service-z.json': service('$idx_and_short_serviceid-z', [{ port: 1 }], { component: 'other' }),
      }),
    );
    const messages = warnings.map((w) => `${w.file} ${w.field}: ${w.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        'db/small/k8s/deployment.json spec.template.spec.serviceAccountName: names ServiceAccount x000000c61x35mqnuqi0, which the plan does not create; ServiceAccount x000000c61x35mqnuqi1 (db/small/k8s/account-b.json) differs only by the index of $idx_and_short_serviceid, which counts templates per kind',
        'db/small/k8s/deployment.json spec.template.spec.volumes[0].persistentVolumeClaim.claimName: names PersistentVolumeClaim x000000c61x35mqnuqi-missing, which the plan does not create',
        'db/small/k8s/service-z.json spec.selector: {"component":"other"} selects no pod of the plan',
      ]),
    );
    // Names that are not the instance's (no short id in them) are not judged.
    expect(messages.filter((m) => m.includes('external-secret'))).toEqual([]);
    expect(messages).toHaveLength(5);
  });

  describe('problems', () => {
    it('reports JSON syntax errors with file and line', async () => {
      expect(await problems(baseCatalog({ 'db/small/plan.json': '{\n  "id": "x",\n  "name": "small"\n  "description": "d"\n}' }))).toEqual([
        { file: 'db/small/plan.json', line: 4, message: "invalid JSON: Expected ',' or '}' after property value" },
      ]);
      const [p] = await problems(baseCatalog({ 'db/small/k8s/deployment.json': '{\n "kind": "Deployment",\n' }));
      expect(p).toMatchObject({ file: 'db/small/k8s/deployment.json', line: 3 });
    });

    it('reports the line of JSON syntax errors that Node gives no position for, on one line', async () => {
      // The shipped catalog with one broken shared Secret: `"type",, "Opaque"` (Node 20 says "Unexpected token ','").
      const dir = dirOf({});
      cpSync(path.resolve(import.meta.dirname, '../service-catalog'), dir, { recursive: true });
      const secret = path.join(dir, 'redis/secretTemplates/secret.json');
      writeFileSync(secret, readFileSync(secret, 'utf8').replace('"type": "Opaque"', '"type",, "Opaque"'));
      let error: unknown;
      await loadCatalog(dir).catch((err: unknown) => (error = err));
      expect(error).toBeInstanceOf(CatalogLoadError);
      expect((error as CatalogLoadError).problems).toEqual([
        { file: 'redis/secretTemplates/secret.json', line: 7, message: "invalid JSON: Expected ':' after property name" },
      ]);
      expect((error as Error).message).toBe("redis/secretTemplates/secret.json:7: invalid JSON: Expected ':' after property name");
      expect(await problems(baseCatalog({ 'db/small/k8s/secret.json': '{\n  "kind": "Secret",\n  "data": [1,]\n,\n"x": 1\n}\n' }))).toEqual([
        { file: 'db/small/k8s/secret.json', line: 3, message: "invalid JSON: Unexpected token ']'" },
      ]);
    });

    it('reports just the syntax error of a plan.json, not what its templates use of it', async () => {
      const dep = deployment('$idx_and_short_serviceid', { env: [{ name: 'SIZE', value: '$param_size' }] });
      const plan =
        '{\n  "id": "db-small-id",\n  "name": "small",,\n  "description": "Small",\n' +
        '  "schemas": {"service_instance": {"create": {"parameters": {"type": "object", "properties": {"size": {"type": "string"}}}}}}\n}\n';
      const shared = { apiVersion: 'v1', kind: 'Secret', metadata: { name: '$short_serviceid-shared' }, data: { size: '$base64-$param_size' } };
      expect(
        await problems({
          ...without(baseCatalog(), 'db/small/k8s/secret.json'),
          'db/small/plan.json': plan,
          'db/small/k8s/deployment.json': dep,
          'db/secretTemplates/secret.json': shared,
          'db/small/credentials-mappings.json': '{"size": "$param_size", "user": "$env_DB_USER"}',
        }),
      ).toEqual([{ file: 'db/small/plan.json', line: 3, message: 'invalid JSON: Expected double-quoted property name' }]);
      // What does not depend on the plan.json is still checked.
      expect(
        await problems(
          baseCatalog({
            'db/small/plan.json': '{ nope',
            'db/small/k8s/deployment.json': deployment('$idx_and_short_serviceid', { env: [{ name: 'A', value: '$param_a $randomX' }] }),
          }),
        ),
      ).toEqual([
        { file: 'db/small/plan.json', line: 1, message: "invalid JSON: Expected property name or '}'" },
        {
          file: 'db/small/k8s/deployment.json',
          field: 'spec.template.spec.containers[0].env[0].value',
          message: 'unknown placeholder $randomX (write $$ for a literal $)',
        },
      ]);
    });

    it('reports YAML syntax errors with file and line', async () => {
      const [p] = await problems(baseCatalog({ 'db/small/k8s/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n' }));
      expect(p).toMatchObject({ file: 'db/small/k8s/extra.yaml', line: expect.any(Number) });
      expect(p!.line).toBeGreaterThanOrEqual(4);
      expect(p!.message).toMatch(/^invalid YAML: /);
    });

    it('reports missing and mistyped OSB fields', async () => {
      const found = await problems(
        baseCatalog({
          'db/service.json': { id: '', name: 'db', bindable: 'yes', tags: 'sql', dashboard_client: { id: 1 } },
          'db/small/plan.json': { id: 'p', free: 'no', maximum_polling_duration: -1, maintenance_info: { version: 'one' } },
        }),
      );
      expect(found).toEqual(
        expect.arrayContaining([
          { file: 'db/service.json', field: 'id', message: 'must be a non-empty string, got ""' },
          { file: 'db/service.json', field: 'description', message: 'is required (a non-empty string)' },
          { file: 'db/service.json', field: 'bindable', message: 'must be a boolean, got "yes"' },
          { file: 'db/service.json', field: 'tags', message: 'must be an array of strings, got "sql"' },
          { file: 'db/service.json', field: 'dashboard_client.id', message: 'must be a string' },
          { file: 'db/service.json', field: 'dashboard_client.secret', message: 'must be a string' },
          { file: 'db/small/plan.json', field: 'name', message: 'is required (a non-empty string)' },
          { file: 'db/small/plan.json', field: 'description', message: 'is required (a non-empty string)' },
          { file: 'db/small/plan.json', field: 'free', message: 'must be a boolean, got "no"' },
          { file: 'db/small/plan.json', field: 'maximum_polling_duration', message: 'must be a non-negative integer, got -1' },
          { file: 'db/small/plan.json', field: 'maintenance_info.version', message: 'must be a semantic version (1.2.3)' },
        ]),
      );
      expect(found).toHaveLength(11);
    });

    it("takes a plan's Pod Security level from pod_security, restricted when absent, and refuses another value", async () => {
      const plan = async (extra: Record<string, unknown>) => {
        const files = baseCatalog();
        files['db/small/plan.json'] = { ...(files['db/small/plan.json'] as Record<string, unknown>), ...extra };
        return (await load(files)).catalog.services[0]!.plans[0]!;
      };
      expect((await plan({})).podSecurity).toBe('restricted');
      expect((await plan({ pod_security: 'baseline' })).podSecurity).toBe('baseline');
      const files = baseCatalog();
      files['db/small/plan.json'] = { ...(files['db/small/plan.json'] as Record<string, unknown>), pod_security: 'lax' };
      expect(await problems(files)).toEqual([
        { file: 'db/small/plan.json', field: 'pod_security', message: 'must be one of restricted, baseline, privileged, got "lax"' },
      ]);
    });

    it('reports duplicate ids and names', async () => {
      const files = {
        ...baseCatalog(),
        'db/other/plan.json': { id: 'db-small-id', name: 'small', description: 'd' },
        'db/other/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
        'db2/service.json': { id: 'db-service-id', name: 'db', description: 'd', bindable: true },
        'db2/p/plan.json': { id: 'db-service-id-plan', name: 'small', description: 'd' },
        'db2/p/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
        'db3/service.json': { id: 'db3', name: 'db3', description: 'd', bindable: true },
        'db3/p/plan.json': { id: 'db2-same-as-service', name: 'p', description: 'd' },
        'db3/p/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
        'db3/q/plan.json': { id: 'db3', name: 'q', description: 'd' },
        'db3/q/k8s/deployment.json': deployment('$idx_and_short_serviceid'),
      };
      expect(await problems(files)).toEqual([
        { file: 'db/small/plan.json', field: 'id', message: 'duplicate id "db-small-id" (also in db/other/plan.json)' },
        { file: 'db/small/plan.json', field: 'name', message: 'duplicate plan name "small" (also in db/other/plan.json)' },
        { file: 'db2/service.json', field: 'id', message: 'duplicate id "db-service-id" (also in db/service.json)' },
        { file: 'db2/service.json', field: 'name', message: 'duplicate service name "db" (also in db/service.json)' },
        { file: 'db3/q/plan.json', field: 'id', message: 'duplicate id "db3" (also in db3/service.json)' },
      ]);
    });

    it('reports schemas that are not JSON Schema, and warns about unknown keywords', async () => {
      const plan = (schemas: unknown) => baseCatalog({ 'db/small/plan.json': { id: 'db-small-id', name: 'small', description: 'Small', schemas } });
      expect(await problems(plan({ service_instance: { create: { parameters: { type: 'strnig' } } } }))).toEqual([
        {
          file: 'db/small/plan.json',
          field: 'schemas.service_instance.create.parameters',
          message: expect.stringMatching(/^is not a valid draft-07 JSON Schema: schema\/type must be equal to one of the allowed values/),
        },
      ]);
      expect(await problems(plan({ service_binding: { create: { parameters: { $schema: 'http://json-schema.org/draft-03/schema#' } } } }))).toEqual([
        { file: 'db/small/plan.json', field: 'schemas.service_binding.create.parameters', message: expect.stringMatching(/^unsupported \$schema/) },
      ]);
      expect(await problems(plan({ service_instance: 'nope' }))).toEqual([
        { file: 'db/small/plan.json', field: 'schemas.service_instance', message: 'must be an object' },
      ]);
      const { warnings } = await load(plan({ service_instance: { update: { parameters: { type: 'object', propertes: {} } } } }));
      expect(warnings).toEqual([
        { file: 'db/small/plan.json', field: 'schemas.service_instance.update.parameters', message: expect.stringContaining('propertes') },
      ]);
      const ok = await load(
        plan({
          service_instance: {
            create: {
              parameters: {
                $schema: 'http://json-schema.org/draft-04/schema#',
                type: 'object',
                properties: { n: { type: 'integer', maximum: 3, exclusiveMaximum: true } },
              },
            },
            update: { parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { n: { type: 'integer' } } } },
          },
          service_binding: { create: { parameters: { $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object' } } },
        }),
      );
      expect(ok.warnings).toEqual([]);
    });

    it('reports unknown placeholders and undeclared parameters, with the field', async () => {
      const dep = deployment('$idx_and_short_serviceid', {
        env: [
          { name: 'A', value: '$hostname' },
          { name: 'B', value: '$param_size' },
        ],
        replicas: '$param_replicas',
      });
      expect(
        await problems(
          baseCatalog({
            'db/small/plan.json': {
              id: 'db-small-id',
              name: 'small',
              description: 'Small',
              schemas: { service_instance: { update: { parameters: { type: 'object', properties: { replicas: { type: 'integer' } } } } } },
            },
            'db/small/k8s/deployment.json': dep,
            'db/small/k8s/secret.json': { apiVersion: 'v1', kind: 'Secret', metadata: { name: '$short_serviceid-creds' }, data: { p: '$randomX' } },
          }),
        ),
      ).toEqual([
        { file: 'db/small/k8s/secret.json', field: 'data.p', message: 'unknown placeholder $randomX (write $$ for a literal $)' },
        {
          file: 'db/small/k8s/deployment.json',
          field: 'spec.template.spec.containers[0].env[0].value',
          message: '$hostname is only available in credentials mappings, node_template.json and uri_cluster_template',
        },
        {
          file: 'db/small/k8s/deployment.json',
          field: 'spec.template.spec.containers[0].env[1].value',
          message: '$param_size: the plan declares no parameter size (parameters are the properties of its service_instance create or update schema)',
        },
      ]);
    });

    it('says which plan lacks a parameter a shared Secret uses', async () => {
      const shared = { apiVersion: 'v1', kind: 'Secret', metadata: { name: '$short_serviceid-shared' }, data: { size: '$base64-$param_size' } };
      expect(await problems({ ...without(baseCatalog(), 'db/small/k8s/secret.json'), 'db/secretTemplates/secret.json': shared })).toEqual([
        {
          file: 'db/secretTemplates/secret.json',
          field: 'data.size',
          message:
            '$param_size: the plan declares no parameter size (parameters are the properties of its service_instance create or update schema) (in plan db/small)',
        },
      ]);
    });

    it('reports a problem of a shared Secret once, whatever the number of plans using it', async () => {
      const shared = { apiVersion: 'v1', kind: 'Secret', metadata: { name: '$short_serviceid-shared' }, data: { p: '$base64-$randomX' } };
      const files = {
        ...without(baseCatalog(), 'db/small/k8s/secret.json'),
        'db/secretTemplates/secret.json': shared,
        'db/big/plan.json': { id: 'db-big-id', name: 'big', description: 'Big' },
        'db/big/k8s/deployment.json': baseCatalog()['db/small/k8s/deployment.json']!,
      };
      expect(await problems(files)).toEqual([
        { file: 'db/secretTemplates/secret.json', field: 'data.p', message: 'unknown placeholder $randomX (write $$ for a literal $)' },
      ]);
    });

    it('warns about placeholders in mapping keys, which stay as written', async () => {
      const { warnings } = await load(baseCatalog({ 'db/small/credentials-mappings.json': '{\n  "user": "$env_DB_USER",\n  "$env_DB_USER": "x"\n}' }));
      expect(warnings).toEqual([{ file: 'db/small/credentials-mappings.json', line: 3, message: 'placeholders in keys are not substituted' }]);
    });

    it('reports unknown placeholders of mappings and node templates with their line', async () => {
      expect(
        await problems(
          baseCatalog({
            'db/small/credentials-mappings.json': '{\n  "a": "$env_DB_USER",\n  "b": "$nodeName",\n  "n": [$nodes]\n}',
            'db/small/node_template.json': '{\n  "n": "$nodeName",\n  "x": "$uri"\n}',
          }),
        ),
      ).toEqual([
        { file: 'db/small/credentials-mappings.json', line: 3, message: '$nodeName is only available in node_template.json' },
        { file: 'db/small/node_template.json', line: 3, message: '$uri is only available in credentials mappings' },
      ]);
    });

    it('reports a plan without workload and objects without name or kind', async () => {
      expect(
        await problems(
          baseCatalog({
            'db/small/k8s/deployment.json': { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { generateName: 'x-' }, spec: {} },
            'db/small/k8s/thing.json': { apiVersion: 'v1', metadata: { name: 'thing' } },
            'db/small/k8s/list.json': [],
          }),
        ),
      ).toEqual([
        { file: 'db/small/k8s/deployment.json', field: 'metadata.name', message: 'is required: the broker finds objects again by name' },
        { file: 'db/small/k8s/list.json', message: 'must be a Kubernetes object (a JSON object or YAML mapping)' },
        { file: 'db/small/k8s/thing.json', field: 'kind', message: 'is missing, and the file name implies none (secret*, deployment*, service*, account*...)' },
        { file: 'db/small', message: 'has no workload (StatefulSet, Deployment, ReplicaSet, DaemonSet, ReplicationController, Job, Pod) in k8s/' },
      ]);
    });

    it('reports mappings that do not render to a JSON object', async () => {
      expect(await problems(baseCatalog({ 'db/small/credentials-mappings.json': '{"a": "$env_DB_USER" "b": "x"}' }))).toEqual([
        {
          file: 'db/small/credentials-mappings.json',
          message: "the rendered credentials mapping is not JSON at line 1: Expected ',' or '}' after property value",
        },
      ]);
      // Node 20 gives no position for "Unexpected token": the line is found all the same.
      expect(await problems(baseCatalog({ 'db/small/credentials-mappings.json': '{\n"a": "$env_DB_USER",\n"b": [1,,2],\n"c": "x"\n}' }))).toEqual([
        { file: 'db/small/credentials-mappings.json', message: "the rendered credentials mapping is not JSON at line 3: Unexpected token ','" },
      ]);
      expect(await problems(baseCatalog({ 'db/small/credentials-mappings.json': '["$env_DB_USER"]' }))).toEqual([
        { file: 'db/small/credentials-mappings.json', message: 'the rendered credentials mapping is not a JSON object' },
      ]);
      expect(await problems(baseCatalog({ 'db/small/credentials-mappings.json': '{"a": $env_DB_USER}' }))).toEqual([
        {
          file: 'db/small/credentials-mappings.json',
          line: 1,
          message: '$env_DB_USER stands outside a JSON string: put it in quotes (only $nodes and $port_N may stand bare)',
        },
      ]);
    });

    it('reports objects Kubernetes would refuse for every instance', async () => {
      const mismatch = deployment('$idx_and_short_serviceid');
      (mismatch.spec as any).selector = { matchLabels: { component: 'other' } };
      const noSelector = deployment('$idx_and_short_serviceid-b');
      delete (noSelector.spec as any).selector;
      expect(
        await problems(
          baseCatalog({
            'db/small/k8s/deployment.json': mismatch,
            'db/small/k8s/deployment-b.json': noSelector,
            'db/small/k8s/configmap.json': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Upper_Case' } },
          }),
        ),
      ).toEqual([{ file: 'db/small/k8s/configmap.json', message: 'metadata.name "Upper_Case" is not a valid name for a ConfigMap' }]);
      expect(
        await problems(
          baseCatalog({
            'db/small/k8s/deployment.json': mismatch,
            'db/small/k8s/deployment-b.json': noSelector,
            // The index tells two templates with the same name apart; a fixed name it cannot.
            'db/small/k8s/service-a.json': service('$short_serviceid-svc', [{ port: 5432 }]),
            'db/small/k8s/service-b.json': service('$short_serviceid-svc', [{ port: 5432 }]),
            'db/small/k8s/service-c.json': service('$idx_and_short_serviceid', [{ port: 5432 }]),
          }),
        ),
      ).toEqual([
        {
          file: 'db/small/k8s/service-b.json',
          field: 'metadata.name',
          message: 'Service x000000c61x35mqnuqi-svc is also created by db/small/k8s/service-a.json',
        },
        { file: 'db/small/k8s/deployment-b.json', field: 'spec.selector', message: 'is required for an apps/v1 Deployment' },
        {
          file: 'db/small/k8s/deployment.json',
          field: 'spec.selector.matchLabels',
          message: `{"component":"other"} does not select the pod template's labels {"service_id":"00000000-0000-4000-8000-000000000000","component":"main","app.kubernetes.io/managed-by":"kubernetes-broker"}; Kubernetes refuses such a Deployment`,
        },
      ]);
    });

    it('collects every problem of the catalog and puts each on one line of the message', async () => {
      let error: unknown;
      try {
        await load(
          baseCatalog({
            'db/service.json': { id: 'db-service-id', name: 'db', description: 'A database' },
            'db/small/plan.json': '{ nope',
            'db/small/credentials-mappings.json': '{"a": "$what"}',
            'db2/service.json': { id: 'db2', name: 'db2', description: 'd', bindable: true },
            'db2/p/plan.json': { id: 'db2-p', name: 'p', description: 'd' },
          }),
        );
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(CatalogLoadError);
      expect((error as Error).message.split('\n')).toEqual([
        'db/service.json bindable: is required (a boolean)',
        "db/small/plan.json:1: invalid JSON: Expected property name or '}'",
        'db/small/credentials-mappings.json:1: unknown placeholder $what (write $$ for a literal $)',
        'db2/p: has no workload (StatefulSet, Deployment, ReplicaSet, DaemonSet, ReplicationController, Job, Pod) in k8s/',
      ]);
    });

    it('refuses a directory without services', async () => {
      expect(await problems({ 'README.md': 'empty' })).toEqual([
        { file: '.', message: expect.stringMatching(/holds no service \(a folder with a service\.json\)$/) },
      ]);
      await expect(loadCatalog('/nonexistent/catalog')).rejects.toThrow(CatalogLoadError);
    });
  });
});
