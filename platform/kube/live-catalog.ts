// The catalog every API replica and worker serves: the file catalog (CATALOG_DIR) plus the
// offerings added at runtime, kept current by listing and watching their ConfigMaps. A change made
// through any replica reaches the others with the watch event (well under a second when the API
// server is healthy; after a lost watch, with the next list a second later, up to 30 s after
// failures in a row: list-watch.ts).
import type { Catalog, Plan, ServiceOffering } from '../../catalog/types.js';
import type { Logger } from '../observability/logger.js';
import { OfferingRejected } from '../../catalog/offerings/files.js';
import { OFFERING_WATCH_TIMEOUT_SECONDS, type OfferingStore, type StoredOffering } from './offering-store.js';
import { collisions, loadOffering } from '../../catalog/offerings/validate.js';
import { ListWatchLoop, watchDeadlineMs } from './list-watch.js';

interface Snapshot {
  services: ServiceOffering[];
  byId: Map<string, ServiceOffering>;
  osbCatalog: { services: Record<string, unknown>[] };
}

export interface DynamicOffering {
  stored: StoredOffering;
  service: ServiceOffering;
}

export class LiveCatalog implements Catalog {
  private readonly dynamic = new Map<string, DynamicOffering>();
  /** Every stored offering this process knows of, served or not: what the serving rule is applied to. */
  private readonly stored = new Map<string, StoredOffering>();
  /** Parsed offerings by digest: a relist or a replica's own change does not load them again. */
  private readonly parsed = new Map<string, ServiceOffering>();
  private snapshot: Snapshot;
  private readonly loop: ListWatchLoop;

  constructor(
    readonly base: Catalog,
    readonly store: OfferingStore,
    private readonly logger: Logger,
  ) {
    this.snapshot = this.build();
    this.loop = new ListWatchLoop(
      {
        list: async () => {
          const listed = await this.store.list();
          this.replaceAll(listed.offerings);
          return listed.resourceVersion;
        },
        watch: (from, at, signal) =>
          this.store.watch(
            from,
            (type, serviceId, offering, resourceVersion) => {
              if (type === 'DELETED' && serviceId) this.remove(serviceId);
              else if ((type === 'ADDED' || type === 'MODIFIED') && offering) this.put(offering);
              if (resourceVersion) at(resourceVersion);
            },
            signal,
          ),
      },
      logger,
      'offerings',
      watchDeadlineMs(OFFERING_WATCH_TIMEOUT_SECONDS),
    );
  }

  get root(): string {
    return this.base.root;
  }
  get services(): ServiceOffering[] {
    return this.snapshot.services;
  }
  get osbCatalog(): { services: Record<string, unknown>[] } {
    return this.snapshot.osbCatalog;
  }
  findService(serviceId: string): ServiceOffering | undefined {
    return this.snapshot.byId.get(serviceId);
  }
  findPlan(serviceId: string, planId: string): { service: ServiceOffering; plan: Plan } | undefined {
    const service = this.snapshot.byId.get(serviceId);
    const plan = service?.plans.find((p) => p.id === planId);
    return service && plan ? { service, plan } : undefined;
  }

  /** The offerings added at runtime, by name. */
  offerings(): DynamicOffering[] {
    return [...this.dynamic.values()].sort((a, b) => a.service.name.localeCompare(b.service.name));
  }
  offering(serviceId: string): DynamicOffering | undefined {
    return this.dynamic.get(serviceId);
  }
  /** The services an offering must not collide with: all but the offering of that id. */
  othersThan(serviceId: string): ServiceOffering[] {
    return this.services.filter((s) => !(s.id === serviceId && this.dynamic.has(s.id)));
  }
  isFileService(serviceId: string): boolean {
    return this.base.findService(serviceId) !== undefined;
  }

  /** Reads every stored offering now and serves exactly those. */
  async refresh(): Promise<void> {
    const { offerings } = await this.store.list();
    this.replaceAll(offerings);
  }

