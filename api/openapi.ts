// The OpenAPI document is generated from the routes: each route carries its description
// (describeRoute) and request schemas, and /openapi.json assembles them (hono-openapi).
import { describeRoute, resolver, type DescribeRouteOptions } from 'hono-openapi';
import { z } from 'zod';

export const errorBody = z.object({
  error: z.string().optional().describe('OSB error code (AsyncRequired, ConcurrencyError, MaintenanceInfoConflict, ...)'),
  description: z.string().describe('What happened and what to do'),
  instance_usable: z.boolean().optional(),
  update_repeatable: z.boolean().optional(),
});
export const operationBody = z.object({ operation: z.string().describe('Token to pass to last_operation') });
export const lastOperationBody = z.object({
  state: z.enum(['in progress', 'succeeded', 'failed']),
  description: z.string().optional(),
  instance_usable: z.boolean().optional(),
  update_repeatable: z.boolean().optional(),
});
export const bindingBody = z.object({
  credentials: z.record(z.string(), z.unknown()),
  endpoints: z.array(z.object({ host: z.string(), ports: z.array(z.string()) })).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema: resolver(schema) } } });
export const ok = (schema: z.ZodType, description: string) => json(schema, description);
export const empty = (description: string) => json(z.object({}), description);
export const failure = (description: string) => json(errorBody, description);

/** The failures every OSB route can answer. */
const osbFailures = {
  400: failure('Malformed request, unknown ids, invalid parameters'),
  401: failure('Missing or wrong basic auth credentials'),
  412: failure('X-Broker-API-Version missing, not 2.x or below 2.13'),
};

export function osbRoute(summary: string, responses: DescribeRouteOptions['responses'], extra: Partial<DescribeRouteOptions> = {}) {
  return describeRoute({ tags: ['OSB'], summary, security: [{ platform: [] }], responses: { ...responses, ...osbFailures }, ...extra });
}

export function adminRoute(summary: string, responses: DescribeRouteOptions['responses'], extra: Partial<DescribeRouteOptions> = {}) {
  return describeRoute({
    tags: ['Admin'],
    summary,
    security: [{ admin: [] }],
    responses: { ...responses, 401: failure('Missing or wrong admin credentials') },
    ...extra,
  });
}

export const jsonBody = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema: resolver(schema) } } });

export const documentation = {
  info: {
    title: 'kubernetes-broker',
    version: '0.1.0',
    description: 'Open Service Broker API v2.17 for services that run on Kubernetes; every operation is a Temporal workflow.',
  },
  openapi: '3.1.0',
  components: {
    securitySchemes: {
      platform: { type: 'http' as const, scheme: 'basic', description: 'AUTH_USER / AUTH_PASS' },
      admin: { type: 'http' as const, scheme: 'basic', description: 'ADMIN_USER / ADMIN_PASS' },
    },
  },
};
