// Reading OSB requests: ids, query flags and JSON bodies, each failure a 400 that says what
// to fix. Unknown fields are ignored, as the spec requires, and so is what real clients send for
// a field they leave unset (null, an empty maintenance_info): docs/osb.md lists what is accepted.
import type { Context } from 'hono';
import { z } from 'zod';
import { badRequest, fieldTooLarge } from '../broker/errors.js';

// Ids become Kubernetes label values: 1-63 letters, digits, '-', '_', '.', alphanumeric at both ends.
const ID = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

export function pathId(c: Context, name: 'instance_id' | 'binding_id'): string {
  const id = c.req.param(name) ?? '';
  if (!ID.test(id)) {
    throw badRequest(`${name} must be 1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (a GUID is typical)`);
  }
  return id;
}

/** The spec's boolean, in any case: clients that print booleans as .NET and Python do send `True`. */
export const acceptsIncomplete = (c: Context) => c.req.query('accepts_incomplete')?.toLowerCase() === 'true';

/** A required query parameter (service_id and plan_id of DELETEs). */
export function requiredQuery(c: Context, name: string): string {
  const value = c.req.query(name);
  if (!value) throw badRequest(`the query parameter ${name} is required`);
  return value;
}

/** Deeper JSON than any real request nests; recursive code further on (schemas, digests) stays safe. */
export const MAX_JSON_DEPTH = 64;
/**
 * What the broker stores in the instance or binding record (a Secret, 1 MiB in all, holding also
 * the previous parameters during an update): each of these fields at most this many bytes.
 */
export const MAX_RECORDED_FIELD_BYTES = 64 * 1024;
const RECORDED_FIELDS = ['parameters', 'context', 'bind_resource'] as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** How deeply a parsed JSON value nests (objects and arrays), counted without recursion. */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth);
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return deepest;
}

export async function jsonBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.output<T>> {
  let text: string;
  try {
    text = utf8.decode(await c.req.arrayBuffer());
  } catch {
    throw badRequest('the request body is not valid UTF-8: send JSON encoded as UTF-8');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('the request body must be a JSON object');
  // Clients that serialize every field of their request type send null for the ones left unset.
  for (const [field, value] of Object.entries(raw)) if (value === null) delete (raw as Record<string, unknown>)[field];
  if (jsonDepth(raw) > MAX_JSON_DEPTH) throw badRequest(`the request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`);
  for (const field of RECORDED_FIELDS) {
    const value = (raw as Record<string, unknown>)[field];
    const bytes = value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
    if (bytes > MAX_RECORDED_FIELD_BYTES) throw fieldTooLarge(field, bytes, MAX_RECORDED_FIELD_BYTES);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw badRequest(result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  }
  return result.data;
}

const nonEmpty = (field: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`) }).min(1, `${field} must not be empty`);
const object = (field: string) => z.record(z.string(), z.unknown(), { error: `${field} must be a JSON object` });
/**
 * A maintenance_info without a version (or with a null one) asks for none, as if absent: clients that model it as a
 * struct they cannot omit (Go) send `{}`. One that names a version is checked against the plan.
 */
const maintenanceInfo = z
  .object({ version: nonEmpty('maintenance_info.version').nullish() }, { error: 'maintenance_info must be an object with a version' })
  .transform(({ version }) => (version == null ? undefined : { version }));

export const provisionBody = z.object({
  service_id: nonEmpty('service_id'),
  plan_id: nonEmpty('plan_id'),
  context: object('context').optional(),
  // Deprecated in favour of context, yet REQUIRED and non-empty in OSB 2.17.
  organization_guid: nonEmpty('organization_guid'),
  space_guid: nonEmpty('space_guid'),
  parameters: object('parameters').optional(),
  maintenance_info: maintenanceInfo.optional(),
});

export const updateBody = z.object({
  service_id: nonEmpty('service_id'),
  plan_id: nonEmpty('plan_id').optional(),
  context: object('context').optional(),
  parameters: object('parameters').optional(),
  maintenance_info: maintenanceInfo.optional(),
  previous_values: object('previous_values').optional(),
});

export const bindBody = z.object({
  service_id: nonEmpty('service_id').optional(),
  plan_id: nonEmpty('plan_id').optional(),
  context: object('context').optional(),
  app_guid: nonEmpty('app_guid').optional(),
  bind_resource: object('bind_resource').optional(),
  parameters: object('parameters').optional(),
  predecessor_binding_id: nonEmpty('predecessor_binding_id').optional(),
});

/** Organization and space GUIDs: from the context (CF profile), else the deprecated top-level fields. */
export function orgAndSpace(body: { context?: Record<string, unknown> | undefined; organization_guid?: string | undefined; space_guid?: string | undefined }) {
  const ctx = body.context ?? {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    org: str(ctx['organization_guid']) ?? body.organization_guid ?? '',
    space: str(ctx['space_guid']) ?? body.space_guid ?? '',
  };
}
