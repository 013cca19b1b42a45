// The labelled instance records of every organization, counted in the API process from a list and
// watch of their metadata (list-watch.ts), so that a quota check asks the API server nothing: a
// label-selected list per provision made the API server filter every record Secret of the
// namespace (8-10 ms with 10,000 records, docs/clusters.md). Records without the counting
// labels are not watched; RecordStore.countedInstances still lists those while any may exist.
import type { KubernetesObject } from '../../catalog/types.js';
import type { Logger } from '../observability/logger.js';
import type { KubeApi } from './api.js';
import { ListWatchLoop, watchDeadlineMs } from './list-watch.js';
import { RECORD_CLUSTER_LABEL, RECORD_LABEL, RECORD_ORG_LABEL, type CountedInstance } from './records.js';

/** Instance records that carry the organization label: all a quota counts without reading data. */
export const COUNTED_SELECTOR = `${RECORD_LABEL}=instance,${RECORD_ORG_LABEL}`;
/**
 * The server ends each watch after this long; the loop goes on from its last event. Short, because
 * a watch not ended by then (plus list-watch.ts's grace) is taken as lost: a dead connection stops
 * the counts being trusted within about 90 s, and quotas list again meanwhile.
 */
const WATCH_TIMEOUT_SECONDS = 60;

/** What one record counts for: the label values of its organization and cluster (absent: the default). */
interface Counted {
  org: string;
  cluster: string | undefined;
}

/**
 * Record name -> what it counts for, and the count per organization label and cluster kept beside
 * it, so that a quota check costs what that organization has, not what everyone has.
 */
export class CountTable {
  private readonly byName = new Map<string, Counted>();
  private readonly byOrg = new Map<string, Map<string | undefined, number>>();
  /** One Counted per organization and cluster: 10,000 records of a few organizations hold a few. */
  private readonly shared = new Map<string, Counted>();

  get size(): number {
    return this.byName.size;
  }

  /** A record seen (listed, added, changed); one without the organization label counts for nothing. */
  put(object: KubernetesObject): void {
    const labels = object.metadata.labels ?? {};
    const org = labels[RECORD_ORG_LABEL];
    if (org === undefined) return this.remove(object.metadata.name);
    const counted = this.intern(org, labels[RECORD_CLUSTER_LABEL]);
    const before = this.byName.get(object.metadata.name);
    if (before === counted) return;
    if (before) this.add(before, -1);
    this.byName.set(object.metadata.name, counted);
    this.add(counted, 1);
  }

  remove(name: string): void {
    const before = this.byName.get(name);
    if (!before) return;
    this.byName.delete(name);
    this.add(before, -1);
  }

  /** The records labelled with this organization label value, as a quota counts them (cluster absent: the default). */
  counted(org: string, orgValue: string): CountedInstance[] {
    const counted: CountedInstance[] = [];
    for (const [cluster, n] of this.byOrg.get(orgValue) ?? []) {
      for (let i = 0; i < n; i++) counted.push(cluster === undefined ? { org } : { org, cluster });
    }
    return counted;
  }

  private intern(org: string, cluster: string | undefined): Counted {
    // A label value holds no '/': the key is unambiguous.
    const key = cluster === undefined ? org : `${org}/${cluster}`;
    let counted = this.shared.get(key);
    if (!counted) this.shared.set(key, (counted = { org, cluster }));
    return counted;
  }

  private add({ org, cluster }: Counted, delta: number): void {
    let clusters = this.byOrg.get(org);
    if (!clusters) this.byOrg.set(org, (clusters = new Map<string | undefined, number>()));
    const n = (clusters.get(cluster) ?? 0) + delta;
    if (n > 0) clusters.set(cluster, n);
    else clusters.delete(cluster);
    if (clusters.size === 0) this.byOrg.delete(org);
  }
}

/** The count table kept current from the API server; answers only while the watch is synced. */
export class InstanceCounts {
  private table = new CountTable();
  private readonly loop: ListWatchLoop;

  constructor(
    kube: KubeApi,
    namespace: string,
    logger: Logger,
    /** The relist pause (list-watch.ts); tests shorten it. */
    pauseMs?: number,
  ) {
    this.loop = new ListWatchLoop(
      {
        list: async (signal) => {
          // Paged, metadata only, counted page by page into a fresh table: memory while listing
          // follows the page, and no record's data is read.
          const fresh = new CountTable();
          let next: string | undefined;
          let resourceVersion: string | undefined;
          do {
            // Closed meanwhile: the remaining pages are not read (close() waits for this list).
            if (signal.aborted) throw new Error('closed while listing');
            const page = await kube.listPage('v1', 'Secret', namespace, { labelSelector: COUNTED_SELECTOR, metadataOnly: true, continue: next });
            for (const o of page.items) fresh.put(o);
            next = page.continue;
            resourceVersion = page.resourceVersion;
          } while (next);
          this.table = fresh;
          logger.info({ records: fresh.size }, 'instance records counted for quotas');
          return resourceVersion;
        },
        watch: (from, at, signal) =>
          kube.watch(
            'v1',
            'Secret',
            namespace,
            { labelSelector: COUNTED_SELECTOR, metadataOnly: true, timeoutSeconds: WATCH_TIMEOUT_SECONDS, ...(from ? { resourceVersion: from } : {}) },
            (type, object) => {
              // A record that loses the label (never, by the broker) leaves the selection: DELETED.
              if (type === 'ADDED' || type === 'MODIFIED') this.table.put(object);
              else if (type === 'DELETED') this.table.remove(object.metadata.name);
              const rv = object.metadata.resourceVersion;
              if (typeof rv === 'string') at(rv);
            },
            signal,
          ),
      },
      logger,
      'instance records (quota counts)',
      watchDeadlineMs(WATCH_TIMEOUT_SECONDS),
      pauseMs,
    );
  }

  /** Lists, then watches, in the background; until the list has completed, `counted` answers undefined. */
  start(): void {
    this.loop.start();
  }

  close(): Promise<void> {
    return this.loop.close();
  }

  get synced(): boolean {
    return this.loop.synced;
  }

  /** The labelled records of an organization (its label value), or undefined while not synced: the caller lists them. */
  counted(org: string, orgValue: string): CountedInstance[] | undefined {
    return this.loop.synced ? this.table.counted(org, orgValue) : undefined;
  }
}
