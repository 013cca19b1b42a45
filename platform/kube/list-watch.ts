// Keeps a copy of some objects current the way Kubernetes informers do: list them, watch their
// changes from the list's resourceVersion, go on from the last event's resourceVersion when the
// server ends a watch (its timeout), and list again after a lost watch or 410 Gone (the
// resourceVersion expired). Shared by the runtime offerings (live-catalog.ts) and the instance
// counts of quotas (instance-counts.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';

export interface ListWatchSource {
  /** Reads every object and replaces the copy with them; returns the resourceVersion to watch from. */
  list(): Promise<string | undefined>;
  /**
   * Applies the changes since `from` to the copy, calling `at` with each event's resourceVersion
   * (bookmarks' too); ends when the server ends the watch, throws when it is lost.
   */
  watch(from: string | undefined, at: (resourceVersion: string) => void, signal: AbortSignal): Promise<void>;
}

/** The pause before listing again after a failure: a broken API server is not asked in a loop. */
export const RELIST_PAUSE_MS = 1000;

export class ListWatchLoop {
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private current = false;

  constructor(
    private readonly source: ListWatchSource,
    private readonly logger: Logger,
    /** What is watched, for the log: 'offerings'. */
    private readonly what: string,
    private readonly pauseMs = RELIST_PAUSE_MS,
  ) {}

  /**
   * Whether the copy is the list's plus every change since: false before the first list has
   * completed and from a lost watch until the next list has.
   */
  get synced(): boolean {
    return this.current;
  }

  /** Runs in the background until `close`; `from`: a list the caller made already (it starts by watching). */
  start(from?: { resourceVersion: string | undefined }): void {
    this.current = from !== undefined;
    this.loop = this.run(from === undefined, from?.resourceVersion);
  }

  async close(): Promise<void> {
    this.stop.abort();
    this.current = false;
    await this.loop;
  }

  private async run(listFirst: boolean, resourceVersion: string | undefined): Promise<void> {
    let relist = listFirst;
    let from = resourceVersion;
    while (!this.stop.signal.aborted) {
      try {
        if (relist) {
          from = await this.source.list();
          relist = false;
          this.current = !this.stop.signal.aborted;
        }
        await this.source.watch(from, (rv) => (from = rv), this.stop.signal);
        // The server ended the watch (timeout): go on from where it was.
      } catch (err) {
        if (this.stop.signal.aborted) break;
        // Expired resourceVersion (410), a lost connection, a failed list: list again, after a pause.
        this.current = false;
        relist = true;
        this.logger.warn({ err: (err as Error).message }, `watch of ${this.what} failed; listing them again`);
        await sleep(this.pauseMs, undefined, { signal: this.stop.signal, ref: false }).catch(() => undefined);
      }
    }
  }
}
