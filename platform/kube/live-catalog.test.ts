import { describe, expect, it } from 'vitest';
import type { Catalog } from '../../catalog/types.js';
import { createLogger } from '../observability/logger.js';
import { normalizeFiles } from '../../catalog/offerings/files.js';
import { LiveCatalog } from './live-catalog.js';
import { storedOffering, type OfferingStore, type StoredOffering } from './offering-store.js';
import { templateFolder } from '../../catalog/offerings/testing.js';

const empty: Catalog = { root: '/x', services: [], osbCatalog: { services: [] }, findService: () => undefined, findPlan: () => undefined };
const offering = (id: string, name: string, addedAt: string): StoredOffering => ({
  ...storedOffering(id, normalizeFiles(templateFolder(id, `${id}-plan`, name)), 'files'),
  addedAt,
});

function live(stored: StoredOffering[]) {
  const store = { list: () => Promise.resolve({ offerings: stored }) } as unknown as OfferingStore;
  return new LiveCatalog(empty, store, createLogger('silent'));
}

describe('LiveCatalog', () => {
  it('serves what is stored; of two colliding offerings, the older one', async () => {
    const catalog = live([
      offering('b', 'same', '2026-01-02T00:00:00Z'),
      offering('a', 'same', '2026-01-01T00:00:00Z'),
      offering('c', 'other', '2026-01-03T00:00:00Z'),
    ]);
    await catalog.refresh();
    expect(catalog.services.map((s) => s.id)).toEqual(['c', 'a']);
    expect(catalog.findPlan('a', 'a-plan')?.plan.name).toBe('small');
    expect(catalog.findService('b')).toBeUndefined();
  });

  it('gives a new catalog body on every change, the same one when nothing changed', async () => {
    const catalog = live([]);
    await catalog.refresh();
    const before = catalog.osbCatalog;
    const a = offering('a', 'kv', '2026-01-01T00:00:00Z');
    expect(catalog.put(a)).toBe(true);
    const withA = catalog.osbCatalog;
    expect(withA).not.toBe(before);
    expect(withA.services.map((s) => s.id)).toEqual(['a']);
    expect(catalog.put({ ...a, resourceVersion: '7' })).toBe(true);
    expect(catalog.osbCatalog).toBe(withA);
    // A colliding name added later is not served while the first one is; then it is.
    expect(catalog.put(offering('b', 'kv', '2026-01-02T00:00:00Z'))).toBe(false);
    expect(catalog.osbCatalog).toBe(withA);
    catalog.remove('a');
    expect(catalog.osbCatalog.services.map((s) => s.id)).toEqual(['b']);
  });

  it('serves the same offerings whatever order two colliding ones arrive in (as two replicas would)', () => {
    const older = offering('a', 'kv', '2026-01-01T00:00:00Z');
    const newer = offering('b', 'kv', '2026-01-02T00:00:00Z');
    const first = live([]);
    const second = live([]);
    first.put(older);
    first.put(newer);
    second.put(newer); // this replica added the newer one itself, then saw the older one's event
    second.put(older);
    expect(first.osbCatalog.services.map((s) => s.id)).toEqual(['a']);
    expect(second.osbCatalog.services.map((s) => s.id)).toEqual(['a']);
  });
});
