import { ApplicationFailure } from '@temporalio/activity';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WatchEventType, WatchHandler } from '../platform/kube/api.js';
import { KubeApiError, KubeUnavailableError } from '../platform/kube/errors.js';
import { HEARTBEAT_MS, watchUntil, type Verdict, type WatchUntil } from './watch-until.js';

/** A watch source the test drives: each open() is one watch request, ended by `end` or `fail`. */
class FakeWatch {
  readonly opened: number[] = [];
  signal: AbortSignal | undefined;
  private onEvent: WatchHandler | undefined;
  private finish: ((err?: Error) => void) | undefined;
  /** Errors the next watch requests fail with at once, in order. */
  failNext: Error[] = [];

  open = (onEvent: WatchHandler, signal: AbortSignal): Promise<void> => {
    this.opened.push(Date.now());
    this.signal = signal;
    this.onEvent = onEvent;
    const err = this.failNext.shift();
    if (err) return Promise.reject(err);
    return new Promise((resolve, reject) => {
      this.finish = (e) => (e ? reject(e) : resolve());
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  };

  emit(type: WatchEventType, name: string, phase: string): void {
    this.onEvent!(type, { apiVersion: 'v1', kind: 'Thing', metadata: { name, namespace: 'ns' }, status: { phase } });
  }

  /** The server ends the current watch request. */
  end(err?: Error): void {
    this.finish!(err);
  }
}

/** The activity side: heartbeats recorded, cancellation as Temporal delivers it (signal and promise). */
function fakeActivity() {
  const controller = new AbortController();
  let rejectCancelled!: (err: unknown) => void;
  const cancelled = new Promise<never>((_, reject) => (rejectCancelled = reject));
  cancelled.catch(() => undefined);
  const removed = vi.spyOn(controller.signal, 'removeEventListener');
  const added = vi.spyOn(controller.signal, 'addEventListener');
  return {
    heartbeats: [] as unknown[],
    heartbeat(details?: unknown) {
      this.heartbeats.push(details);
    },
    cancellationSignal: controller.signal,
    cancelled,
    cancel(err: Error) {
      controller.abort();
      rejectCancelled(err);
    },
    /** Every listener added to the cancellation signal was removed again. */
    listenersRemoved: () => added.mock.calls.length > 0 && added.mock.calls.every(([type, fn]) => removed.mock.calls.some(([t, f]) => t === type && f === fn)),
  };
}

/** Waits until the Thing named `a` has phase Done; phase Broken fails it. */
function untilDone(watch: FakeWatch, overrides: Partial<WatchUntil> = {}): WatchUntil {
  let phase: string | undefined;
  return {
    watches: [
      {
        what: 'watch the Things',
        open: watch.open,
        onStart: () => (phase = undefined),
        onEvent: (type, obj) => {
          if (obj.metadata.name === 'a') phase = type === 'DELETED' ? undefined : (obj.status as { phase: string }).phase;
        },
      },
    ],
    verdict: (): Verdict => (phase === 'Done' ? 'done' : phase === 'Broken' ? { fail: Promise.resolve(new Error('a is broken')) } : 'waiting'),
    deadline: Date.now() + 60_000,
    atDeadline: () => Promise.resolve(new Error(`not done in time: a is ${phase ?? 'not found'}`)),
    progress: () => ({ phase: phase ?? 'not found' }),
    ...overrides,
  };
}

/** Starts a wait on a fake watch with a fake activity. */
function start(overrides: Partial<WatchUntil> = {}) {
  const watch = new FakeWatch();
  const activity = fakeActivity();
  return { watch, activity, wait: watchUntil(activity, untilDone(watch, overrides)) };
}

/** The wait stopped its watch and left no listener on the activity's cancellation signal. */
function expectLetGo({ watch, activity }: { watch: FakeWatch; activity: ReturnType<typeof fakeActivity> }): void {
  expect(watch.signal!.aborted).toBe(true);
  expect(activity.listenersRemoved()).toBe(true);
}

describe('watchUntil', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('ends when the events say done, heartbeating the progress meanwhile, and lets go of the watch and the cancellation signal', async () => {
    const { watch, activity, wait } = start();
    watch.emit('ADDED', 'a', 'Pending');
    watch.emit('ADDED', 'b', 'Done'); // another object: not what is waited for
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(activity.heartbeats).toEqual([{ phase: 'not found' }, { phase: 'Pending' }]);
    watch.emit('MODIFIED', 'a', 'Done');
    await expect(wait).resolves.toBeUndefined();
    expectLetGo({ watch, activity });
    await vi.advanceTimersByTimeAsync(10 * HEARTBEAT_MS);
    expect(activity.heartbeats).toHaveLength(2); // no heartbeat after the end
  });

  it('does not heartbeat in a local activity (Temporal has no heartbeat for one and logs each as failed)', async () => {
    const watch = new FakeWatch();
    const activity = { ...fakeActivity(), info: { isLocal: true } };
    const wait = watchUntil(activity, untilDone(watch));
    watch.emit('ADDED', 'a', 'Pending');
    await vi.advanceTimersByTimeAsync(3 * HEARTBEAT_MS);
    watch.emit('MODIFIED', 'a', 'Done');
    await expect(wait).resolves.toBeUndefined();
    expect(activity.heartbeats).toEqual([]);
  });

  it('fails with the verdict’s failure', async () => {
    const { watch, activity, wait } = start();
    watch.emit('ADDED', 'a', 'Broken');
    await expect(wait).rejects.toThrow('a is broken');
    expectLetGo({ watch, activity });
  });

  it('fails at the deadline with the diagnosis of what is not done', async () => {
    const { watch, activity, wait } = start({ deadline: Date.now() + 30_000 });
    const failed = expect(wait).rejects.toThrow('not done in time: a is Pending');
    watch.emit('ADDED', 'a', 'Pending');
    await vi.advanceTimersByTimeAsync(29_999);
    expect(watch.signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await failed;
    expectLetGo({ watch, activity });
  });

  it('stops the watch when the activity is cancelled and ends with the cancellation', async () => {
    const { watch, activity, wait } = start();
    watch.emit('ADDED', 'a', 'Pending');
    activity.cancel(new Error('cancelled by the workflow'));
    await expect(wait).rejects.toThrow('cancelled by the workflow');
    expectLetGo({ watch, activity });
  });

  it('starts a watch again when the server ends it, forgetting what the previous one reported', async () => {
    const { watch, activity, wait } = start();
    watch.emit('ADDED', 'a', 'Pending');
    watch.end();
    await vi.advanceTimersByTimeAsync(0);
    expect(watch.opened).toHaveLength(2);
    expect(watch.opened[1]).toBe(watch.opened[0]); // at once: only errors back off
    await vi.advanceTimersByTimeAsync(HEARTBEAT_MS);
    expect(activity.heartbeats.at(-1)).toEqual({ phase: 'not found' }); // until the new watch reports it
    watch.emit('ADDED', 'a', 'Done');
    await expect(wait).resolves.toBeUndefined();
  });

  it('backs off after a dropped watch while the API server is unreachable or busy, and from the start again after an event', async () => {
    const watch = new FakeWatch();
    const unreachable = new KubeUnavailableError('GET', '/api/v1/things', 'https://kube', new Error('ECONNREFUSED'));
    const busy = new KubeApiError(503, 'ServiceUnavailable', 'GET /api/v1/things: 503');
    watch.failNext = [unreachable, busy, unreachable];
    const start = Date.now();
    const wait = watchUntil(fakeActivity(), untilDone(watch));
    await vi.advanceTimersByTimeAsync(3_500);
    // Failed at 0, retried after 500 ms, failed, after 1 s more, failed, after 2 s more: open.
    expect(watch.opened.map((t) => t - start)).toEqual([0, 500, 1_500, 3_500]);
    watch.emit('ADDED', 'a', 'Pending');
    watch.end(unreachable);
    await vi.advanceTimersByTimeAsync(499);
    expect(watch.opened).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1);
    expect(watch.opened).toHaveLength(5);
    watch.emit('ADDED', 'a', 'Done');
    await expect(wait).resolves.toBeUndefined();
  });

  it('fails for good, naming the watch, when the API server refuses it', async () => {
    const watch = new FakeWatch();
    watch.failNext = [new KubeApiError(403, 'Forbidden', 'GET /api/v1/things: 403 Forbidden')];
    const activity = fakeActivity();
    const wait = watchUntil(activity, untilDone(watch));
    const err = await wait.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect((err as Error).message).toMatch(/^watch the Things: Kubernetes refused: GET \/api\/v1\/things: 403 Forbidden/);
    expect(watch.opened).toHaveLength(1);
    expect(activity.listenersRemoved()).toBe(true);
  });
});
