// What the two SDK connections report, as they reported it against the local stack's TLS proxy
// and dev server (the refusals themselves are tested for real in test/integration/temporal-tls.test.ts).
import { describe, expect, it } from 'vitest';
import type { TemporalConnection } from '../config/temporal-connection.js';
import { explainTemporalError } from './access.js';

const plain: TemporalConnection = { address: 'temporal:7233', namespace: 'brokers', options: { address: 'temporal:7233' }, names: { tls: false } };
const tls: TemporalConnection = {
  ...plain,
  options: { address: 'temporal:7233', tls: true },
  names: { tls: true, serverCa: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH' },
};
/** The client SDK's (grpc-js) errors carry a status code; the worker's native ones only text. */
const grpc = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });
const native = (message: string) => new Error(message);

describe('explainTemporalError', () => {
  it('a missing namespace, from either SDK', () => {
    const expected = {
      kind: 'refused',
      message: 'Temporal at temporal:7233 (TEMPORAL_ADDRESS) has no namespace brokers (TEMPORAL_NAMESPACE): "Namespace brokers is not found.".',
    };
    expect(explainTemporalError(grpc(5, 'Namespace brokers is not found.'), plain)).toEqual(expected);
    expect(explainTemporalError(Object.assign(new Error('Namespace brokers is not found.'), { code: 5, details: '' }), plain)).toEqual(expected);
  });

  it('plaintext to a TLS server, and TLS to a plaintext one', () => {
    expect(
      explainTemporalError(grpc(14, 'No connection established. Last error: Protocol error (2026-12-04T12:54:54.628Z). Resolution note: '), plain),
    ).toEqual({
      kind: 'refused',
      message:
        'Temporal at temporal:7233 (TEMPORAL_ADDRESS) does not answer plaintext gRPC (it may require TLS): "Protocol error (2026-12-04T12:54:54.628Z)". Set TEMPORAL_TLS=true, and a client certificate or TEMPORAL_API_KEY as the server requires.',
    });
    expect(
      explainTemporalError(
        native('tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidMessage(InvalidContentType) }))'),
        tls,
      ).message,
    ).toMatch(/^Temporal at temporal:7233 \(TEMPORAL_ADDRESS\) does not answer TLS: .*Check TEMPORAL_ADDRESS, or set TEMPORAL_TLS=false/);
  });

  it('a server certificate for another name points at TEMPORAL_TLS_SERVER_NAME', () => {
    const err = grpc(
      14,
      "No connection established. Last error: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: wrong.name. is not in the cert's altnames: IP Address:127.0.0.1, DNS:localhost. Resolution note: ",
    );
    expect(explainTemporalError(err, tls).message).toContain(
      'presented a certificate for another name: "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match',
    );
    expect(explainTemporalError(err, tls).message).toContain("Set TEMPORAL_TLS_SERVER_NAME to a name in the server's certificate.");
    const named = { ...tls, names: { ...tls.names, serverName: 'TEMPORAL_TLS_SERVER_NAME' } };
    const rustls = native(
      'tonic::transport::Error(Transport, ConnectError(Custom { kind: InvalidData, error: InvalidCertificate(NotValidForNameContext { expected: DnsName("wrong.name"), presented: ["IpAddress(127.0.0.1)"] }) }))',
    );
    expect(explainTemporalError(rustls, named).message).toContain("Correct TEMPORAL_TLS_SERVER_NAME: it must be a name in the server's certificate.");
  });

  it('nothing listening is unreachable, not refused', () => {
    expect(
      explainTemporalError(grpc(14, 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:17299. Resolution note: '), plain),
    ).toEqual({
      kind: 'unreachable',
      message: 'cannot reach Temporal at temporal:7233 (TEMPORAL_ADDRESS): connect ECONNREFUSED 127.0.0.1:17299',
    });
  });
});
