import { describe, expect, it } from 'vitest';
import type { KubeApi } from './api.js';
import { LABELLED_AT_ANNOTATION, LABELLED_STALE_MS, LABELLING_INTERVAL_MS, LabelledMarker } from './labelled-marker.js';

/** A marker Secret stamped at `stampedAt` (absent: none), and how often it was read. */
function fakeKube(stampedAt: () => number | undefined) {
  const reads = { count: 0 };
  const kube = {
    get: () => {
      reads.count++;
      const at = stampedAt();
      return Promise.resolve(at === undefined ? undefined : { metadata: { name: 'm', annotations: { [LABELLED_AT_ANNOTATION]: new Date(at).toISOString() } } });
    },
  } as unknown as KubeApi;
  return { kube, reads };
}

describe('LabelledMarker.allLabelled', () => {
  it('trusts a recent stamp, and reads it once per interval, not once per quota check', async () => {
    let now = 1_000_000_000_000;
    const { kube, reads } = fakeKube(() => now - 1000);
    const marker = new LabelledMarker(kube, 'ns', () => now);
    expect(await marker.allLabelled()).toBe(true);
    now += LABELLING_INTERVAL_MS - 1;
    expect(await marker.allLabelled()).toBe(true);
    expect(reads.count).toBe(1);
    now += 1;
    expect(await marker.allLabelled()).toBe(true);
    expect(reads.count).toBe(2);
  });

  it('does not trust a stamp once it is stale, even the one it cached', async () => {
    let now = 1_000_000_000_000;
    const stamped = now - LABELLED_STALE_MS + 10_000;
    const { kube, reads } = fakeKube(() => stamped);
    const marker = new LabelledMarker(kube, 'ns', () => now);
    expect(await marker.allLabelled()).toBe(true);
    now += 10_000;
    expect(await marker.allLabelled()).toBe(false);
    expect(reads.count).toBe(1);
  });

  it('does not trust a marker without a stamp, or no marker', async () => {
    expect(await new LabelledMarker(fakeKube(() => undefined).kube, 'ns').allLabelled()).toBe(false);
    const unstamped = { get: () => Promise.resolve({ metadata: { name: 'm' } }) } as unknown as KubeApi;
    expect(await new LabelledMarker(unstamped, 'ns').allLabelled()).toBe(false);
  });
});
