// Workflows started by hand with the `temporal` CLI, by someone who can reach Temporal but is not
// the broker: each names something its records do not say, ends `failed` saying what did not
// match, and changes nothing in Kubernetes (activities/verify.ts). The broker runs without
// CODEC_KEYS, so that the CLI's plaintext input reaches the worker: these checks hold on their own.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceSelector } from '../../catalog/labels.js';
import type { KubernetesObject } from '../../catalog/types.js';
import { recordName } from '../../platform/kube/records.js';
import { bindingWorkflowId, instanceWorkflowId } from '../../platform/temporal/ids.js';
import { startBroker, type RunningBroker } from './helpers/broker.js';
import { kubeApi, stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';
const REFUSED = 'refused: this workflow was not started by the broker, or its record changed';

const kube = kubeApi();
let connection: Connection;
let client: Client;
let broker: RunningBroker;

/** The `temporal` CLI of the local stack. */
function temporalCli(): string {
  const bin = stackEnv()['KB_STACK_BIN']!;
  const dir = bin.split(':').find((d) => fs.existsSync(path.join(d, 'temporal')));
  if (!dir) throw new Error('the local stack has no temporal CLI in KB_STACK_BIN');
  return path.join(dir, 'temporal');
}

/** Starts a workflow as anyone who reaches Temporal can: the CLI, plaintext JSON input, an id of its choosing. */
async function forge(type: string, workflowId: string, input: Record<string, unknown>): Promise<void> {
  await promisify(execFile)(temporalCli(), [
    'workflow',
    'start',
    '--address',
    stackEnv()['TEMPORAL_ADDRESS']!,
    '--namespace',
    broker.config.TEMPORAL_NAMESPACE,
    '--task-queue',
    broker.config.TEMPORAL_TASK_QUEUE,
    '--type',
    type,
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify(input),
  ]);
}

/** Waits until the workflow ends; its status and every message of its failure chain. */
async function outcome(workflowId: string): Promise<{ status: string; failure: string }> {
  const handle = client.workflow.getHandle(workflowId);
  let failure = '';
  try {
    await handle.result();
  } catch (err) {
    for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) failure += `${e.message}\n`;
  }
  return { status: (await handle.describe()).status.name, failure };
}

async function provision(id: string, org: string): Promise<void> {
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY, organization_guid: org, space_guid: 'space' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await broker.osb.waitForOperation(id, res.body.operation)).body.state).toBe('succeeded');
}

const instanceRecord = async (id: string) => {
  const secret = await kube.get<KubernetesObject & { data?: Record<string, string> }>(
    'v1',
    'Secret',
    broker.config.BROKER_NAMESPACE,
    recordName('instance', id),
  );
  return secret?.data?.['record'] ? JSON.parse(Buffer.from(secret.data['record'], 'base64').toString('utf8')) : undefined;
};
const bindingSecret = (id: string) => kube.get('v1', 'Secret', broker.config.BROKER_NAMESPACE, recordName('binding', id));
/** What runs of an instance: names and resource versions of its Deployments, Services and Secrets. */
async function objectsOf(id: string, namespace: string): Promise<string[]> {
  const kinds = [
    ['apps/v1', 'Deployment'],
    ['v1', 'Service'],
    ['v1', 'Secret'],
  ] as const;
  const lists = await Promise.all(kinds.map(([v, k]) => kube.list(v, k, namespace, { labelSelector: instanceSelector(id) })));
  return lists.flatMap((l, i) => l.items.map((o) => `${kinds[i]![1]}/${o.metadata.name}@${String(o.metadata.resourceVersion)}`)).sort();
}

