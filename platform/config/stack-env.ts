// The environment file that scripts/stack/up.sh writes for the local stack.
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.js';

export const STACK_DIR = process.env['KB_STACK_DIR'] ?? path.join(PROJECT_ROOT, '.stack');

/** Reads the KEY=value lines of `$STACK_DIR/env`. */
export function readStackEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(path.join(STACK_DIR, 'env'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}
