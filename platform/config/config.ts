// The broker's configuration: environment variables, validated once at start-up so that a
// bad value stops the process with a message naming the variable. docs/configuration.md has the table.
import path from 'node:path';
import { z } from 'zod';
import { isValidLabelValue } from '../../catalog/labels.js';
import { parseCodecKeys } from '../temporal/codec.js';
import { parseRequiredClaim } from '../oidc/access-token.js';
import { PROJECT_ROOT } from './paths.js';
import { loadTemporalConnection, TEMPORAL_KEYS, type TemporalConnection } from './temporal-connection.js';

export const SHIPPED_CATALOG_DIR = path.join(PROJECT_ROOT, 'service-catalog');

/** The old broker's level names are accepted beside pino's. */
const LOG_LEVELS: Record<string, string> = {
  critical: 'fatal',
  error: 'error',
  warning: 'warn',
  notice: 'info',
  info: 'info',
  debug: 'debug',
  fatal: 'fatal',
  warn: 'warn',
  trace: 'trace',
  silent: 'silent',
};

/** A whole number of seconds, positive unless `orZero`, at most `max` (with why) when given. */
const seconds = (name: string, fallback: number, bounds: { orZero?: boolean; max?: [number, string] } = {}) => {
  const whole = z.coerce.number({ error: `${name} must be a number of seconds` }).int(`${name} must be a whole number of seconds`);
  const low = bounds.orZero ? whole.min(0, `${name} must be 0 or more`) : whole.positive(`${name} must be positive`);
  return (bounds.max ? low.max(bounds.max[0], `${name} must be at most ${bounds.max[0]}: ${bounds.max[1]}`) : low).default(fallback);
};

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** An optional string that `parse` must accept; its error message is the variable's problem. */
const parsedBy = (parse: (v: string) => unknown) =>
  z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      if (!v) return;
      try {
        parse(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    });

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a valid Kubernetes namespace name (lowercase letters, digits, -)');

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  AUTH_USER: z.string().min(1, 'AUTH_USER must not be empty'),
  AUTH_PASS: z.string().min(8, 'AUTH_PASS must be at least 8 characters'),
  CATALOG_DIR: z.string().default(SHIPPED_CATALOG_DIR),
  BROKER_LOG_LEVEL: z
    .string()
    .default('INFO')
    .transform((v, ctx) => {
      const level = LOG_LEVELS[v.toLowerCase()];
      if (!level) {
        ctx.addIssue({ code: 'custom', message: `unknown level "${v}"; use CRITICAL, ERROR, WARNING, NOTICE, INFO or DEBUG` });
        return z.NEVER;
      }
      return level;
    }),
  LOG_PRETTY: flag(false),
  TEMPORAL_TASK_QUEUE: z.string().default('kubernetes-broker'),
  TEMPORAL_UI_URL: z.string().optional(),
  KUBECONFIG: z.string().optional(),
  KUBE_CONTEXT: z.string().optional(),
  /** Several target clusters, routing and quotas (platform/config/clusters.ts); unset: the one cluster above. */
  CLUSTERS_FILE: z.string().optional(),
  /** Namespace of the broker's own records (instances, bindings). */
  BROKER_NAMESPACE: dnsLabel.default('kubernetes-broker'),
  /**
   * This broker's identity on its objects (platform/kube/installation.ts); unset: BROKER_NAMESPACE.
   * A label value: orphans only ever touch objects carrying it.
   */
  BROKER_INSTALLATION: z
    .string()
    .refine(isValidLabelValue, 'BROKER_INSTALLATION must be a Kubernetes label value (at most 63 letters, digits, -, _, .)')
    .optional(),
  /** Objects younger than this (seconds) are never orphans: they may be an operation's being made. */
  ORPHAN_MIN_AGE: seconds('ORPHAN_MIN_AGE', 600),
  NAMESPACE_STRATEGY: z
    .enum(['fixed', 'per-instance', 'context'], {
      error: 'NAMESPACE_STRATEGY must be fixed, per-instance or context',
    })
    .default('fixed'),
  /** Namespace of instances' objects with the fixed strategy (and the fallback of `context`). */
  INSTANCE_NAMESPACE: dnsLabel.default('kubernetes-broker-instances'),
  /**
   * Each instance gets a NetworkPolicy that lets no other instance's pods reach its own
   * (docs/security.md); off for clusters where another tool owns network policy.
   */
  INSTANCE_NETWORK_POLICIES: flag(true),
  STORAGE_CLASS: z.string().default(''),
  /** Credentials carry a NodePort/LoadBalancer address instead of the cluster DNS name. */
  EXTERNAL_ADDRESSES: flag(false),
  /** The nodes' address, the host of NodePort Services when EXTERNAL_ADDRESSES is on (required then for a NodePort). */
  EXTERNAL_HOST: z.string().optional(),
  /** Deadline of a provision or update when its plan sets no maximum_polling_duration. */
  DEFAULT_OPERATION_TIMEOUT: seconds('DEFAULT_OPERATION_TIMEOUT', 1200),
  /** How long a synchronous bind may take before the API answers 202 (or fails without accepts_incomplete). */
  SYNC_BIND_TIMEOUT: seconds('SYNC_BIND_TIMEOUT', 30),
  /** Retry-After on last_operation, in seconds. */
  POLL_INTERVAL: seconds('POLL_INTERVAL', 5),
  /** last_operation of an operation younger than this waits until it finishes or is this old (seconds; 0: never waits). */
  LAST_OPERATION_WAIT: seconds('LAST_OPERATION_WAIT', 5, { orZero: true, max: [50, 'platforms time out requests after 60 s'] }),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Payload encryption keys, `id:base64key,...`; unset: payloads are stored unencrypted. */
  CODEC_KEYS: parsedBy(parseCodecKeys),
  CODEC_KEY_ID: z.string().optional(),
  /**
   * Who may call /codec: `admin` (the admin credentials), `oidc` (those, or the access token of a
   * Temporal UI user logged in through OIDC: CODEC_OIDC_*), or `none` (anyone who reaches it: for a
   * codec endpoint only reachable from trusted networks, like dev mode's on 127.0.0.1).
   */
  CODEC_AUTH: z.enum(['admin', 'oidc', 'none'], { error: 'CODEC_AUTH must be admin, oidc or none' }).default('admin'),
  /** CODEC_AUTH=oidc: the issuer of the access tokens the Temporal UI passes (its OIDC provider), exactly as in their `iss`. */
  CODEC_OIDC_ISSUER: z.url({ error: 'CODEC_OIDC_ISSUER must be the issuer URL, for example https://login.example.com/realms/ops' }).optional(),
  /** CODEC_AUTH=oidc: accepted `aud` values of those tokens, comma-separated. */
  CODEC_OIDC_AUDIENCE: z.string().optional(),
  /** CODEC_AUTH=oidc: `<claim>=<value>[,<value>...]`, the claim a token must hold (equal, or a list containing one). */
  CODEC_OIDC_CLAIM: parsedBy(parseRequiredClaim),
  /** CODEC_AUTH=oidc: the issuer's key set, when its discovery document is not at <issuer>/.well-known/openid-configuration. */
  CODEC_OIDC_JWKS_URL: z.url({ error: 'CODEC_OIDC_JWKS_URL must be a URL' }).optional(),
  /** Origins allowed to call /codec (the Temporal UI); comma-separated. */
  CODEC_CORS_ORIGINS: z.string().optional(),
  /**
   * host:port where the API serves /metrics without credentials (keep it inside the cluster);
   * unset: /metrics on the OSB port, to the admin credentials only.
   */
  METRICS_ADDRESS: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, 'METRICS_ADDRESS must be host:port (for example 0.0.0.0:9464)')
    .optional(),
  /** host:port of the worker's Prometheus endpoint (Temporal worker and operation metrics); unset: off. */
  WORKER_METRICS_ADDRESS: z.string().optional(),
  /** Credentials of the admin routes and the codec endpoint; unset: those routes are off. */
  ADMIN_USER: z.string().min(1).optional(),
  ADMIN_PASS: z.string().min(8, 'ADMIN_PASS must be at least 8 characters').optional(),
});

