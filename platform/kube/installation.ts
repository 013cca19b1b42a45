// Which installation of the broker made an object. Several brokers may share a cluster (staging
// and prod, two teams), and their objects carry the same managed-by label: this label is what
// tells them apart, so that one broker's clean-up (orphans) never touches another's objects.
import type { KubernetesObject } from '../../catalog/types.js';

export const INSTALLATION_LABEL = 'kubernetes-broker.io/installation';

/**
 * The installation id: BROKER_INSTALLATION, else the records' namespace (BROKER_NAMESPACE).
 * The records are what an installation is: two processes that share them are one broker, and
 * on one cluster two brokers with records of their own have distinct namespaces. So the default
 * is unique per installation on a cluster, stable across restarts, needs no write and no extra
 * right, and the API, the worker and the operator CLI derive the same id from the configuration
 * they share. Brokers of other clusters that share a target cluster (CLUSTERS_FILE) with the same
 * BROKER_NAMESPACE must set BROKER_INSTALLATION (docs/configuration.md).
 */
export function installationOf(config: { BROKER_INSTALLATION?: string | undefined; BROKER_NAMESPACE: string }): string {
  return config.BROKER_INSTALLATION ?? config.BROKER_NAMESPACE;
}

/** Label selector of what one installation made. */
export function installationSelector(installation: string): string {
  return `${INSTALLATION_LABEL}=${installation}`;
}

/** The object's own labels with the installation's; nothing else changes (not pod or claim templates). */
export function withInstallation<T extends KubernetesObject>(object: T, installation: string): T {
  return { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, [INSTALLATION_LABEL]: installation } } };
}
