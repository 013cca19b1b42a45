// Bundles the broker's workflows (dist/workflows/index.js, from tsc) into dist/workflow-bundle.js,
// as the Temporal samples do for production (samples-typescript: production/). Why: a worker given
// only workflowsPath runs webpack and swc at every start; with this file it loads the bundle
// (cli/worker.ts), starts faster, and its image needs no bundler at run time (Dockerfile).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const { code } = await bundleWorkflowCode({
  workflowsPath: fileURLToPath(new URL('../dist/workflows/index.js', import.meta.url)),
  // The worker's failure converter (platform/temporal/codec.ts, workerDataConverter): a prebuilt
  // bundle ignores the one Worker.create names, so it is bundled in here.
  failureConverterPath: fileURLToPath(new URL('../dist/platform/temporal/failure-converter.js', import.meta.url)),
  // Webpack's progress is noise in a build log; its warnings and errors are not.
  logger: {
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (message, meta) => console.warn(message, meta ?? ''),
    error: (message, meta) => console.error(message, meta ?? ''),
  },
});
await writeFile(new URL('../dist/workflow-bundle.js', import.meta.url), code);
