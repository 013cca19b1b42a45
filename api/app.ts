// The broker's HTTP application: OSB routes behind basic auth and the API version check,
// probes without auth, one error handler that turns every failure into an OSB error body.
import type { PayloadCodec } from '@temporalio/common';
import { Hono, type Context } from 'hono';
import { openAPIRouteHandler } from 'hono-openapi';
import { HTTPException } from 'hono/http-exception';
import type { AdminDeps } from './admin/deps.js';
import type { Catalog } from '../catalog/types.js';
import type { Logger } from '../platform/observability/logger.js';
import type { ApiMetrics } from '../platform/observability/metrics.js';
import type { Broker } from '../broker/service-broker.js';
import type { AppEnv } from './env.js';
import { BrokerError, notFound, unavailable } from '../broker/errors.js';
import { apiVersion } from './middleware/api-version.js';
import { limitBody } from './middleware/body-limit.js';
import { credentialsAuth } from './middleware/basic-auth.js';
import { originatingIdentity } from './middleware/originating-identity.js';
import { documentation } from './openapi.js';
import { requestIdentity } from './middleware/request-identity.js';
import { requestLog } from './middleware/request-log.js';
import { requestMetrics } from './middleware/metrics.js';
import type { OfferingDeps } from '../broker/offerings.js';
import { adminRoutes } from './routes/admin.js';
import { bindingRoutes } from './routes/bindings.js';
import { codecRoutes } from './routes/codec.js';
import { catalogRoutes } from './routes/catalog.js';
import { instanceRoutes } from './routes/instances.js';
import { offeringRoutes } from './routes/offerings.js';

export interface AppOptions {
  broker: Broker;
  catalog: Catalog;
  logger: Logger;
  auth: { username: string; password: string };
  maxBodyBytes: number;
  pollIntervalSeconds: number;
  /** Admin credentials: the codec endpoint (and admin routes) exist only when they are set. */
  admin?: { username: string; password: string } | undefined;
  /** The payload codec, served to the Temporal UI at /codec. */
  codec?: PayloadCodec | undefined;
  codecOrigins?: string[];
  /** `none`: /codec without credentials (trusted networks only); default: the admin credentials; `oidc`: those or an access token. */
  codecAuth?: 'admin' | 'oidc' | 'none';
  /** With `oidc`: checks the Temporal UI's access tokens (platform/oidc/access-token.ts). */
  verifyCodecToken?: ((token: string) => Promise<unknown>) | undefined;
  /** Operator routes under /admin (with the admin credentials). */
  adminDeps?: AdminDeps | undefined;
  /** Offerings added at runtime (`/admin/offerings`, with the admin credentials). */
  offerings?: OfferingDeps | undefined;
  metrics?: ApiMetrics | undefined;
  /**
   * `separate`: /metrics is served on an address of its own (METRICS_ADDRESS), not here. Otherwise
   * it is served here to the admin credentials only (nowhere without them).
   */
  metricsAt?: 'here' | 'separate';
}

