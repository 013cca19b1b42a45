// Request parameters against the plan's JSON Schemas, and a trial render, so that a request
// the templates cannot take is a 400 now instead of a failed operation later.
import { declaredParameters, validateParameters } from '../catalog/parameters.js';
import { renderPlan } from '../catalog/render.js';
import { RenderError } from '../catalog/errors.js';
import type { Plan, Randoms, ServiceOffering } from '../catalog/types.js';
import { badRequest } from './errors.js';

function check(plan: Plan, action: 'provision' | 'update' | 'bind', parameters: Record<string, unknown>) {
  const result = validateParameters(plan, action, parameters);
  if (!result.ok) throw badRequest(`invalid parameters for plan ${plan.name}: ${result.errors.join('; ')}`);
  return result.value;
}

/**
 * The parameters an operation runs with, schema defaults applied. An update changes only the
 * parameters it names: they are checked against the update schema, then merged over the
 * current ones and the result checked against the plan's create schema.
 */
export function validateRequestParameters(
  plan: Plan,
  action: 'provision' | 'update' | 'bind',
  given: Record<string, unknown> | undefined,
  current: Record<string, unknown> = {},
): Record<string, unknown> {
  if (action !== 'update') return check(plan, action, given ?? {});
  const changed = given === undefined ? {} : pick(check(plan, 'update', given), Object.keys(given));
  // After a plan change, parameters the new plan does not know (a volume size, say) are dropped.
  const declared = declaredParameters(plan.schemas);
  const kept =
    declared.length > 0
      ? pick(
          current,
          Object.keys(current).filter((k) => declared.includes(k)),
        )
      : current;
  return check(plan, 'provision', { ...kept, ...changed });
}

const SAMPLE_RANDOMS = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`random${i}`, 'sample0000'])) as Randoms;

/** Renders the plan for a sample instance: a template that cannot take these parameters is a 400. */
export function assertRenderable(service: ServiceOffering, plan: Plan, instanceId: string, parameters: Record<string, unknown>): void {
  try {
    renderPlan(service, plan, { instanceId, org: '', space: '', namespace: 'default', storageClass: '', parameters, randoms: SAMPLE_RANDOMS });
  } catch (err) {
    if (err instanceof RenderError) throw badRequest(`plan ${plan.name} cannot be rendered with these parameters: ${err.message}`);
    throw err;
  }
}

const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
