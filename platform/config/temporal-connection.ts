// Where the broker finds Temporal and how it proves who it is: Temporal's client environment
// configuration (the TEMPORAL_* variables and the TOML profiles the `temporal` CLI reads), read
// through the SDK's own package for it, so that one configuration serves the CLI and the broker.
// What the package accepts silently but would fail later, or never (a certificate without its
// key, an unreadable file, TEMPORAL_TLS=yes read as false), is a problem here, named by its setting.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, loadConfigData, toClientOptions, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';

/** Every variable of Temporal's client configuration (TEMPORAL_GRPC_META_<header> aside). */
export const TEMPORAL_KEYS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** The connection options of both SDK connections (the client's and the worker's native one). */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface TemporalConnection {
  address: string;
  namespace: string;
  options: TemporalConnectionOptions;
  /** The settings that hold each credential, named as the operator wrote them, for messages. */
  names: { apiKey?: string; clientCert?: string; serverCa?: string; serverName?: string; tls: boolean };
}

/** A file or value of the TLS settings, with the two variables (or TOML keys) that can hold it. */
const MATERIAL = {
  clientCert: ['TEMPORAL_TLS_CLIENT_CERT', 'client_cert'],
  clientKey: ['TEMPORAL_TLS_CLIENT_KEY', 'client_key'],
  serverCACert: ['TEMPORAL_TLS_SERVER_CA_CERT', 'server_ca_cert'],
} as const;

export function loadTemporalConnection(env: Record<string, string>): { connection?: TemporalConnection; problems: string[] } {
  const problems: string[] = [];
  const file = env['TEMPORAL_CONFIG_FILE'];
  const profileName = env['TEMPORAL_PROFILE'] ?? 'default';
  const inProfile = (tomlKey: string) => `${tomlKey} of profile "${profileName}" (${file ?? 'the Temporal config file'})`;
  /** The variable that set a value, else the key of the TOML profile it came from. */
  const nameOf = (variable: string, tomlKey: string) => (env[variable] !== undefined ? variable : inProfile(tomlKey));

  for (const flag of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION']) {
    const value = env[flag];
    if (value !== undefined && !['true', 'false', '1', '0'].includes(value))
      problems.push(`${flag}: must be true or false (Temporal reads "${value}" as false)`);
  }
  if (env['TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'] === 'true' || env['TEMPORAL_TLS_DISABLE_HOST_VERIFICATION'] === '1') {
    problems.push(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: not supported by the TypeScript SDK; set TEMPORAL_TLS_SERVER_NAME to a name in the server certificate instead',
    );
  }
  // Temporal's loader treats a missing file as no file; a file named on purpose must exist.
  if (file !== undefined && !fs.existsSync(file)) problems.push(`TEMPORAL_CONFIG_FILE: ${file} does not exist`);
  if (problems.length) return { problems };

  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: env });
  } catch (err) {
    const message = (err as Error).message;
    const setting = /profile/i.test(message) && env['TEMPORAL_PROFILE'] ? 'TEMPORAL_PROFILE' : 'TEMPORAL_CONFIG_FILE';
    return { problems: [`${setting}: ${message}${file ? ` (${file})` : ''}`] };
  }

  const tls = profile.tls;
  const names: TemporalConnection['names'] = {
    tls: tls?.disabled !== true && (tls !== undefined || profile.apiKey !== undefined),
    ...(profile.apiKey !== undefined ? { apiKey: nameOf('TEMPORAL_API_KEY', 'api_key') } : {}),
    ...(tls?.serverName !== undefined ? { serverName: nameOf('TEMPORAL_TLS_SERVER_NAME', 'tls.server_name') } : {}),
  };
  const material: Partial<Record<keyof typeof MATERIAL, { name: string; data: Buffer }>> = {};
  for (const [field, [variable, tomlKey]] of Object.entries(MATERIAL) as [keyof typeof MATERIAL, (typeof MATERIAL)[keyof typeof MATERIAL]][]) {
    const source: ConfigDataSource | undefined = tls?.[field];
    if (!source) continue;
    const fromPath = 'path' in source;
    const name = env[`${variable}_PATH`] !== undefined ? `${variable}_PATH` : nameOf(`${variable}_DATA`, `tls.${tomlKey}_${fromPath ? 'path' : 'data'}`);
    try {
      material[field] = { name, data: Buffer.from(loadConfigData(source)!) };
    } catch (err) {
      problems.push(`${name}: cannot read ${fromPath ? source.path : 'the value'}: ${(err as Error).message}`);
    }
  }
  if (problems.length) return { problems };
  problems.push(...tlsMaterialProblems(material));
  if (tls?.disabled && (names.apiKey || material.clientCert)) {
    problems.push(
      `TEMPORAL_TLS: is false, but ${names.apiKey ?? material.clientCert!.name} is set: credentials must not cross the network unencrypted; remove TEMPORAL_TLS=false`,
    );
  }
  if (problems.length) return { problems };

  if (material.clientCert) names.clientCert = material.clientCert.name;
  if (material.serverCACert) names.serverCa = material.serverCACert.name;
  const { connectionOptions, namespace } = toClientOptions(profile);
  const address = connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS;
  return {
    problems,
    connection: {
      address,
      namespace: namespace ?? DEFAULT_TEMPORAL_NAMESPACE,
      options: {
        address,
        ...(connectionOptions.tls != null ? { tls: connectionOptions.tls } : {}),
        ...(connectionOptions.apiKey !== undefined ? { apiKey: connectionOptions.apiKey } : {}),
        ...(profile.grpcMeta ? { metadata: profile.grpcMeta } : {}),
      },
      names,
    },
  };
}

/** Certificates and key that parse, belong together and have not expired: checked here, not in a TLS handshake. */
function tlsMaterialProblems(material: Partial<Record<keyof typeof MATERIAL, { name: string; data: Buffer }>>): string[] {
  const { clientCert, clientKey, serverCACert } = material;
  if (!clientCert !== !clientKey) {
    const [given, missing] = clientCert ? [clientCert.name, 'TEMPORAL_TLS_CLIENT_KEY_PATH'] : [clientKey!.name, 'TEMPORAL_TLS_CLIENT_CERT_PATH'];
    return [`${given}: is set without ${missing} (or its _DATA form): a client certificate needs its key`];
  }
  const problems: string[] = [];
  const certificate = (m: { name: string; data: Buffer }) => {
    try {
      const cert = new X509Certificate(m.data);
      if (Date.parse(cert.validTo) < Date.now()) problems.push(`${m.name}: the certificate expired on ${cert.validTo}`);
      return cert;
    } catch (err) {
      problems.push(`${m.name}: not a PEM certificate (${(err as Error).message})`);
      return undefined;
    }
  };
  if (serverCACert) certificate(serverCACert);
  if (clientCert && clientKey) {
    const cert = certificate(clientCert);
    try {
      const key = createPrivateKey(clientKey.data);
      if (cert && !cert.checkPrivateKey(key)) problems.push(`${clientKey.name}: is not the key of the certificate in ${clientCert.name}`);
    } catch (err) {
      problems.push(`${clientKey.name}: not a PEM private key (${(err as Error).message})`);
    }
  }
  return problems;
}