  /** First list (its failure is the caller's: a process must not serve without its offerings), then list+watch in the background. */
  async start(): Promise<void> {
    const { offerings, resourceVersion } = await this.store.list();
    this.replaceAll(offerings);
    this.logger.info({ offerings: this.dynamic.size }, 'offerings added at runtime loaded');
    this.loop.start({ resourceVersion });
  }

  async close(): Promise<void> {
    await this.loop.close();
  }

  /**
   * A stored offering added or changed. False when it is not served here (logged): it does not
   * load, or it collides with one added earlier. Every change re-applies the one rule to all
   * stored offerings (`replaceAll`), so replicas that saw the same events serve the same catalog
   * whatever order the events came in.
   */
  put(stored: StoredOffering): boolean {
    this.stored.set(stored.serviceId, stored);
    this.replaceAll([...this.stored.values()]);
    return this.dynamic.get(stored.serviceId)?.stored.digest === stored.digest;
  }

  remove(serviceId: string): void {
    if (!this.stored.delete(serviceId)) return;
    this.replaceAll([...this.stored.values()]);
  }

  private replaceAll(offerings: StoredOffering[]): void {
    const before = new Map(this.dynamic);
    this.stored.clear();
    this.dynamic.clear();
    // Oldest first (then by id, so that every replica orders alike): of two colliding offerings
    // the one added first is served.
    const ordered = [...offerings].sort((a, b) => a.addedAt.localeCompare(b.addedAt) || a.serviceId.localeCompare(b.serviceId));
    for (const stored of ordered) {
      this.stored.set(stored.serviceId, stored);
      const service = this.load(stored); // parsed once per digest; collisions checked every time
      if (!service) continue;
      this.dynamic.set(stored.serviceId, { stored, service });
    }
    // The same offerings as before (a relist, a replica's own change coming back): keep the
    // snapshot, so the API does not encode the catalog again.
    const same = before.size === this.dynamic.size && [...this.dynamic].every(([id, d]) => before.get(id)?.stored.digest === d.stored.digest);
    if (!same) this.snapshot = this.build();
  }

  /** Loads a stored offering as it was checked when added; problems now (another file catalog, a race) are logged, and it is not served. */
  private load(stored: StoredOffering): ServiceOffering | undefined {
    let service = this.parsed.get(stored.digest);
    try {
      service ??= loadOffering(stored.files).service;
    } catch (err) {
      this.logger.error({ serviceId: stored.serviceId, err: (err as Error).message }, 'stored offering does not load; not served');
      return undefined;
    }
    this.parsed.set(stored.digest, service);
    const problems = [
      ...(service.id !== stored.serviceId ? [{ file: 'service.json', field: 'id', message: `is not the id it is stored under (${stored.serviceId})` }] : []),
      ...collisions(service, [...this.base.services, ...[...this.dynamic.values()].filter((d) => d.service.id !== service.id).map((d) => d.service)], (s) =>
        this.isFileService(s.id) ? 'file catalog' : 'added at runtime',
      ),
    ];
    if (problems.length) {
      this.logger.error(
        { serviceId: stored.serviceId, err: new OfferingRejected(409, problems).message },
        'stored offering collides with the catalog; not served',
      );
      return undefined;
    }
    return service;
  }

  private build(): Snapshot {
    // Keep parsed offerings only while they are served.
    const served = new Set([...this.dynamic.values()].map((d) => d.stored.digest));
    for (const digest of this.parsed.keys()) if (!served.has(digest)) this.parsed.delete(digest);
    const services = [...this.base.services, ...this.offerings().map((d) => d.service)];
    const osbCatalog = Object.freeze({ services: Object.freeze(services.map((s) => s.osb)) as Record<string, unknown>[] });
    return { services, byId: new Map(services.map((s) => [s.id, s])), osbCatalog };
  }
}
