import { describe, expect, it } from 'vitest';
import { memorySource } from '../read.js';
import { badPath, normalizeFiles, OfferingRejected } from './files.js';
import { templateFolder } from './testing.js';
import { collisions, loadOffering } from './validate.js';

const SERVICE_ID = '6b1e0c2a-0000-4000-8000-000000000001';
const PLAN_ID = '6b1e0c2a-0000-4000-8000-000000000002';

function refusal(run: () => unknown): OfferingRejected {
  try {
    run();
  } catch (err) {
    if (err instanceof OfferingRejected) return err;
    throw err;
  }
  throw new Error('accepted');
}

const folder = (changes: Record<string, unknown> = {}) => {
  const files: Record<string, unknown> = { ...templateFolder(SERVICE_ID, PLAN_ID, 'kv'), ...changes };
  for (const [k, v] of Object.entries(files)) if (v === undefined) delete files[k];
  return normalizeFiles(files);
};

describe('memorySource', () => {
  it('lists files and the folders their paths imply, in byte order, without dot names', () => {
    const source = memorySource({ 'b/x.json': '1', 'a.json': '2', 'b/k8s/y.yaml': '3', '.hidden': '4', 'B/z': '5' });
    expect(source.list('')).toEqual([
      { name: 'B', isDirectory: true },
      { name: 'a.json', isDirectory: false },
      { name: 'b', isDirectory: true },
    ]);
    expect(source.list('b')).toEqual([
      { name: 'k8s', isDirectory: true },
      { name: 'x.json', isDirectory: false },
    ]);
    expect(source.list('nope')).toEqual([]);
    expect(source.read('b/x.json')).toEqual({ file: 'b/x.json', name: 'x.json', text: '1' });
    expect(source.read('c')).toMatchObject({ file: 'c', error: 'no such file' });
  });
});

describe('normalizeFiles', () => {
  it('keeps texts, turns JSON values of .json files into text, refuses the rest naming each file', () => {
    expect(normalizeFiles({ 'a.json': { x: 1 }, 'b.yaml': 'k: v' })).toEqual({ 'a.json': '{\n  "x": 1\n}\n', 'b.yaml': 'k: v' });
    const err = refusal(() => normalizeFiles({ 'b.yaml': { k: 'v' }, '../etc/passwd': 'x', '/abs.json': '{}', 'p//k.json': '{}', '.git/config': 'x' }));
    expect(err.status).toBe(400);
    expect(err.problems.map((p) => p.file)).toEqual(['b.yaml', '../etc/passwd', '/abs.json', 'p//k.json', '.git/config']);
    expect(refusal(() => normalizeFiles([])).problems[0]).toMatchObject({ field: 'files' });
    expect(refusal(() => normalizeFiles({ 'a.yaml': 'x'.repeat(1024 * 1024) })).message).toContain('at most');
  });

  it('accepts the paths of the layout', () => {
    for (const ok of [
      'service.json',
      'small/plan.json',
      'small/k8s/deployment.yaml',
      'small/hooks/onCreateInstance/job.yaml',
      'secretTemplates/secret.json',
      'small/uri_cluster_template',
    ]) {
      expect(badPath(ok)).toBeUndefined();
    }
    expect(badPath('a/b/c/d/e')).toContain('deeper');
  });
});

describe('loadOffering', () => {
  it('loads a template folder with the catalog loader', () => {
    const { service, warnings } = loadOffering(folder());
    expect(service).toMatchObject({ id: SERVICE_ID, name: 'kv', bindable: true });
    expect(service.plans.map((p) => [p.id, p.name, p.templates.map((t) => t.kind)])).toEqual([[PLAN_ID, 'small', ['Secret', 'Deployment', 'Service']]]);
    expect(service.osb).toMatchObject({ id: SERVICE_ID, plans: [expect.objectContaining({ id: PLAN_ID })] });
    expect(warnings).toEqual([]);
  });

  it('reports every problem at once, naming the files as sent and the fields', () => {
    const err = refusal(() =>
      loadOffering(
        folder({
          'service.json': { id: SERVICE_ID, name: 'kv', description: 'x' },
          'small/plan.json': { name: 'small', description: 'd' },
          'small/k8s/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: $nope }\nspec: { ports: [{ port: 1 }] }\n',
          'small/k8s/broken.yaml': 'a: [\n',
        }),
      ),
    );
    expect(err.status).toBe(400);
    const seen = err.problems.map((p) => `${p.file} ${p.field ?? ''}`.trim());
    expect(seen).toEqual(
      expect.arrayContaining(['service.json bindable', 'small/plan.json id', 'small/k8s/broken.yaml', expect.stringMatching(/^small\/k8s\/service.yaml/)]),
    );
    expect(err.problems.find((p) => p.file === 'small/k8s/service.yaml')!.message).toContain('$nope');
    expect(err.problems.every((p) => !p.file.startsWith('offering'))).toBe(true);
  });

  it('needs service.json at the top of the folder', () => {
    const err = refusal(() => loadOffering({ 'kv/service.json': '{}' }));
    expect(err.problems).toEqual([{ file: 'service.json', message: expect.stringContaining('found kv/service.json') }]);
  });

  it('needs a plan with a workload', () => {
    const err = refusal(() => loadOffering(folder({ 'small/k8s/deployment.yaml': undefined })));
    expect(err.problems).toEqual([expect.objectContaining({ file: 'small', message: expect.stringContaining('has no workload') })]);
  });
});

describe('collisions', () => {
  const { service } = loadOffering(folder());
  it('finds taken service ids, plan ids (one id space) and service names in the other services', () => {
    const other = loadOffering(normalizeFiles(templateFolder(PLAN_ID, SERVICE_ID, 'kv'))).service;
    const problems = collisions(service, [other], () => 'file catalog');
    expect(problems).toEqual([
      { file: 'service.json', field: 'id', message: `"${SERVICE_ID}" is taken by plan small of service kv (file catalog)` },
      { file: 'service.json', field: 'name', message: `"kv" is the name of service ${PLAN_ID} (file catalog)` },
      { file: 'small/plan.json', field: 'id', message: `"${PLAN_ID}" is taken by service kv (file catalog)` },
    ]);
    const elsewhere = loadOffering(normalizeFiles(templateFolder('other-service', 'other-plan', 'other'))).service;
    expect(collisions(service, [elsewhere], () => 'x')).toEqual([]);
  });
});
