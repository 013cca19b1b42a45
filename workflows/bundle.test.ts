// Workflows are bundled with webpack only by `npm run build` or a worker started from the
// sources, and tsc cannot tell a Node or Kubernetes import that slipped into workflow code: this
// test bundles them now.
import { readFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowsPath } from '../cli/worker.js';

/** The module paths webpack put in the bundle (it names each in a banner comment). */
const modulesOf = (code: string) => [...code.matchAll(/!\*{3} (.+?) \*{3}!/g)].map((m) => m[1]!);

describe('workflow bundle', () => {
  let code: string;

  beforeAll(async () => {
    // The bundler refuses Node built-ins (node:crypto, fs, ...) in workflow code: that is the first check.
    ({ code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quiet }));
  }, 120_000);

  it('builds from workflows/index', () => {
    expect(workflowsPath()).toMatch(/workflows[\\/]index\.(ts|js)$/);
    expect(code.length).toBeGreaterThan(0);
  });

  it('exports every workflow the broker starts', () => {
    // Read, not imported: workflow modules may only run inside the workflow sandbox.
    const exported = [...readFileSync(workflowsPath(), 'utf8').matchAll(/export \{ (\w+) \}/g)].map((m) => m[1]);
    expect(exported.sort()).toEqual(['bindInstance', 'deprovisionInstance', 'provisionInstance', 'unbindInstance', 'updateInstance', 'upgradePlan']);
    for (const name of exported) expect(code).toContain(`function ${name}(`);
  });

  it('pulls in neither the Kubernetes client nor activity, kube or catalog code', () => {
    expect(code).not.toContain('@kubernetes/client-node');
    const own = modulesOf(code).filter((m) => m.startsWith('./') && !m.includes('node_modules'));
    expect(own).toContain('./workflows/provision-instance.ts');
    // Workflow code, and the pure helpers it shares with the API.
    for (const module of own) expect(module).toMatch(/^\.\/(workflows\/|platform\/temporal\/(ids|search-attributes)\.ts$)/);
  });

  it('of packages, only the Temporal workflow SDK and what it needs', () => {
    const packages = new Set(
      modulesOf(code)
        .filter((m) => m.includes('node_modules/'))
        .map((m) =>
          m
            .replace(/^.*node_modules\//, '')
            .split('/')
            .slice(0, 2)
            .join('/')
            .replace(/^([^@][^/]*)\/.*$/, '$1'),
        ),
    );
    for (const pkg of packages) expect(pkg).toMatch(/^(@temporalio\/|ms$|long$|nexus-rpc$|@protobufjs\/|protobufjs$)/);
  });
});

/** Webpack's progress is noise here; its errors (which import broke the bundle) are not. */
const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
};
