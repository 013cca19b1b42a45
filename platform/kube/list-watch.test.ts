import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/logger.js';
import { ListWatchLoop, MAX_RELIST_PAUSE_MS, relistPause, type ListWatchSource } from './list-watch.js';

/** A watch deadline no test reaches. */
const HOUR = 3_600_000;

/** A source whose lists and watches the test scripts: each watch ends as the next step says. */
function scripted(watches: ('end' | 'fail' | 'hang')[], listedAt: string[]) {
  const calls: string[] = [];
  let lists = 0;
  const source: ListWatchSource = {
    list: () => {
      const rv = listedAt[lists++] ?? 'last';
      calls.push(`list -> ${rv}`);
      return Promise.resolve(rv);
    },
    watch: (from, at, signal) => {
      calls.push(`watch from ${from}`);
      const step = watches.shift() ?? 'hang';
      if (step === 'fail') return Promise.reject(new Error('410 Gone'));
      if (step === 'end') {
        at(`${from}+bookmark`);
        return Promise.resolve();
      }
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  };
  return { source, calls };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('ListWatchLoop', () => {
  it('lists, watches from the list, and goes on from the last event when the server ends a watch (a bookmark)', async () => {
    const { source, calls } = scripted(['end', 'end'], ['10']);
    const loop = new ListWatchLoop(source, createLogger('silent'), 'things', HOUR, 1);
    expect(loop.synced).toBe(false);
    loop.start();
    await until(() => calls.length === 4);
    expect(loop.synced).toBe(true);
    await loop.close();
    expect(calls).toEqual(['list -> 10', 'watch from 10', 'watch from 10+bookmark', 'watch from 10+bookmark+bookmark']);
    expect(loop.synced).toBe(false);
  });

  it('is not synced from a lost watch until it has listed again, then watches from the new list', async () => {
    let listing: (() => void) | undefined;
    const { source, calls } = scripted(['fail'], ['10', '20']);
    const list = source.list.bind(source);
    const signal = new AbortController().signal;
    const gated: ListWatchSource = {
      list: () => (calls.length === 0 ? list(signal) : new Promise((r) => (listing = () => r(list(signal))))),
      watch: source.watch.bind(source),
    };
    const loop = new ListWatchLoop(gated, createLogger('silent'), 'things', HOUR, 1);
    loop.start();
    await until(() => listing !== undefined);
    expect(loop.synced).toBe(false);
    listing!();
    await until(() => calls.length === 4);
    expect(loop.synced).toBe(true);
    expect(calls).toEqual(['list -> 10', 'watch from 10', 'list -> 20', 'watch from 20']);
    await loop.close();
  });

  it('starts with a watch when the caller listed already, synced from the start', async () => {
    const { source, calls } = scripted([], []);
    const loop = new ListWatchLoop(source, createLogger('silent'), 'things', HOUR, 1);
    loop.start({ resourceVersion: '7' });
    expect(loop.synced).toBe(true);
    await until(() => calls.length === 1);
    await loop.close();
    expect(calls).toEqual(['watch from 7']);
  });

  it('lists again after a failed list, and a close during the pause ends the loop at once', async () => {
    const calls: string[] = [];
    const source: ListWatchSource = {
      list: () => {
        calls.push('list');
        return Promise.reject(new Error('connection refused'));
      },
      watch: () => Promise.resolve(),
    };
    const quick = new ListWatchLoop(source, createLogger('silent'), 'things', HOUR, 1);
    quick.start();
    await until(() => calls.length >= 2);
    await quick.close();
    const slow = new ListWatchLoop(source, createLogger('silent'), 'things', HOUR, 60_000);
    slow.start();
    const started = Date.now();
    await until(() => calls.length >= 3);
    await slow.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(slow.synced).toBe(false);
  });
  it('takes a watch the server has not ended by its deadline as lost: not synced until it has listed again', async () => {
    // 'hang': a connection that died without a reset, which delivers nothing and no error.
    const { source, calls } = scripted(['hang', 'hang'], ['10', '20']);
    let listed = 0;
    const counting: ListWatchSource = { list: (signal) => (listed++, source.list(signal)), watch: source.watch.bind(source) };
    const loop = new ListWatchLoop(counting, createLogger('silent'), 'things', 20, 1);
    loop.start();
    await until(() => listed === 2);
    await loop.close();
    expect(calls.slice(0, 3)).toEqual(['list -> 10', 'watch from 10', 'list -> 20']);
  });

  it('a close while a list is under way ends the loop without a watch, also when the list still completes', async () => {
    const calls: string[] = [];
    let finish: ((rv: string) => void) | undefined;
    const source: ListWatchSource = {
      // A list that does not heed the signal (the offerings' single request): it completes after close() began.
      list: () => {
        calls.push('list');
        return new Promise((resolve) => (finish = resolve));
      },
      watch: () => {
        calls.push('watch');
        return Promise.resolve();
      },
    };
    const loop = new ListWatchLoop(source, createLogger('silent'), 'things', HOUR, 1);
    loop.start();
    await until(() => finish !== undefined);
    const closing = loop.close();
    finish!('10');
    await closing;
    expect(calls).toEqual(['list']);
    expect(loop.synced).toBe(false);
  });

  it('pauses longer after each failure in a row, up to a limit', () => {
    expect([1, 2, 3, 4].map((n) => relistPause(n, 1000))).toEqual([1000, 2000, 4000, 8000]);
    expect(relistPause(20, 1000)).toBe(MAX_RELIST_PAUSE_MS);
    expect(relistPause(1, 60_000)).toBe(60_000);
  });
});
