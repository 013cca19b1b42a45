// Keeps a copy of some objects current the way Kubernetes informers do: list them, watch their
// changes from the list's resourceVersion, go on from the last event's resourceVersion when the
// server ends a watch (its timeout), and list again after a lost watch or 410 Gone (the
// resourceVersion expired). Shared by the runtime offerings (live-catalog.ts) and the instance
// counts of quotas (instance-counts.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../observability/logger.js';

export interface ListWatchSource {
  /** Reads every object and replaces the copy with them; returns the resourceVersion to watch from. Gives up when `signal` aborts (close). */
  list(signal: AbortSignal): Promise<string | undefined>;
  /**
   * Applies the changes since `from` to the copy, calling `at` with each event's resourceVersion
   * (bookmarks' too); ends when the server ends the watch, throws when it is lost.
   */
  watch(from: string | undefined, at: (resourceVersion: string) => void, signal: AbortSignal): Promise<void>;
}

/** The pause before listing again after a failure: a broken API server is not asked in a loop. */
export const RELIST_PAUSE_MS = 1000;
/** The longest pause: failures in a row double it up to this (a Role without `watch` must not relist every second). */
export const MAX_RELIST_PAUSE_MS = 30_000;
/** How long past the server's own end of a watch (its timeoutSeconds) the loop waits before taking the watch as lost. */
export const WATCH_DEADLINE_GRACE_MS = 30_000;

/** The deadline of a watch the server ends after `timeoutSeconds`. */
export function watchDeadlineMs(timeoutSeconds: number): number {
  return timeoutSeconds * 1000 + WATCH_DEADLINE_GRACE_MS;
}

/** The pause after `failures` failures in a row (1, 2, ...): `pauseMs` doubled each time, at most MAX_RELIST_PAUSE_MS. */
export function relistPause(failures: number, pauseMs: number): number {
  return Math.min(pauseMs * 2 ** Math.max(0, failures - 1), Math.max(pauseMs, MAX_RELIST_PAUSE_MS));
}

export class ListWatchLoop {
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private current = false;

  constructor(
    private readonly source: ListWatchSource,
    private readonly logger: Logger,
    /** What is watched, for the log: 'offerings'. */
    private readonly what: string,
    /**
     * A watch the server has not ended by then is taken as lost (`watchDeadlineMs` of the source's
     * timeoutSeconds): a connection that died without a reset (a proxy or load balancer gone)
     * delivers nothing more and no error, and the copy would go stale unnoticed.
     */
    private readonly deadlineMs: number,
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
    const stopped = this.stop.signal;
    let relist = listFirst;
    let from = resourceVersion;
    let failures = 0;
    while (!stopped.aborted) {
      try {
        if (relist) {
          from = await this.source.list(stopped);
          if (stopped.aborted) break;
          relist = false;
          this.current = true;
        }
        await this.watchUntilDeadline(from, (rv) => (from = rv));
        // The server ended the watch (timeout): go on from where it was.
        failures = 0;
      } catch (err) {
        if (stopped.aborted) break;
        // Expired resourceVersion (410), a lost connection, a failed list: list again, after a pause.
        this.current = false;
        relist = true;
        failures++;
        this.logger.warn({ err: (err as Error).message, failures }, `watch of ${this.what} failed; listing them again`);
        await sleep(relistPause(failures, this.pauseMs), undefined, { signal: stopped, ref: false }).catch(() => undefined);
      }
    }
  }

  /** One watch; past its deadline it is aborted and fails as a lost one. */
  private async watchUntilDeadline(from: string | undefined, at: (resourceVersion: string) => void): Promise<void> {
    const { deadlineMs } = this;
    const watch = new AbortController();
    const stop = () => watch.abort();
    this.stop.signal.addEventListener('abort', stop, { once: true });
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      watch.abort();
    }, deadlineMs);
    timer.unref();
    try {
      await this.source.watch(from, at, watch.signal);
    } catch (err) {
      if (!late) throw err;
    } finally {
      clearTimeout(timer);
      this.stop.signal.removeEventListener('abort', stop);
    }
    if (late) throw new Error(`the watch was not ended by the server within ${deadlineMs / 1000} s: taken as lost`);
  }
}
