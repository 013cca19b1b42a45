// The codec endpoint of the Temporal UI (https://docs.temporal.io/production-deployment/data-encryption):
// operators who hold the admin credentials see decrypted payloads in the UI. Payloads are JSON
// `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }` both ways.
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { credentialsVerifier } from '../middleware/credentials.js';
import { cors } from 'hono/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { AppEnv } from '../env.js';
import { badRequest } from '../../broker/errors.js';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** `admin`: the admin credentials guard the endpoint; `undefined`: open (CODEC_AUTH=none). */
export function codecRoutes(codec: PayloadCodec, admin: { username: string; password: string } | undefined, origins: string[]) {
  const app = new Hono<AppEnv>();
  app.use(cors({ origin: origins, credentials: true, allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'] }));
  if (admin) {
    app.use(basicAuth({ verifyUser: credentialsVerifier(admin), realm: 'kubernetes-broker admin', invalidUserMessage: { error: 'Unauthorized', description: 'the codec endpoint needs the admin credentials' } }));
  }
  for (const action of ['encode', 'decode'] as const) {
    app.post(`/${action}`, async (c) => {
      let body: { payloads?: JsonPayload[] };
      try {
        body = await c.req.json();
      } catch {
        throw badRequest('the body must be JSON: {"payloads": [...]}');
      }
      if (!Array.isArray(body.payloads)) throw badRequest('the body must be {"payloads": [...]}');
      try {
        const result = await codec[action](body.payloads.map(fromJson));
        return c.json({ payloads: result.map(toJson) });
      } catch (err) {
        throw badRequest(`cannot ${action} these payloads: ${(err as Error).message}`);
      }
    });
  }
  return app;
}
