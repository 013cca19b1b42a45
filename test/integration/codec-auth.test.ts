// The codec authenticates, tried the way someone who reaches Temporal but holds no key would:
// a workflow started with the `temporal` CLI and a plaintext input, and an encrypted input copied
// from a real provision's history into a new workflow, are refused by the worker before any code
// runs, and change nothing in Kubernetes. Failure messages sit in history as ciphertext, readable
// through /codec. Keys rotate by adding one in front while operations are in flight.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { instanceWorkflowId } from '../../platform/temporal/ids.js';
import { BrokerProcesses } from './helpers/processes.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';

type Payload = temporal.api.common.v1.IPayload;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const SLOW = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0104';
const INVALID = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0105';
const ADMIN = { user: 'admin', pass: 'admin-password' };
const NAMESPACE = 'default';
const key = () => randomBytes(32).toString('base64');

const kube = kubeApi();
let connection: Connection;
beforeAll(async () => {
  connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
});
afterAll(async () => {
  await connection?.close();
  kube.close();
});

async function history(workflowId: string): Promise<HistoryEvent[]> {
  const { history } = await connection.workflowService.getWorkflowExecutionHistory({ namespace: NAMESPACE, execution: { workflowId } });
  return history?.events ?? [];
}

/** Every encoded payload's metadata value under `name` in a history (or any part of one). */
function metadataValues(node: unknown, name: string, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => metadataValues(n, name, found));
  else if (node && typeof node === 'object' && !(node instanceof Uint8Array)) {
    const metadata = (node as { metadata?: Record<string, Uint8Array> }).metadata;
    if (metadata?.[name]) found.add(Buffer.from(metadata[name]).toString());
    Object.values(node).forEach((n) => metadataValues(n, name, found));
  }
  return found;
}

/** Every failure in a history, causes included (not the payloads of a local activity marker's details, also named failure). */
function failures(node: unknown, found: temporal.api.failure.v1.IFailure[] = []): temporal.api.failure.v1.IFailure[] {
  if (Array.isArray(node)) node.forEach((n) => failures(n, found));
  else if (node && typeof node === 'object' && !(node instanceof Uint8Array)) {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'failure' || k === 'cause') && v && typeof v === 'object' && !('payloads' in v) && !('metadata' in v))
        found.push(v as temporal.api.failure.v1.IFailure);
      failures(v, found);
    }
  }
  return found;
}

const raw = (node: unknown): string =>
  node instanceof Uint8Array ? Buffer.from(node).toString('latin1') : node && typeof node === 'object' ? Object.values(node).map(raw).join('\n') : String(node);

