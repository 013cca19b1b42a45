// HTTP basic auth credentials checked in constant time. The expected pair is hashed once at
// start-up; each request hashes only what it was given, once (hono's default hashes both
// sides, user and password apart, on every request). Digests have a fixed length, so
// timingSafeEqual never leaks a length difference.
import { hash, timingSafeEqual } from 'node:crypto';

/** One digest of the pair; the length prefix keeps ("a:b", "c") and ("a", "b:c") apart. */
const digest = (username: string, password: string) => hash('sha256', `${username.length}:${username}${password}`, 'buffer');

export function credentialsVerifier(expected: { username: string; password: string }) {
  const wanted = digest(expected.username, expected.password);
  return (username: string, password: string): boolean => timingSafeEqual(digest(username, password), wanted);
}
