// HTTP basic auth for the broker's routes: hono's basicAuth with the broker's constant-time
// credentials check, in front of it a cheaper check for what nearly every request sends: exactly
// the header the configured credentials make (`Basic <base64 of user:pass>`). That header is built
// once at start-up and compared in constant time, without decoding or hashing anything; any other
// header (another spelling of the scheme, extra spaces, wrong credentials, none) takes hono's path,
// which checks it and answers the 401 as before.
import type { MiddlewareHandler } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import { auth } from 'hono/utils/basic-auth';
import type { AppEnv } from '../env.js';
import { credentialsVerifier } from './credentials.js';

type Credentials = { username: string; password: string };

/**
 * Whether `given` equals `expected`, in a time that depends only on `expected`'s length: every
 * character of `expected` is compared, whatever `given` holds or how long it is.
 */
export function sameInConstantTime(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  // charCodeAt past the end is NaN, which `^` takes as 0: a shorter `given` differs there.
  for (let i = 0; i < expected.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

/**
 * The header a client sends for `credentials`, if hono's own parsing of it gives back exactly
 * that pair (it would not for a user name with a colon, for one): only then may it skip that parsing.
 */
export function expectedHeader({ username, password }: Credentials): string | undefined {
  const header = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
  const parsed = auth(new Request('http://localhost/', { headers: { Authorization: header } }));
  return parsed?.username === username && parsed.password === password ? header : undefined;
}

/** Basic auth accepting any of `accepted` (those undefined are left out). */
export function credentialsAuth(
  accepted: (Credentials | undefined)[],
  options: { realm: string; invalidUserMessage: { error: string; description: string } },
): MiddlewareHandler<AppEnv> {
  const pairs = accepted.filter((a): a is Credentials => a !== undefined);
  const verifiers = pairs.map(credentialsVerifier);
  const headers = pairs.map(expectedHeader).filter((h): h is string => h !== undefined);
  const checked = basicAuth({ verifyUser: (user, pass) => verifiers.some((verify) => verify(user, pass)), ...options });
  return (c, next) => {
    const given = c.req.header('Authorization');
    if (given !== undefined) {
      // Every expected header is compared (no early exit): the time says nothing about which matched.
      let matched = false;
      for (const header of headers) matched = sameInConstantTime(given, header) || matched;
      if (matched) return next();
    }
    return checked(c, next);
  };
}
