// GET /v2/catalog's validator: one ETag per catalog version, 304 without a
// body when the client's copy is current, a new ETag as soon as the catalog changes.
import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../catalog/types.js';
import { catalogRoutes, catalogVersion } from './catalog.js';

/** A catalog whose served offerings a test replaces, as offerings added at runtime do. */
function changingCatalog() {
  let osb: Catalog['osbCatalog'] = { services: [{ id: 'a', name: 'a', plans: [] }] };
  const catalog = {
    get osbCatalog() {
      return osb;
    },
  } as unknown as Catalog;
  return { catalog, change: (services: Record<string, unknown>[]) => (osb = { services }) };
}

const get = (app: ReturnType<typeof catalogRoutes>, headers: Record<string, string> = {}, method = 'GET') => app.request('/', { method, headers });

describe('GET /v2/catalog validators', () => {
  it('answers 200 with a strong ETag, no Last-Modified, and no-cache', async () => {
    const { catalog } = changingCatalog();
    const res = await get(catalogRoutes(catalog));
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    expect(res.headers.get('last-modified')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('vary')).toBeNull();
    expect(await res.json()).toEqual(catalog.osbCatalog);
  });

  it('answers 304 without a body to If-None-Match with the ETag', async () => {
    const app = catalogRoutes(changingCatalog().catalog);
    const first = await get(app);
    const etag = first.headers.get('etag')!;
    for (const headers of <Record<string, string>[]>[{ 'If-None-Match': etag }, { 'If-None-Match': `W/${etag}` }, { 'If-None-Match': '*' }]) {
      const res = await get(app, headers);
      expect(res.status).toBe(304);
      expect(await res.text()).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    expect((await get(app, { 'If-None-Match': etag }, 'HEAD')).status).toBe(304);
  });

  it('gives a changed catalog a new ETag, and the old one answers 200 with the new catalog', async () => {
    const { catalog, change } = changingCatalog();
    const app = catalogRoutes(catalog);
    const old = (await get(app)).headers.get('etag')!;
    change([{ id: 'b', name: 'b', plans: [] }]);
    const res = await get(app, { 'If-None-Match': old });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).not.toBe(old);
    expect(await res.json()).toEqual({ services: [{ id: 'b', name: 'b', plans: [] }] });
    expect((await get(app, { 'If-None-Match': res.headers.get('etag')! })).status).toBe(304);
  });

  it('gives the same bytes the same ETag, whichever process or version serves them', () => {
    const osb = { services: [{ id: 'a' }] };
    expect(catalogVersion(osb).etag).toBe(catalogVersion({ services: [{ id: 'a' }] }).etag);
    expect(catalogVersion(osb).etag).not.toBe(catalogVersion({ services: [{ id: 'b' }] }).etag);
  });

  it('ignores If-Modified-Since: a date another replica sent cannot hide a changed catalog', async () => {
    const res = await get(catalogRoutes(changingCatalog().catalog), { 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' });
    expect(res.status).toBe(200);
  });

  it('answers hostile conditions with the catalog', async () => {
    const app = catalogRoutes(changingCatalog().catalog);
    for (const headers of <Record<string, string>[]>[
      { 'If-None-Match': `${'"x", '.repeat(2000)}garbage` },
      { 'If-None-Match': '"unterminated' },
      { 'If-None-Match': ',,,,' },
      { 'If-Modified-Since': 'not a date' },
      { 'If-Modified-Since': 'Tue, 31 Feb 2026 21:00:00 GMT' },
      { 'If-Modified-Since': 'Fri, 01 Jan 9999 00:00:00 GMT' },
    ]) {
      const res = await get(app, headers);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Catalog['osbCatalog']).services).toHaveLength(1);
    }
  });
});
