// Conditional GET by entity-tag: If-None-Match with the weak comparison, anything malformed ignored
// (the full answer), never a 304 it does not deserve.
import { describe, expect, it } from 'vitest';
import { noneMatchFails } from './conditional-get.js';

const TAG = '"abc123"';

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

  it('does not match when absent', () => {
    expect(noneMatchFails(undefined, TAG)).toBe(false);
  });
});
