import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CURRENT_NAME_SCHEME, idxAndShortServiceId, isDns1035Label, isDnsSubdomain, nameSchemeOf, SHORT_ID_MAX_LENGTH, shortServiceId } from './naming.js';

/** An OSB instance id the API accepts: a Kubernetes label value of 1 to 63 characters. */
const validId = fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/);
const GUID = 'a33b4370-50ee-4c1d-9e2f-123456789abc';

describe('shortServiceId, legacy scheme', () => {
  it("is the old broker's name: x + the first 15 characters, dashes removed", () => {
    // The example of the seed's mysql56/clustered/README.md.
    expect(shortServiceId(GUID, 'legacy')).toBe('xa33b437050ee4');
    expect(shortServiceId('00000000-0000-4000-8000-000000000000', 'legacy')).toBe('x0000000000004');
  });

  it('is lower-cased, so names stay valid', () => {
    expect(shortServiceId(GUID.toUpperCase(), 'legacy')).toBe('xa33b437050ee4');
  });

  it('keeps short ids whole', () => {
    expect(shortServiceId('abc', 'legacy')).toBe('xabc');
  });

  it('replaces ids with characters a name cannot have by a stable digest', () => {
    const a = shortServiceId('my_instance.1', 'legacy');
    expect(a).toMatch(/^x[0-9a-f]{13}$/);
    expect(shortServiceId('my_instance.1', 'legacy')).toBe(a);
    expect(shortServiceId('my_instance.2', 'legacy')).not.toBe(a);
    expect(isDns1035Label(`${a}-server`)).toBe(true);
  });

  it('is what a record without a scheme gets', () => {
    expect(nameSchemeOf({})).toBe('legacy');
    expect(nameSchemeOf({ nameScheme: 'hashed' })).toBe('hashed');
    expect(CURRENT_NAME_SCHEME).toBe('hashed');
  });
});

describe('shortServiceId, hashed scheme', () => {
  it('tells apart the ids the legacy scheme confused', () => {
    const pairs: [string, string][] = [
      ['test-instance-0001', 'test-instance-0002'],
      // UUIDv7 ids made in the same millisecond share their first 13 hex digits.
      ['01890a5d-ac96-774b-bcce-b302099a8057', '01890a5d-ac96-7e1f-8a3c-5f2d6b0e4c11'],
      [GUID, GUID.toUpperCase()],
    ];
    for (const [a, b] of pairs) {
      expect(shortServiceId(a, 'legacy')).toBe(shortServiceId(b, 'legacy'));
      expect(shortServiceId(a, 'hashed')).not.toBe(shortServiceId(b, 'hashed'));
    }
  });

  it("never changes: updates re-apply recorded instances' objects by name, and bindings hold host names made of it", () => {
    expect(shortServiceId('test-instance-0001', 'hashed')).toBe('xtestinyql6q2xzkhtn');
    expect(shortServiceId(GUID, 'hashed')).toBe('xa33b43h5msmw8diqd9');
    expect(shortServiceId(GUID.toUpperCase(), 'hashed')).toBe('xa33b439gim14wpztd7');
  });

  it('starts readable: x + the first 6 letters and digits of the id, then 12 base-36 digits', () => {
    expect(shortServiceId('test-instance-0001', 'hashed')).toMatch(/^xtestin[0-9a-z]{12}$/);
    expect(shortServiceId(GUID, 'hashed')).toMatch(/^xa33b43[0-9a-z]{12}$/);
    expect(shortServiceId('A.b', 'hashed')).toMatch(/^xab[0-9a-z]{12}$/);
    expect(shortServiceId(GUID, 'hashed')).toBe(shortServiceId(GUID, 'hashed'));
  });

  it('gives distinct names for distinct ids, also ids that differ only in case, punctuation or their end', () => {
    // Near neighbours: one stem, varied in case and in its last characters.
    const family = fc
      .tuple(validId, fc.array(fc.stringMatching(/^[-A-Za-z0-9_.]{0,3}[A-Za-z0-9]$/), { minLength: 1, maxLength: 8 }))
      .map(([stem, ends]) =>
        ends.flatMap((end) => [`${stem}${end}`, `${stem}${end}`.toUpperCase(), `${stem}${end}`.toLowerCase()]).filter((id) => id.length <= 63),
      );
    fc.assert(
      fc.property(fc.oneof(family, fc.uniqueArray(validId, { minLength: 2, maxLength: 20 })), (ids) => {
        const distinct = [...new Set(ids)];
        const names = new Set(distinct.map((id) => shortServiceId(id, 'hashed')));
        expect(names.size).toBe(distinct.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives valid names within the length templates count on, for every valid id', () => {
    fc.assert(
      fc.property(validId, fc.nat({ max: 99 }), (id, index) => {
        for (const scheme of ['hashed', 'legacy'] as const) {
          const short = shortServiceId(id, scheme);
          expect(short.length).toBeLessThanOrEqual(SHORT_ID_MAX_LENGTH);
          expect(isDns1035Label(short)).toBe(true);
          // A Service named after the indexed id, and a bind hook Job named after a GUID binding.
          expect(isDns1035Label(`${idxAndShortServiceId(id, index, scheme)}-discovery`)).toBe(true);
          expect(isDns1035Label(`${short}-unbind-${GUID}`)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('idxAndShortServiceId', () => {
  it('keeps the index (the old broker cut it away)', () => {
    expect(idxAndShortServiceId(GUID, 0, 'legacy')).toBe('xa33b437050ee40');
    expect(idxAndShortServiceId(GUID, 3, 'legacy')).toBe('xa33b437050ee43');
    expect(idxAndShortServiceId(GUID, 12, 'legacy')).toBe('xa33b437050ee412');
    expect(idxAndShortServiceId(GUID, 1, 'hashed')).toBe(`${shortServiceId(GUID, 'hashed')}1`);
    expect(idxAndShortServiceId(GUID, 1, 'hashed')).not.toBe(idxAndShortServiceId(GUID, 2, 'hashed'));
  });

  it('refuses an index that is not a non-negative integer', () => {
    expect(() => idxAndShortServiceId('abc', -1, 'hashed')).toThrow(RangeError);
    expect(() => idxAndShortServiceId('abc', 1.5, 'legacy')).toThrow(RangeError);
  });

  it('gives valid object names', () => {
    for (const scheme of ['hashed', 'legacy'] as const) {
      const name = `${idxAndShortServiceId(GUID.toUpperCase(), 2, scheme)}-persistent-storage`;
      expect(isDnsSubdomain(name)).toBe(true);
      expect(isDns1035Label(name)).toBe(true);
    }
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
