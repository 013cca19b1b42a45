import { describe, expect, it } from 'vitest';
import { digest } from './digest.js';

describe('digest', () => {
  it('is a sha256 hex string', () => {
    expect(digest({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores the order of object keys, at every depth', () => {
    expect(digest({ serviceId: 's', planId: 'p', parameters: { b: 2, a: { y: 1, x: [{ q: 1, p: 2 }] } } })).toBe(
      digest({ parameters: { a: { x: [{ p: 2, q: 1 }], y: 1 }, b: 2 }, planId: 'p', serviceId: 's' }),
    );
  });

  it('keeps the order of arrays', () => {
    expect(digest({ a: [1, 2] })).not.toBe(digest({ a: [2, 1] }));
  });

  it('tells apart values that differ in any way', () => {
    const values = [{}, { a: 1 }, { a: '1' }, { a: 2 }, { b: 1 }, { a: null }, { a: [] }, { a: {} }, { a: true }, [], null, 'a', 1];
    const digests = values.map(digest);
    expect(new Set(digests).size).toBe(values.length);
  });

  it('is stable: the same value, the same digest, across calls', () => {
    const value = { serviceId: 's', planId: 'p', parameters: { replicas: 2 } };
    expect(digest(value)).toBe(digest(structuredClone(value)));
    // A fixed value, so a change of the canonical form (which would turn every identical retry into a conflict) shows.
    expect(digest({ b: 1, a: 2 })).toBe('d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772'); // sha256 of {"a":2,"b":1}
  });

  it('undefined properties count as absent, as in JSON', () => {
    expect(digest({ a: 1, b: undefined })).toBe(digest({ a: 1 }));
  });
});
