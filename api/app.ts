// The broker's HTTP application: OSB routes behind basic auth and the API version check,
// probes without auth, one error handler that turns every failure into an OSB error body.
import type { PayloadCodec } from '@temporalio/common';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import type { Catalog } from '../catalog/types.js';
import type { Logger } from '../observability/logger.js';
import type { Broker } from './broker.js';
import type { AppEnv } from './env.js';
import { BrokerError, notFound, renderError, tooLarge, unavailable } from './errors.js';
import { apiVersion } from './middleware/api-version.js';
import { originatingIdentity } from './middleware/originating-identity.js';
import { requestLog } from './middleware/request-log.js';
import { bindingRoutes } from './routes/bindings.js';
import { codecRoutes } from './routes/codec.js';
import { catalogRoutes } from './routes/catalog.js';
import { instanceRoutes } from './routes/instances.js';

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
}

export function createApp({ broker, catalog, logger, auth, maxBodyBytes, pollIntervalSeconds, admin, codec, codecOrigins = [] }: AppOptions) {
  const app = new Hono<AppEnv>();

  // The platform's request identity is echoed on every response (OSB SHOULD).
  app.use(requestId({ headerName: 'X-Broker-API-Request-Identity' }));
  app.use(requestLog(logger));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const { ok, checks } = await broker.ready();
    return c.json({ status: ok ? 'ready' : 'not ready', checks }, ok ? 200 : 503);
  });

  const v2 = new Hono<AppEnv>();
  v2.use(
    basicAuth({
      ...auth,
      realm: 'kubernetes-broker',
      invalidUserMessage: { error: 'Unauthorized', description: 'missing or wrong credentials: authenticate with HTTP basic auth' },
    }),
  );
  v2.use(apiVersion);
  v2.use(originatingIdentity);
  v2.use(bodyLimit({ maxSize: maxBodyBytes, onError: () => { throw tooLarge(maxBodyBytes); } }));
  v2.route('/catalog', catalogRoutes(catalog));
  v2.route('/service_instances', instanceRoutes(broker, catalog, pollIntervalSeconds));
  v2.route('/service_instances/:instance_id/service_bindings', bindingRoutes(broker, catalog, pollIntervalSeconds));
  app.route('/v2', v2);
  if (codec && admin) app.route('/codec', codecRoutes(codec, admin, codecOrigins));

  app.notFound((c) => renderError(notFound(`no route for ${c.req.method} ${c.req.path}`), c));
  app.onError((err, c) => {
    if (err instanceof BrokerError) return renderError(err, c);
    // Through c.newResponse, so the response keeps the headers set so far (the echoed request identity).
    if (err instanceof HTTPException) return ((res) => c.newResponse(res.body, res))(err.getResponse());
    // Temporal or Kubernetes unreachable: nothing changed, the platform may retry.
    if (isUnavailable(err)) {
      (c.var.log ?? logger).warn({ err: err.message }, 'dependency unavailable');
      return renderError(unavailable(`the broker cannot reach its backends right now (${err.message}); retry later`), c);
    }
    (c.var.log ?? logger).error({ err }, 'unexpected error');
    return c.json({ error: 'InternalError', description: `internal error: ${err.message}` }, 500);
  });
  return app;
}

function isUnavailable(err: Error): boolean {
  return ['KubeUnavailableError', 'ServiceError', 'ConnectionError'].includes(err.name) || /UNAVAILABLE|ECONNREFUSED|deadline/i.test(err.message);
}
