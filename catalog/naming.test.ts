import { describe, expect, it } from 'vitest';
import { idxAndShortServiceId, isDns1035Label, isDnsSubdomain, shortServiceId } from './naming.js';

describe('shortServiceId', () => {
  it("is the old broker's name: x + the first 15 characters, dashes removed", () => {
    // The example of the seed's mysql56/clustered/README.md.
    expect(shortServiceId('a33b4370-50ee-4c1d-9e2f-123456789abc')).toBe('xa33b437050ee4');
    expect(shortServiceId('00000000-0000-4000-8000-000000000000')).toBe('x0000000000004');
  });

  it('is lower-cased, so names stay valid', () => {
    expect(shortServiceId('A33B4370-50EE-4C1D-9E2F-123456789ABC')).toBe('xa33b437050ee4');
  });

  it('keeps short ids whole', () => {
    expect(shortServiceId('abc')).toBe('xabc');
  });

  it('replaces ids with characters a name cannot have by a stable digest', () => {
    const a = shortServiceId('my_instance.1');
    expect(a).toMatch(/^x[0-9a-f]{13}$/);
    expect(shortServiceId('my_instance.1')).toBe(a);
    expect(shortServiceId('my_instance.2')).not.toBe(a);
    expect(isDns1035Label(`${a}-server`)).toBe(true);
  });
});

describe('idxAndShortServiceId', () => {
  it('keeps the index (the old broker cut it away)', () => {
    const id = 'a33b4370-50ee-4c1d-9e2f-123456789abc';
    expect(idxAndShortServiceId(id, 0)).toBe('xa33b437050ee40');
    expect(idxAndShortServiceId(id, 3)).toBe('xa33b437050ee43');
    expect(idxAndShortServiceId(id, 12)).toBe('xa33b437050ee412');
    expect(idxAndShortServiceId(id, 1)).not.toBe(idxAndShortServiceId(id, 2));
  });

  it('refuses an index that is not a non-negative integer', () => {
    expect(() => idxAndShortServiceId('abc', -1)).toThrow(RangeError);
    expect(() => idxAndShortServiceId('abc', 1.5)).toThrow(RangeError);
  });

  it('gives valid object names', () => {
    const name = `${idxAndShortServiceId('A33B4370-50EE-4C1D-9E2F-123456789ABC', 2)}-persistent-storage`;
    expect(isDnsSubdomain(name)).toBe(true);
    expect(isDns1035Label(name)).toBe(true);
  });
});

describe('name checks', () => {
  it('tells valid names', () => {
    expect(isDnsSubdomain('x1-a.b')).toBe(true);
    expect(isDnsSubdomain('X1')).toBe(false);
    expect(isDnsSubdomain('a_b')).toBe(false);
    expect(isDns1035Label('1abc')).toBe(false);
    expect(isDns1035Label('a.b')).toBe(false);
    expect(isDns1035Label('a'.repeat(64))).toBe(false);
  });
});
