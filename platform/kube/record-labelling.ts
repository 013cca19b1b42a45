// The worker's labelling pass (RecordStore.labelAndStamp), at start and then every interval for as
// long as the worker runs: why again and again, see labelled-marker.ts.
import type { Logger } from '../observability/logger.js';
import { LABELLING_INTERVAL_MS } from './labelled-marker.js';
import type { RecordStore } from './records.js';

/** Starts the passes in the background (nothing waits on them); `stop` ends them. */
export function keepRecordsLabelled(records: RecordStore, logger: Logger, intervalMs = LABELLING_INTERVAL_MS): { stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const pass = async () => {
    try {
      const labelled = await records.labelAndStamp();
      if (labelled) logger.info({ labelled }, 'instance records labelled with their organization and cluster');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'labelling older instance records failed; quotas keep reading them until a pass succeeds');
    }
    // One pass at a time: the next is timed from the end of this one.
    if (!stopped) timer = setTimeout(() => void pass(), intervalMs).unref();
  };
  void pass();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