describe('a broker with CODEC_KEYS refuses what it did not encrypt', () => {
  let broker: BrokerProcesses;
  beforeAll(async () => {
    broker = await BrokerProcesses.create({ CATALOG_DIR: CATALOG, CODEC_KEYS: `k1:${key()}`, ADMIN_USER: ADMIN.user, ADMIN_PASS: ADMIN.pass });
    await Promise.all([broker.startWorker(), broker.startApi()]);
  }, 120_000);
  afterAll(async () => broker?.stop());

  /** The Temporal UI's way to read a failure: its encoded attributes through /codec/decode, with the admin credentials. */
  async function failureMessage(failure: temporal.api.failure.v1.IFailure): Promise<string> {
    const json = (p: Payload) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    });
    const res = await fetch(`${broker.osb.url}/codec/decode`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64')}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ payloads: [json(failure.encodedAttributes!)] }),
    });
    expect(res.status).toBe(200);
    const { payloads } = (await res.json()) as { payloads: { data: string }[] };
    return (JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString()) as { message: string }).message;
  }

  /** An instance, provisioned for real, and a snapshot of what it has in Kubernetes. */
  async function provisioned() {
    const id = `victim-${suffix()}`;
    const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY });
    expect(res.status).toBe(202);
    expect((await broker.osb.waitForOperation(id, res.body.operation)).body).toEqual({ state: 'succeeded' });
    return { id, before: await snapshot(id) };
  }

  /** The broker itself still deprovisions the instance the forgery was after. */
  async function deprovisioned(id: string) {
    const del = await broker.osb.deprovision(id, SERVICE, READY);
    expect(del.status).toBe(202);
    expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
  }

  /** The instance's objects (name and uid: a deleted and recreated object shows) and its record. */
  async function snapshot(id: string) {
    const lists = await Promise.all(
      (
        [
          ['v1', 'Secret'],
          ['apps/v1', 'Deployment'],
          ['v1', 'Service'],
        ] as const
      ).map(([v, k]) =>
        kube.list<KubernetesObject & { metadata: { uid?: string } }>(v, k, broker.env['INSTANCE_NAMESPACE'], { labelSelector: instanceSelector(id) }),
      ),
    );
    const objects = lists.flatMap((l) => l.items.map((o) => `${o.kind ?? ''}/${o.metadata.name}/${o.metadata.uid ?? ''}`)).sort();
    const record = await broker.osb.request('GET', `/v2/service_instances/${id}`);
    return { objects, record: { status: record.status, body: record.body } };
  }

  /** Waits for the worker's verdict on a forged workflow: its first workflow task failed, and nothing ran. */
  async function refused(workflowId: string): Promise<string> {
    const failed = await eventually(
      `the first workflow task of ${workflowId} to fail`,
      async () => (await history(workflowId)).find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes ?? undefined,
      30_000,
    );
    // Give a wrongly accepted workflow the time to start its first steps, then look.
    await new Promise((r) => setTimeout(r, 2000));
    const events = await history(workflowId);
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes || e.markerRecordedEventAttributes || e.workflowTaskCompletedEventAttributes)).toEqual(
      [],
    );
    await connection.workflowService.terminateWorkflowExecution({ namespace: NAMESPACE, workflowExecution: { workflowId }, reason: 'forged by the test' });
    // The failure itself is encrypted in history: the reason is readable through /codec only.
    expect(failed.failure!.message).toBe('Encoded failure');
    return failureMessage(failed.failure!);
  }

  it('refuses a deprovision started with the temporal CLI and a plaintext input: the instance keeps its objects and record', async () => {
    const { id, before } = await provisioned();
    const workflowId = `forged-${suffix()}`;
    const input = { instanceId: id, operation: 'deprovision-1', namespace: broker.env['INSTANCE_NAMESPACE'], timeoutSeconds: 60 };
    const env = stackEnv();
    execFileSync(
      'temporal',
      [
        'workflow',
        'start',
        '--address',
        env['TEMPORAL_ADDRESS']!,
        '--namespace',
        NAMESPACE,
        '--task-queue',
        broker.env['TEMPORAL_TASK_QUEUE']!,
        '--type',
        'deprovisionInstance',
        '--workflow-id',
        workflowId,
        '--input',
        JSON.stringify(input),
      ],
      { env: { ...process.env, PATH: `${env['KB_STACK_BIN']}:${process.env['PATH'] ?? ''}` }, stdio: 'pipe' },
    );
    expect(await refused(workflowId)).toMatch(
      new RegExp(`^payload not encrypted with the broker's keys in workflow ${workflowId}; was this workflow started by someone other than the broker\\?`),
    );
    expect(await snapshot(id)).toEqual(before);
    expect(before.objects.length).toBeGreaterThanOrEqual(3);
    expect(before.record.status).toBe(200);
    await deprovisioned(id);
  });

  it("refuses a real provision's encrypted input copied into a new deprovision, also with the workflow id in its metadata rewritten", async () => {
    const { id, before } = await provisioned();
    const started = (await history(instanceWorkflowId(id))).find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
    const payload = started.input!.payloads![0]!;
    // The provision's input holds all a deprovision needs (instanceId, namespace, cluster): decoded, it would delete the instance.
    expect(Buffer.from(payload.metadata!['encryption-workflow-id']!).toString()).toBe(instanceWorkflowId(id));
    const start = async (workflowId: string, forged: Payload) => {
      await connection.workflowService.startWorkflowExecution({
        namespace: NAMESPACE,
        workflowId,
        workflowType: { name: 'deprovisionInstance' },
        taskQueue: { name: broker.env['TEMPORAL_TASK_QUEUE']! },
        input: { payloads: [forged] },
        identity: 'someone without the key',
        requestId: randomUUID(),
      });
      return workflowId;
    };
    const copied = await start(`copied-${suffix()}`, payload);
    const rewrittenId = `rewritten-${suffix()}`;
    const rewritten = await start(rewrittenId, { ...payload, metadata: { ...payload.metadata, 'encryption-workflow-id': Buffer.from(rewrittenId) } });
    const [copiedMessage, rewrittenMessage] = await Promise.all([refused(copied), refused(rewritten)]);
    expect(copiedMessage).toMatch(
      new RegExp(`^payload encrypted for workflow "${instanceWorkflowId(id)}" refused in workflow ${copied}: was it copied from another workflow's history`),
    );
    expect(rewrittenMessage).toMatch(new RegExp(`^payload does not authenticate with key "k1" in workflow ${rewritten}: it was altered`));
    expect(await snapshot(id)).toEqual(before);
    await deprovisioned(id);
  });

  it('keeps failure messages and stack traces out of history in clear text; the workflow and /codec read them', async () => {
    const id = `fail-${suffix()}`;
    const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: INVALID });
    expect(res.status).toBe(202);
    const done = await broker.osb.waitForOperation(id, res.body.operation);
    // The workflow decoded the step's failure: its description names the rejected port.
    expect(done.body).toMatchObject({ state: 'failed', description: expect.stringMatching(/99999/) });
    const events = await history(instanceWorkflowId(id));
    const all = failures(events);
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const failure of all) {
      expect(failure.message).toBe('Encoded failure');
      expect(failure.stackTrace ?? '').toBe('');
    }
    expect(raw(events)).not.toMatch(/99999|at .*\.(ts|js):\d+/);
    // The workflow's own failure (written by the failure converter inside the workflow bundle) through /codec, as the Temporal UI shows it.
    const closed = events.find((e) => e.workflowExecutionFailedEventAttributes)!.workflowExecutionFailedEventAttributes!;
    expect(await failureMessage(closed.failure!)).toMatch(/99999/);
  });
});

