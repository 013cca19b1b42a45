// Request ids against the catalog: an unknown service or plan is a 400.
import type { Catalog, Plan, ServiceOffering } from '../catalog/types.js';
import { badRequest } from './errors.js';

export const unknownService = (serviceId: string) => badRequest(`service_id ${serviceId} is not in the catalog (GET /v2/catalog lists the offerings)`);

export function serviceById(catalog: Catalog, serviceId: string): ServiceOffering {
  const service = catalog.findService(serviceId);
  if (!service) throw unknownService(serviceId);
  return service;
}

export function planById(catalog: Catalog, serviceId: string, planId: string): { service: ServiceOffering; plan: Plan } {
  const service = serviceById(catalog, serviceId);
  const plan = service.plans.find((p) => p.id === planId);
  if (!plan) throw badRequest(`plan_id ${planId} is not a plan of service ${service.name}`);
  return { service, plan };
}
