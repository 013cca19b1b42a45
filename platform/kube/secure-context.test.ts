import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecureContextCache } from './secure-context.js';

const pem = () => Buffer.from(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));

describe('SecureContextCache', () => {
  it('builds one context while the TLS material stays the same, even in new buffers', () => {
    const cache = new SecureContextCache();
    const key = pem();
    const first = cache.for({ key });
    expect(cache.for({ key })).toBe(first);
    expect(cache.for({ key: Buffer.from(key) })).toBe(first);
  });

  it('builds a new context when the material changed (a rotated key file)', () => {
    const cache = new SecureContextCache();
    const first = cache.for({ key: pem() });
    const second = cache.for({ key: pem() });
    expect(second).not.toBe(first);
    expect(cache.for({})).not.toBe(second);
  });
});