describe('key rotation', () => {
  let broker: BrokerProcesses;
  const [a, b] = [key(), key()];
  beforeAll(async () => {
    broker = await BrokerProcesses.create({ CATALOG_DIR: CATALOG, CODEC_KEYS: `a:${a}` });
    await Promise.all([broker.startWorker(), broker.startApi()]);
  }, 120_000);
  afterAll(async () => broker?.stop());

  it('a provision started under key a finishes under "b,a", and the instance is deprovisioned under it', async () => {
    const id = `rotate-${suffix()}`;
    const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: SLOW });
    expect(res.status).toBe(202);
    // The pods need 5 s to turn Ready: the processes under key a stop while the worker waits for them.
    await eventually('the provision to wait for its pods', async () => {
      const described = await connection.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution: { workflowId: instanceWorkflowId(id) } });
      // PENDING_ACTIVITY_STATE_STARTED = 2
      return described.pendingActivities?.some((p) => Number(p.state) === 2) ? true : undefined;
    });
    await Promise.all([BrokerProcesses.kill(broker.worker), BrokerProcesses.kill(broker.api)]);
    expect([...metadataValues(await history(instanceWorkflowId(id)), 'encryption-key-id')]).toEqual(['a']);

    broker.env['CODEC_KEYS'] = `b:${b},a:${a}`;
    await Promise.all([broker.startWorker(), broker.startApi()]);
    expect((await broker.osb.waitForOperation(id, res.body.operation, 90_000)).body).toEqual({ state: 'succeeded' });
    // Written under both: its input under a, what the new worker wrote under b.
    expect([...metadataValues(await history(instanceWorkflowId(id)), 'encryption-key-id')].sort()).toEqual(['a', 'b']);

    const del = await broker.osb.deprovision(id, SERVICE, SLOW);
    expect(del.status).toBe(202);
    expect((await broker.osb.waitForOperation(id, del.body.operation, 90_000)).status).toBe(410);
    expect([...metadataValues(await history(instanceWorkflowId(id)), 'encryption-key-id')]).toEqual(['b']);
  }, 180_000);
});
