// Prometheus metrics of the API process (prom-client). The worker's metrics (operations finished
// and their durations, Temporal worker metrics) come from the Temporal runtime's exporter.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'broker_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'broker_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly operationsStarted = new Counter({
    name: 'broker_operations_started_total',
    help: 'Operations the API started (202 answers), by type, service and plan',
    labelNames: ['type', 'service', 'plan'] as const,
    registers: [this.registry],
  });
  readonly operationsStartedEagerly = new Counter({
    name: 'broker_operations_started_eagerly_total',
    help: "Operations whose first workflow task the server handed to this process's worker in the start's answer (serve --with-worker, dev mode), by type",
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

/**
 * Serves `registry` at GET /metrics on `address` (host:port) without credentials: an address the
 * operator keeps inside the cluster (METRICS_ADDRESS), apart from the OSB port.
 */
export async function serveMetrics(registry: Registry, address: string): Promise<{ url: string; close(): Promise<void> }> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
  const port = Number(address.slice(at + 1));
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('only GET /metrics is served here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics could not be collected\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`METRICS_ADDRESS ${address} is in use: stop the other process or choose another port`) : err),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound.port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
