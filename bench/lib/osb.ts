// A small OSB client for benchmarks: node:http with one keep-alive pool (lighter than fetch at
// hundreds of requests in flight), and the two ways a platform polls last_operation.
import http from 'node:http';
import { sleep } from './common.js';

/** The fields of OSB answers the benchmarks read: which are present depends on the endpoint. */
export interface OsbBody {
  /** A 202's operation token. */
  operation?: string;
  /** last_operation's answer. */
  state?: 'in progress' | 'succeeded' | 'failed';
  description?: string;
}

export interface OsbResponse {
  status: number;
  /** The answer read as JSON; undefined when it is empty or not JSON (see `text`). */
  body: OsbBody | undefined;
  /** The answer as sent: what error messages show. */
  text: string;
  headers: http.IncomingHttpHeaders;
}

/** The operation token of an accepted (202) request; `what` names the request when there is none. */
export function operationOf(res: OsbResponse, what: string): string {
  const operation = res.body?.operation;
  if (res.status !== 202 || !operation) throw new Error(`${what}: ${res.status} ${res.text}`);
  return operation;
}

export class Osb {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  readonly authorization: string;

  constructor(
    readonly url: string,
    user: string,
    pass: string,
  ) {
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`benchmarks only talk to 127.0.0.1, not ${url}`);
    this.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }

  /** The headers every OSB request carries. */
  get headers(): Record<string, string> {
    return { Authorization: this.authorization, 'X-Broker-API-Version': '2.17' };
  }

  /**
   * One request. A kept-alive connection the server closed just as it was reused fails with
   * ECONNRESET / socket hang up before the server saw the request: sent again once, as Node's
   * documentation advises (req.reusedSocket).
   */
  async request(method: string, path: string, body?: unknown): Promise<OsbResponse> {
    try {
      return await this.send(method, path, body);
    } catch (err) {
      if (!(err as { reusedSocket?: boolean }).reusedSocket) throw err;
      return this.send(method, path, body);
    }
  }

  private send(method: string, path: string, body?: unknown): Promise<OsbResponse> {
    const data = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = http.request(
        `${this.url}${path}`,
        {
          method,
          agent: this.agent,
          headers: { ...this.headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: OsbBody | undefined;
            try {
              body = text ? (JSON.parse(text) as OsbBody) : undefined;
            } catch {
              // not JSON: `text` has it
            }
            resolve({ status: res.statusCode ?? 0, body, text, headers: res.headers });
          });
          res.on('error', reject);
        },
      );
      req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: no answer within 120 s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? '';
        reject(Object.assign(err, { reusedSocket: req.reusedSocket && (code === 'ECONNRESET' || /socket hang up/.test(err.message)) }));
      });
      req.end(data);
    });
  }

  provision(instanceId: string, body: Record<string, unknown>) {
    return this.request('PUT', `/v2/service_instances/${instanceId}?accepts_incomplete=true`, body);
  }

  deprovision(instanceId: string, serviceId: string, planId: string) {
    return this.request('DELETE', `/v2/service_instances/${instanceId}?accepts_incomplete=true&service_id=${serviceId}&plan_id=${planId}`);
  }

  lastOperation(instanceId: string, operation: string) {
    return this.request('GET', `/v2/service_instances/${instanceId}/last_operation?operation=${encodeURIComponent(operation)}`);
  }

  close() {
    this.agent.destroy();
  }
}

export interface PollOutcome {
  /** The final answer: 200 succeeded/failed, or 410 after a deprovision. */
  final: OsbResponse;
  polls: number;
  /** Retry-After values the broker sent while in progress. */
  retryAfter: number[];
}

/**
 * How a platform waits for an operation.
 * - `tight`: polls every `intervalMs` (an impatient client; the lower bound of what polling can see).
 * - `cf`: Cloud Foundry's Cloud Controller (ServiceInstanceAsyncJob + ReoccurringJob): one
 *   last_operation right after the 202, then every max(Retry-After, platformMinSeconds) seconds
 *   (broker_client_default_async_poll_interval_seconds: 60 by default in CF, an operator may set it
 *   lower; here 1 s, so the broker's Retry-After decides).
 */
export type Poller = { kind: 'tight'; intervalMs: number } | { kind: 'cf'; platformMinSeconds: number };

export async function waitForOperation(osb: Osb, instanceId: string, operation: string, poller: Poller, timeoutMs = 600_000): Promise<PollOutcome> {
  const deadline = Date.now() + timeoutMs;
  const retryAfter: number[] = [];
  for (let polls = 1; ; polls++) {
    const res = await osb.lastOperation(instanceId, operation);
    if (res.status !== 200 || res.body?.state !== 'in progress') return { final: res, polls, retryAfter };
    const ra = Number(res.headers['retry-after'] ?? NaN);
    if (Number.isFinite(ra)) retryAfter.push(ra);
    if (Date.now() > deadline) throw new Error(`operation ${operation} of ${instanceId} still in progress after ${timeoutMs / 1000} s`);
    await sleep(poller.kind === 'tight' ? poller.intervalMs : Math.max(Number.isFinite(ra) ? ra : 0, poller.platformMinSeconds) * 1000);
  }
}
