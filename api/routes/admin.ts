// Admin routes for operators (admin credentials, separate from the platform's): instances, their
// objects and workflows, pod status, retrying failed operations, orphans.
import { Hono } from 'hono';
import { allPods, instancePods } from '../../admin/pods.js';
import { deleteOrphans, findOrphans } from '../../admin/orphans.js';
import { listInstances, showInstance } from '../../admin/instances.js';
import { retryOperation, RetryError } from '../../admin/retry.js';
import type { AdminDeps } from '../../admin/deps.js';
import type { AppEnv } from '../env.js';
import { notFound, unprocessable } from '../errors.js';
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
    .get('/instances', async (c) => c.json({ instances: await listInstances(deps) }))
    .get('/instances/:instance_id', async (c) => {
      const id = pathId(c, 'instance_id');
      const detail = await showInstance(deps, id);
      if (!detail) throw notFound(`instance ${id} has no record`);
      return c.json(detail);
    })
    .get('/instances/:instance_id/pods', async (c) => {
      const id = pathId(c, 'instance_id');
      const pods = await instancePods(deps, id);
      if (!pods) throw notFound(`instance ${id} has no record`);
      return c.json({ pods });
    })
    .get('/pods', async (c) => c.json({ pods: await allPods(deps, c.req.query('org') || undefined) }))
    .post('/instances/:instance_id/retry', async (c) => {
      const result = await retry({ instanceId: pathId(c, 'instance_id') });
      c.var.log.info(result, 'operator retry');
      return c.json(result, 202);
    })
    .post('/bindings/:binding_id/retry', async (c) => {
      const result = await retry({ bindingId: pathId(c, 'binding_id') });
      c.var.log.info(result, 'operator retry');
      return c.json(result, 202);
    })
    .get('/orphans', async (c) => c.json({ orphans: await findOrphans(deps) }))
    .delete('/orphans', async (c) => {
      const orphans = await findOrphans(deps);
      const deleted = await deleteOrphans(deps, orphans);
      c.var.log.info({ deleted }, 'orphans deleted');
      return c.json({ deleted, orphans });
    });
}
