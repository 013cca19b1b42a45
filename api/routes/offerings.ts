// Admin routes for offerings added at runtime (admin credentials): list, add (a template folder
// as files, or the old broker's dynamicservice body), remove. Validation is the catalog loader's.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { OfferingRejected } from '../../catalog/offerings/files.js';
import { addOffering, listOfferings, removeOffering, type OfferingDeps } from '../../broker/offerings.js';
import type { AppEnv } from '../env.js';
import { limitBody } from '../middleware/body-limit.js';
import { adminRoute, errorBody, jsonBody as bodySchema, ok } from '../openapi.js';
import { jsonBody } from '../requests.js';

const summary = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  plans: z.array(z.object({ id: z.string(), name: z.string() })),
  source: z.enum(['files', 'dynamicservice']),
  addedAt: z.string(),
});
const problem = z.object({ file: z.string(), field: z.string().optional(), line: z.number().optional(), message: z.string() });
const addBody = z.union([
  z.object({
    files: z
      .record(z.string(), z.unknown())
      .describe('path in the service folder (service.json, <plan>/plan.json, <plan>/k8s/*.yaml, ...) to its text; .json files may be JSON values'),
  }),
  z
    .object({
      dynamicService: z.object({
        serviceName: z.string(),
        planName: z.string(),
        isPlanFree: z.boolean().optional(),
        containers: z.array(z.record(z.string(), z.unknown())).describe('Kubernetes containers'),
        servicePorts: z
          .array(z.record(z.string(), z.unknown()))
          .optional()
          .describe('Kubernetes service ports; port forwards to targetPort, else to the containerPort of that number'),
        credentialMappings: z.record(z.string(), z.unknown()).optional(),
      }),
    })
    .describe("the old broker's PUT /v2/dynamicservice body"),
]);
const addResult = z.object({ result: z.enum(['created', 'updated', 'unchanged']), offering: summary, warnings: z.array(problem) });
/** The OSB error body, with every problem also as data. */
const refused = (description: string) => ok(errorBody.extend({ problems: z.array(problem).optional() }), description);

/** The use case's result, or its refusal rendered (4xx naming every problem). */
async function orRejected<T>(c: Context<AppEnv>, run: () => Promise<T>): Promise<T | Response> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof OfferingRejected)) throw err;
    const error = err.status === 409 ? 'Conflict' : err.status === 404 ? 'NotFound' : 'BadRequest';
    return c.json({ error, description: err.message, problems: err.problems }, err.status);
  }
}

export function offeringRoutes(deps: OfferingDeps, maxBodyBytes: number) {
  return new Hono<AppEnv>()
    .use(limitBody(maxBodyBytes))
    .get('/', adminRoute('Offerings added at runtime', { 200: ok(z.object({ offerings: z.array(summary) }), 'The offerings') }), (c) =>
      c.json({ offerings: listOfferings(deps.catalog) }),
    )
    .put(
      '/',
      adminRoute(
        'Add an offering (or update one: the same plan ids, other files); checked like the file catalog, stored in Kubernetes, served by every replica',
        {
          200: ok(addResult, 'Already there (unchanged) or updated'),
          201: ok(addResult, 'Added'),
          400: refused('Invalid: every problem, naming file and field'),
          409: refused('Its ids or name are taken, or an update would drop a plan'),
        },
        { requestBody: bodySchema(addBody) },
      ),
      async (c) => {
        const body = await jsonBody(c, z.record(z.string(), z.unknown()));
        const added = await orRejected(c, () => addOffering(deps, body));
        if (added instanceof Response) return added;
        c.get('log').info({ serviceId: added.offering.id, name: added.offering.name, result: added.result }, 'offering added at runtime');
        return c.json(added, added.result === 'created' ? 201 : 200);
      },
    )
    .delete(
      '/:service_id',
      adminRoute('Remove an offering added at runtime; refused while it has instances', {
        200: ok(z.object({ removed: summary }), 'Removed'),
        404: refused('No such offering'),
        409: refused('It has live instances, or it is in the file catalog'),
      }),
      async (c) => {
        const removed = await orRejected(c, () => removeOffering(deps, c.req.param('service_id')));
        if (removed instanceof Response) return removed;
        c.get('log').info({ serviceId: removed.id, name: removed.name }, 'offering removed');
        return c.json({ removed });
      },
    );
}
