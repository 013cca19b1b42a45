// Removes from a production install (npm ci --omit=dev) what no process of the image loads, once
// `npm run build` has bundled the workflows into dist/workflow-bundle.js (Dockerfile, deps stage):
// - the workflow bundler's compiler, loaders and minifier (swc, terser): @temporalio/worker depends
//   on them to bundle workflows at start, which a worker given the prebuilt bundle never does.
//   webpack itself stays: @temporalio/worker requires it when it loads (only its entry, not the
//   compiler). npm cannot leave out a dependency's dependencies, hence this step.
// - @temporalio/core-bridge's native libraries for other platforms (one is loaded, chosen by the
//   package's own common.js) and its Rust sources (for building it from source).
// Usage: node scripts/prune-runtime.mjs <node_modules>. Prints what it removed.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const nodeModules = path.resolve(process.argv[2] ?? 'node_modules');
const BUNDLER = ['@swc', 'swc-loader', 'source-map-loader', 'terser', 'minimizer-webpack-plugin'];
const bridge = path.join(nodeModules, '@temporalio/core-bridge');
const BRIDGE_SOURCES = ['sdk-core', 'src', 'bridge-macros', 'Cargo.toml', 'Cargo.lock'];

// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- common.js is untyped CommonJS from the tree being pruned; the JSDoc cast types it, but the rule looks through casts in JS
const bridgeCommon = /** @type {{ getPrebuiltTargetName: () => string }} */ (createRequire(import.meta.url)(path.join(bridge, 'common.js')));
const target = bridgeCommon.getPrebuiltTargetName();
const releases = path.join(bridge, 'releases');
if (!fs.existsSync(path.join(releases, target, 'index.node'))) {
  throw new Error(`no native library for ${target} in ${releases}: the worker could not start here; nothing removed`);
}

const remove = [
  ...BUNDLER.map((p) => path.join(nodeModules, p)),
  ...fs
    .readdirSync(releases)
    .filter((t) => t !== target)
    .map((t) => path.join(releases, t)),
  ...BRIDGE_SOURCES.map((p) => path.join(bridge, p)),
].filter((p) => fs.existsSync(p));
for (const p of remove) {
  fs.rmSync(p, { recursive: true });
  console.log(`removed ${path.relative(nodeModules, p)}`);
}
