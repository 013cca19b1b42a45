// `$random0`..`$random9`: generated once per instance and kept with it, so that a Secret and the
// Deployment that reads it agree and updates keep the same passwords.
import { randomInt } from 'node:crypto';
import type { RandomName, Randoms } from './types.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const RANDOM_LENGTH = 10;
export const RANDOM_NAMES: readonly RandomName[] = [
  'random0',
  'random1',
  'random2',
  'random3',
  'random4',
  'random5',
  'random6',
  'random7',
  'random8',
  'random9',
];

/** One random [a-zA-Z0-9]{10} string, crypto-strong; randomInt draws without modulo bias. */
export function randomString(length = RANDOM_LENGTH): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export function generateRandoms(): Randoms {
  const randoms = {} as Randoms;
  for (const name of RANDOM_NAMES) randoms[name] = randomString();
  return randoms;
}
