// A TemporalBroker for unit tests: a Temporal client that records its starts and knows no
// running workflow, and records held in memory. No Temporal, no Kubernetes.
import { WorkflowNotFoundError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Catalog } from '../catalog/types.js';
import { SINGLE_CLUSTER } from '../platform/config/clusters.js';
import type { BindingRecord, InstanceRecord, RecordStore } from '../platform/kube/records.js';
import { ApiMetrics } from '../platform/observability/metrics.js';
import { TemporalBroker } from './temporal-broker.js';

const SERVICE_ID = 'db-service-id';
const PLAN_ID = 'db-small-id';

/** A ready instance of the base catalog's db/small (catalog/testing.ts). */
export const instanceRecord: InstanceRecord = {
  instanceId: 'inst-1',
  serviceId: SERVICE_ID,
  planId: PLAN_ID,
  parameters: {},
  context: {},
  org: 'org-1',
  space: 'space-1',
  namespace: 'ns-1',
  ownsNamespace: false,
  state: 'ready',
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
};
/** A binding of instanceRecord. */
export const bindingRecord: BindingRecord = {
  bindingId: 'bind-1',
  instanceId: 'inst-1',
  serviceId: SERVICE_ID,
  planId: PLAN_ID,
  parameters: {},
  context: {},
  createdAt: '2026-01-01T00:00:00Z',
};

/**
 * A broker whose Temporal knows no workflow (every start succeeds, every workflow finishes at
 * once) and whose records hold `instance` and `binding`. A started bind writes its binding.
 */
export function temporalBrokerOverFakes(catalog: Catalog, records: { instance?: InstanceRecord; binding?: BindingRecord }) {
  const starts: { workflowType: string; options: WorkflowStartOptions }[] = [];
  const bindings = new Map(records.binding ? [[records.binding.bindingId, records.binding]] : []);
  const handle = { result: () => Promise.resolve(undefined) };
  const client = {
    workflow: {
      start: (workflowType: string, options: WorkflowStartOptions) => {
        starts.push({ workflowType, options });
        if (workflowType === 'bindInstance') bindings.set(bindingRecord.bindingId, bindingRecord);
        return Promise.resolve(handle);
      },
      getHandle: (workflowId: string) => ({
        describe: () => Promise.reject(new WorkflowNotFoundError('not found', workflowId, undefined)),
        result: handle.result,
      }),
    },
    connection: { withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn() },
  } as unknown as Client;
  const store = {
    getInstance: (id: string) => Promise.resolve(records.instance?.instanceId === id ? { record: records.instance, randoms: {} } : undefined),
    getBinding: (id: string) => {
      const record = bindings.get(id);
      return Promise.resolve(record ? { record, credentials: {} } : undefined);
    },
    listInstances: () => Promise.resolve(records.instance ? [records.instance] : []),
    countedInstances: (org: string) => Promise.resolve(records.instance?.org === org ? [records.instance] : []),
  } as unknown as RecordStore;
  const metrics = new ApiMetrics();
  const broker = new TemporalBroker({
    client,
    records: store,
    catalog,
    metrics,
    settings: {
      taskQueue: 'broker',
      namespaceStrategy: 'fixed',
      instanceNamespace: 'ns-1',
      defaultTimeoutSeconds: 60,
      syncBindTimeoutMs: 1000,
      lastOperationWaitMs: 0,
      clusters: SINGLE_CLUSTER,
    },
  });
  return { broker, starts, metrics };
}
