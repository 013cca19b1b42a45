// A stable fingerprint of a request's identifying attributes: two requests with the same
// digest are the same request (OSB: identical retry), different digests are a conflict.
import { createHash } from 'node:crypto';

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function digest(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

/** What makes two provision (or update) requests the same request: service, plan, parameters. */
export const instanceDigest = (r: { serviceId: string; planId: string; parameters: Record<string, unknown> }) =>
  digest({ serviceId: r.serviceId, planId: r.planId, parameters: r.parameters });
