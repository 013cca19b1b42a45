// Not an activity result: that would put the instance's passwords into the workflow history
// ($random0..9, in clear text without CODEC_KEYS); they stay in the record Secret only. Hands the
// record createInstanceRecord just wrote to the same provision's next activity (applyInstanceObjects
// renders the objects from it) when both run in this process, which is the rule: Temporal
// dispatches the next activity eagerly to the worker that completed the workflow task, and local
// activities run in it. That saves the API server a read of the record per provision. Keyed by the
// workflow run, taken once (a retried or later activity reads the record from Kubernetes as
// before), bounded.
import type { StoredInstance } from '../platform/kube/records.js';

const MAX_ENTRIES = 10_000;
const MAX_AGE_MS = 60_000;

class JustCreated {
  private readonly entries = new Map<string, { stored: StoredInstance; at: number }>();

  put(runId: string | undefined, stored: StoredInstance): void {
    if (!runId) return;
    this.entries.delete(runId);
    this.entries.set(runId, { stored, at: Date.now() });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  /** The record run `runId` created for `instanceId`, once; undefined when not here (or old). */
  take(runId: string | undefined, instanceId: string): StoredInstance | undefined {
    const entry = runId ? this.entries.get(runId) : undefined;
    if (!entry) return undefined;
    this.entries.delete(runId!);
    if (Date.now() - entry.at > MAX_AGE_MS || entry.stored.record.instanceId !== instanceId) return undefined;
    return entry.stored;
  }
}

export const justCreated = new JustCreated();
