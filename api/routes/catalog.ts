// GET /v2/catalog: the catalog body is built once when the catalog loads (or changes); served as is,
// with the ETag OSB 2.17 allows so a platform can revalidate for free (no Last-Modified: api/conditional-get.ts).
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { Catalog } from '../../catalog/types.js';
import { z } from 'zod';
import type { AppEnv } from '../env.js';
import { noneMatchFails } from '../conditional-get.js';
import { ok, osbRoute } from '../openapi.js';

const catalogBody = z.object({ services: z.array(z.record(z.string(), z.unknown())) });

// Offerings added at runtime change the catalog on any replica at any time: a client may keep a
// copy, but asks each time whether it is still current.
const CACHE_CONTROL = 'no-cache';

interface CatalogVersion {
  of: Catalog['osbCatalog'];
  body: Uint8Array<ArrayBuffer>;
  /** A strong entity-tag, quotes included. */
  etag: string;
}

/**
 * One catalog version's bytes and ETag, the SHA-256 of the bytes: replicas serving the same
 * catalog give the same tag, and a catalog that comes back to earlier bytes gets the earlier tag
 * back, rightly.
 */
export function catalogVersion(of: Catalog['osbCatalog']): CatalogVersion {
  const body = new TextEncoder().encode(JSON.stringify(of));
  return { of, body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
}

export function catalogRoutes(catalog: Catalog) {
  // Encoded and hashed once per catalog version: a string body would be measured and UTF-8
  // encoded again on every request (two passes over ~100 KiB with the seed catalog), and hono's
  // etag middleware would hash every answer's body again. A catalog with offerings added at
  // runtime gives a new osbCatalog object on each change. Every caller with the platform's
  // credentials gets the same catalog, so nothing varies by request and no Vary is needed.
  let current = catalogVersion(catalog.osbCatalog);
  const version = () => {
    if (catalog.osbCatalog !== current.of) current = catalogVersion(catalog.osbCatalog);
    return current;
  };
  return new Hono<AppEnv>().get(
    '/',
    osbRoute('The service offerings and their plans', {
      200: ok(catalogBody, 'The catalog, with its ETag'),
      304: { description: 'Not modified: If-None-Match names the current ETag (or is *)' },
    }),
    (c) => {
      const v = version();
      // A Response with a plain header object: c.body would make an undici Headers of them.
      if (noneMatchFails(c.req.header('If-None-Match'), v.etag)) {
        return new Response(null, { status: 304, headers: { ETag: v.etag, 'Cache-Control': CACHE_CONTROL } });
      }
      return new Response(v.body, {
        status: 200,
        headers: { 'Content-Type': 'application/json', ETag: v.etag, 'Cache-Control': CACHE_CONTROL },
      });
    },
  );
}
