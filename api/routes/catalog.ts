// GET /v2/catalog: the catalog body is built once when the catalog loads; served as is.
import { Hono } from 'hono';
import type { Catalog } from '../../catalog/types.js';
import type { AppEnv } from '../env.js';

export function catalogRoutes(catalog: Catalog) {
  const body = JSON.stringify(catalog.osbCatalog);
  return new Hono<AppEnv>().get('/', (c) => c.body(body, 200, { 'Content-Type': 'application/json' }));
}
