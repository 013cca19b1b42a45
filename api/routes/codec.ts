// The codec endpoint of the Temporal UI (https://docs.temporal.io/production-deployment/data-encryption):
// operators logged in to the UI through OIDC, or holding the admin credentials, see decrypted payloads. Payloads are JSON
// `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }` both ways.
import { Hono } from 'hono';
import { codecAuth, type CodecAuth } from '../middleware/codec-auth.js';
import { limitBody } from '../middleware/body-limit.js';
import { cors } from 'hono/cors';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { AppEnv } from '../env.js';
import { badRequest } from '../../broker/errors.js';

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const isBase64 = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(v);
const isJsonPayload = (p: unknown): p is JsonPayload => {
  if (!p || typeof p !== 'object' || Array.isArray(p)) return false;
  const { metadata, data } = p as Record<string, unknown>;
  const metadataOk =
    metadata === undefined || (!!metadata && typeof metadata === 'object' && !Array.isArray(metadata) && Object.values(metadata).every(isBase64));
  const known = Object.keys(p).every((k) => k === 'metadata' || k === 'data');
  return known && metadataOk && (data === undefined || isBase64(data));
};

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/**
 * The largest body /codec reads. Temporal refuses payloads over 2 MiB (its blob size limit), and
 * the UI sends one event's payloads per call; base64 adds a third. Without a limit, one large
 * POST could run the API out of memory.
 */
export const CODEC_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** `auth`: who may call (codec-auth.ts); `undefined`: anyone (CODEC_AUTH=none). */
export function codecRoutes(codec: PayloadCodec, auth: CodecAuth | undefined, origins: string[]) {
  const app = new Hono<AppEnv>();
  // With passAccessToken the UI also sends its user's ID token (Authorization-Extras); /codec ignores it.
  app.use(
    cors({
      origin: origins,
      credentials: true,
      allowMethods: ['POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization', 'Authorization-Extras'],
    }),
  );
  app.use(limitBody(CODEC_MAX_BODY_BYTES));
  if (auth) app.use(codecAuth(auth));
  for (const action of ['encode', 'decode'] as const) {
    app.post(`/${action}`, async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw badRequest('the body must be JSON: {"payloads": [...]}');
      }
      const payloads = (body as { payloads?: unknown } | null)?.payloads;
      if (!Array.isArray(payloads) || !payloads.every(isJsonPayload)) {
        throw badRequest('the body must be {"payloads": [{"metadata": {<key>: <base64>}, "data": <base64>}, ...]}');
      }
      try {
        const result = await codec[action](payloads.map(fromJson));
        return c.json({ payloads: result.map(toJson) });
      } catch (err) {
        throw badRequest(`cannot ${action} these payloads: ${(err as Error).message}`);
      }
    });
  }
  return app;
}
