import { describe, expect, it } from 'vitest';
import { credentialsVerifier } from './credentials.js';

describe('credentialsVerifier', () => {
  const verify = credentialsVerifier({ username: 'broker', password: 's3cret-pass' });
  it('accepts exactly the configured pair', () => {
    expect(verify('broker', 's3cret-pass')).toBe(true);
  });
  it.each([
    ['broker', 's3cret-pas'],
    ['broke', 's3cret-pass'],
    ['', ''],
    ['s3cret-pass', 'broker'],
    ['broker', 's3cret-pass '],
    ['broker', 's3cret-pass'.repeat(1000)],
    // The same characters split elsewhere between user and password.
    ['brokers', '3cret-pass'],
    ['brok', 'ers3cret-pass'],
  ])('refuses %j / %j', (u, p) => {
    expect(verify(u, p)).toBe(false);
  });
});
