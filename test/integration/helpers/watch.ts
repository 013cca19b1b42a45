// Watching the broker's objects from a test, and playing what a hook Job's pod would do on a
// real cluster (KWOK runs no container).
import { BINDING_ID_LABEL, INSTANCE_ID_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from '../../../catalog/labels.js';
import type { KubernetesObject } from '../../../catalog/types.js';
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
