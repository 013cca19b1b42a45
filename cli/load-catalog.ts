// Loads the configured catalog for a process, logging each warning; a bad catalog stops the
// process with every problem listed (the caller exits).
import { loadCatalog } from '../catalog/load.js';
import type { Catalog } from '../catalog/types.js';
import type { KubeApi } from '../platform/kube/api.js';
import { LiveCatalog } from '../platform/kube/live-catalog.js';
import { OfferingStore } from '../platform/kube/offering-store.js';
import type { Logger } from '../platform/observability/logger.js';

export async function loadCatalogOrExit(dir: string, logger: Logger): Promise<Catalog> {
  const { catalog, warnings } = await loadCatalog(dir);
  for (const w of warnings) logger.warn({ file: w.file, field: w.field }, w.message);
  logger.info({ dir, services: catalog.services.length, plans: catalog.services.reduce((n, s) => n + s.plans.length, 0) }, 'catalog loaded');
  return catalog;
}

/** The file catalog plus the offerings added at runtime (stored in `namespace`), kept current by a watch. */
export async function loadLiveCatalog(dir: string, kube: KubeApi, namespace: string, logger: Logger): Promise<LiveCatalog> {
  const catalog = new LiveCatalog(await loadCatalogOrExit(dir, logger), new OfferingStore(kube, namespace), logger);
  await catalog.start();
  return catalog;
}
