// An instance whose cluster was removed from CLUSTERS_FILE: the API refuses its update and its
// binds up front (422 naming the cluster and what to do, no workflow started); an update that a
// worker without the cluster runs anyway (the API's file still has it: a rollout half done) ends
// `failed` with that description and the record back as it was, also when the cluster leaves
// while the update waits (workers restarted with a new file); once the cluster is configured
// again, the instance is updated as usual.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceWorkflowId } from '../../platform/temporal/ids.js';
import { RecordStore } from '../../platform/kube/records.js';
import { sameInstances, startBroker, type RunningBroker } from './helpers/broker.js';
import { FIXTURE_CATALOG, READY_PLAN, TESTAPP_SERVICE } from './helpers/fixture-catalog.js';
import { eventually, kubeApi, stackEnv, suffix } from './helpers/stack.js';

/** testapp's plan short: ready at once, like plan ready. */
const SHORT_PLAN = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0106';
/** testapp's plan stuck: its pods never turn ready. */
const STUCK_PLAN = '4d9a8f8e-0c55-4c1e-9d0a-5b7a2e1c0103';

const kube = kubeApi();
const id = suffix();
const ORG = `org-removed-${id}`;
const instance = `removed-${id}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kb-removed-cluster-'));

/** With cluster b (ORG routed there), or without it. */
function clustersFile(withB: boolean): string {
  const file = path.join(dir, withB ? 'with-b.yaml' : 'without-b.yaml');
  fs.writeFileSync(
    file,
    withB
      ? ['clusters:', '  - name: b', `    kubeconfig: ${stackEnv()['BROKER_KUBECONFIG_B']}`, 'routing:', `  - organization: ${ORG}`, '    cluster: b', ''].join(
          '\n',
        )
      : 'clusters: []\n',
  );
  return file;
}

describe('an instance whose cluster was removed from CLUSTERS_FILE', () => {
  let broker: RunningBroker | undefined;
  let shared: Record<string, string>;
  let records: RecordStore;
  /** Worker and API with or without cluster b. */
  const restart = async (worker: boolean, api: boolean) => {
    await broker?.stop();
    broker = await startBroker({ CATALOG_DIR: FIXTURE_CATALOG, CLUSTERS_FILE: clustersFile(worker), ...shared }, { CLUSTERS_FILE: clustersFile(api) });
    return broker;
  };
  const stateOf = async () => (await records.getInstance(instance))?.record;

  beforeAll(async () => {
    broker = await startBroker({ CATALOG_DIR: FIXTURE_CATALOG, CLUSTERS_FILE: clustersFile(true) });
    shared = sameInstances(broker.config);
    records = new RecordStore(kube, broker.config.BROKER_NAMESPACE);
    const res = await broker.osb.provision(instance, { service_id: TESTAPP_SERVICE, plan_id: READY_PLAN, organization_guid: ORG, space_guid: 'space' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await broker.osb.waitForOperation(instance, res.body.operation)).body).toEqual({ state: 'succeeded' });
    expect(await stateOf()).toMatchObject({ cluster: 'b', state: 'ready' });
  }, 120_000);

  afterAll(async () => {
    const b = await restart(true, true);
    const res = await b.osb.deprovision(instance, TESTAPP_SERVICE, SHORT_PLAN);
    if (res.status === 202) await b.osb.waitForOperation(instance, res.body.operation);
    await b.stop();
    await kubeApi('b')
      .delete('v1', 'Namespace', undefined, shared['INSTANCE_NAMESPACE']!)
      .catch(() => undefined);
    kube.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('an update run by a worker without the cluster ends failed, says what to do, and leaves the record as it was', async () => {
    const b = await restart(false, true);
    const res = await b.osb.update(instance, { service_id: TESTAPP_SERVICE, plan_id: SHORT_PLAN });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const last = await b.osb.waitForOperation(instance, res.body.operation, 60_000);
    expect(last.body.state, JSON.stringify(last.body)).toBe('failed');
    expect(last.body.description).toMatch(/cluster b is not configured/);
    expect(last.body.description).toMatch(/CLUSTERS_FILE/);
    expect(last.body.description).toMatch(/Nothing was changed/);
    const record = await stateOf();
    expect(record).toMatchObject({ state: 'ready', planId: READY_PLAN, cluster: 'b' });
    expect(record?.previous).toBeUndefined();
  }, 90_000);

  it('an update whose cluster leaves the configuration while it waits: failed, saying what to do, the record back on the previous plan', async () => {
    let b = await restart(true, true);
    const res = await b.osb.update(instance, { service_id: TESTAPP_SERVICE, plan_id: STUCK_PLAN });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    // The new objects are applied and the update waits for them (they never turn ready)...
    const connection = await Connection.connect({ address: stackEnv()['TEMPORAL_ADDRESS']! });
    try {
      // The raw describe: the memo is encrypted with the broker's keys, and only the pending activities matter.
      const describe = () =>
        connection.workflowService.describeWorkflowExecution({
          namespace: stackEnv()['TEMPORAL_NAMESPACE'] ?? 'default',
          execution: { workflowId: instanceWorkflowId(instance) },
        });
      await eventually('the update waiting for the new objects', async () =>
        (await describe()).pendingActivities?.some((a) => a.activityType?.name === 'waitInstanceReady') ? true : undefined,
      );
    } finally {
      await connection.close();
    }
    // ...when the workers restart without cluster b.
    b = await restart(false, true);
    const last = await b.osb.waitForOperation(instance, res.body.operation, 90_000);
    expect(last.body.state, JSON.stringify(last.body)).toBe('failed');
    expect(last.body.description).toMatch(/cluster b is not configured.*CLUSTERS_FILE/);
    expect(last.body.description).toMatch(
      /recorded with its previous plan and parameters again.*Once the cluster is configured again, update the instance again/,
    );
    const record = await stateOf();
    expect(record).toMatchObject({ state: 'ready', planId: READY_PLAN, cluster: 'b' });
    expect(record?.previous).toBeUndefined();
  }, 180_000);

  it('the API refuses the update and a bind up front, naming the cluster and what to do', async () => {
    const b = await restart(false, false);
    const update = await b.osb.update(instance, { service_id: TESTAPP_SERVICE, plan_id: SHORT_PLAN });
    expect(update.status, JSON.stringify(update.body)).toBe(422);
    expect(update.body.description).toMatch(
      /cluster b, which this broker no longer has in its clusters configuration.*add cluster b to CLUSTERS_FILE again, then update again/,
    );
    const bind = await b.osb.bind(instance, `b-${id}`, { service_id: TESTAPP_SERVICE, plan_id: READY_PLAN });
    expect(bind.status, JSON.stringify(bind.body)).toBe(422);
    expect(bind.body.description).toMatch(/cluster b.*then bind again/);
    expect(await stateOf()).toMatchObject({ state: 'ready', planId: READY_PLAN });
  }, 60_000);

  it('once the cluster is configured again, the instance is updated as usual', async () => {
    const b = await restart(true, true);
    const res = await b.osb.update(instance, { service_id: TESTAPP_SERVICE, plan_id: SHORT_PLAN });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await b.osb.waitForOperation(instance, res.body.operation)).body).toEqual({ state: 'succeeded' });
    expect(await stateOf()).toMatchObject({ state: 'ready', planId: SHORT_PLAN });
  }, 90_000);
});
