// Service binding routes, under /v2/service_instances/:instance_id/service_bindings.
import { Hono } from 'hono';
import type { Broker } from '../../broker/service-broker.js';
import type { Catalog } from '../../catalog/types.js';
import { checkBind } from '../../broker/request-checks.js';
import type { AppEnv } from '../env.js';
import { badRequest } from '../../broker/errors.js';
import { bindingBody, empty, failure, jsonBody as bodySchema, lastOperationBody, ok, operationBody, osbRoute } from '../openapi.js';
import { acceptsIncomplete, bindBody, jsonBody, pathId, requiredQuery } from '../requests.js';

export function bindingRoutes(broker: Broker, catalog: Catalog, pollIntervalSeconds: number) {
  return new Hono<AppEnv>()
    .put(
      '/:binding_id',
      osbRoute(
        'Create (or rotate) a binding: credentials from the running instance',
        {
          200: ok(bindingBody, 'The binding exists with identical attributes'),
          201: ok(bindingBody, 'Created'),
          202: ok(operationBody, 'Still being created (only with accepts_incomplete=true); no credentials'),
          404: failure('Unknown instance'),
          409: empty('The binding exists with other attributes'),
          422: failure('ConcurrencyError (the instance is busy), AsyncRequired, or the binding failed'),
        },
        { requestBody: bodySchema(bindBody) },
      ),
      async (c) => {
        const instanceId = pathId(c, 'instance_id');
        const bindingId = pathId(c, 'binding_id');
        const body = await jsonBody(c, bindBody);
        if (!body.service_id || !body.plan_id) throw badRequest('service_id and plan_id are required');
        const { service, plan, parameters } = checkBind(catalog, { service_id: body.service_id, plan_id: body.plan_id, parameters: body.parameters });
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
        c.get('log').info({ instanceId, bindingId, result: result.status }, 'bind');
        if (result.status === 'accepted') return c.json({ operation: result.operation }, 202);
        const { status, ...details } = result;
        return c.json(details, status === 'created' ? 201 : 200);
      },
    )
    .get(
      '/:binding_id',
      osbRoute('Fetch a binding and its credentials', { 200: ok(bindingBody, 'The binding'), 404: failure('Unknown, or still being created') }),
      async (c) => c.json(await broker.getBinding(pathId(c, 'instance_id'), pathId(c, 'binding_id')), 200),
    )
    .delete(
      '/:binding_id',
      osbRoute('Unbind: delete the binding and its credentials', {
        200: empty('Deleted'),
        202: ok(operationBody, 'Still being deleted (only with accepts_incomplete=true)'),
        410: empty('No such binding'),
        422: failure('ConcurrencyError or AsyncRequired'),
      }),
      async (c) => {
        const instanceId = pathId(c, 'instance_id');
        const bindingId = pathId(c, 'binding_id');
        requiredQuery(c, 'service_id');
        requiredQuery(c, 'plan_id');
        const result = await broker.unbind({ instanceId, bindingId, acceptsIncomplete: acceptsIncomplete(c) });
        c.get('log').info({ instanceId, bindingId, result: result.status }, 'unbind');
        return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
      },
    )
    .get(
      '/:binding_id/last_operation',
      osbRoute('State of the last (or the named) operation of a binding', {
        200: ok(lastOperationBody, 'The operation state'),
        404: failure('Unknown binding'),
        410: empty('The binding was deleted'),
      }),
      async (c) => {
        const state = await broker.bindingLastOperation(pathId(c, 'instance_id'), pathId(c, 'binding_id'), c.req.query('operation') || undefined);
        if (state.state === 'in progress') c.header('Retry-After', String(pollIntervalSeconds));
        return c.json(state, 200);
      },
    );
}
