// Watching the broker's objects from a test, and playing what a hook Job's pod would do on a
// real cluster (KWOK runs no container).
import { randomBytes } from 'node:crypto';
import { BINDING_ID_LABEL, HOOK_LABEL, INSTANCE_ID_LABEL, instanceSelector, MANAGED_BY, MANAGED_BY_LABEL } from '../../../catalog/labels.js';
import type { KubernetesObject, Plan } from '../../../catalog/types.js';
import type { KubeApi } from '../../../platform/kube/api.js';

/** Every event (but bookmarks) of one kind matching the selector, from now until stopped; a watch that ends is opened again. */
export function keepWatching(
  kube: KubeApi,
  apiVersion: string,
  kind: string,
  namespace: string,
  labelSelector: string,
  onEvent: (type: string, obj: KubernetesObject) => void,
): { stop: () => Promise<void> } {
  const abort = new AbortController();
  const done = (async () => {
    while (!abort.signal.aborted) {
      try {
        await kube.watch(
          apiVersion,
          kind,
          namespace,
          { labelSelector, timeoutSeconds: 600 },
          (type, obj) => type !== 'BOOKMARK' && onEvent(type, obj),
          abort.signal,
        );
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  })();
  return {
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** Writes the Secret a bind hook's Job writes for its binding; a second call for the binding (a restarted watch) leaves it. */
export function writeBindingSecret(kube: KubeApi, namespace: string, instanceId: string, bindingId: string, stringData: Record<string, string>): void {
  void kube
    .create(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: `creds-${bindingId}`,
          namespace,
          labels: { [BINDING_ID_LABEL]: bindingId, [INSTANCE_ID_LABEL]: instanceId, [MANAGED_BY_LABEL]: MANAGED_BY },
        },
        stringData,
      },
      { fieldManager: 'test-bind-job' },
    )
    .catch(() => undefined); // it exists
}

/**
 * Does what the pod of a plan's bind hook Job would: writes the binding's Secret, with every key
 * the plan's mapping reads as `$hook_<KEY>` (password: random), once the Job exists. The
 * passwords written, by binding id.
 */
export function playBindJobs(kube: KubeApi, plan: Plan, namespace: string, instanceId: string): { passwords: Map<string, string>; stop: () => Promise<void> } {
  const keys = [...new Set([...(plan.credentials?.mapping ?? '').matchAll(/\$hook_([A-Za-z0-9_]+)/g)].map((m) => m[1]!))];
  const passwords = new Map<string, string>();
  const selector = `${instanceSelector(instanceId)},${HOOK_LABEL}=onBindInstance`;
  const { stop } = keepWatching(kube, 'batch/v1', 'Job', namespace, selector, (type, job) => {
    const bindingId = job.metadata.labels?.[BINDING_ID_LABEL];
    if (type !== 'ADDED' || !bindingId || passwords.has(bindingId)) return;
    const password = randomBytes(12).toString('hex');
    passwords.set(bindingId, password);
    writeBindingSecret(kube, namespace, instanceId, bindingId, Object.fromEntries(keys.map((k) => [k, k === 'password' ? password : `${k}-${bindingId}`])));
  });
  return { passwords, stop };
}
