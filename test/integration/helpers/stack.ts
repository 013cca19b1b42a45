// Access to the local stack from integration tests.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { KubeApi } from '../../../platform/kube/api.js';
import { loadKubeConfig } from '../../../platform/kube/connect.js';

export const stackEnv = () => inject('stackEnv');

/** An admin client of the stack's first cluster, or of its second (`'b'`). */
export function kubeApi(cluster: 'a' | 'b' = 'a'): KubeApi {
  return new KubeApi(loadKubeConfig({ KUBECONFIG: stackEnv()[cluster === 'a' ? 'KUBECONFIG' : 'KUBECONFIG_B'] }));
}

/** A short random suffix: every test gets its own names, namespaces and task queues. */
export const suffix = () => randomBytes(4).toString('hex');

/** Polls `fn` until it returns a value (not undefined) or the time is up. For test assertions only. */
export async function eventually<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
