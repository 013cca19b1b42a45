import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_KEYS, ConfigError, loadConfig } from './config.js';
import { loadTemporalConnection } from './temporal-connection.js';

let dir: string;
const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-temporal-tls-'));
  for (const name of ['ca', 'other']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`), '-subj', `/CN=${name}`, '-days', '1');
  }
  fs.writeFileSync(
    file('profiles.toml'),
    [
      '[profile.default]',
      'address = "file-default:7233"',
      '',
      '[profile.cloud]',
      'address = "ns.acct.tmprl.cloud:7233"',
      'namespace = "ns.acct"',
      'api_key = "from-file"',
      '',
    ].join('\n'),
  );
});

/** The problems of an environment that must not load, one string. */
const problemsOf = (env: Record<string, string>) => {
  const { connection, problems } = loadTemporalConnection(env);
  expect(connection).toBeUndefined();
  return problems.join('\n');
};

describe('loadTemporalConnection', () => {
  it('keeps the broker defaults when nothing is set: plaintext to 127.0.0.1:7233, namespace default', () => {
    expect(loadTemporalConnection({}).connection).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      options: { address: '127.0.0.1:7233' },
      names: { tls: false },
    });
  });

  it('reads a profile of the TOML file, and the variables override it', () => {
    const env = { TEMPORAL_CONFIG_FILE: file('profiles.toml'), TEMPORAL_PROFILE: 'cloud' };
    const { connection } = loadTemporalConnection(env);
    expect(connection).toMatchObject({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', options: { apiKey: 'from-file', tls: true } });
    expect(connection!.names.apiKey).toBe(`api_key of profile "cloud" (${file('profiles.toml')})`);
    expect(loadTemporalConnection({ ...env, TEMPORAL_NAMESPACE: 'other', TEMPORAL_API_KEY: 'k' }).connection).toMatchObject({
      namespace: 'other',
      options: { apiKey: 'k' },
      names: { apiKey: 'TEMPORAL_API_KEY' },
    });
    expect(loadTemporalConnection({ TEMPORAL_CONFIG_FILE: file('profiles.toml') }).connection!.address).toBe('file-default:7233');
  });

  it('turns TLS on with an API key (Temporal Cloud), with the system CAs', () => {
    expect(loadTemporalConnection({ TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_API_KEY: 'key' }).connection).toMatchObject({
      options: { address: 'x.tmprl.cloud:7233', apiKey: 'key', tls: true },
      names: { tls: true, apiKey: 'TEMPORAL_API_KEY' },
    });
  });

  it('loads a client certificate, its key and the server CA into the TLS options', () => {
    const { connection } = loadTemporalConnection({
      TEMPORAL_TLS_CLIENT_CERT_PATH: file('ca.crt'),
      TEMPORAL_TLS_CLIENT_KEY_DATA: fs.readFileSync(file('ca.key'), 'utf8'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('other.crt'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.example',
    });
    const tls = connection!.options.tls as {
      clientCertPair: { crt: Uint8Array; key: Uint8Array };
      serverRootCACertificate: Uint8Array;
      serverNameOverride: string;
    };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe(fs.readFileSync(file('ca.crt'), 'utf8'));
    expect(Buffer.from(tls.serverRootCACertificate).toString()).toBe(fs.readFileSync(file('other.crt'), 'utf8'));
    expect(tls.serverNameOverride).toBe('temporal.example');
    expect(connection!.names).toEqual({
      tls: true,
      clientCert: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
      serverCa: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
      serverName: 'TEMPORAL_TLS_SERVER_NAME',
    });
  });

  it.each([
    [{ TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS: must be true or false (Temporal reads "yes" as false)'],
    [{ TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' }, 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: not supported'],
    [{ TEMPORAL_CONFIG_FILE: '/nonexistent/temporal.toml' }, 'TEMPORAL_CONFIG_FILE: /nonexistent/temporal.toml does not exist'],
    [
      { TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.crt', TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key' },
      'TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read /nonexistent/client.crt: ENOENT',
    ],
    [{ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }, 'TEMPORAL_TLS: is false, but TEMPORAL_API_KEY is set'],
  ])('refuses %j', (env, problem) => {
    expect(problemsOf(env)).toContain(problem);
  });

  it('refuses a certificate without its key, a key of another certificate, and a file that is no certificate', () => {
    expect(problemsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('ca.crt') })).toBe(
      'TEMPORAL_TLS_CLIENT_CERT_PATH: is set without TEMPORAL_TLS_CLIENT_KEY_PATH (or its _DATA form): a client certificate needs its key',
    );
    expect(problemsOf({ TEMPORAL_TLS_CLIENT_CERT_PATH: file('ca.crt'), TEMPORAL_TLS_CLIENT_KEY_PATH: file('other.key') })).toBe(
      'TEMPORAL_TLS_CLIENT_KEY_PATH: is not the key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH',
    );
    expect(problemsOf({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: file('ca.key') })).toMatch(/^TEMPORAL_TLS_SERVER_CA_CERT_PATH: not a PEM certificate/);
  });

  it('names TEMPORAL_PROFILE when the file has no such profile', () => {
    expect(problemsOf({ TEMPORAL_CONFIG_FILE: file('profiles.toml'), TEMPORAL_PROFILE: 'prod' })).toBe(
      `TEMPORAL_PROFILE: Profile 'prod' not found in config data (${file('profiles.toml')})`,
    );
  });
});

describe('loadConfig with Temporal client configuration', () => {
  const REQUIRED = { AUTH_USER: 'platform', AUTH_PASS: 'a-long-password' };

  it('takes the address and namespace from it', () => {
    expect(loadConfig({ ...REQUIRED, TEMPORAL_CONFIG_FILE: file('profiles.toml'), TEMPORAL_PROFILE: 'cloud' })).toMatchObject({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
    });
  });

  it('lists its problems with the others', () => {
    expect(() => loadConfig({ ...REQUIRED, PORT: 'x', TEMPORAL_TLS_CLIENT_KEY_PATH: file('ca.key') })).toThrow(ConfigError);
    expect(() => loadConfig({ ...REQUIRED, PORT: 'x', TEMPORAL_TLS_CLIENT_KEY_PATH: file('ca.key') })).toThrow(
      /PORT: .*\n {2}TEMPORAL_TLS_CLIENT_KEY_PATH: is set without TEMPORAL_TLS_CLIENT_CERT_PATH/,
    );
  });

  it('knows every variable of it, for the manifests', () => {
    for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_PROFILE'])
      expect(CONFIG_KEYS).toContain(key);
  });
});