describe('forged workflows (per-instance namespaces, no codec)', () => {
  let a: string;
  let b: string;
  let bindingOfA: string;

  beforeAll(async () => {
    connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
    client = new Client({ connection, namespace: 'default' });
    broker = await startBroker({ CATALOG_DIR: CATALOG, NAMESPACE_STRATEGY: 'per-instance', CODEC_KEYS: '' });
    a = `forged-a-${suffix()}`;
    b = `forged-b-${suffix()}`;
    await Promise.all([provision(a, 'org-a'), provision(b, 'org-b')]);
    bindingOfA = `forged-bind-${suffix()}`;
    expect((await broker.osb.bind(a, bindingOfA, { service_id: SERVICE, plan_id: READY })).status).toBe(201);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([a, b].map((id) => broker?.osb.deprovision(id, SERVICE, READY)));
    await broker?.stop();
    await connection?.close();
    kube.close();
  });

  /** Forges a deprovision of instance a; asserts it failed with `expected` and that a, its objects and its binding are all still there. */
  async function forgedDeprovision(workflowId: string, expected: string[]): Promise<void> {
    const record = await instanceRecord(a);
    const objects = await objectsOf(a, record.namespace);
    expect(objects.length).toBeGreaterThan(0);
    await forge('deprovisionInstance', workflowId, {
      instanceId: a,
      operation: 'deprovision-1',
      namespace: broker.config.INSTANCE_NAMESPACE,
      timeoutSeconds: 60,
    });
    const { status, failure } = await outcome(workflowId);
    expect(status).toBe('FAILED');
    for (const text of [...expected, REFUSED]) expect(failure).toContain(text);
    expect(await instanceRecord(a)).toEqual(record);
    expect(await bindingSecret(bindingOfA)).toBeDefined();
    expect(await objectsOf(a, record.namespace)).toEqual(objects);
  }

  it("the issue's deprovision of another instance, under an id of the forger's choosing, deletes nothing", async () => {
    const id = `forged-${suffix()}`;
    await forgedDeprovision(id, [`workflow id ${id} is not ${instanceWorkflowId(a)}`]);
  });

  it('the same deprovision under the id the broker would use, naming another namespace, deletes nothing and marks nothing', async () => {
    const { namespace } = await instanceRecord(a);
    await forgedDeprovision(instanceWorkflowId(a), [`input names namespace ${broker.config.INSTANCE_NAMESPACE}, but instance ${a}'s record says ${namespace}`]);
  });

  it('a provision into kube-system that claims to own it leaves kube-system untouched and records nothing', async () => {
    const before = await kube.get('v1', 'Namespace', undefined, 'kube-system');
    const fresh = `forged-new-${suffix()}`;
    await forge('provisionInstance', instanceWorkflowId(fresh), {
      instanceId: fresh,
      operation: 'provision-1',
      serviceId: SERVICE,
      planId: READY,
      parameters: { replicas: 1, greeting: 'hello' },
      context: {},
      org: 'org-x',
      space: 'space',
      namespace: 'kube-system',
      ownsNamespace: true,
      timeoutSeconds: 60,
    });
    const { status, failure } = await outcome(instanceWorkflowId(fresh));
    expect(status).toBe('FAILED');
    expect(failure).toMatch(
      new RegExp(`input names namespace kube-system \\(owned by the instance\\), but the per-instance namespace strategy gives instance ${fresh} si-`),
    );
    expect(failure).toContain(REFUSED);
    const after = await kube.get('v1', 'Namespace', undefined, 'kube-system');
    expect(after?.metadata.labels).toEqual(before?.metadata.labels);
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(await instanceRecord(fresh)).toBeUndefined();
    expect(await objectsOf(fresh, 'kube-system')).toEqual([]);
  });

  it('a bind to an instance of another organization creates no binding', async () => {
    const forged = `forged-bind-${suffix()}`;
    await forge('bindInstance', bindingWorkflowId(forged), {
      bindingId: forged,
      instanceId: a,
      operation: 'bind-1',
      serviceId: SERVICE,
      planId: READY,
      parameters: {},
      context: { platform: 'cloudfoundry', organization_guid: 'org-b' },
      hookTimeoutSeconds: 60,
    });
    const { status, failure } = await outcome(bindingWorkflowId(forged));
    expect(status).toBe('FAILED');
    expect(failure).toContain(`input names organization org-b, but instance ${a}'s record says org-a`);
    expect(failure).toContain(REFUSED);
    expect(await bindingSecret(forged)).toBeUndefined();
  });

  it('an update with parameters the plan does not allow changes neither the record nor the objects', async () => {
    const record = await instanceRecord(b);
    const objects = await objectsOf(b, record.namespace);
    // The id the broker would use: only the input gives the forgery away.
    await forge('updateInstance', instanceWorkflowId(b), {
      instanceId: b,
      operation: 'update-1',
      planId: READY,
      parameters: { replicas: 50 },
      context: {},
      timeoutSeconds: 60,
    });
    const { status, failure } = await outcome(instanceWorkflowId(b));
    expect(status).toBe('FAILED');
    expect(failure).toContain("parameters do not pass plan ready's provision schema (parameters.replicas must be <= 3)");
    expect(failure).toContain(REFUSED);
    expect(await instanceRecord(b)).toEqual(record);
    expect(await objectsOf(b, record.namespace)).toEqual(objects);
  });

  it("an unbind of another instance's binding leaves the binding and its credentials", async () => {
    const before = await bindingSecret(bindingOfA);
    await forge('unbindInstance', bindingWorkflowId(bindingOfA), { bindingId: bindingOfA, instanceId: b, operation: 'unbind-1' });
    const { status, failure } = await outcome(bindingWorkflowId(bindingOfA));
    expect(status).toBe('FAILED');
    expect(failure).toContain(`input names instance ${b}, but binding ${bindingOfA}'s record says ${a}`);
    expect(failure).toContain(REFUSED);
    expect(await bindingSecret(bindingOfA)).toEqual(before);
  });
});