export type Config = z.output<typeof schema> & {
  /** Temporal's address and namespace, as Temporal's client configuration gives them (temporal-connection.ts). */
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  /** How to connect: address, TLS, API key (TEMPORAL_* variables, TOML profiles). */
  temporal: TemporalConnection;
};

/** Every variable the broker reads (deployment manifests are checked against it). */
export const CONFIG_KEYS: readonly string[] = [...Object.keys(schema.shape), ...TEMPORAL_KEYS];

/** The marker of every value deploy/base/secret.yaml ships: a deploy that kept one publishes its credentials. */
const PLACEHOLDER = /REPLACE-ME/i;

/**
 * What the schema cannot see: values still holding the shipped placeholder, and admin
 * credentials that are the platform's (whoever registers the broker could then add an
 * offering that runs any image).
 */
function trustProblems(env: Record<string, string | undefined>): string[] {
  const problems = CONFIG_KEYS.filter((name) => PLACEHOLDER.test(env[name] ?? '')).map(
    (name) => `  ${name}: still holds the placeholder of deploy/base/secret.yaml; set a value of your own (see the comments in that file)`,
  );
  if (env['CODEC_AUTH'] === 'oidc') {
    const unset = ['CODEC_OIDC_ISSUER', 'CODEC_OIDC_AUDIENCE', 'CODEC_OIDC_CLAIM'].filter((name) => !env[name]);
    problems.push(...unset.map((name) => `  ${name}: is required with CODEC_AUTH=oidc (docs/temporal.md, "Temporal UI in production")`));
  }
  if (env['ADMIN_PASS'] && env['ADMIN_PASS'] === env['AUTH_PASS']) {
    problems.push('  ADMIN_PASS: must differ from AUTH_PASS: the platform must not hold the admin credentials; generate another password');
  }
  return problems;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads and validates the configuration; throws ConfigError listing every bad variable.
 * Processes that do not serve the OSB API (the worker, operator commands): `{ api: false }`
 * lets them run without the platform's credentials.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: { api?: boolean } = {}): Config {
  // An empty variable counts as unset (PORT= must not mean port 0).
  const set = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const input = options.api === false ? { AUTH_USER: '-', AUTH_PASS: 'not-serving', ...set } : set;
  const result = schema.safeParse(input);
  const untrusted = trustProblems(set);
  const { connection: temporal, problems: temporalProblems } = loadTemporalConnection(set);
  if (result.success && temporal && !untrusted.length) {
    return { ...result.data, TEMPORAL_ADDRESS: temporal.address, TEMPORAL_NAMESPACE: temporal.namespace, temporal };
  }
  const lines = (result.error?.issues ?? [])
    .filter((i) => !untrusted.some((line) => line.startsWith(`  ${i.path.join('.')}:`)))
    .map((i) => {
      const name = i.path.join('.');
      const missing = i.code === 'invalid_type' && !env[name];
      return `  ${name}: ${missing ? 'is required but not set' : i.message}`;
    });
  throw new ConfigError(`invalid configuration:\n${[...untrusted, ...lines, ...temporalProblems.map((p) => `  ${p}`)].join('\n')}`);
}
