// The basic auth in front of the broker's routes: the exact header of the configured credentials
// passes without being decoded; every other header gets hono's full check and its 401.
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppEnv } from '../env.js';
import { credentialsAuth, expectedHeader, sameInConstantTime } from './basic-auth.js';

const PLATFORM = { username: 'broker', password: 's3cret-pass' };
const ADMIN = { username: 'admin', password: 'admin-pass' };
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const MESSAGE = { error: 'Unauthorized', description: 'authenticate' };

function call(accepted: Parameters<typeof credentialsAuth>[0], authorization?: string) {
  const app = new Hono<AppEnv>();
  app.use(credentialsAuth(accepted, { realm: 'test', invalidUserMessage: MESSAGE }));
  app.get('/', (c) => c.text('in'));
  return app.request('/', { headers: authorization === undefined ? {} : { Authorization: authorization } });
}

describe('sameInConstantTime', () => {
  it.each([
    ['abc', 'abc', true],
    ['abd', 'abc', false],
    ['ab', 'abc', false],
    ['abcd', 'abc', false],
    ['', 'abc', false],
    ['', '', true],
    ['x', '', false],
  ])('%j against %j: %s', (given, expected, same) => {
    expect(sameInConstantTime(given, expected)).toBe(same);
  });
});

describe('expectedHeader', () => {
  it('is the header a client sends for the pair', () => {
    expect(expectedHeader(PLATFORM)).toBe(basic('broker', 's3cret-pass'));
    expect(expectedHeader({ username: 'ünï', password: 'cödé' })).toBe(`Basic ${Buffer.from('ünï:cödé', 'utf8').toString('base64')}`);
  });
  it('is none when parsing that header would give another pair (a colon in the user name)', () => {
    expect(expectedHeader({ username: 'a:b', password: 'c' })).toBeUndefined();
  });
});

describe('credentialsAuth', () => {
  it('lets the exact header of the credentials in', async () => {
    expect((await call([PLATFORM], basic('broker', 's3cret-pass'))).status).toBe(200);
  });
  it('lets in what hono accepts in other spellings (scheme case, spaces)', async () => {
    const token = Buffer.from('broker:s3cret-pass').toString('base64');
    expect((await call([PLATFORM], `basic ${token}`)).status).toBe(200);
    expect((await call([PLATFORM], `  BASIC   ${token} `)).status).toBe(200);
  });
  it.each([
    ['wrong password', basic('broker', 's3cret-pas')],
    ['the header with a character more', `${basic('broker', 's3cret-pass')}x`],
    ['another scheme', `Bearer ${Buffer.from('broker:s3cret-pass').toString('base64')}`],
    ['an empty header', ''],
    ['no header', undefined],
  ])('refuses %s with a 401, its challenge and body', async (_name, authorization) => {
    const res = await call([PLATFORM], authorization);
    expect(res.status).toBe(401);
    expect(res.headers.get('WWW-Authenticate')).toBe('Basic realm="test"');
    expect(await res.json()).toEqual(MESSAGE);
  });
  it('takes any of several credentials, and leaves out those not configured', async () => {
    expect((await call([PLATFORM, ADMIN], basic('admin', 'admin-pass'))).status).toBe(200);
    expect((await call([PLATFORM, ADMIN], basic('broker', 's3cret-pass'))).status).toBe(200);
    expect((await call([PLATFORM, undefined], basic('admin', 'admin-pass'))).status).toBe(401);
    expect((await call([PLATFORM, undefined], basic('broker', 's3cret-pass'))).status).toBe(200);
  });
  it('still checks credentials whose header cannot take the shortcut', async () => {
    // hono splits at the first colon: user "a", password "b:c" is what it sees for these.
    expect((await call([{ username: 'a:b', password: 'c' }], basic('a:b', 'c'))).status).toBe(401);
    expect((await call([{ username: 'a', password: 'b:c' }], basic('a', 'b:c'))).status).toBe(200);
  });
});
