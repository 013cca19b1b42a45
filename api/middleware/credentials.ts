// HTTP basic auth credentials checked in constant time. The expected values are hashed once at
// start-up; each request hashes only what it was given (hono's default hashes both sides on every
// request). Digests have a fixed length, so timingSafeEqual never leaks a length difference.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function credentialsVerifier(expected: { username: string; password: string }) {
  const user = digest(expected.username);
  const pass = digest(expected.password);
  return (username: string, password: string): boolean => {
    // Both comparisons always run: which one failed is not observable either.
    const userOk = timingSafeEqual(digest(username), user);
    const passOk = timingSafeEqual(digest(password), pass);
    return userOk && passOk;
  };
}
