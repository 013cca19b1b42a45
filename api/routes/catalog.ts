// GET /v2/catalog: the catalog body is built once when the catalog loads (or changes); served as is.
import { Hono } from 'hono';
import type { Catalog } from '../../catalog/types.js';
import { z } from 'zod';
import type { AppEnv } from '../env.js';
import { ok, osbRoute } from '../openapi.js';

const catalogBody = z.object({ services: z.array(z.record(z.string(), z.unknown())) });

export function catalogRoutes(catalog: Catalog) {
  // Encoded once per catalog version: a string body would be measured and UTF-8 encoded again on
  // every request (two passes over ~100 KiB with the seed catalog); bytes go to the socket as they
  // are. A catalog with offerings added at runtime gives a new osbCatalog object on each change.
  let encoded = { of: catalog.osbCatalog, body: new TextEncoder().encode(JSON.stringify(catalog.osbCatalog)) };
  const bytes = () => {
    const current = catalog.osbCatalog;
    if (current !== encoded.of) encoded = { of: current, body: new TextEncoder().encode(JSON.stringify(current)) };
    return encoded.body;
  };
  return new Hono<AppEnv>().get('/', osbRoute('The service offerings and their plans', { 200: ok(catalogBody, 'The catalog') }), (c) =>
    c.body(bytes(), 200, { 'Content-Type': 'application/json' }),
  );
}
