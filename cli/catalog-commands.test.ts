import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { baseCatalog, removeCatalog, writeCatalog } from '../catalog/testing.js';
import { OLD_FORMAT_CATALOG_DIR, SEED_CATALOG_DIR, SEED_CATALOG_PRESENT, SEED_SKIP_NOTE } from '../test/seed-catalog.js';
import { catalogRender, catalogValidate } from './catalog-commands.js';

const SEED = SEED_CATALOG_DIR;
const seedIt = it.skipIf(!SEED_CATALOG_PRESENT);
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeCatalog));
afterEach(() => vi.unstubAllEnvs());

function output() {
  const out = { logs: [] as string[], errors: [] as string[] };
  return { ...out, log: (s: string) => out.logs.push(s), error: (s: string) => out.errors.push(s) };
}

const paramsCatalog = () => {
  const dir = writeCatalog(
    baseCatalog({
      'db/small/plan.json': {
        id: 'db-small-id',
        name: 'small',
        description: 'Small',
        schemas: { service_instance: { create: { parameters: { type: 'object', properties: { replicas: { type: 'integer', maximum: 5, default: 2 } } } } } },
      },
      'db/small/k8s/deployment.json': {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: '$idx_and_short_serviceid' },
        spec: {
          replicas: '$param_replicas',
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: {
              containers: [
                {
                  name: 'db',
                  image: 'db',
                  env: [
                    { name: 'DB_USER', value: 'u' },
                    { name: 'DB_PASSWORD', value: 'p' },
                  ],
                },
              ],
            },
          },
        },
      },
    }),
  );
  dirs.push(dir);
  return dir;
};

/** Rendered YAML documents, by kind, with the namespace and the service_id label. */
const documents = (yaml: string) =>
  parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string; labels: Record<string, string> } });
const expectSampleInstance = (docs: ReturnType<typeof documents>) => {
  for (const d of docs) {
    expect(d.metadata.namespace).toBe('default');
    expect(d.metadata.labels.service_id).toBe('00000000-0000-4000-8000-000000000000');
  }
};

describe('catalogValidate', () => {
  it('counts a catalog in the old format and lists its warnings', async () => {
    const out = output();
    expect(await catalogValidate(OLD_FORMAT_CATALOG_DIR, out)).toBe(0);
    expect(out.logs[0]).toBe(`catalog ${OLD_FORMAT_CATALOG_DIR}: 3 services, 6 plans, 15 warnings`);
    expect(out.logs).toContain('warning: webserver/simple/credentials-mappings.json:7: trailing comma before } or ] tolerated (it is not JSON)');
    expect(out.errors).toEqual([]);
  });

  seedIt(`counts the seed catalog and lists its warnings${SEED_SKIP_NOTE}`, async () => {
    const out = output();
    expect(await catalogValidate(SEED, out)).toBe(0);
    expect(out.logs[0]).toMatch(/^catalog .*catalogData: 31 services, 61 plans, \d+ warnings$/);
    expect(out.logs).toContain('warning: nginx/simple/credentials-mappings.json:8: trailing comma before } or ] tolerated (it is not JSON)');
    expect(out.errors).toEqual([]);
  });

  it('lists every problem of a broken catalog and fails', async () => {
    const dir = writeCatalog(baseCatalog({ 'db/small/plan.json': { id: 'p' }, 'db/small/credentials-mappings.json': '{"a": "$nope"}' }));
    dirs.push(dir);
    const out = output();
    expect(await catalogValidate(dir, out)).toBe(1);
    expect(out.errors).toEqual([
      `catalog ${dir} has 3 problems:`,
      'db/small/plan.json name: is required (a non-empty string)',
      'db/small/plan.json description: is required (a non-empty string)',
      'db/small/credentials-mappings.json:1: unknown placeholder $nope (write $$ for a literal $)',
    ]);
  });
});

describe('catalogRender', () => {
  it('prints the objects of a plan in the old format as YAML documents, by names', async () => {
    const out = output();
    expect(await catalogRender(OLD_FORMAT_CATALOG_DIR, 'kvstore-multinode', 'replicated', undefined, out)).toBe(0);
    expect(out.logs).toHaveLength(1);
    const docs = documents(out.logs[0]!);
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'Secret', 'StatefulSet', 'Deployment', 'Service', 'Service']);
    expectSampleInstance(docs);
  });

  it('finds a plan in the old format by ids too, and uses STORAGE_CLASS', async () => {
    vi.stubEnv('STORAGE_CLASS', 'ssd');
    const out = output();
    expect(await catalogRender(OLD_FORMAT_CATALOG_DIR, '6a1f3c20-5d4e-4b7a-9c18-2e0f7b3d9a01', '6a1f3c20-5d4e-4b7a-9c18-2e0f7b3d9a11', undefined, out)).toBe(0);
    expect(out.logs[0]).toContain('storageClassName: ssd');
  });

  seedIt(`prints the objects of a seed plan as YAML documents, by names${SEED_SKIP_NOTE}`, async () => {
    const out = output();
    expect(await catalogRender(SEED, 'redis32', 'standard-ha', undefined, out)).toBe(0);
    expect(out.logs).toHaveLength(1);
    const docs = documents(out.logs[0]!);
    expect(docs.map((d) => d.kind)).toEqual(['ServiceAccount', 'Secret', 'StatefulSet', 'Deployment', 'Deployment', 'Service', 'Service', 'Service']);
    expectSampleInstance(docs);
  });

  seedIt(`finds service and plan by id too, and uses STORAGE_CLASS${SEED_SKIP_NOTE}`, async () => {
    vi.stubEnv('STORAGE_CLASS', 'ssd');
    const out = output();
    expect(await catalogRender(SEED, '9f54be76-722b-11e7-ad8f-6fd2bc5f79fe', '7238138e-722b-11e7-9e57-c30dd7276550', undefined, out)).toBe(0);
    expect(out.logs[0]).toContain('storageClassName: ssd');
  });

  it('validates the parameters and applies their defaults', async () => {
    const dir = paramsCatalog();
    const ok = output();
    expect(await catalogRender(dir, 'db', 'small', '{"replicas": 4}', ok)).toBe(0);
    expect(ok.logs[0]).toContain('replicas: 4');
    const defaults = output();
    expect(await catalogRender(dir, 'db', 'small', undefined, defaults)).toBe(0);
    expect(defaults.logs[0]).toContain('replicas: 2');
    const bad = output();
    expect(await catalogRender(dir, 'db', 'small', '{"replicas": 9}', bad)).toBe(1);
    expect(bad.errors).toEqual(['parameters.replicas must be <= 5']);
    const notJson = output();
    expect(await catalogRender(dir, 'db', 'small', '{replicas', notJson)).toBe(1);
    expect(notJson.errors[0]).toMatch(/^parameters are not JSON: /);
  });

  it('says which services and plans exist when one is not found', async () => {
    const dir = paramsCatalog();
    const noService = output();
    expect(await catalogRender(dir, 'nope', 'small', undefined, noService)).toBe(1);
    expect(noService.errors).toEqual(['no service "nope"; services: db']);
    const noPlan = output();
    expect(await catalogRender(dir, 'db', 'huge', undefined, noPlan)).toBe(1);
    expect(noPlan.errors).toEqual(['service db has no plan "huge"; plans: small']);
  });
});
