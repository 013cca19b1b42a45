// Builds the Kubernetes client from configuration: a kubeconfig file and context, or the
// in-cluster service account when the broker runs inside Kubernetes.
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeSettings {
  KUBECONFIG?: string | undefined;
  KUBE_CONTEXT?: string | undefined;
}

export function loadKubeConfig(settings: KubeSettings): KubeConfig {
  const kc = new KubeConfig();
  if (settings.KUBECONFIG) kc.loadFromFile(settings.KUBECONFIG);
  else kc.loadFromDefault(); // KUBECONFIG unset: ~/.kube/config, else in-cluster
  if (settings.KUBE_CONTEXT) {
    if (!kc.getContextObject(settings.KUBE_CONTEXT)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none';
      throw new Error(`KUBE_CONTEXT "${settings.KUBE_CONTEXT}" is not in the kubeconfig (contexts: ${known})`);
    }
    kc.setCurrentContext(settings.KUBE_CONTEXT);
  }
  return kc;
}
