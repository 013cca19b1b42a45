// Admin routes for operators (admin credentials, separate from the platform's): instances, their
// objects and workflows, pod status, retrying failed operations, orphans, upgrading a plan's instances.
import { Hono } from 'hono';
import { instancePods, podsPage } from '../admin/pods.js';
import { deleteOrphans, surveyOrphans } from '../admin/orphans.js';
import { listInstances, showInstance } from '../admin/instances.js';
import { ADMIN_PAGE, type PageRequest } from '../admin/paging.js';
import { retryOperation, RetryError } from '../admin/retry.js';
import { DEFAULT_UPGRADE_CONCURRENCY, startUpgrade, upgradeDryRun, UpgradeError, upgradeStatus } from '../admin/upgrade.js';
import type { AdminDeps } from '../admin/deps.js';
import type { AppEnv } from '../env.js';
import { BrokerError, badRequest, notFound, unprocessable } from '../../broker/errors.js';
import { KubeApiError } from '../../platform/kube/errors.js';
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
  const upgrade = async <T>(run: () => Promise<T>) => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof UpgradeError) throw badRequest(err.message);
      throw err;
    }
  };
  return new Hono<AppEnv>()
    .get(
      '/instances',
      adminRoute('The instances, a page at a time (?limit=1-1000, default 500; ?continue=<from the previous page>): service, plan, state, namespace', {
        200: { description: 'A page of instances, and `continue` when more follow' },
        400: failure('A limit out of range, or a continue token that is not one'),
        410: failure('The continue token expired: list again from the start'),
      }),
      async (c) => c.json(await pageOf(c.req.query('limit'), c.req.query('continue'), (page) => listInstances(deps, page))),
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
      adminRoute(
        'Pod status of every instance, or of those of ?org=<GUID>, a page of instances at a time (?limit=1-1000 instances, default 500; ?continue=<from the previous page>)',
        {
          200: {
            description:
              'The pods of a page of instances, and `continue` when more instances follow (a page may hold no pod); clustersNotRead names each cluster that could not be read, and why',
          },
          400: failure('A limit out of range, or a continue token that is not one'),
          410: failure('The continue token expired: list again from the start'),
        },
      ),
      async (c) => {
        const org = c.req.query('org') || undefined;
        return c.json(await pageOf(c.req.query('limit'), c.req.query('continue'), (page) => podsPage(deps, { ...page, org })));
      },
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
    .post(
      '/plans/:plan_id/upgrade',
      adminRoute(
        "Roll the plan's maintenance_info out to every instance of the plan (the upgradePlan workflow; joins one running). ?concurrency=N (default 4); ?dry_run=true: what it would do, nothing started",
        {
          200: { description: 'The dry run' },
          202: { description: 'The upgrade workflow' },
          400: failure('Unknown plan, no maintenance_info, bad concurrency'),
        },
      ),
      async (c) => {
        const planId = c.req.param('plan_id');
        if (c.req.query('dry_run') === 'true') return c.json(await upgrade(() => upgradeDryRun(deps, planId)));
        const started = await upgrade(() => startUpgrade(deps, planId, Number(c.req.query('concurrency') ?? DEFAULT_UPGRADE_CONCURRENCY)));
        c.get('log').info({ planId, ...started }, 'operator upgrade');
        return c.json(started, 202);
      },
    )
    .get(
      '/plans/:plan_id/upgrade',
      adminRoute("The plan's last upgrade: its outcomes so far, and `done` when it has finished", {
        200: { description: 'Its progress or result' },
        404: failure('No upgrade of this plan is known'),
      }),
      async (c) => {
        const planId = c.req.param('plan_id');
        const status = await upgradeStatus(deps, planId);
        if (!status) throw notFound(`no upgrade of plan ${planId} is known`);
        return c.json(status);
      },
    )
    .get(
      '/orphans',
      adminRoute("Objects labelled with this broker's installation whose instance has no record", {
        200: {
          description:
            'The orphans, and objects kept (too young, or without the installation label); clustersNotRead names each cluster that could not be read, and why',
        },
      }),
      async (c) => c.json(await surveyOrphans(deps)),
    )
    .delete(
      '/orphans',
      adminRoute('Delete the orphans (never what is kept)', {
        200: { description: 'What was deleted; clustersNotRead names each cluster that could not be read (nothing deleted there)' },
      }),
      async (c) => {
        const { orphans, kept, clustersNotRead } = await surveyOrphans(deps);
        const { deleted, refused } = await deleteOrphans(deps, orphans);
        c.get('log').info({ deleted, refused: refused.length, clustersNotRead: clustersNotRead.map((n) => n.cluster) }, 'orphans deleted');
        return c.json({ deleted, orphans, kept, clustersNotRead, ...(refused.length ? { refused } : {}) });
      },
    );
}

/** A page of a paged admin listing (instances, pods): its query checked, Kubernetes' answers to a bad token translated. */
async function pageOf<T>(limitQuery: string | undefined, continueQuery: string | undefined, list: (page: PageRequest) => Promise<T>): Promise<T> {
  const limit = limitQuery === undefined ? ADMIN_PAGE.default : Number(limitQuery);
  if (!Number.isInteger(limit) || limit < 1 || limit > ADMIN_PAGE.max) throw badRequest(`limit must be a whole number from 1 to ${ADMIN_PAGE.max}`);
  try {
    return await list({ limit, ...(continueQuery ? { continue: continueQuery } : {}) });
  } catch (err) {
    if (!(err instanceof KubeApiError) || !continueQuery) throw err;
    if (err.status === 410) throw new BrokerError(410, 'Expired', 'the continue token expired (they last a few minutes): list again from the start');
    if (err.status === 400) throw badRequest('continue must be the token the previous page gave');
    throw err;
  }
}
