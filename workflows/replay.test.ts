// Replays recorded histories of every workflow against the current workflow code: a change
// that would break a running workflow (a step added, removed or reordered without patching)
// fails here instead of in production.
//
// workflows/histories/*.json are real runs on the local stack, recorded from the integration
// tests (instances, bindings) with the Temporal CLI:
//   temporal workflow list -q "WorkflowType='provisionInstance'"
//   temporal workflow show -w <workflow id> -r <run id> -o json > workflows/histories/<case>.json
// Keep old histories when workflow code changes (patched() must replay them); add new ones for
// new paths. The *-local-steps histories come from a broker on the same fixture catalog driven by
// a script the way instances.test.ts and hooks.test.ts drive it (PUT, DELETE, last_operation).
// Record them from a broker started without CODEC_KEYS, so that payloads are in clear. They hold
// no credentials (the last test checks): bindings never put them in history.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON as sdkHistoryFromJSON, type History } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowsPath } from '../cli/worker.js';

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));
const files = readdirSync(HISTORIES)
  .filter((f) => f.endsWith('.json'))
  .sort();

type JsonHistory = { events: { eventType: string; [attributes: string]: unknown }[] };
const load = (file: string) => JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8')) as JsonHistory;

/**
 * JSON history (as `temporal workflow show -o json` writes it) to a History. The SDK's
 * historyFromJSON fails with "type must be a Type" while npm installs two copies of protobufjs 8
 * (one under @temporalio/common, one under @temporalio/proto, because protobufjs 7 of
 * @grpc/proto-loader holds the top level): protojson of one copy refuses the other's types. Then
 * the protojson of the copy @temporalio/proto uses does it (the histories use the canonical enum
 * names, so the SDK's enum fix-ups are not needed).
 */
function historyFromJSON(json: unknown): History {
  try {
    return sdkHistoryFromJSON(json);
  } catch (err) {
    if (!(err instanceof TypeError && err.message === 'type must be a Type')) throw err;
  }
  const requireFromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
  const protojson = requireFromProto('protobufjs/ext/protojson') as { fromJson(type: unknown, json: unknown, options: object): History | null };
  // The generated module's types lack the protobufjs Root methods that patchProtobufRoot provides.
  const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
  const historyType = root.lookupType('temporal.api.history.v1.History');
  const history = protojson.fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('invalid history');
  return history;
}

/** Webpack's progress is noise here; its errors are not. */
const quiet = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string, meta?: unknown) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: unknown) => console.error(message, meta ?? ''),
};

describe('replay of recorded histories', () => {
  let workflowBundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    try {
      // Replay workers log every state change at INFO, and core warns of the nondeterminism the
      // last replay provokes on purpose: errors are enough here (failures reach the assertions).
      Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } } });
    } catch {
      // a runtime exists already in this process
    }
    workflowBundle = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quiet });
  }, 120_000);

  const replay = (history: unknown, name: string) =>
    Worker.runReplayHistory({ workflowBundle, replayName: `replay-${name}` }, historyFromJSON(history), `replay-${name}`);

  it('covers every workflow and the outcomes that matter', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'provision-succeeded.json',
        'provision-failed-never-ready.json',
        'provision-continued-as-deprovision.json',
        'deprovision-after-continue-as-new.json',
        'update-succeeded.json',
        'deprovision-succeeded.json',
        'bind-succeeded.json',
        'unbind-succeeded.json',
        // Lifecycle hooks (patched: the histories above predate them).
        'provision-create-hook-succeeded.json',
        'provision-create-hook-failed.json',
        'deprovision-delete-hook-succeeded.json',
        'deprovision-delete-hook-failed.json',
        'bind-hook-succeeded.json',
        'bind-hook-failed-compensated.json',
        'unbind-hook-succeeded.json',
        // Several clusters: the instance's cluster in the inputs (the histories above have none).
        'provision-on-cluster-b.json',
        'update-on-cluster-b.json',
        'deprovision-on-cluster-b.json',
        // Local steps (patched: every history above predates them).
        'provision-succeeded-local-steps.json',
        'deprovision-succeeded-local-steps.json',
        'provision-failed-never-ready-local-steps.json',
        'provision-continued-as-deprovision-local-steps.json',
        'deprovision-after-continue-as-new-local-steps.json',
        'provision-create-hook-succeeded-local-steps.json',
        'deprovision-delete-hook-succeeded-local-steps.json',
        'provision-create-hook-failed-local-steps.json',
        'deprovision-delete-hook-failed-local-steps.json',
        // The record marked while the objects are deleted (patched: every deprovision above predates it).
        'deprovision-mark-while-deleting.json',
        // The wait marks the instance ready (patched: every provision above predates it).
        'provision-succeeded-ready-with-wait.json',
        'provision-failed-never-ready-ready-with-wait.json',
        // An operator's upgrade of a plan: one child update succeeded, one failed, one instance already current.
        'upgrade-plan-one-failed.json',
      ]),
    );
  });

  it.each(files)(
    '%s replays without nondeterminism',
    async (file) => {
      await replay(load(file), file.replace(/\.json$/, ''));
    },
    60_000,
  );

  it('would notice nondeterminism: a history whose first activity the code does not schedule fails', async () => {
    // Not vacuous: the same history with the first activity renamed must be refused.
    const history = load('provision-succeeded.json');
    const scheduled = history.events.find((e) => e.eventType === 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED')!;
    const attributes = scheduled['activityTaskScheduledEventAttributes'] as { activityType: { name: string } };
    expect(attributes.activityType.name).toBe('createInstanceRecord');
    attributes.activityType.name = 'someOtherActivity';
    await expect(replay(history, 'tampered')).rejects.toBeInstanceOf(DeterminismViolationError);
  }, 60_000);

  it('would notice nondeterminism in local steps: a history whose first local activity the code does not run fails', async () => {
    // A local activity is a marker whose data names its type: the same history with that renamed must be refused.
    const history = load('provision-succeeded-local-steps.json');
    const marker = history.events.find(
      (e) =>
        e.eventType === 'EVENT_TYPE_MARKER_RECORDED' && (e['markerRecordedEventAttributes'] as { markerName: string }).markerName === 'core_local_activity',
    )!;
    const payload = (marker['markerRecordedEventAttributes'] as { details: { data: { payloads: { data: string }[] } } }).details.data.payloads[0]!;
    const data = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as { activity_type: string };
    expect(data.activity_type).toBe('createInstanceRecord');
    payload.data = Buffer.from(JSON.stringify({ ...data, activity_type: 'someOtherActivity' })).toString('base64');
    await expect(replay(history, 'tampered-local')).rejects.toBeInstanceOf(DeterminismViolationError);
  }, 60_000);

  it.each(files)('%s holds no binding credentials or secrets', (file) => {
    // Payload data is base64 JSON: decode every payload and look for what credentials look like.
    const payloads: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          // Activity summaries are texts of the workflow code ("render the credentials of ..."), not data.
          if (key === 'userMetadata') continue;
          if (key === 'data' && typeof value === 'string') payloads.push(Buffer.from(value, 'base64').toString('utf8'));
          else walk(value);
        }
      }
    };
    walk(load(file));
    expect(payloads.length).toBeGreaterThan(0);
    for (const payload of payloads) expect(payload).not.toMatch(/password|credentials|secret_?key|"uri"|:\/\/[^"@\s]*:[^"@\s]*@/i);
  });
});
