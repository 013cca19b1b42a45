// Service instance routes. Each checks its request's shape, has the broker layer check what it
// asks (broker/request-checks.ts), asks the broker, and picks the success status; failures are
// BrokerErrors rendered by the app's error handler.
import { Hono } from 'hono';
import { z } from 'zod';
import type { Broker } from '../../broker/service-broker.js';
import type { Catalog } from '../../catalog/types.js';
import { checkProvision, updateTarget } from '../../broker/request-checks.js';
import type { AppEnv } from '../env.js';
import { empty, failure, jsonBody as bodySchema, lastOperationBody, ok, operationBody, osbRoute } from '../openapi.js';
import { acceptsIncomplete, jsonBody, orgAndSpace, pathId, provisionBody, requiredQuery, updateBody } from '../requests.js';

const instanceBody = z.object({
  service_id: z.string(),
  plan_id: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  maintenance_info: z.object({ version: z.string() }).optional(),
  context: z.record(z.string(), z.unknown()),
  metadata: z.object({ labels: z.record(z.string(), z.string()), attributes: z.record(z.string(), z.string()) }).optional(),
});

export function instanceRoutes(broker: Broker, catalog: Catalog, pollIntervalSeconds: number) {
  return new Hono<AppEnv>()
    .put(
      '/:instance_id',
      osbRoute(
        'Provision a service instance (asynchronous)',
        {
          200: empty('The instance exists with identical attributes'),
          202: ok(operationBody, 'Provisioning started, or already in progress'),
          409: empty('The instance exists with other attributes'),
          422: failure(
            'AsyncRequired, ConcurrencyError, MaintenanceInfoConflict, or QuotaExceeded (the organization has as many instances as its quota allows)',
          ),
        },
        { requestBody: bodySchema(provisionBody) },
      ),
      async (c) => {
        const instanceId = pathId(c, 'instance_id');
        const body = await jsonBody(c, provisionBody);
        const { service, plan, parameters } = checkProvision(catalog, instanceId, body);
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
        c.get('log').info({ instanceId, service: service.name, plan: plan.name, result: result.status }, 'provision');
        return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
      },
    )
    .get(
      '/:instance_id',
      osbRoute('Fetch a service instance', {
        200: ok(instanceBody, 'The instance'),
        404: failure('Unknown, or still being provisioned'),
        422: failure('ConcurrencyError: being updated or deleted'),
      }),
      async (c) => c.json(await broker.getInstance(pathId(c, 'instance_id')), 200),
    )
    .patch(
      '/:instance_id',
      osbRoute(
        'Update a service instance: plan, parameters, maintenance (asynchronous)',
        {
          200: empty('Nothing to change'),
          202: ok(operationBody, 'Update started, or already in progress'),
          404: failure('Unknown instance'),
          422: failure('AsyncRequired, ConcurrencyError, MaintenanceInfoConflict, or a plan change that is not supported'),
        },
        { requestBody: bodySchema(updateBody) },
      ),
      async (c) => {
        const instanceId = pathId(c, 'instance_id');
        const body = await jsonBody(c, updateBody);
        // Parameters and maintenance_info are checked by the broker against the instance's record.
        const { service, plan } = updateTarget(catalog, body);
        const result = await broker.update({
          instanceId,
          service,
          ...(plan ? { plan } : {}),
          ...(body.parameters ? { parameters: body.parameters } : {}),
          context: body.context ?? {},
          ...(body.maintenance_info ? { maintenanceInfo: { version: body.maintenance_info.version } } : {}),
          acceptsIncomplete: acceptsIncomplete(c),
        });
        c.get('log').info({ instanceId, plan: plan?.name, result: result.status }, 'update');
        return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
      },
    )
    .delete(
      '/:instance_id',
      osbRoute('Deprovision a service instance (asynchronous; stops a provision in progress)', {
        202: ok(operationBody, 'Deprovisioning started, or already in progress'),
        410: empty('No such instance'),
        422: failure('AsyncRequired, or ConcurrencyError while an update runs'),
      }),
      async (c) => {
        const instanceId = pathId(c, 'instance_id');
        const serviceId = requiredQuery(c, 'service_id');
        const planId = requiredQuery(c, 'plan_id');
        const serviceKnown = catalog.findService(serviceId) !== undefined;
        const result = await broker.deprovision({ instanceId, serviceId, planId, serviceKnown, acceptsIncomplete: acceptsIncomplete(c) });
        c.get('log').info({ instanceId, result: result.status }, 'deprovision');
        return result.status === 'accepted' ? c.json({ operation: result.operation }, 202) : c.json({}, 200);
      },
    )
    .get(
      '/:instance_id/last_operation',
      osbRoute('State of the last (or the named) operation of an instance; Retry-After while in progress', {
        200: ok(lastOperationBody, 'The operation state'),
        404: failure('Unknown instance'),
        410: empty('The instance was deleted (after an asynchronous deprovision)'),
      }),
      async (c) => {
        const state = await broker.lastOperation(pathId(c, 'instance_id'), c.req.query('operation') || undefined);
        if (state.state === 'in progress') c.header('Retry-After', String(pollIntervalSeconds));
        return c.json(state, 200);
      },
    );
}
