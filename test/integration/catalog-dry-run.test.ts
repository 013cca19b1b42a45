// Every plan of the old broker's catalog (SEED_CATALOG_DIR, skipped where it is absent), of the
// repository's fixture in that format and of the shipped catalog loads unmodified, renders for a
// sample instance, and every rendered object goes to the real kube-apiserver as a server-side
// apply dry run (dryRun=All, fieldValidation=Strict). What the API server refuses is listed
// (file, kind/name, its message) and must equal the committed expectation below, so that a fix
// or a new rejection both show up here.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRandoms, loadCatalog, renderPlan, validateParameters, type KubernetesObject, type Plan, type ServiceOffering } from '../../catalog/index.js';
import { podSecurityLabels, POD_SECURITY_LEVELS } from '../../catalog/pod-security.js';
import { SHIPPED_CATALOG_DIR } from '../../platform/config/config.js';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { OLD_FORMAT_CATALOG_DIR, SEED_CATALOG_DIR, SEED_CATALOG_PRESENT, SEED_SKIP_NOTE } from '../seed-catalog.js';
import { kubeApi, suffix } from './helpers/stack.js';

const FIELD_MANAGER = 'catalog-dry-run';
const CONCURRENCY = 8;

/** An object the API server refused: the message with the run's namespace and object name replaced. */
interface Rejection {
  file: string;
  kind: string;
  error: string;
}

// Server-side apply converts the object to its typed schema first, whatever fieldValidation says
// (Strict, Warn, Ignore and the default all answer the same): a field the schema does not have is
// refused, with status 500. Old API servers decoded templates leniently (field names in any case,
// unknown fields dropped) and the old broker created objects current ones refuse: the seed's
// elasticsearch Deployments with `securityContext.add` (for `securityContext.capabilities.add`)
// and headless Services with `spec.ClusterIP`. The loader fixes those (catalog/legacy.ts, one
// warning each), so none is expected; a new one is listed here with its file, message and why.
const EXPECTED_SEED_REJECTIONS: (Rejection & { why: string })[] = [];

const CATALOGS = [
  {
    name: 'seed',
    dir: SEED_CATALOG_DIR,
    present: SEED_CATALOG_PRESENT,
    note: SEED_SKIP_NOTE,
    services: 31,
    plans: 61,
    objects: 326,
    rejections: EXPECTED_SEED_REJECTIONS.map(({ why: _why, ...r }) => r),
  },
  { name: 'old-format fixture', dir: OLD_FORMAT_CATALOG_DIR, present: true, note: '', services: 3, plans: 6, objects: 34, rejections: [] as Rejection[] },
  { name: 'shipped', dir: SHIPPED_CATALOG_DIR, present: true, note: '', services: 5, plans: 11, objects: 75, rejections: [] as Rejection[] },
];

const kube = kubeApi();
const namespace = `kb-catalog-dry-run-${suffix()}`;

beforeAll(async () => {
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { fieldManager: FIELD_MANAGER });
});
afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, namespace).catch(() => undefined);
  kube.close();
});

/** Runs `fn` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The server's message without what changes from run to run (request path, namespace, object name). */
function normalize(message: string, object: KubernetesObject): string {
  return message
    .replace(/^[A-Z]+ \/\S+: /, '')
    .replaceAll(namespace, '<namespace>')
    .replaceAll(object.metadata.name, '<name>');
}

interface PlanResult {
  applied: number;
  rejections: (Rejection & { name: string; message: string })[];
  /** Plans that could not be rendered at all (parameters, render errors). */
  failures: string[];
}

async function dryRunPlan(service: ServiceOffering, plan: Plan, result: PlanResult): Promise<void> {
  const parameters = validateParameters(plan, 'provision', {});
  if (!parameters.ok) {
    result.failures.push(`${plan.dir}: parameters: ${parameters.errors.join('; ')}`);
    return;
  }
  let objects: KubernetesObject[];
  try {
    objects = renderPlan(service, plan, {
      // A distinct instance per plan, so no two plans' objects share a name.
      instanceId: randomUUID(),
      org: randomUUID(),
      space: randomUUID(),
      namespace,
      storageClass: 'standard',
      parameters: parameters.value,
      randoms: generateRandoms(),
    });
  } catch (err) {
    result.failures.push(`${plan.dir}: render: ${(err as Error).message}`);
    return;
  }
  expect(objects.length, plan.dir).toBe(plan.templates.length);
  // In creation order, as a provision applies them.
  for (const [i, object] of objects.entries()) {
    const file = plan.templates[i]!.file;
    result.applied++;
    try {
      await kube.apply(object, { fieldManager: FIELD_MANAGER, force: true, dryRun: true, fieldValidation: 'Strict' });
    } catch (err) {
      const message = (err as Error).message;
      result.rejections.push({ file, kind: object.kind, name: object.metadata.name, message, error: normalize(message, object) });
    }
  }
}

