// The broker identity's requests to the API server, from the stack's audit log (every request of
// user kubernetes-broker), and the API server's own request counter.
import fs from 'node:fs';
import { stackEnv } from './common.js';
import type { adminKube } from './direct.js';

interface AuditEvent {
  auditID: string;
  verb: string;
  requestURI: string;
  requestReceivedTimestamp: string;
  user: { username: string };
  objectRef?: { resource?: string; namespace?: string };
}

/** Offset of the end of the audit log now: later events are read from there. */
export const auditMark = () => fs.statSync(stackEnv()['KB_AUDIT_LOG']!).size;

/** The broker identity's requests logged since `mark` that concern `namespaces` or no namespace. */
export function auditSince(
  mark: number,
  namespaces: string[],
): { count: number; byVerb: Record<string, number>; byResource: Record<string, number>; clusterScoped: number } {
  const file = stackEnv()['KB_AUDIT_LOG']!;
  let text: string;
  const size = fs.statSync(file).size;
  if (size < mark)
    text = fs.readFileSync(file, 'utf8'); // rotated: read what is there
  else {
    const fd = fs.openSync(file, 'r');
    const buf = Buffer.alloc(size - mark);
    fs.readSync(fd, buf, 0, buf.length, mark);
    fs.closeSync(fd);
    text = buf.toString('utf8');
  }
  const seen = new Map<string, AuditEvent>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue;
    }
    if (e.user?.username !== 'kubernetes-broker') continue;
    const ns = e.objectRef?.namespace;
    if (ns ? !namespaces.includes(ns) : e.objectRef?.resource !== undefined) continue; // another session's objects, or Namespace objects
    seen.set(e.auditID, e);
  }
  const byVerb: Record<string, number> = {},
    byResource: Record<string, number> = {};
  let clusterScoped = 0;
  for (const e of seen.values()) {
    byVerb[e.verb] = (byVerb[e.verb] ?? 0) + 1;
    const r = `${e.verb} ${e.objectRef?.resource ?? e.requestURI.split('?')[0]}`;
    byResource[r] = (byResource[r] ?? 0) + 1;
    if (!e.objectRef?.namespace) clusterScoped++;
  }
  // Cluster-scoped requests (discovery) cannot be told apart from other sessions' with the same
  // identity: reported separately, not counted (after the warm-up the broker's are cached).
  return { count: seen.size - clusterScoped, byVerb, byResource, clusterScoped };
}

/** Sum of apiserver_request_total over every label set. */
export async function requestTotal(kube: ReturnType<typeof adminKube>): Promise<number> {
  const text = await kube.text('/metrics');
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('apiserver_request_total{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}
