// Runs the real broker (worker + API) in the test process against the local stack, on its own
// task queue and namespaces, and speaks OSB to it over HTTP like a platform would.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type Config } from '../../../platform/config/config.js';
import { startServer } from '../../../cli/serve.js';
import { startWorker } from '../../../cli/worker.js';
import { createLogger } from '../../../platform/observability/logger.js';
import { stackEnv, suffix } from './stack.js';

export interface RunningBroker {
  url: string;
  config: Config;
  osb: Osb;
  stop(): Promise<void>;
}

/** `apiOverrides`: settings of the API only (its own identity, for example), over `overrides`. */
export async function startBroker(overrides: Record<string, string> = {}, apiOverrides: Record<string, string> = {}): Promise<RunningBroker> {
  const id = suffix();
  const settings = {
    ...stackEnv(),
    // The broker's own identity: its requests are the ones in the API server's audit log.
    KUBECONFIG: stackEnv()['BROKER_KUBECONFIG']!,
    AUTH_USER: 'platform',
    AUTH_PASS: 'test-password',
    PORT: '0',
    HOST: '127.0.0.1',
    STORAGE_CLASS: 'standard',
    TEMPORAL_TASK_QUEUE: `broker-test-${id}`,
    BROKER_NAMESPACE: `kb-records-${id}`,
    INSTANCE_NAMESPACE: `kb-instances-${id}`,
    BROKER_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'WARNING',
    POLL_INTERVAL: '1',
    // Payloads encrypted as in production.
    CODEC_KEYS: `test:${randomBytes(32).toString('base64')}`,
    ...overrides,
  };
  const config = loadConfig(settings);
  const logger = createLogger(config.BROKER_LOG_LEVEL);
  const worker = await startWorker(config, logger);
  const server = await startServer(Object.keys(apiOverrides).length ? loadConfig({ ...settings, ...apiOverrides }) : config, logger);
  return {
    url: server.url,
    config,
    osb: new Osb(server.url, config.AUTH_USER, config.AUTH_PASS),
    stop: async () => {
      await server.close();
      await worker.shutdown();
    },
  };
}

/** The settings a restarted broker needs to carry on the same instances: records, namespaces, task queue, keys. */
export const sameInstances = (config: Config): Record<string, string> => ({
  BROKER_NAMESPACE: config.BROKER_NAMESPACE,
  INSTANCE_NAMESPACE: config.INSTANCE_NAMESPACE,
  TEMPORAL_TASK_QUEUE: config.TEMPORAL_TASK_QUEUE,
  ...(config.CODEC_KEYS ? { CODEC_KEYS: config.CODEC_KEYS } : {}),
});

/** A broker for the tests of one file: started before them, stopped after. Call the result in tests. */
export function brokerForFile(overrides: Record<string, string> = {}): () => RunningBroker {
  let broker: RunningBroker | undefined;
  beforeAll(async () => {
    broker = await startBroker(overrides);
  });
  afterAll(async () => {
    await broker?.stop();
  });
  return () => broker!;
}

export interface OsbResponse {
  status: number;
  body: any;
  headers: Headers;
}

/** What a test's provision carries when it names no organization or space. */
export const DEFAULT_ORG_AND_SPACE = { organization_guid: 'test-org', space_guid: 'test-space' } as const;

/** An OSB client: every request carries auth, the API version and JSON content type. */
export class Osb {
  constructor(
    readonly url: string,
    private readonly user: string,
    private readonly pass: string,
  ) {}

  /** What every request carries: the platform's credentials and the API version. */
  get headers(): Record<string, string> {
    return { Authorization: `Basic ${Buffer.from(`${this.user}:${this.pass}`).toString('base64')}`, 'X-Broker-API-Version': '2.17' };
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<OsbResponse> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        ...this.headers,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  /**
   * A provision, with the organization and space GUIDs OSB 2.17 requires when `body` names none
   * (tests of org or space name their own; tests of a request without them use `request`).
   */
  provision(instanceId: string, body: Record<string, unknown>, acceptsIncomplete = true) {
    return this.request('PUT', `/v2/service_instances/${instanceId}${acceptsIncomplete ? '?accepts_incomplete=true' : ''}`, {
      ...DEFAULT_ORG_AND_SPACE,
      ...body,
    });
  }

  update(instanceId: string, body: Record<string, unknown>) {
    return this.request('PATCH', `/v2/service_instances/${instanceId}?accepts_incomplete=true`, body);
  }

  deprovision(instanceId: string, serviceId: string, planId: string) {
    return this.request('DELETE', `/v2/service_instances/${instanceId}?accepts_incomplete=true&service_id=${serviceId}&plan_id=${planId}`);
  }

  lastOperation(instanceId: string, operation?: string) {
    return this.request('GET', `/v2/service_instances/${instanceId}/last_operation${operation ? `?operation=${encodeURIComponent(operation)}` : ''}`);
  }

  bind(instanceId: string, bindingId: string, body: Record<string, unknown>, acceptsIncomplete = false) {
    return this.request('PUT', `/v2/service_instances/${instanceId}/service_bindings/${bindingId}${acceptsIncomplete ? '?accepts_incomplete=true' : ''}`, body);
  }

  unbind(instanceId: string, bindingId: string, serviceId: string, planId: string) {
    return this.request('DELETE', `/v2/service_instances/${instanceId}/service_bindings/${bindingId}?service_id=${serviceId}&plan_id=${planId}`);
  }

  /** Polls last_operation until the operation ends; returns the final answer (status and body). */
  async waitForOperation(instanceId: string, operation: string, timeoutMs = 120_000): Promise<OsbResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = await this.lastOperation(instanceId, operation);
      if (res.status !== 200 || res.body.state !== 'in progress') return res;
      if (Date.now() > deadline) throw new Error(`operation ${operation} still in progress after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
