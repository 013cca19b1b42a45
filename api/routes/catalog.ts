// GET /v2/catalog: the catalog body is built once when the catalog loads; served as is.
import { Hono } from 'hono';
import type { Catalog } from '../../catalog/types.js';
import { z } from 'zod';
import type { AppEnv } from '../env.js';
import { ok, osbRoute } from '../openapi.js';

const catalogBody = z.object({ services: z.array(z.record(z.string(), z.unknown())) });

export function catalogRoutes(catalog: Catalog) {
  // Encoded once: a string body would be measured and UTF-8 encoded again on every request (two
  // passes over ~100 KiB with the seed catalog); bytes go to the socket as they are.
  const body = new TextEncoder().encode(JSON.stringify(catalog.osbCatalog));
  return new Hono<AppEnv>().get('/', osbRoute('The service offerings and their plans', { 200: ok(catalogBody, 'The catalog') }), (c) =>
    c.body(body, 200, { 'Content-Type': 'application/json' }),
  );
}
