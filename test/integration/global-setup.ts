// Integration tests run against the real local stack (scripts/stack). This setup starts it
// when it is not running (up.sh is idempotent: a running stack is left as it is) and hands
// its environment (KUBECONFIG, TEMPORAL_ADDRESS, ...) to the tests.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { PROJECT_ROOT } from '../../config/paths.js';
import { readStackEnv } from '../../config/stack-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
  }
}

export default function setup(project: TestProject): void {
  const up = spawnSync('bash', [path.join(PROJECT_ROOT, 'scripts/stack/up.sh')], { stdio: 'inherit' });
  if (up.status !== 0) throw new Error('the local stack did not start (scripts/stack/up.sh); see its output above');
  project.provide('stackEnv', readStackEnv());
}
