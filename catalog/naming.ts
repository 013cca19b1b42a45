// Object names derived from the instance id. They must be DNS-1123 labels (lowercase
// alphanumerics and '-') because they become names of Services, Deployments, Secrets...
import { createHash } from 'node:crypto';

/**
 * `$short_serviceid`: 'x' + the first 15 characters of the instance id, dashes then removed,
 * lowercased; for a UUID that is 'x' + 13 hex digits, exactly the old broker's names.
 * An id with other characters (OSB does not require GUIDs) would give an invalid name, so it is
 * replaced by a 13-hex-digit digest of the whole id: deterministic, still short, still unique.
 */
export function shortServiceId(instanceId: string): string {
  const head = instanceId.slice(0, 15).replaceAll('-', '').toLowerCase();
  if (/^[a-z0-9]*$/.test(head)) return `x${head}`;
  return `x${createHash('sha256').update(instanceId).digest('hex').slice(0, 13)}`;
}

/**
 * `$idx_and_short_serviceid`: the short id followed by the template's index among the plan's
 * templates of its kind. The old broker appended the index before cutting to 15 characters,
 * so the index was always lost.
 */
export function idxAndShortServiceId(instanceId: string, index: number): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`template index must be a non-negative integer, got ${index}`);
  return `${shortServiceId(instanceId)}${index}`;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Name of most namespaced objects (Secret, ConfigMap, Deployment...). */
export function isDnsSubdomain(name: string): boolean {
  return name.length <= 253 && DNS1123_SUBDOMAIN.test(name);
}

const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Service names must also start with a letter. */
export function isDns1035Label(name: string): boolean {
  return name.length <= 63 && DNS1035_LABEL.test(name);
}
