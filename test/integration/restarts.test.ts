// Operations survive the processes that run them: kill -9 the worker and the API in the middle
// of a provision, start them again, and the provision completes; last_operation answers
// whenever an API process is up, from Temporal's state, not from memory.
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { instanceWorkflowId } from '../../platform/temporal/ids.js';
import { BrokerProcesses } from './helpers/processes.js';
import { stackEnv, suffix } from './helpers/stack.js';

const CATALOG = fileURLToPath(new URL('./fixtures/catalog', import.meta.url));
const SERVICE = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0001';
const SLOW = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0104';
const READY = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0101';

let broker: BrokerProcesses;
beforeAll(async () => {
  broker = await BrokerProcesses.create({ CATALOG_DIR: CATALOG });
  await Promise.all([broker.startWorker(), broker.startApi()]);
}, 120_000);
afterAll(async () => broker?.stop());

it('a provision completes after its worker and its API were killed mid-way', async () => {
  const id = `restart-${suffix()}`;
  const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: SLOW, parameters: { replicas: 2 } });
  expect(res.status).toBe(202);
  const operation = res.body.operation;

  // The pods need 5 s to turn Ready: the worker dies while it waits for them.
  await new Promise((r) => setTimeout(r, 1500));
  await BrokerProcesses.kill(broker.worker);
  const during = await broker.osb.lastOperation(id, operation);
  expect(during.body).toMatchObject({ state: 'in progress' });

  // The API dies too; a new one answers from Temporal.
  await BrokerProcesses.kill(broker.api);
  await broker.startApi();
  expect((await broker.osb.lastOperation(id, operation)).body).toMatchObject({ state: 'in progress' });

  await broker.startWorker();
  const done = await broker.osb.waitForOperation(id, operation, 90_000);
  expect(done.body).toEqual({ state: 'succeeded' });
  expect((await broker.osb.request('GET', `/v2/service_instances/${id}`)).body).toMatchObject({ plan_id: SLOW, parameters: { replicas: 2 } });

  const del = await broker.osb.deprovision(id, SERVICE, SLOW);
  expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
}, 180_000);

it('a provision completes after its worker was killed during the workflow task that runs its local steps', async () => {
  // The record and the apply are local activities: they run inside the provision's first workflow
  // task. Kill the worker while that task is started; Temporal times the task out (30 s,
  // broker/operation-start.ts) and the next worker runs the steps again (both idempotent).
  const connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
  try {
    const handleOf = (id: string) => new Client({ connection }).workflow.getHandle(instanceWorkflowId(id));
    const id = `restart-local-${suffix()}`;
    const res = await broker.osb.provision(id, { service_id: SERVICE, plan_id: READY });
    expect(res.status).toBe(202);
    const handle = handleOf(id);
    for (;;) {
      // The raw describe: the memo is encrypted (CODEC_KEYS) and this client has no codec.
      const raw = await connection.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId: instanceWorkflowId(id) } });
      // PENDING_WORKFLOW_TASK_STATE_STARTED = 2
      if (Number(raw.pendingWorkflowTask?.state) === 2) break;
      if ((raw.pendingActivities ?? []).length > 0) throw new Error('the first workflow task completed before the test saw it started; run again');
    }
    await BrokerProcesses.kill(broker.worker);
    await broker.startWorker();
    const done = await broker.osb.waitForOperation(id, res.body.operation, 90_000);
    expect(done.body).toEqual({ state: 'succeeded' });
    const events = (await handle.fetchHistory()).events ?? [];
    // The kill hit the workflow task: it timed out and ran again.
    expect(events.some((e) => e.workflowTaskTimedOutEventAttributes)).toBe(true);
    // The record and the apply (this plan has no create hook: its wait marks it ready, patch ready-with-wait).
    expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length).toBeGreaterThanOrEqual(2);
    const del = await broker.osb.deprovision(id, SERVICE, READY);
    expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
  } finally {
    await connection.close();
  }
}, 180_000);
