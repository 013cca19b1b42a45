// Service instance routes. Each validates its request, asks the broker, and picks the success
// status; failures are BrokerErrors rendered by the app's error handler.
import { Hono } from 'hono';
import type { Broker } from '../broker.js';
import type { Catalog } from '../../catalog/types.js';
import { planById, serviceById } from '../catalog-lookup.js';
import type { AppEnv } from '../env.js';
import { maintenanceInfoConflict } from '../errors.js';
import { assertRenderable, validateRequestParameters } from '../parameters.js';
import { acceptsIncomplete, jsonBody, orgAndSpace, pathId, provisionBody, requiredQuery, updateBody } from '../requests.js';

export function instanceRoutes(broker: Broker, catalog: Catalog, pollIntervalSeconds: number) {
  return new Hono<AppEnv>()
    .put('/:instance_id', async (c) => {
      const instanceId = pathId(c, 'instance_id');
      const body = await jsonBody(c, provisionBody);
      const { service, plan } = planById(catalog, body.service_id, body.plan_id);
      if (body.maintenance_info && body.maintenance_info.version !== plan.maintenanceInfo?.version) {
        throw maintenanceInfoConflict(plan.maintenanceInfo?.version);
      }
      const parameters = validateRequestParameters(plan, 'provision', body.parameters);
      assertRenderable(service, plan, instanceId, parameters);
      const result = await broker.provision({
        instanceId,
        service,
        plan,
        parameters,
        context: body.context ?? {},
        ...orgAndSpace(body),
        ...(body.maintenance_info ? { maintenanceInfo: { version: body.maintenance_info.version } } : {}),
        acceptsIncomplete: acceptsIncomplete(c),
      });
      c.var.log.info({ instanceId, service: service.name, plan: plan.name, result: result.status }, 'provision');
      return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
    })
    .get('/:instance_id', async (c) => c.json(await broker.getInstance(pathId(c, 'instance_id')), 200))
    .patch('/:instance_id', async (c) => {
      const instanceId = pathId(c, 'instance_id');
      const body = await jsonBody(c, updateBody);
      const service = serviceById(catalog, body.service_id);
      const plan = body.plan_id ? planById(catalog, body.service_id, body.plan_id).plan : undefined;
      const result = await broker.update({
        instanceId,
        service,
        ...(plan ? { plan } : {}),
        ...(body.parameters ? { parameters: body.parameters } : {}),
        context: body.context ?? {},
        ...(body.maintenance_info ? { maintenanceInfo: { version: body.maintenance_info.version } } : {}),
        acceptsIncomplete: acceptsIncomplete(c),
      });
      c.var.log.info({ instanceId, plan: plan?.name, result: result.status }, 'update');
      return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
    })
    .delete('/:instance_id', async (c) => {
      const instanceId = pathId(c, 'instance_id');
      const serviceId = requiredQuery(c, 'service_id');
      const planId = requiredQuery(c, 'plan_id');
      serviceById(catalog, serviceId);
      const result = await broker.deprovision({ instanceId, serviceId, planId, acceptsIncomplete: acceptsIncomplete(c) });
      c.var.log.info({ instanceId, result: result.status }, 'deprovision');
      return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
    })
    .get('/:instance_id/last_operation', async (c) => {
      const state = await broker.lastOperation(pathId(c, 'instance_id'), c.req.query('operation') || undefined);
      if (state.state === 'in progress') c.header('Retry-After', String(pollIntervalSeconds));
      return c.json(state, 200);
    });
}
