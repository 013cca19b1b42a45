// What a request asks, checked against the catalog and (for an update) the instance: every rule
// on a request's ids, parameters and maintenance_info, so that a request the broker cannot carry
// out is a 4xx at once instead of a failed operation later. The routes check only a request's
// shape, then call the provision and bind checks before the Broker (they need no record); the
// update checks need the instance's record, so InstanceOperations.update calls them.
import type { Catalog, Plan, ServiceOffering } from '../catalog/types.js';
import type { InstanceRecord } from '../platform/kube/records.js';
import { planById, serviceById } from './catalog-lookup.js';
import { badRequest, maintenanceInfoConflict, unprocessable } from './errors.js';
import { assertRenderable, validateRequestParameters } from './request-parameters.js';

type MaintenanceInfo = { version: string } | undefined;

/** The OSB body fields the checks read (snake_case, as the platform sends them). */
interface Asked {
  service_id: string;
  parameters?: Record<string, unknown> | undefined;
}

function checkMaintenanceInfo(plan: Plan, asked: MaintenanceInfo): void {
  if (asked && asked.version !== plan.maintenanceInfo?.version) throw maintenanceInfoConflict(plan.maintenanceInfo?.version);
}

/** A provision: known service and plan, the plan's maintenance_info, valid and renderable parameters (defaults applied). */
export function checkProvision(catalog: Catalog, instanceId: string, body: Asked & { plan_id: string; maintenance_info?: MaintenanceInfo }) {
  const { service, plan } = planById(catalog, body.service_id, body.plan_id);
  checkMaintenanceInfo(plan, body.maintenance_info);
  const parameters = validateRequestParameters(plan, 'provision', body.parameters);
  assertRenderable(service, plan, instanceId, parameters);
  return { service, plan, parameters };
}

/** A bind: known service and plan, the plan bindable, valid parameters (bind-schema defaults applied). */
export function checkBind(catalog: Catalog, body: Asked & { plan_id: string }) {
  const { service, plan } = planById(catalog, body.service_id, body.plan_id);
  if (!plan.bindable) throw badRequest(`plan ${plan.name} of service ${service.name} is not bindable`);
  const parameters = validateRequestParameters(plan, 'bind', body.parameters);
  return { service, plan, parameters };
}

/**
 * A bind of an instance whose plan binds through hooks: the instance runs the plan's
 * maintenance_info. The hooks are the plan's current ones and may need objects only its current
 * templates make (the shipped plans' hook account since 1.1.0): on an instance made from an older
 * version, their Job's pod would be refused and the bind fail at the hook's deadline. Bringing the
 * instance up to date is its maintenance update, which the platform or an operator starts (OSB:
 * maintenance_info on update), not a side effect of a bind (it may restart the instance's pods).
 */
export function checkBindMaintenance(record: InstanceRecord, plan: Plan): void {
  const wanted = plan.maintenanceInfo?.version;
  const has = record.maintenanceInfo?.version;
  if (!plan.hooks?.onBindInstance || wanted === undefined || has === wanted) return;
  throw unprocessable(
    `instance ${record.instanceId} of plan ${plan.name} is at maintenance_info ${has ?? 'none (made before the plan had one)'} and the plan's bind hooks need maintenance_info ${wanted}: ` +
      `apply the instance's maintenance update first (an operator: kubernetes-broker upgrade --plan ${plan.id}; the platform: ` +
      `PATCH /v2/service_instances/${record.instanceId} with "maintenance_info": {"version": "${wanted}"}), then bind again. Nothing was created.`,
  );
}

/** An update's ids: the service, and the plan it moves to when it names one. */
export function updateTarget(catalog: Catalog, body: Asked & { plan_id?: string | undefined }): { service: ServiceOffering; plan?: Plan } {
  const service = serviceById(catalog, body.service_id);
  return body.plan_id ? { service, plan: planById(catalog, body.service_id, body.plan_id).plan } : { service };
}

export interface UpdateAsked {
  instanceId: string;
  service: ServiceOffering;
  plan?: Plan | undefined;
  parameters?: Record<string, unknown> | undefined;
  maintenanceInfo?: MaintenanceInfo;
}

/**
 * An update of the instance `record` (whose plan is `current`): the plan change allowed, the
 * target plan's maintenance_info, and the parameters it runs with, valid and renderable.
 * Parameters the request leaves out keep their values (OSB: platforms send only what the user changed).
 */
export function checkUpdate(record: InstanceRecord, current: Plan | undefined, req: UpdateAsked): { target: Plan; parameters: Record<string, unknown> } {
  if (record.serviceId !== req.service.id) throw badRequest(`instance ${req.instanceId} belongs to service ${record.serviceId}, not ${req.service.id}`);
  if (!current) throw unprocessable(`the instance's plan ${record.planId} is no longer in the catalog; the instance cannot be updated`);
  const target = req.plan ?? current;
  // 422, not 400: the request is well formed and names a plan of the service; OSB's update answers
  // "MUST be returned if the requested change is not supported" (docs/osb.md, "Updates").
  if (target.id !== current.id && !current.planUpdateable) {
    throw unprocessable(
      `plan ${current.name} of service ${req.service.name} cannot be changed to another plan (its plan_updateable is false); only its parameters can be updated`,
    );
  }
  checkMaintenanceInfo(target, req.maintenanceInfo);
  const parameters = validateRequestParameters(target, 'update', req.parameters, record.parameters);
  assertRenderable(req.service, target, req.instanceId, parameters);
  return { target, parameters };
}
