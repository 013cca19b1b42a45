// `catalog validate` and `catalog render`: what an operator runs before deploying a catalog.
// The CLI entry point parses arguments and calls these; they only print through `out`.
import { stringify } from 'yaml';
import {
  CatalogLoadError,
  formatProblem,
  generateRandoms,
  loadCatalog,
  RenderError,
  renderPlan,
  SAMPLE_INSTANCE_ID,
  CURRENT_NAME_SCHEME,
  validateParameters,
  type Catalog,
  type LoadResult,
} from '../catalog/index.js';

export interface CommandOutput {
  log(s: string): void;
  error(s: string): void;
}

async function load(dir: string, out: CommandOutput): Promise<LoadResult | undefined> {
  try {
    return await loadCatalog(dir);
  } catch (err) {
    if (!(err instanceof CatalogLoadError)) throw err;
    out.error(`catalog ${dir} has ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}:`);
    for (const p of err.problems) out.error(formatProblem(p));
    return undefined;
  }
}

const planCount = (catalog: Catalog) => catalog.services.reduce((n, s) => n + s.plans.length, 0);

/** Loads and checks a catalog: 0 with counts and warnings, 1 with every problem. */
export async function catalogValidate(dir: string, out: CommandOutput): Promise<number> {
  const loaded = await load(dir, out);
  if (!loaded) return 1;
  const { catalog, warnings } = loaded;
  out.log(
    `catalog ${catalog.root}: ${catalog.services.length} services, ${planCount(catalog)} plans, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}`,
  );
  for (const w of warnings) out.log(`warning: ${formatProblem(w)}`);
  return 0;
}

/**
 * Prints the Kubernetes objects one plan creates for a sample instance, as YAML documents.
 * Service and plan are named by name or id; parameters are a JSON object.
 */
export async function catalogRender(dir: string, serviceRef: string, planRef: string, paramsJson: string | undefined, out: CommandOutput): Promise<number> {
  const loaded = await load(dir, out);
  if (!loaded) return 1;
  const { catalog } = loaded;
  const service = catalog.services.find((s) => s.name === serviceRef || s.id === serviceRef);
  if (!service) {
    out.error(`no service ${JSON.stringify(serviceRef)}; services: ${catalog.services.map((s) => s.name).join(', ')}`);
    return 1;
  }
  const plan = service.plans.find((p) => p.name === planRef || p.id === planRef);
  if (!plan) {
    out.error(`service ${service.name} has no plan ${JSON.stringify(planRef)}; plans: ${service.plans.map((p) => p.name).join(', ')}`);
    return 1;
  }
  let parameters: unknown;
  if (paramsJson !== undefined) {
    try {
      parameters = JSON.parse(paramsJson);
    } catch (err) {
      out.error(`parameters are not JSON: ${(err as Error).message}`);
      return 1;
    }
  }
  const validated = validateParameters(plan, 'provision', parameters);
  if (!validated.ok) {
    for (const e of validated.errors) out.error(e);
    return 1;
  }
  try {
    const objects = renderPlan(service, plan, {
      instanceId: SAMPLE_INSTANCE_ID,
      org: '',
      space: '',
      namespace: 'default',
      storageClass: process.env.STORAGE_CLASS ?? '',
      parameters: validated.value,
      randoms: generateRandoms(),
      // The names a new instance gets.
      nameScheme: CURRENT_NAME_SCHEME,
    });
    out.log(objects.map((o) => stringify(o, { lineWidth: 0 }).trimEnd()).join('\n---\n'));
    return 0;
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    out.error(err.message);
    return 1;
  }
}
