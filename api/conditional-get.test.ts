// Conditional GET: If-None-Match with the weak comparison, If-Modified-Since only without it, and
// anything malformed ignored (the full answer), never a 304 it does not deserve.
import { describe, expect, it } from 'vitest';
import { noneMatchFails, notModified, parseHttpDate } from './conditional-get.js';

const TAG = '"abc123"';
const LOADED = Date.UTC(2026, 11, 4, 21, 0, 0);
const VERSION = { etag: TAG, lastModified: new Date(LOADED).toUTCString(), unchangedSince: LOADED };
const NOW = LOADED + 60_000;
const at = (ms: number) => new Date(ms).toUTCString();

describe('If-None-Match', () => {
  it.each([
    ['the tag itself', TAG],
    ['the weak form of the tag', `W/${TAG}`],
    ['*', '*'],
    ['* with spaces', '  * '],
    ['the tag in a list', `"other", ${TAG}`],
    ['the tag between empty members and odd spacing', ` ,, "other" ,\t${TAG} ,, `],
    ['the tag after weak ones', `W/"x",W/"y",W/${TAG}`],
    ['the tag at the end of a long list', `${Array.from({ length: 2000 }, (_, i) => `"t${i}"`).join(', ')}, ${TAG}`],
  ])('matches %s', (_name, header) => {
    expect(noneMatchFails(header, TAG)).toBe(true);
  });

  it.each([
    ['another tag', '"abc124"'],
    ['the tag without quotes', 'abc123'],
    ['an empty value', ''],
    ['a prefix of the tag', '"abc12"'],
    ['a lower-case weak prefix', `w/${TAG}`],
    ['a list that is malformed after the tag', `${TAG}, garbage`],
    ['a list that is malformed before the tag', `garbage, ${TAG}`],
    ['an unterminated tag', '"abc123'],
    ['a tag with a control character', '"abc\x01123"'],
    ['* inside a list', `*, "other"`],
    ['two tags without a comma', `"other" ${TAG}`],
  ])('does not match %s', (_name, header) => {
    expect(noneMatchFails(header, TAG)).toBe(false);
  });

  it('reads hostile headers without backtracking', () => {
    // Long runs of separators make backtracking patterns quadratic: at this length that would be
    // minutes, past the test's timeout; the sticky member pattern reads each character once.
    for (const header of [' '.repeat(100_000) + 'x', ','.repeat(100_000) + 'x', `"${'a'.repeat(100_000)}`, 'W/'.repeat(50_000)]) {
      expect(noneMatchFails(header, TAG)).toBe(false);
    }
  });

  it('decides alone when present: If-Modified-Since is then ignored', () => {
    expect(notModified('"other"', at(NOW), VERSION, NOW)).toBe(false);
    expect(notModified(TAG, at(LOADED - 3600_000), VERSION, NOW)).toBe(true);
    expect(notModified('', at(NOW), VERSION, NOW)).toBe(false);
  });
});

describe('If-Modified-Since', () => {
  it('is not modified from the version loaded on, up to now', () => {
    expect(notModified(undefined, at(LOADED), VERSION, NOW)).toBe(true);
    expect(notModified(undefined, at(LOADED + 30_000), VERSION, NOW)).toBe(true);
    expect(notModified(undefined, at(NOW), VERSION, NOW)).toBe(true);
  });

  it('is modified before the version was loaded', () => {
    expect(notModified(undefined, at(LOADED - 1000), VERSION, NOW)).toBe(false);
    expect(notModified(undefined, at(0), VERSION, NOW)).toBe(false);
  });

  it('ignores a date in the future: the server never sent it', () => {
    expect(notModified(undefined, at(NOW + 1000), VERSION, NOW)).toBe(false);
  });

  it('respects a version that shares its second with the one before', () => {
    const second = { ...VERSION, unchangedSince: LOADED + 1000 };
    expect(notModified(undefined, at(LOADED), second, NOW)).toBe(false);
    expect(notModified(undefined, at(LOADED + 1000), second, NOW)).toBe(true);
  });

  it.each([
    ['not a date', 'yesterday'],
    ['a number', '1'],
    ['an ISO date', '2026-12-04T21:00:00Z'],
    ['an impossible day', 'Tue, 31 Feb 2026 21:00:00 GMT'],
    ['an impossible hour', 'Fri, 04 Dec 2026 25:00:00 GMT'],
    ['a time zone other than GMT', 'Fri, 04 Dec 2026 21:00:00 UTC'],
    ['lower-case names', 'fri, 04 dec 2026 21:00:00 GMT'],
    ['a two-digit year in IMF form', 'Fri, 04 Dec 26 21:00:00 GMT'],
    ['a year below 100', 'Fri, 04 Dec 0026 21:00:00 GMT'],
    ['a huge value', `Fri, 04 Dec 2026 21:00:00 GMT${' '.repeat(10_000)}x`],
    ['an empty value', ''],
  ])('is ignored when %s', (_name, header) => {
    expect(parseHttpDate(header, NOW)).toBeUndefined();
    expect(notModified(undefined, header, VERSION, NOW)).toBe(false);
  });
});

describe('HTTP-date', () => {
  it('reads the three forms RFC 9110 requires', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(expected);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected);
  });

  it('reads what Date#toUTCString writes (the Last-Modified the broker sends)', () => {
    expect(parseHttpDate(at(LOADED))).toBe(LOADED);
  });

  it('takes a two-digit year more than 50 years ahead as the past century', () => {
    expect(parseHttpDate('Monday, 04-Dec-76 21:00:00 GMT', NOW)).toBe(Date.UTC(2076, 11, 4, 21));
    expect(parseHttpDate('Saturday, 04-Dec-77 21:00:00 GMT', NOW)).toBe(Date.UTC(1977, 11, 4, 21));
  });

  it('counts a leap second as the last second of its minute', () => {
    expect(parseHttpDate('Sat, 31 Dec 2016 23:59:60 GMT')).toBe(Date.UTC(2016, 11, 31, 23, 59, 59));
  });
});
