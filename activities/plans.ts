// Finding an instance's plan in the catalog. Offerings added at runtime reach a worker through a
// watch: a plan not seen yet is looked up once more in what is stored now before it counts as missing.
import type { Catalog, Plan, ServiceOffering } from '../catalog/types.js';

export async function findPlanNow(catalog: Catalog, serviceId: string, planId: string): Promise<{ service: ServiceOffering; plan: Plan } | undefined> {
  const found = catalog.findPlan(serviceId, planId);
  if (found || !catalog.refresh) return found;
  await catalog.refresh();
  return catalog.findPlan(serviceId, planId);
}
