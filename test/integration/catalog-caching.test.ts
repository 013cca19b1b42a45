// GET /v2/catalog's caching validator on the real stack (OSB 2.17 allows ETag and
// If-Modified-Since, RFC 9110; the broker sends the ETag only): a broker with its own records namespace and an
// offering of its own added and removed at runtime through the admin API, which is what changes a
// running broker's catalog.
import { describe, expect, it } from 'vitest';
import { templateFolder } from '../../catalog/offerings/testing.js';
import { brokerForFile, Osb } from './helpers/broker.js';
import { eventually, suffix } from './helpers/stack.js';

const KV_ID = `etag-kv-${suffix()}`;
const broker = brokerForFile({ ADMIN_USER: 'admin', ADMIN_PASS: 'admin-password' });
const catalog = (headers: Record<string, string> = {}) => broker().osb.request('GET', '/v2/catalog', undefined, headers);
const admin = () => new Osb(broker().url, 'admin', 'admin-password');
const serviceIds = (body: { services: { id: string }[] }) => body.services.map((s) => s.id);

describe('GET /v2/catalog caching', () => {
  it('answers 304 to a current copy, and 200 with a new ETag once an offering changes the catalog', async () => {
    const first = await catalog();
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('last-modified')).toBeNull();
    expect(first.headers.get('cache-control')).toBe('no-cache');

    const unchanged = await catalog({ 'If-None-Match': etag });
    expect(unchanged.status).toBe(304);
    expect(unchanged.body).toBeUndefined();
    expect(unchanged.headers.get('etag')).toBe(etag);
    // The request identity goes onto Node's response apart from the route's headers: on every answer.
    const echoed = await catalog({ 'If-None-Match': etag, 'X-Broker-API-Request-Identity': 'etag-304' });
    expect([echoed.status, echoed.headers.get('x-broker-api-request-identity')]).toEqual([304, 'etag-304']);
    const stranger = await broker().osb.request('GET', '/v2/catalog', undefined, { Authorization: 'Basic eDp5', 'X-Broker-API-Request-Identity': 'etag-401' });
    expect([stranger.status, stranger.headers.get('x-broker-api-request-identity'), stranger.headers.get('etag')]).toEqual([401, 'etag-401', null]);
    expect((await catalog({ 'If-None-Match': `"other", W/${etag}` })).status).toBe(304);
    // A date decides nothing (another replica's clock could make a changed catalog look current).
    expect((await catalog({ 'If-Modified-Since': 'Fri, 01 Jan 2100 00:00:00 GMT' })).status).toBe(200);

    const added = await admin().request('PUT', '/admin/offerings', { files: templateFolder(KV_ID, `${KV_ID}-small`, KV_ID) });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    const changed = await eventually('the offering in the catalog', async () => {
      const res = await catalog({ 'If-None-Match': etag });
      return res.status === 200 && serviceIds(res.body).includes(KV_ID) ? res : undefined;
    });
    const newEtag = changed.headers.get('etag')!;
    expect(newEtag).not.toBe(etag);
    expect((await catalog({ 'If-None-Match': newEtag })).status).toBe(304);

    expect((await admin().request('DELETE', `/admin/offerings/${KV_ID}`)).status).toBe(200);
    const removed = await eventually('the offering out of the catalog', async () => {
      const res = await catalog({ 'If-None-Match': newEtag });
      return res.status === 200 && !serviceIds(res.body).includes(KV_ID) ? res : undefined;
    });
    // The same bytes as before the offering: the same ETag, so copies from then are current again.
    expect(removed.headers.get('etag')).toBe(etag);
    expect((await catalog({ 'If-None-Match': etag })).status).toBe(304);
  });

  it('answers hostile conditions with the catalog, never an error', async () => {
    const { body: full, headers } = await catalog();
    const etag = headers.get('etag')!;
    const manyTags = Array.from({ length: 900 }, (_, i) => `"t${i}"`).join(', '); // ~8 KiB, under Node's 16 KiB header limit
    const hostile: Record<string, string>[] = [
      { 'If-None-Match': `${manyTags}, garbage` },
      { 'If-None-Match': `${manyTags}, ${etag.slice(0, -1)}` },
      { 'If-None-Match': ','.repeat(8000) },
      { 'If-None-Match': `${etag} ${etag}` },
      { 'If-None-Match': '"\u00ff\u00fe"' },
      { 'If-Modified-Since': 'yesterday' },
      { 'If-Modified-Since': 'Tue, 31 Feb 2026 21:00:00 GMT' },
      { 'If-Modified-Since': `Fri, 04 Dec 2026 21:00:00 GMT${' '.repeat(8000)}x` },
      { 'If-Modified-Since': '-1' },
      { 'If-Modified-Since': 'Fri, 01 Jan 9999 00:00:00 GMT' },
    ];
    for (const h of hostile) {
      const res = await catalog(h);
      expect(res.status, JSON.stringify(h).slice(0, 80)).toBe(200);
      expect(res.body).toEqual(full);
    }
    // A long list that names the current tag still matches.
    expect((await catalog({ 'If-None-Match': `${manyTags}, ${etag}` })).status).toBe(304);
  });
});
