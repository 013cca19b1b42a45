import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROJECT_ROOT } from './paths.js';
import { ConfigError, loadConfig, SHIPPED_CATALOG_DIR } from './config.js';

const REQUIRED = { AUTH_USER: 'platform', AUTH_PASS: 'a-long-password' };

/** The ConfigError message of an environment that must not load. */
function problems(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('the configuration loaded');
}

describe('loadConfig', () => {
  it('has a default for everything but the credentials', () => {
    expect(loadConfig(REQUIRED)).toMatchObject({
      AUTH_USER: 'platform',
      AUTH_PASS: 'a-long-password',
      PORT: 8080,
      HOST: '0.0.0.0',
      CATALOG_DIR: SHIPPED_CATALOG_DIR,
      BROKER_LOG_LEVEL: 'info',
      LOG_PRETTY: false,
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'kubernetes-broker',
      BROKER_NAMESPACE: 'kubernetes-broker',
      NAMESPACE_STRATEGY: 'fixed',
      INSTANCE_NAMESPACE: 'kubernetes-broker-instances',
      STORAGE_CLASS: '',
      EXTERNAL_ADDRESSES: false,
      DEFAULT_OPERATION_TIMEOUT: 1200,
      SYNC_BIND_TIMEOUT: 30,
      POLL_INTERVAL: 5,
      MAX_BODY_BYTES: 1024 * 1024,
    });
    const config = loadConfig(REQUIRED);
    expect(config.KUBECONFIG).toBeUndefined();
    expect(config.KUBE_CONTEXT).toBeUndefined();
    expect(config.EXTERNAL_HOST).toBeUndefined();
  });

  it('reads every variable it is given, converting numbers and flags', () => {
    const config = loadConfig({
      ...REQUIRED,
      PORT: '9090',
      HOST: '127.0.0.1',
      CATALOG_DIR: '/catalog',
      LOG_PRETTY: 'true',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'brokers',
      TEMPORAL_TASK_QUEUE: 'q',
      KUBECONFIG: '/kubeconfig',
      KUBE_CONTEXT: 'ctx',
      BROKER_NAMESPACE: 'records',
      NAMESPACE_STRATEGY: 'per-instance',
      INSTANCE_NAMESPACE: 'instances',
      STORAGE_CLASS: 'fast',
      EXTERNAL_ADDRESSES: '1',
      EXTERNAL_HOST: '10.0.0.1',
      DEFAULT_OPERATION_TIMEOUT: '60',
      SYNC_BIND_TIMEOUT: '5',
      POLL_INTERVAL: '2',
      MAX_BODY_BYTES: '2048',
    });
    expect(config).toMatchObject({
      PORT: 9090,
      HOST: '127.0.0.1',
      CATALOG_DIR: '/catalog',
      LOG_PRETTY: true,
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'brokers',
      TEMPORAL_TASK_QUEUE: 'q',
      KUBECONFIG: '/kubeconfig',
      KUBE_CONTEXT: 'ctx',
      BROKER_NAMESPACE: 'records',
      NAMESPACE_STRATEGY: 'per-instance',
      INSTANCE_NAMESPACE: 'instances',
      STORAGE_CLASS: 'fast',
      EXTERNAL_ADDRESSES: true,
      EXTERNAL_HOST: '10.0.0.1',
      DEFAULT_OPERATION_TIMEOUT: 60,
      SYNC_BIND_TIMEOUT: 5,
      POLL_INTERVAL: 2,
      MAX_BODY_BYTES: 2048,
    });
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ ...REQUIRED, PATH: '/usr/bin', HOME: '/root' })).not.toHaveProperty('PATH');
  });

  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('flag value %s is %s', (value, expected) => {
    expect(loadConfig({ ...REQUIRED, LOG_PRETTY: value, EXTERNAL_ADDRESSES: value })).toMatchObject({ LOG_PRETTY: expected, EXTERNAL_ADDRESSES: expected });
  });

  describe('BROKER_LOG_LEVEL', () => {
    it.each([
      ['CRITICAL', 'fatal'],
      ['ERROR', 'error'],
      ['WARNING', 'warn'],
      ['NOTICE', 'info'],
      ['INFO', 'info'],
      ['DEBUG', 'debug'],
      ['warning', 'warn'],
      ['Critical', 'fatal'],
      ['fatal', 'fatal'],
      ['warn', 'warn'],
      ['trace', 'trace'],
      ['silent', 'silent'],
    ])('%s → pino level %s', (given, level) => {
      expect(loadConfig({ ...REQUIRED, BROKER_LOG_LEVEL: given }).BROKER_LOG_LEVEL).toBe(level);
    });

    it('an unknown level lists the accepted names', () => {
      expect(problems({ ...REQUIRED, BROKER_LOG_LEVEL: 'LOUD' })).toContain(
        'BROKER_LOG_LEVEL: unknown level "LOUD"; use CRITICAL, ERROR, WARNING, NOTICE, INFO or DEBUG',
      );
    });
  });

  it('reports missing AUTH_USER and AUTH_PASS together', () => {
    const message = problems({});
    expect(message).toBe('invalid configuration:\n  AUTH_USER: is required but not set\n  AUTH_PASS: is required but not set');
  });

  it('reports every bad variable at once', () => {
    const message = problems({ AUTH_USER: 'u', AUTH_PASS: 'short', PORT: 'http', POLL_INTERVAL: '0' });
    expect(
      message
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(':')[0])
        .sort(),
    ).toEqual(['AUTH_PASS', 'POLL_INTERVAL', 'PORT']);
  });

  const bad: [string, string, string?][] = [
    ['PORT', 'http'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['AUTH_USER', '', 'is required but not set'],
    ['AUTH_PASS', 'short', 'AUTH_PASS must be at least 8 characters'],
    ['BROKER_LOG_LEVEL', 'verbose'],
    ['LOG_PRETTY', 'maybe', 'must be true or false'],
    ['EXTERNAL_ADDRESSES', 'on', 'must be true or false'],
    ['BROKER_NAMESPACE', 'Broker_NS', 'must be a valid Kubernetes namespace name'],
    ['INSTANCE_NAMESPACE', '-instances', 'must be a valid Kubernetes namespace name'],
    ['INSTANCE_NAMESPACE', 'a'.repeat(64), 'must be a valid Kubernetes namespace name'],
    ['NAMESPACE_STRATEGY', 'random', 'NAMESPACE_STRATEGY must be fixed, per-instance or context'],
    ['DEFAULT_OPERATION_TIMEOUT', 'soon', 'DEFAULT_OPERATION_TIMEOUT must be a number of seconds'],
    ['DEFAULT_OPERATION_TIMEOUT', '0', 'DEFAULT_OPERATION_TIMEOUT must be positive'],
    ['DEFAULT_OPERATION_TIMEOUT', '1.5', 'DEFAULT_OPERATION_TIMEOUT must be a whole number of seconds'],
    ['SYNC_BIND_TIMEOUT', '-3', 'SYNC_BIND_TIMEOUT must be positive'],
    ['POLL_INTERVAL', 'x', 'POLL_INTERVAL must be a number of seconds'],
    ['LAST_OPERATION_WAIT', '-1', 'LAST_OPERATION_WAIT must be 0 or more'],
    ['LAST_OPERATION_WAIT', '51', 'LAST_OPERATION_WAIT must be at most 50: platforms time out requests after 60 s'],
    ['MAX_BODY_BYTES', '0'],
    ['MAX_BODY_BYTES', 'lots'],
    ['CODEC_AUTH', 'token', 'CODEC_AUTH must be admin, oidc or none'],
    ['CODEC_OIDC_ISSUER', 'login.example.com', 'CODEC_OIDC_ISSUER must be the issuer URL'],
    ['CODEC_OIDC_CLAIM', 'groups', 'is not <claim>=<value>[,<value>...]'],
    ['CODEC_OIDC_JWKS_URL', 'keys', 'CODEC_OIDC_JWKS_URL must be a URL'],
  ];

  it('CODEC_AUTH=oidc needs the issuer, the audience and the required claim', () => {
    expect(
      problems({ ...REQUIRED, CODEC_AUTH: 'oidc', CODEC_OIDC_AUDIENCE: 'codec' })
        .split('\n')
        .slice(1),
    ).toEqual([
      '  CODEC_OIDC_ISSUER: is required with CODEC_AUTH=oidc (docs/temporal.md, "Temporal UI in production")',
      '  CODEC_OIDC_CLAIM: is required with CODEC_AUTH=oidc (docs/temporal.md, "Temporal UI in production")',
    ]);
    const oidc = { CODEC_AUTH: 'oidc', CODEC_OIDC_ISSUER: 'https://login.example.com', CODEC_OIDC_AUDIENCE: 'codec', CODEC_OIDC_CLAIM: 'groups=ops' };
    expect(loadConfig({ ...REQUIRED, ...oidc })).toMatchObject(oidc);
  });

  it.each(bad)('%s=%j: the one problem, naming the variable', (name, value, says) => {
    const message = problems({ ...REQUIRED, [name]: value });
    const lines = message.split('\n');
    expect(lines[0]).toBe('invalid configuration:');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^  ${name}: `));
    if (says) expect(lines[1]).toContain(says);
  });
});

describe('loadConfig refuses credentials that are not secret', () => {
  // The Secret the deploy manifests ship, as a half-edited deploy would pass it on.
  const shipped = parse(readFileSync(path.join(PROJECT_ROOT, 'deploy/base/secret.yaml'), 'utf8')).stringData as Record<string, string>;

  it('every value of deploy/base/secret.yaml is refused, each naming its variable', () => {
    const message = problems(shipped);
    for (const name of Object.keys(shipped)) expect(message).toMatch(new RegExp(`^  ${name}: still holds the placeholder`, 'm'));
  });

  it.each(Object.keys(shipped))('%s alone left as shipped is refused', (name) => {
    const env = { ...REQUIRED, ADMIN_USER: 'operator', ADMIN_PASS: 'another-long-password', [name]: shipped[name]! };
    const lines = problems(env).split('\n');
    expect(lines).toEqual(['invalid configuration:', expect.stringMatching(new RegExp(`^  ${name}: still holds the placeholder of deploy/base/secret.yaml`))]);
  });

  it('the placeholder is refused in any variable, whatever its case', () => {
    expect(problems({ ...REQUIRED, TEMPORAL_ADDRESS: 'replace-me:7233' })).toContain('TEMPORAL_ADDRESS: still holds the placeholder');
  });

  it('admin credentials equal to the platform password are refused', () => {
    expect(problems({ ...REQUIRED, ADMIN_USER: 'operator', ADMIN_PASS: REQUIRED.AUTH_PASS })).toContain('ADMIN_PASS: must differ from AUTH_PASS');
    expect(loadConfig({ ...REQUIRED, ADMIN_USER: 'operator', ADMIN_PASS: 'another-long-password' }).ADMIN_PASS).toBe('another-long-password');
  });
});