describe('catalogs in a server-side dry run against the real kube-apiserver', () => {
  for (const expected of CATALOGS) {
    it.skipIf(!expected.present)(
      `${expected.name} catalog (${path.relative(PROJECT_ROOT, expected.dir)}): every rendered object is accepted or an expected rejection${expected.note}`,
      async () => {
        const started = Date.now();
        // Loads unmodified: a problem would throw here, listing every one.
        const { catalog, warnings } = await loadCatalog(expected.dir);
        const plans = catalog.services.flatMap((service) => service.plans.map((plan) => ({ service, plan })));
        expect(catalog.services.length).toBe(expected.services);
        expect(plans.length).toBe(expected.plans);

        const result: PlanResult = { applied: 0, rejections: [], failures: [] };
        await forEachLimited(plans, CONCURRENCY, ({ service, plan }) => dryRunPlan(service, plan, result));

        const byFile = (a: { file: string; kind: string }, b: { file: string; kind: string }) => a.file.localeCompare(b.file) || a.kind.localeCompare(b.kind);
        result.rejections.sort(byFile);
        const lines = [
          `${expected.name} catalog ${catalog.root}: ${catalog.services.length} services, ${plans.length} plans, ` +
            `${warnings.length} load warnings; ${result.applied} objects dry-run-applied, ` +
            `${result.applied - result.rejections.length} accepted, ${result.rejections.length} rejected ` +
            `(${((Date.now() - started) / 1000).toFixed(1)}s)`,
          ...result.failures.map((f) => `  not rendered: ${f}`),
          ...result.rejections.map((r) => `  rejected: ${r.file} ${r.kind}/${r.name}: ${r.message}`),
        ];
        console.log(lines.join('\n'));

        expect(result.failures).toEqual([]);
        expect(result.rejections.map(({ file, kind, error }) => ({ file, kind, error }))).toEqual([...expected.rejections].sort(byFile));
        expect(result.applied).toBe(expected.objects);
      },
    );
  }
});

/** The pod each workload of the rendered objects would create, as the Pod Security admission sees it. */
function podsOf(objects: KubernetesObject[]): KubernetesObject[] {
  return objects.flatMap((o) => {
    const spec = o['spec'] as
      | {
          template?: { spec?: { volumes?: unknown[] } };
          jobTemplate?: { spec?: { template?: { spec?: unknown } } };
          volumeClaimTemplates?: { metadata: { name: string } }[];
        }
      | undefined;
    const template = spec?.template ?? spec?.jobTemplate?.spec?.template;
    if (!template?.spec) return [];
    // A StatefulSet's pods get a volume per claim template.
    const claims = (spec?.volumeClaimTemplates ?? []).map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: `${c.metadata.name}-0` } }));
    const podSpec = { ...(template.spec as { volumes?: unknown[] }) };
    if (claims.length) podSpec.volumes = [...(podSpec.volumes ?? []), ...claims];
    return [{ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${o.metadata.name}-pod`.slice(0, 63), namespace: o.metadata.namespace }, spec: podSpec }];
  });
}

/** A create that the API server admits or refuses in full (Pod Security included), storing nothing. */
async function dryRunCreate(obj: KubernetesObject): Promise<void> {
  await kube.request('POST', await kube.path(obj.apiVersion, obj.kind, obj.metadata.namespace), { body: obj, query: { dryRun: 'All' } });
}

describe("the shipped catalog's pods under their plan's Pod Security level", () => {
  const namespaces = POD_SECURITY_LEVELS.map((level) => ({ level, name: `kb-pod-security-${level}-${suffix()}` }));
  beforeAll(async () => {
    for (const { level, name } of namespaces) {
      await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: podSecurityLabels(level) } }, { fieldManager: FIELD_MANAGER });
    }
  });
  afterAll(async () => {
    for (const { name } of namespaces) await kube.delete('v1', 'Namespace', undefined, name).catch(() => undefined);
  });

  it("every pod of every plan's workloads is admitted in a namespace that enforces the level its plan declares", async () => {
    const { catalog } = await loadCatalog(SHIPPED_CATALOG_DIR);
    const refused: string[] = [];
    let pods = 0;
    for (const service of catalog.services) {
      for (const plan of service.plans) {
        const ns = namespaces.find((n) => n.level === plan.podSecurity)!.name;
        const parameters = validateParameters(plan, 'provision', {});
        if (!parameters.ok) throw new Error(`${plan.dir}: ${parameters.errors.join('; ')}`);
        const values = {
          instanceId: randomUUID(),
          org: 'o',
          space: 's',
          namespace: ns,
          storageClass: 'standard',
          parameters: parameters.value,
          randoms: generateRandoms(),
        };
        for (const pod of podsOf(renderPlan(service, plan, values))) {
          pods++;
          await dryRunCreate(pod).catch((err: Error) => refused.push(`${plan.dir} (${plan.podSecurity}): ${err.message}`));
        }
      }
    }
    expect(pods).toBeGreaterThanOrEqual(catalog.services.flatMap((s) => s.plans).length);
    expect(refused).toEqual([]);
  });

  it('a pod that runs as root with a hostPath volume is refused under restricted: the check checks', async () => {
    const ns = namespaces.find((n) => n.level === 'restricted')!.name;
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'root', namespace: ns },
      spec: { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }], volumes: [{ name: 'h', hostPath: { path: '/' } }] },
    };
    await expect(dryRunCreate(pod)).rejects.toThrow(/violates PodSecurity "restricted/);
  });
});
