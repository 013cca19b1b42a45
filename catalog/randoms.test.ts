import { describe, expect, it } from 'vitest';
import { generateRandoms, RANDOM_NAMES, randomString } from './randoms.js';

describe('generateRandoms', () => {
  it('fills all ten names, $random9 included, with 10 characters of [a-zA-Z0-9]', () => {
    const randoms = generateRandoms();
    expect(Object.keys(randoms).sort()).toEqual([...RANDOM_NAMES].sort());
    expect(RANDOM_NAMES).toHaveLength(10);
    for (const name of RANDOM_NAMES) expect(randoms[name]).toMatch(/^[a-zA-Z0-9]{10}$/);
    expect(randoms.random9).toMatch(/^[a-zA-Z0-9]{10}$/);
  });

  it('draws new values every time and different values per name', () => {
    const a = generateRandoms();
    const b = generateRandoms();
    expect(a.random1).not.toBe(b.random1);
    expect(new Set(Object.values(a)).size).toBe(10);
  });

  it('uses the whole alphabet', () => {
    const seen = new Set(randomString(6200));
    expect(seen.size).toBe(62);
  });
});
