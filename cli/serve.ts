// The OSB API server. SIGTERM: stop accepting connections, finish in-flight requests, exit.
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app.js';
import { TemporalBroker } from '../broker/temporal-broker.js';
import type { Config } from '../platform/config/config.js';
import { loadClusters } from '../platform/config/clusters.js';
import { KubeClusters } from '../platform/kube/clusters.js';
import { installationOf } from '../platform/kube/installation.js';
import { RecordStore } from '../platform/kube/records.js';
import { InstanceCounts } from '../platform/kube/instance-counts.js';
import type { Logger } from '../platform/observability/logger.js';
import type { NativeConnection } from '@temporalio/worker';
import { createEagerStartClient, createTemporalClient } from '../platform/temporal/client.js';
import { checkTemporalAccess, TemporalAccessError } from '../platform/temporal/access.js';
import { codecFor } from '../platform/temporal/codec.js';
import { accessTokenVerifier, parseRequiredClaim } from '../platform/oidc/access-token.js';
import { provisionsInFlight } from '../broker/provisions-in-flight.js';
import { ApiMetrics, serveMetrics } from '../platform/observability/metrics.js';
import { adminDepsFor } from './admin-deps.js';
import { loadLiveCatalog } from './load-catalog.js';

/**
 * How long an idle kept-alive connection stays open. Node's default, 5 s, is the Retry-After that
 * platforms poll by (POLL_INTERVAL): a poll sent on a connection at the moment the server closes
 * it fails with ECONNRESET. 65 s is well above that, and above the 60 s idle timeout of common
 * load balancers in front, so that it is the client's side that closes an idle connection.
 */
const KEEP_ALIVE_MS = 65_000;

/** CODEC_AUTH=oidc: the check of the Temporal UI's access tokens (loadConfig made sure the settings are there). */
function codecTokenVerifier(config: Config) {
  if (config.CODEC_AUTH !== 'oidc' || !config.CODEC_OIDC_ISSUER || !config.CODEC_OIDC_AUDIENCE || !config.CODEC_OIDC_CLAIM) return undefined;
  return accessTokenVerifier({
    issuer: config.CODEC_OIDC_ISSUER,
    audiences: config.CODEC_OIDC_AUDIENCE.split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    required: parseRequiredClaim(config.CODEC_OIDC_CLAIM),
    jwksUrl: config.CODEC_OIDC_JWKS_URL,
  });
}

export interface ServerOptions {
  /**
   * The connection of a worker running in this process (`serve --with-worker`, dev mode): the
   * API starts workflows through it, eagerly (broker/operation-start.ts).
   */
  workerConnection?: NativeConnection;
}

export async function startServer(config: Config, logger: Logger, options: ServerOptions = {}) {
  // Wrong credentials stop the API now; a Temporal that is not up yet does not (see client.ts).
  const temporalProblem = await checkTemporalAccess(config.temporal);
  if (temporalProblem?.kind === 'refused') throw new TemporalAccessError(temporalProblem.message);
  if (temporalProblem) logger.warn({ err: temporalProblem.message }, 'Temporal is not reachable yet: the API starts, /readyz reports it until it is');
  const clustersConfig = loadClusters(config);
  const clusters = KubeClusters.connect(clustersConfig, config);
  const kube = clusters.home;
  const catalog = await loadLiveCatalog(config.CATALOG_DIR, kube, config.BROKER_NAMESPACE, logger);
  // Quotas configured: their counts come from a watch of the records' metadata, not a list per provision.
  const counts = clustersConfig.quotas.length > 0 ? new InstanceCounts(kube, config.BROKER_NAMESPACE, logger) : undefined;
  counts?.start();
  const records = new RecordStore(kube, config.BROKER_NAMESPACE, logger, undefined, counts);
  const { client, connection } = createTemporalClient(config);
  const metrics = new ApiMetrics();
  const broker = new TemporalBroker({
    metrics,
    client,
    eagerStartClient: options.workerConnection ? createEagerStartClient(config, options.workerConnection) : undefined,
    records,
    catalog,
    settings: {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      namespaceStrategy: config.NAMESPACE_STRATEGY,
      instanceNamespace: config.INSTANCE_NAMESPACE,
      defaultTimeoutSeconds: config.DEFAULT_OPERATION_TIMEOUT,
      syncBindTimeoutMs: config.SYNC_BIND_TIMEOUT * 1000,
      lastOperationWaitMs: config.LAST_OPERATION_WAIT * 1000,
      clusters: clustersConfig,
    },
  });
  const app = createApp({
    broker,
    catalog,
    logger,
    auth: { username: config.AUTH_USER, password: config.AUTH_PASS },
    maxBodyBytes: config.MAX_BODY_BYTES,
    pollIntervalSeconds: config.POLL_INTERVAL,
    admin: config.ADMIN_USER && config.ADMIN_PASS ? { username: config.ADMIN_USER, password: config.ADMIN_PASS } : undefined,
    codec: codecFor(config)?.forInspection(),
    codecAuth: config.CODEC_AUTH,
    verifyCodecToken: codecTokenVerifier(config),
    codecOrigins: (config.CODEC_CORS_ORIGINS ?? config.TEMPORAL_UI_URL ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    adminDeps: adminDepsFor(config, { client, clusters, records, catalog }),
    offerings: { catalog, store: catalog.store, records, provisionsInFlight: (name) => provisionsInFlight(client, name) },
    metrics,
    metricsAt: config.METRICS_ADDRESS ? 'separate' : 'here',
  });
  const metricsServer = config.METRICS_ADDRESS ? await serveMetrics(metrics.registry, config.METRICS_ADDRESS) : undefined;
  if (metricsServer) logger.info({ url: metricsServer.url }, 'metrics listening');
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST, serverOptions: { keepAliveTimeout: KEEP_ALIVE_MS } }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${config.PORT} is in use: stop the other process or set PORT`) : err),
    );
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  logger.info({ url, installation: installationOf(config) }, 'broker API listening');
  return {
    url,
    port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metricsServer?.close();
      await connection.close();
      await catalog.close();
      await counts?.close();
      clusters.close();
    },
  };
}
