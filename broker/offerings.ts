// Adding, listing and removing offerings at runtime (the admin API's use cases). Re-adding an
// offering id: identical files answer `unchanged`; other files are an update when every plan id it
// had is still there (plans may be added, templates, mappings and texts may change; running
// instances keep their objects until their next update, binds use the new mapping); an update that
// would drop a plan id is refused (409), so no id a platform knows ever changes meaning.
import type { CatalogProblem } from '../catalog/types.js';
import type { RecordStore } from '../platform/kube/records.js';
import { offeringFiles, type OfferingSource } from '../catalog/offerings/body.js';
import { OfferingRejected } from '../catalog/offerings/files.js';
import type { LiveCatalog } from '../platform/kube/live-catalog.js';
import { storedOffering, type OfferingStore, type StoredOffering } from '../platform/kube/offering-store.js';
import { collisions, loadOffering, sentPath } from '../catalog/offerings/validate.js';

export interface OfferingDeps {
  catalog: LiveCatalog;
  store: OfferingStore;
  records: RecordStore;
  /** Instance ids of provisions of a service (by name) that run and may not be recorded yet. */
  provisionsInFlight: (serviceName: string) => Promise<string[]>;
}

export interface OfferingSummary {
  id: string;
  name: string;
  description: string;
  plans: { id: string; name: string }[];
  source: OfferingSource;
  addedAt: string;
}

export interface AddResult {
  result: 'created' | 'updated' | 'unchanged';
  offering: OfferingSummary;
  /** What the catalog loader warns about, `file[:line] [field]: message`. */
  warnings: CatalogProblem[];
}

export async function addOffering(deps: OfferingDeps, body: unknown): Promise<AddResult> {
  const { files, source } = offeringFiles(body);
  const { service, warnings } = loadOffering(files);
  const origin = (id: string) => (deps.catalog.isFileService(id) ? 'the file catalog' : 'an offering added at runtime');
  const clash = collisions(service, deps.catalog.othersThan(service.id), (s) => origin(s.id));
  if (clash.length) throw new OfferingRejected(409, clash, 'the offering collides with the catalog');

  const wanted = storedOffering(service.id, files, source);
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await deps.store.get(service.id);
    if (!existing) {
      if (!(await deps.store.create(wanted))) continue; // added meanwhile: judge it as a re-add
      if (!deps.catalog.put(wanted)) {
        // An offering it collides with was added meanwhile through another replica, and is older.
        await deps.store.delete(service.id);
        throw new OfferingRejected(
          409,
          collisions(service, deps.catalog.othersThan(service.id), (s) => origin(s.id)),
          'the offering collides with the catalog',
        );
      }
      return { result: 'created', offering: summary(wanted, service), warnings };
    }
    if (existing.digest === wanted.digest) {
      deps.catalog.put(existing);
      return { result: 'unchanged', offering: summary(existing, service), warnings };
    }
    const kept = new Set(service.plans.map((p) => p.id));
    const old = loadOffering(existing.files).service;
    const dropped = old.plans.filter((p) => !kept.has(p.id));
    if (dropped.length) {
      throw new OfferingRejected(
        409,
        dropped.map((p) => ({
          file: `${sentPath(p.dir)}/plan.json`,
          field: 'id',
          message: `plan ${p.name} (${p.id}) of the offering would be gone: plan ids of an offering never change; remove the offering (without instances) and add it again`,
        })),
        `offering ${service.id} exists with other plans`,
      );
    }
    const updated: StoredOffering = { ...wanted, addedAt: existing.addedAt };
    if (!(await deps.store.replace(updated, existing.resourceVersion ?? ''))) continue;
    deps.catalog.put(updated);
    return { result: 'updated', offering: summary(updated, service), warnings };
  }
  throw new OfferingRejected(409, [{ file: 'service.json', field: 'id', message: `offering ${service.id} is being changed by another request; try again` }]);
}

export async function removeOffering(deps: OfferingDeps, serviceId: string): Promise<OfferingSummary> {
  if (deps.catalog.isFileService(serviceId)) {
    throw new OfferingRejected(409, [
      { file: '.', message: `service ${serviceId} is in the file catalog (CATALOG_DIR), not added at runtime; it cannot be removed here` },
    ]);
  }
  const stored = await deps.store.get(serviceId);
  if (!stored) throw new OfferingRejected(404, [{ file: '.', message: `no offering ${serviceId} was added at runtime` }]);
  const name = deps.catalog.offering(serviceId)?.service.name;
  // Recorded instances, and provisions accepted but not recorded yet (their first step may
  // still run). A provision accepted after this check fails on the worker, which no longer
  // finds the offering, and leaves nothing behind.
  const recorded = (await deps.records.instancesWhere((r) => r.serviceId === serviceId)).map((r) => r.instanceId);
  const ids = [...new Set([...recorded, ...(name ? await deps.provisionsInFlight(name) : [])])];
  if (ids.length) {
    throw new OfferingRejected(409, [
      {
        file: '.',
        message: `offering ${serviceId} has ${ids.length} live instance${ids.length === 1 ? '' : 's'} or provision${ids.length === 1 ? '' : 's'} in progress (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', ...' : ''}): deprovision them first`,
      },
    ]);
  }
  let service: Parameters<typeof summary>[1] | undefined = deps.catalog.offering(serviceId)?.service;
  try {
    service ??= loadOffering(stored.files).service;
  } catch {
    // Does not load any more (edited by hand, a stricter loader): it can be removed all the same.
    service = { id: serviceId, name: serviceId, description: 'stored offering that does not load', plans: [] };
  }
  await deps.store.delete(serviceId);
  deps.catalog.remove(serviceId);
  return summary(stored, service);
}

export function listOfferings(catalog: LiveCatalog): OfferingSummary[] {
  return catalog.offerings().map((d) => summary(d.stored, d.service));
}

function summary(stored: StoredOffering, service: { id: string; name: string; description: string; plans: { id: string; name: string }[] }): OfferingSummary {
  return {
    id: service.id,
    name: service.name,
    description: service.description,
    plans: service.plans.map((p) => ({ id: p.id, name: p.name })),
    source: stored.source,
    addedAt: stored.addedAt,
  };
}
