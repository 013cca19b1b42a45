// Admin routes for operators (admin credentials, separate from the platform's): instances, their
// objects and workflows, pod status, retrying failed operations, orphans.
import { Hono } from 'hono';
import { allPods, instancePods } from '../admin/pods.js';
import { deleteOrphans, findOrphans } from '../admin/orphans.js';
import { listInstances, showInstance } from '../admin/instances.js';
import { retryOperation, RetryError } from '../admin/retry.js';
import type { AdminDeps } from '../admin/deps.js';
import type { AppEnv } from '../env.js';
import { notFound, unprocessable } from '../../broker/errors.js';
import { adminRoute, failure } from '../openapi.js';
import { pathId } from '../requests.js';

export function adminRoutes(deps: AdminDeps) {
  const retry = async (target: { instanceId: string } | { bindingId: string }) => {
    try {
      return await retryOperation(deps, target);
    } catch (err) {
      if (err instanceof RetryError) throw unprocessable(err.message);
      throw err;
    }
  };
  return new Hono<AppEnv>()
    .get('/instances', adminRoute('Every instance: service, plan, state, namespace', { 200: { description: 'The instances' } }), async (c) =>
      c.json({ instances: await listInstances(deps) }),
    )
    .get(
      '/instances/:instance_id',
      adminRoute('One instance: its objects and their readiness, bindings, workflows with Temporal UI links', {
        200: { description: 'The instance' },
        404: failure('No record'),
      }),
      async (c) => {
        const id = pathId(c, 'instance_id');
        const detail = await showInstance(deps, id);
        if (!detail) throw notFound(`instance ${id} has no record`);
        return c.json(detail);
      },
    )
    .get(
      '/instances/:instance_id/pods',
      adminRoute('Pod status of one instance', {
        200: { description: 'Its pods; clustersNotRead names its cluster when it could not be read' },
        404: failure('No record'),
      }),
      async (c) => {
        const id = pathId(c, 'instance_id');
        const view = await instancePods(deps, id);
        if (!view) throw notFound(`instance ${id} has no record`);
        return c.json(view);
      },
    )
    .get(
      '/pods',
      adminRoute('Pod status of every instance, or of those of ?org=<GUID>', {
        200: { description: 'The pods; clustersNotRead names each cluster that could not be read, and why' },
      }),
      async (c) => c.json(await allPods(deps, c.req.query('org') || undefined)),
    )
    .post(
      '/instances/:instance_id/retry',
      adminRoute('Run the last failed operation of an instance again from its start (Temporal reset)', {
        202: { description: 'The new run' },
        422: failure('Nothing to retry'),
      }),
      async (c) => {
        const result = await retry({ instanceId: pathId(c, 'instance_id') });
        c.get('log').info(result, 'operator retry');
        return c.json(result, 202);
      },
    )
    .post(
      '/bindings/:binding_id/retry',
      adminRoute('Run the last failed operation of a binding again from its start', { 202: { description: 'The new run' }, 422: failure('Nothing to retry') }),
      async (c) => {
        const result = await retry({ bindingId: pathId(c, 'binding_id') });
        c.get('log').info(result, 'operator retry');
        return c.json(result, 202);
      },
    )
    .get(
      '/orphans',
      adminRoute("Objects labelled as the broker's without an instance record", {
        200: { description: 'The orphans; clustersNotRead names each cluster that could not be read, and why' },
      }),
      async (c) => c.json(await findOrphans(deps)),
    )
    .delete(
      '/orphans',
      adminRoute('Delete the orphans', {
        200: { description: 'What was deleted; clustersNotRead names each cluster that could not be read (nothing deleted there)' },
      }),
      async (c) => {
        const { orphans, clustersNotRead } = await findOrphans(deps);
        const deleted = await deleteOrphans(deps, orphans);
        c.get('log').info({ deleted, clustersNotRead: clustersNotRead.map((n) => n.cluster) }, 'orphans deleted');
        return c.json({ deleted, orphans, clustersNotRead });
      },
    );
}
