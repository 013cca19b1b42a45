// Whether every instance record carries the counting labels (platform/kube/records.ts), so that a
// quota may count an organization from the labelled records alone, without a second list of the
// unlabelled ones. The worker's labelling pass stamps a marker Secret with the time its list
// began; the API trusts the stamp only while it is recent.
//
// Why a recent stamp and not a flag set once: a broker from before the labels (before they were
// written on create) writes unlabelled records for as long as it runs, e.g. its workers during a
// rolling upgrade, after a new worker's pass has finished. The pass therefore runs again every
// LABELLING_INTERVAL_MS in every worker (a list that is empty once all are labelled), which bounds
// how long such a record goes uncounted to one interval; and when no labelling worker runs any more
// (say, rolled back) the stamp goes stale, and quotas read the unlabelled records again.
//
// A Secret, not a ConfigMap: the worker may already write Secrets in the broker's namespace, and
// the API read them; it carries no record label, so no record listing sees it.
import { MANAGED_BY, MANAGED_BY_LABEL } from '../../catalog/labels.js';
import type { KubeApi } from './api.js';
import { KubeApiError } from './errors.js';

export const LABELLED_MARKER_NAME = 'kb-records-labelled';
export const LABELLED_AT_ANNOTATION = 'kubernetes-broker.io/records-labelled-at';
/** How often each worker runs the labelling pass again (and so renews the stamp). */
export const LABELLING_INTERVAL_MS = 60_000;
/**
 * A stamp older than this is not trusted: three passes missed, no labelling worker is running. The
 * stamp is a worker's clock read by the API's: a skew between them moves this bound by as much.
 */
export const LABELLED_STALE_MS = 3 * LABELLING_INTERVAL_MS;
/** How long the API keeps the stamp it read: one read per interval, not one per provision. */
const CACHE_MS = LABELLING_INTERVAL_MS;

type Clock = () => number;

export class LabelledMarker {
  private cached?: { readAt: number; labelledAt: number | undefined };

  constructor(
    private readonly kube: KubeApi,
    private readonly namespace: string,
    private readonly now: Clock = Date.now,
  ) {}

  /** Records that every instance record existing at `since` carries the counting labels. */
  async stamp(since: Date): Promise<void> {
    const annotations = { [LABELLED_AT_ANNOTATION]: since.toISOString() };
    try {
      await this.kube.mergePatch('v1', 'Secret', this.namespace, LABELLED_MARKER_NAME, { metadata: { annotations } });
      return;
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 404)) throw err;
    }
    try {
      await this.kube.create(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'kubernetes-broker.io/marker',
          metadata: { name: LABELLED_MARKER_NAME, namespace: this.namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY }, annotations },
        },
        { fieldManager: 'kubernetes-broker' },
      );
    } catch (err) {
      // Another worker made it meanwhile, with a stamp as recent as this one.
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  }

  /** Whether a labelling pass finished recently enough that no unlabelled record need be read. */
  async allLabelled(): Promise<boolean> {
    const now = this.now();
    if (!this.cached || now - this.cached.readAt >= CACHE_MS) this.cached = { readAt: now, labelledAt: await this.read() };
    const { labelledAt } = this.cached;
    return labelledAt !== undefined && now - labelledAt < LABELLED_STALE_MS;
  }

  private async read(): Promise<number | undefined> {
    const marker = await this.kube.get('v1', 'Secret', this.namespace, LABELLED_MARKER_NAME);
    const at = Date.parse(marker?.metadata.annotations?.[LABELLED_AT_ANNOTATION] ?? '');
    return Number.isNaN(at) ? undefined : at;
  }
}
