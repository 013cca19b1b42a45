// Service binding routes, under /v2/service_instances/:instance_id/service_bindings.
import { Hono } from 'hono';
import type { Broker } from '../broker.js';
import type { Catalog } from '../../catalog/types.js';
import { planById } from '../catalog-lookup.js';
import type { AppEnv } from '../env.js';
import { badRequest } from '../errors.js';
import { validateRequestParameters } from '../parameters.js';
import { acceptsIncomplete, bindBody, jsonBody, pathId, requiredQuery } from '../requests.js';

export function bindingRoutes(broker: Broker, catalog: Catalog, pollIntervalSeconds: number) {
  return new Hono<AppEnv>()
    .put('/:binding_id', async (c) => {
      const instanceId = pathId(c, 'instance_id');
      const bindingId = pathId(c, 'binding_id');
      const body = await jsonBody(c, bindBody);
      if (!body.service_id || !body.plan_id) throw badRequest('service_id and plan_id are required');
      const { service, plan } = planById(catalog, body.service_id, body.plan_id);
      if (!plan.bindable) throw badRequest(`plan ${plan.name} of service ${service.name} is not bindable`);
      const parameters = validateRequestParameters(plan, 'bind', body.parameters);
      const bindResource = body.bind_resource ?? (body.app_guid ? { app_guid: body.app_guid } : undefined);
      const result = await broker.bind({
        instanceId,
        bindingId,
        service,
        plan,
        // Rotation without parameters inherits the predecessor's.
        ...(body.parameters === undefined && body.predecessor_binding_id ? {} : { parameters }),
        ...(bindResource ? { bindResource } : {}),
        context: body.context ?? {},
        ...(body.predecessor_binding_id ? { predecessorBindingId: body.predecessor_binding_id } : {}),
        acceptsIncomplete: acceptsIncomplete(c),
      });
      c.var.log.info({ instanceId, bindingId, result: result.status }, 'bind');
      if (result.status === 'accepted') return c.json({ operation: result.operation }, 202);
      const { status, ...details } = result;
      return c.json(details, status === 'created' ? 201 : 200);
    })
    .get('/:binding_id', async (c) => c.json(await broker.getBinding(pathId(c, 'instance_id'), pathId(c, 'binding_id')), 200))
    .delete('/:binding_id', async (c) => {
      const instanceId = pathId(c, 'instance_id');
      const bindingId = pathId(c, 'binding_id');
      requiredQuery(c, 'service_id');
      requiredQuery(c, 'plan_id');
      const result = await broker.unbind({ instanceId, bindingId, acceptsIncomplete: acceptsIncomplete(c) });
      c.var.log.info({ instanceId, bindingId, result: result.status }, 'unbind');
      return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
    })
    .get('/:binding_id/last_operation', async (c) => {
      const state = await broker.bindingLastOperation(pathId(c, 'instance_id'), pathId(c, 'binding_id'), c.req.query('operation') || undefined);
      if (state.state === 'in progress') c.header('Retry-After', String(pollIntervalSeconds));
      return c.json(state, 200);
    });
}
