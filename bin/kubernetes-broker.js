#!/usr/bin/env node
// Runs the built CLI when present (the bundle of `npm run build`, else tsc's dist/cli); in a
// source checkout without a build, runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = ['../dist/bundle/main.js', '../dist/cli/main.js'].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((f) => existsSync(f));
if (built) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../cli/main.ts', import.meta.url).href);
}
