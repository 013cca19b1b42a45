// Integration tests run against the real local stack (scripts/stack). This setup starts it
// when it is not running, hands its environment (KUBECONFIG, TEMPORAL_ADDRESS, ...) to the
// tests, and stops it afterwards if it started it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { PROJECT_ROOT } from '../../platform/config/paths.js';
import { readStackEnv, STACK_DIR } from '../../platform/config/stack-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stackEnv: Record<string, string>;
  }
}

const script = (name: string) => path.join(PROJECT_ROOT, 'scripts/stack', name);

/** Whether every component of the stack is running already (then the tests leave it running). */
function stackRunning(): boolean {
  const pids = path.join(STACK_DIR, 'pids');
  if (!fs.existsSync(path.join(STACK_DIR, 'env')) || !fs.existsSync(pids)) return false;
  const files = fs.readdirSync(pids);
  return (
    files.length >= 6 &&
    files.every((f) => {
      try {
        process.kill(Number(fs.readFileSync(path.join(pids, f), 'utf8')), 0);
        return true;
      } catch {
        return false;
      }
    })
  );
}

export default function setup(project: TestProject): () => void {
  const wasRunning = stackRunning();
  const up = spawnSync('bash', [script('up.sh')], { stdio: 'inherit' });
  if (up.status !== 0) throw new Error('the local stack did not start (scripts/stack/up.sh); see its output above');
  project.provide('stackEnv', readStackEnv());
  return () => {
    if (!wasRunning) spawnSync('bash', [script('down.sh')], { stdio: 'inherit' });
  };
}
