// `serve --with-worker`: the OSB API and the worker in one process, the API starting workflows on
// the worker's connection with an eager start. The server records in the run's first event
// whether it handed the first workflow task back in the start's answer
// (`eagerExecutionAccepted`); the API counts the starts whose answer carried it.
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OperationStarter } from '../../broker/operation-start.js';
import { instanceWorkflowId } from '../../platform/temporal/ids.js';
import { FIXTURE_CATALOG, READY_PLAN, TESTAPP_SERVICE } from './helpers/fixture-catalog.js';
import { BrokerProcesses, freePort } from './helpers/processes.js';
import { stackEnv, suffix } from './helpers/stack.js';

let broker: BrokerProcesses;
let metricsUrl: string;
let connection: Connection;
beforeAll(async () => {
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  broker = await BrokerProcesses.create({ CATALOG_DIR: FIXTURE_CATALOG, METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
  await broker.startApiWithWorker();
  connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
}, 120_000);
afterAll(async () => {
  await broker?.stop();
  await connection?.close();
});

/** The first event of the latest run of the instance's workflow (the payloads stay encoded: this client has no codec). */
async function startedEvent(instanceId: string) {
  const { events } = await new Client({ connection }).workflow.getHandle(instanceWorkflowId(instanceId)).fetchHistory();
  return events?.[0]?.workflowExecutionStartedEventAttributes;
}

async function eagerStarts(type: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return Number(new RegExp(`^broker_operations_started_eagerly_total\\{type="${type}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

it('provisions and deprovisions end to end in one process, each workflow started eagerly on its worker, and stops on SIGTERM', async () => {
  const id = `with-worker-${suffix()}`;
  const put = await broker.osb.provision(id, { service_id: TESTAPP_SERVICE, plan_id: READY_PLAN });
  expect(put.status).toBe(202);
  expect((await broker.osb.waitForOperation(id, put.body.operation)).body).toEqual({ state: 'succeeded' });
  expect((await broker.osb.request('GET', `/v2/service_instances/${id}`)).body).toMatchObject({ plan_id: READY_PLAN });
  expect(await startedEvent(id)).toMatchObject({ workflowType: { name: 'provisionInstance' }, eagerExecutionAccepted: true });
  expect(await eagerStarts('provision')).toBe(1);

  const del = await broker.osb.deprovision(id, TESTAPP_SERVICE, READY_PLAN);
  expect(del.status).toBe(202);
  expect((await broker.osb.waitForOperation(id, del.body.operation)).status).toBe(410);
  expect(await startedEvent(id)).toMatchObject({ workflowType: { name: 'deprovisionInstance' }, eagerExecutionAccepted: true });
  expect(await eagerStarts('deprovision')).toBe(1);

  // Graceful stop: the API, then the worker (which closes the connection both used).
  const api = broker.api!;
  const exited = new Promise<number | null>((resolve) => api.once('exit', (code) => resolve(code)));
  api.kill('SIGTERM');
  expect(await exited).toBe(0);
}, 120_000);

it('a start through a worker connection that conflicts with a running operation throws as through the API connection', async () => {
  // The broker answers a conflicting start (two PUTs at once) from WorkflowExecutionAlreadyStartedError:
  // the worker's native connection must report it the same way. No worker polls this task queue,
  // so the first run stays running.
  const native = await NativeConnection.connect({ address: stackEnv()['TEMPORAL_ADDRESS'] });
  const eager = new Client({ connection: native });
  const starter = new OperationStarter(new Client({ connection }), `with-worker-nobody-${suffix()}`, undefined, eager);
  const subject = { instanceId: `with-worker-conflict-${suffix()}`, service: 'testapp', plan: 'ready', org: 'org', space: 'space' };
  const input = (operation: string) => ({ instanceId: subject.instanceId, operation }) as never;
  try {
    const first = await starter.start('provision', subject, 'digest', input);
    try {
      await expect(starter.start('provision', subject, 'digest', input)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    } finally {
      await first.handle.terminate('test done');
    }
  } finally {
    await native.close();
  }
}, 60_000);