export function createApp(options: AppOptions) {
  const {
    broker,
    catalog,
    logger,
    auth,
    maxBodyBytes,
    pollIntervalSeconds,
    admin,
    codec,
    codecOrigins = [],
    codecAuth = 'admin',
    verifyCodecToken,
    adminDeps,
    offerings,
    metrics,
    metricsAt = 'here',
  } = options;
  const app = new Hono<AppEnv>();

  // The platform's request identity is echoed on every response (OSB SHOULD).
  app.use(requestIdentity);
  app.use(requestLog(logger));
  if (metrics) app.use(requestMetrics(metrics));
  // The OSB port faces the platform's network: what it serves besides OSB needs credentials.
  if (metrics && metricsAt === 'here' && admin) {
    app.get(
      '/metrics',
      credentialsAuth([admin], {
        realm: 'kubernetes-broker admin',
        invalidUserMessage: {
          error: 'Unauthorized',
          description: 'metrics need the admin credentials (ADMIN_USER, ADMIN_PASS), or serve them on METRICS_ADDRESS',
        },
      }),
      async (c) => c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
    );
  }

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  // Unauthenticated: says which dependency fails, never how (the error names accounts and addresses);
  // the detail goes to the log.
  app.get('/readyz', async (c) => {
    const { ok, checks } = await broker.ready();
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok');
    if (failing.length) (c.get('log') ?? logger).warn({ checks: Object.fromEntries(failing) }, 'not ready');
    const shown = Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v === 'ok' ? 'ok' : 'failing']));
    return c.json({ status: ok ? 'ready' : 'not ready', checks: shown }, ok ? 200 : 503);
  });

  const v2 = new Hono<AppEnv>();
  v2.use(
    credentialsAuth([auth], {
      realm: 'kubernetes-broker',
      invalidUserMessage: { error: 'Unauthorized', description: 'missing or wrong credentials: authenticate with HTTP basic auth' },
    }),
  );
  v2.use(apiVersion);
  v2.use(originatingIdentity);
  const bodies = limitBody(maxBodyBytes);
  // GETs carry no body; checking one would build a full WHATWG Request per poll (measured: a
  // third of the catalog route's cost, docs/performance.md section 4).
  v2.use((c, next) => (c.req.method === 'GET' ? next() : bodies(c, next)));
  v2.route('/catalog', catalogRoutes(catalog));
  v2.route('/service_instances', instanceRoutes(broker, catalog, pollIntervalSeconds));
  v2.route('/service_instances/:instance_id/service_bindings', bindingRoutes(broker, catalog, pollIntervalSeconds));
  app.route('/v2', v2);
  if (codec && codecAuth === 'none') app.route('/codec', codecRoutes(codec, undefined, codecOrigins));
  else if (codec && (admin || (codecAuth === 'oidc' && verifyCodecToken))) {
    app.route('/codec', codecRoutes(codec, { admin, verifyToken: codecAuth === 'oidc' ? verifyCodecToken : undefined }, codecOrigins));
  }
  if ((adminDeps || offerings) && admin) {
    const adminApp = new Hono<AppEnv>();
    adminApp.use(
      credentialsAuth([admin], {
        realm: 'kubernetes-broker admin',
        invalidUserMessage: { error: 'Unauthorized', description: 'admin routes need the admin credentials (ADMIN_USER, ADMIN_PASS)' },
      }),
    );
    if (offerings) adminApp.route('/offerings', offeringRoutes(offerings, maxBodyBytes));
    if (adminDeps) adminApp.route('/', adminRoutes(adminDeps));
    app.route('/admin', adminApp);
  }

  // Generated from the routes' own descriptions; documents the OSB and admin API, to the platform or the operator.
  app.get(
    '/openapi.json',
    credentialsAuth([auth, admin], {
      realm: 'kubernetes-broker',
      invalidUserMessage: { error: 'Unauthorized', description: "the API description needs the platform's or the admin credentials" },
    }),
    openAPIRouteHandler(app, { documentation, exclude: ['/openapi.json', '/metrics', /^\/codec/] }),
  );

  app.notFound((c) => renderError(notFound(`no route for ${c.req.method} ${c.req.path}`), c));
  app.onError((err, c) => {
    if (err instanceof BrokerError) return renderError(err, c);
    // Through c.newResponse, so the response keeps the headers set so far (the echoed request identity).
    if (err instanceof HTTPException) return ((res) => c.newResponse(res.body, res))(err.getResponse());
    // Temporal or Kubernetes unreachable: nothing changed, the platform may retry.
    // Neither answer echoes the error: its message may name hosts, accounts or internals. The
    // request id ties the answer to the log line that has the detail.
    const requestId = c.get('requestId');
    if (isUnavailable(err)) {
      (c.get('log') ?? logger).warn({ err: err.message }, 'dependency unavailable');
      return renderError(unavailable(`the broker cannot reach Temporal or Kubernetes right now; retry later (request ${requestId})`), c);
    }
    (c.get('log') ?? logger).error({ err }, 'unexpected error');
    return c.json({ error: 'InternalError', description: `internal error (request ${requestId}); the broker's log has the detail under this request id` }, 500);
  });
  return app;
}

/** Kubernetes or Temporal unreachable (connection errors, gRPC UNAVAILABLE 14 / DEADLINE_EXCEEDED 4). */
function isUnavailable(err: Error): boolean {
  const code = (e: unknown) => (e as { code?: unknown } | undefined)?.code;
  const grpc = [code(err), code(err.cause)];
  return (
    ['KubeUnavailableError', 'ConnectionError', 'TransportError'].includes(err.name) ||
    grpc.includes(14) ||
    grpc.includes(4) ||
    /ECONNREFUSED/.test(err.message)
  );
}

/** Every failure answer: the OSB error body with its status. */
function renderError(err: BrokerError, c: Context): Response {
  return c.json(err.body(), err.status);
}
