// Waits with Kubernetes watches until what they report ends the wait: the loop that
// waitInstanceReady and the lifecycle hooks' Job wait share. Keeps each watch open (starting it
// again when it ends, backing off while the API server is unreachable), heartbeats with the
// progress so that Temporal notices a dead worker and an operator sees how far it got, stops when
// the activity is cancelled, and fails at the deadline with the caller's diagnosis.
import type { WatchHandler } from '../platform/kube/api.js';
import { KubeApiError, KubeUnavailableError } from '../platform/kube/errors.js';
import { toActivityFailure } from './failures.js';

// Cancellation reaches an activity only in the answer to a heartbeat: heartbeat often enough
// that a DELETE during provisioning stops the wait within seconds (the worker's heartbeat
// throttle is set to match).
export const HEARTBEAT_MS = 2_000;
/** How long one watch request runs before the API server ends it (and it is started again). */
export const WATCH_SECONDS = 300;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 5_000;

/** The part of an activity's Context the wait uses: `Context.current()` is one. */
export interface ActivityControl {
  heartbeat(details?: unknown): void;
  /** A local activity (the provision's brief wait) has no heartbeat: Temporal would refuse it. */
  readonly info?: { readonly isLocal: boolean };
  readonly cancellationSignal: AbortSignal;
  readonly cancelled: Promise<never>;
}

/** What the events so far mean: keep waiting, done, or failed (the failure may take a diagnosis first). */
export type Verdict = 'waiting' | 'done' | { fail: Error | Promise<Error> };

export interface Watched {
  /** Runs one watch request, passing its events to `onEvent`, until the server ends it or `signal` aborts. */
  open(onEvent: WatchHandler, signal: AbortSignal): Promise<void>;
  /** Updates what the caller knows from one event. */
  onEvent: WatchHandler;
  /** Before each watch request: forget what the previous one reported (the new one reports the current state again). */
  onStart?: () => void;
  /** The step a failed watch request names in the activity's failure: `watch the Jobs of ...`. */
  what: string;
}

export interface WatchUntil {
  watches: Watched[];
  /** Asked after each event. */
  verdict: () => Verdict;
  /** Epoch milliseconds. */
  deadline: number;
  /** The failure at the deadline, saying what is not done and why. */
  atDeadline: () => Promise<Error>;
  /** The heartbeat's details. */
  progress: () => unknown;
}

/** Resolves when the verdict is done; rejects with its failure, at the deadline, or when a watch fails for good. */
export async function watchUntil(activity: ActivityControl, w: WatchUntil): Promise<void> {
  const abort = new AbortController();
  const onCancel = () => abort.abort();
  activity.cancellationSignal.addEventListener('abort', onCancel, { once: true });

  let deadlineTimer: NodeJS.Timeout | undefined;
  const outcome = new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      abort.abort();
      fn();
    };
    const changed = () => {
      if (settled) return; // a failure's diagnosis is being read; events still buffered change nothing
      const v = w.verdict();
      if (v === 'done') settle(resolve);
      else if (v !== 'waiting') settle(() => void Promise.resolve(v.fail).then(reject, reject));
    };
    for (const watched of w.watches) {
      keepWatching(watched, abort.signal, changed).catch((err: unknown) => settle(() => reject(toActivityFailure(err, watched.what))));
    }
    // The watches go on while the diagnosis is read: an event meanwhile still ends the wait.
    deadlineTimer = setTimeout(
      () => {
        if (settled) return;
        void w.atDeadline().then(
          (err) => settle(() => reject(err)),
          (err: unknown) => settle(() => reject(err)),
        );
      },
      Math.max(0, w.deadline - Date.now()),
    );
  });

  const beat = activity.info?.isLocal ? () => {} : () => activity.heartbeat(w.progress());
  const heartbeat = setInterval(beat, HEARTBEAT_MS);
  try {
    beat();
    await Promise.race([outcome, activity.cancelled]);
  } finally {
    clearInterval(heartbeat);
    clearTimeout(deadlineTimer);
    activity.cancellationSignal.removeEventListener('abort', onCancel);
    abort.abort();
  }
}

/**
 * Watches end now and then (server timeouts, API server restarts): start again from the current
 * state, backing off while the API server is unreachable or busy. Other errors end the wait.
 */
async function keepWatching(watched: Watched, signal: AbortSignal, changed: () => void): Promise<void> {
  let backoff = FIRST_BACKOFF_MS;
  const onEvent: WatchHandler = (type, obj) => {
    backoff = FIRST_BACKOFF_MS;
    watched.onEvent(type, obj);
    changed();
  };
  while (!signal.aborted) {
    watched.onStart?.();
    try {
      await watched.open(onEvent, signal);
    } catch (err) {
      if (signal.aborted) return;
      const transient = err instanceof KubeUnavailableError || (err instanceof KubeApiError && err.transient);
      if (!transient) throw err;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
  }
}
