// Whether Temporal accepts the broker's connection settings, settled once at start: one real call
// (DescribeNamespace: it needs the credentials and the namespace) with a short deadline and no
// retries, and its failure said in terms of the setting to fix and what the server answered.
// Without it, a wrong certificate or API key shows only later, as retries in the logs.
import { Connection } from '@temporalio/client';
import { ConfigError } from '../config/config.js';
import type { TemporalConnection } from '../config/temporal-connection.js';

/** Reported like a configuration error: the settings are what to fix. */
export class TemporalAccessError extends ConfigError {}

/** `refused`: the settings are wrong, retrying cannot help. `unreachable`: nothing answered (yet). */
export interface AccessProblem {
  kind: 'refused' | 'unreachable';
  message: string;
}

export const ACCESS_CHECK_MS = 5_000;

/** The gRPC status codes that settle it (@grpc/grpc-js is the SDK's dependency, not ours). */
const status = { NOT_FOUND: 5, PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;

/** One DescribeNamespace through the client SDK; undefined when it succeeds. */
export async function checkTemporalAccess(temporal: TemporalConnection): Promise<AccessProblem | undefined> {
  // Its own connection without the retry interceptor: the first answer is the one to report.
  const probe = Connection.lazy({ ...temporal.options, interceptors: [] });
  try {
    await probe.withDeadline(Date.now() + ACCESS_CHECK_MS, () => probe.workflowService.describeNamespace({ namespace: temporal.namespace }));
    return undefined;
  } catch (err) {
    return explainTemporalError(err, temporal);
  } finally {
    await probe.close();
  }
}

/** The gRPC status and the server's words, from the client SDK's errors or the worker's native ones. */
function answerOf(err: unknown): { code?: number; said: string } {
  const e = err as { code?: unknown; details?: unknown; message?: unknown };
  if (typeof e.code === 'number') {
    // grpc-js wraps a failed connection's cause: "No connection established. Last error: <cause>. Resolution note: ".
    const said = String(e.details || e.message)
      .replace(/^No connection established\. Last error: (Error: )?/, '')
      .replace(/\.?\s*Resolution note: $/, '')
      .trim();
    return { code: e.code, said };
  }
  const text = String(e.message ?? err);
  // The native connection's refusal at connect (its GetSystemInfo): text only,
  // "code: 'The request does not have valid authentication credentials', message: \"...\"". Its later calls carry a code.
  const said = /message: "((?:[^"\\]|\\.)*)"/.exec(text)?.[1] ?? text;
  if (/does not have valid authentication credentials/.test(text)) return { code: status.UNAUTHENTICATED, said };
  return { said };
}

export function explainTemporalError(err: unknown, temporal: TemporalConnection): AccessProblem {
  const { code, said } = answerOf(err);
  const { address, namespace, names } = temporal;
  const at = `Temporal at ${address} (TEMPORAL_ADDRESS)`;
  const refused = (message: string): AccessProblem => ({ kind: 'refused', message });
  if (code === status.UNAUTHENTICATED) {
    if (names.apiKey)
      return refused(`${at} refused the API key in ${names.apiKey}: "${said}". Check the key: not revoked or expired, and for this namespace (${namespace}).`);
    if (names.clientCert)
      return refused(`${at} refused the client certificate in ${names.clientCert}: "${said}". Use a certificate signed by a CA the server trusts for clients.`);
    return refused(`${at} requires credentials: "${said}". Set TEMPORAL_API_KEY, or TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH.`);
  }
  if (code === status.PERMISSION_DENIED) {
    return refused(`${at} does not let ${names.apiKey ?? names.clientCert ?? 'these credentials'} use namespace ${namespace} (TEMPORAL_NAMESPACE): "${said}".`);
  }
  if (code === status.NOT_FOUND) return refused(`${at} has no namespace ${namespace} (TEMPORAL_NAMESPACE): "${said}".`);
  if (/altname|does not match|NotValidForName/i.test(said)) {
    const fix = names.serverName ? `Correct ${names.serverName}: it must be` : 'Set TEMPORAL_TLS_SERVER_NAME to';
    return refused(`${at} presented a certificate for another name: "${said}". ${fix} a name in the server's certificate.`);
  }
  if (/certificate|UnknownIssuer|self[- ]signed|CERT_/i.test(said)) {
    const trusted = names.serverCa ? `the CA in ${names.serverCa}` : 'the system CAs (TEMPORAL_TLS_SERVER_CA_CERT_PATH is not set)';
    return refused(
      `${at} presented a certificate that ${trusted} does not trust: "${said}". Set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed the server's certificate.`,
    );
  }
  if (names.tls && /wrong version number|InvalidContentType|packet length/i.test(said)) {
    return refused(`${at} does not answer TLS: "${said}". Check TEMPORAL_ADDRESS, or set TEMPORAL_TLS=false if this server really serves plaintext.`);
  }
  if (!names.tls && /Protocol error|h2 protocol error|FRAME_SIZE_ERROR/i.test(said)) {
    return refused(
      `${at} does not answer plaintext gRPC (it may require TLS): "${said}". Set TEMPORAL_TLS=true, and a client certificate or TEMPORAL_API_KEY as the server requires.`,
    );
  }
  return { kind: 'unreachable', message: `cannot reach ${at}: ${said}` };
}
