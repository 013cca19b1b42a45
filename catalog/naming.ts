// Object names derived from the instance id. They must be DNS-1123 labels (lowercase
// alphanumerics and '-') because they become names of Services, Deployments, Secrets...
//
// Two schemes. `legacy` is the old broker's (and this broker's first): a cut of the id, so ids
// that share their first 15 characters, or differ only in case, get the same names. `hashed`
// keeps a readable cut and adds a hash of the exact id. An instance keeps the scheme it was
// provisioned with (recorded in its record), so the objects of older instances keep their names.
import { createHash } from 'node:crypto';
import type { NameScheme } from './types.js';
/** The scheme of instances provisioned now. */
export const CURRENT_NAME_SCHEME: NameScheme = 'hashed';

/** The scheme of an instance (record or values): absent is `legacy`, as for everything recorded before schemes. */
export const nameSchemeOf = (o: { nameScheme?: NameScheme | undefined }): NameScheme => o.nameScheme ?? 'legacy';

/** Characters of the id kept readable in `hashed` names. */
const READABLE_LENGTH = 6;
/** Base-36 digits of the hash: 36^12 ≈ 2^62. */
const HASH_LENGTH = 12;
/**
 * Longest `$short_serviceid` of any scheme: 'x' + readable + hash. Templates add their suffixes to
 * it: a Service name (63 at most) has 44 characters left, a bind hook Job named
 * `$short_serviceid-unbind-$binding_id` fits 63 with a 36-character binding id.
 */
export const SHORT_ID_MAX_LENGTH = 1 + READABLE_LENGTH + HASH_LENGTH;

/**
 * `$short_serviceid`: 'x' (names of Services start with a letter) followed by
 * - `hashed`: up to 6 letters and digits of the id, lower-cased, then 12 base-36 digits of the
 *   SHA-256 of the exact id (`test-instance-0001` gives `xtestin` + 12 digits). Two ids get one
 *   name only if they agree in those 6 characters and in 62 bits of their hashes; even then
 *   nothing is lost: the apply refuses an object another instance manages, and hooks delete only
 *   their instance's Jobs.
 * - `legacy`: the first 15 characters of the id, dashes then removed, lowercased; for a UUID that
 *   is 13 hex digits, exactly the old broker's names. An id with other characters (OSB does not
 *   require GUIDs) would give an invalid name, so it is replaced by a 13-hex-digit digest.
 */
export function shortServiceId(instanceId: string, scheme: NameScheme): string {
  if (scheme === 'hashed') {
    const readable = instanceId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(0, READABLE_LENGTH);
    return `x${readable}${idHash(instanceId)}`;
  }
  const head = instanceId.slice(0, 15).replaceAll('-', '').toLowerCase();
  if (/^[a-z0-9]*$/.test(head)) return `x${head}`;
  return `x${createHash('sha256').update(instanceId).digest('hex').slice(0, 13)}`;
}

/** 12 base-36 digits of the id's SHA-256 (its first 64 bits, reduced). */
function idHash(instanceId: string): string {
  const n = createHash('sha256').update(instanceId, 'utf8').digest().readBigUInt64BE(0) % 36n ** BigInt(HASH_LENGTH);
  return n.toString(36).padStart(HASH_LENGTH, '0');
}

/**
 * `$idx_and_short_serviceid`: the short id followed by the template's index among the plan's
 * templates of its kind. The old broker appended the index before cutting to 15 characters,
 * so the index was always lost.
 */
export function idxAndShortServiceId(instanceId: string, index: number, scheme: NameScheme): string {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`template index must be a non-negative integer, got ${index}`);
  return `${shortServiceId(instanceId, scheme)}${index}`;
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
