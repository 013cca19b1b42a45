// Bundles the built CLI (dist/cli/main.js) into dist/bundle/ with esbuild. Why: loading the
// Kubernetes client as 2,500 separate modules takes ~0.9 s, a third of the API's start; one
// file per command loads in a fraction of that (docs/performance.md, section 5). Each command
// stays its own chunk. Left outside: the Temporal worker package (it carries webpack, which
// scripts/bundle-workflows.mjs runs on dist/workflows/, and loads a native library) and pino's
// transports (worker threads that load their target by name).
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/main.js'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@temporalio/worker', '@temporalio/core-bridge', 'pino', 'pino-pretty'],
  // CommonJS dependencies call require(); ESM output has none of its own.
  banner: { js: "import { createRequire as __kbCreateRequire } from 'node:module'; const require = __kbCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
