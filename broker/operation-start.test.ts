// Every operation the broker starts carries the same search attributes (what operators find it
// by in Temporal) and counts in broker_operations_started_total: each operation type through
// TemporalBroker, against a Temporal client that records its starts and records in memory.
import type { TypedSearchAttributes } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/load.js';
import { baseCatalog, removeCatalog, writeCatalog } from '../catalog/testing.js';
import type { Catalog } from '../catalog/types.js';
import type { BindingRecord, InstanceRecord } from '../platform/kube/records.js';
import type { OperationType } from '../platform/temporal/ids.js';
import { KbBindingId, KbInstanceId, KbOperation, KbOrg, KbPlan, KbService, KbSpace } from '../platform/temporal/search-attributes.js';
import { WORKFLOW_TASK_TIMEOUT } from './operation-start.js';
import { bindingRecord, instanceRecord, temporalBrokerOverFakes } from './testing.js';

const SERVICE_ID = 'db-service-id';
const PLAN_ID = 'db-small-id';

let catalogDir: string;
let catalog: Catalog;

beforeAll(async () => {
  catalogDir = writeCatalog(baseCatalog());
  catalog = (await loadCatalog(catalogDir)).catalog;
});
afterAll(() => removeCatalog(catalogDir));

const setup = (records: { instance?: InstanceRecord; binding?: BindingRecord }) => temporalBrokerOverFakes(catalog, records);

const context = { platform: 'cloudfoundry', organization_guid: 'org-1', space_guid: 'space-1' };

/** Each operation type, started from the state it needs. */
const operations: { type: OperationType; workflowType: string; run: () => Promise<ReturnType<typeof setup>> }[] = [
  {
    type: 'provision',
    workflowType: 'provisionInstance',
    run: async () => {
      const s = setup({});
      const service = catalog.findService(SERVICE_ID)!;
      const plan = catalog.findPlan(SERVICE_ID, PLAN_ID)!.plan;
      await s.broker.provision({ instanceId: 'inst-1', service, plan, parameters: {}, context, org: 'org-1', space: 'space-1', acceptsIncomplete: true });
      return s;
    },
  },
  {
    type: 'update',
    workflowType: 'updateInstance',
    run: async () => {
      const s = setup({ instance: instanceRecord });
      await s.broker.update({ instanceId: 'inst-1', service: catalog.findService(SERVICE_ID)!, parameters: { size: 2 }, context, acceptsIncomplete: true });
      return s;
    },
  },
  {
    type: 'deprovision',
    workflowType: 'deprovisionInstance',
    run: async () => {
      const s = setup({ instance: instanceRecord });
      await s.broker.deprovision({ instanceId: 'inst-1', serviceId: SERVICE_ID, planId: PLAN_ID, serviceKnown: true, acceptsIncomplete: true });
      return s;
    },
  },
  {
    type: 'bind',
    workflowType: 'bindInstance',
    run: async () => {
      const s = setup({ instance: instanceRecord });
      const { service, plan } = catalog.findPlan(SERVICE_ID, PLAN_ID)!;
      await s.broker.bind({ instanceId: 'inst-1', bindingId: 'bind-1', service, plan, parameters: {}, context, acceptsIncomplete: true });
      return s;
    },
  },
  {
    type: 'unbind',
    workflowType: 'unbindInstance',
    run: async () => {
      const s = setup({ instance: instanceRecord, binding: bindingRecord });
      await s.broker.unbind({ instanceId: 'inst-1', bindingId: 'bind-1', acceptsIncomplete: true });
      return s;
    },
  },
];

describe.each(operations)('$type', ({ type, workflowType, run }) => {
  const binding = type === 'bind' || type === 'unbind';

  it('starts its workflow under the instance (or binding) workflow id with the operation memo', async () => {
    const { starts } = await run();
    expect(starts).toHaveLength(1);
    const { options } = starts[0]!;
    expect(starts[0]!.workflowType).toBe(workflowType);
    expect(options.workflowId).toBe(binding ? 'binding:bind-1' : 'instance:inst-1');
    expect(options.taskQueue).toBe('broker');
    expect(options.workflowTaskTimeout).toBe(WORKFLOW_TASK_TIMEOUT);
    expect(options.memo).toEqual({ operation: expect.stringMatching(new RegExp(`^${type}-[0-9a-f]{8}$`)), requestDigest: expect.any(String) });
    expect((options.args as [{ operation: string }])[0].operation).toBe((options.memo as { operation: string }).operation);
  });

  it('carries every search attribute, the plan by name', async () => {
    const { starts } = await run();
    const attributes = starts[0]!.options.typedSearchAttributes as TypedSearchAttributes;
    expect({
      instanceId: attributes.get(KbInstanceId),
      service: attributes.get(KbService),
      plan: attributes.get(KbPlan),
      org: attributes.get(KbOrg),
      space: attributes.get(KbSpace),
      operation: attributes.get(KbOperation),
      bindingId: attributes.get(KbBindingId),
    }).toEqual({
      instanceId: 'inst-1',
      service: 'db',
      plan: 'small',
      org: 'org-1',
      space: 'space-1',
      operation: type,
      bindingId: binding ? 'bind-1' : undefined,
    });
  });

  it('counts in broker_operations_started_total', async () => {
    const { metrics } = await run();
    const { values } = await metrics.operationsStarted.get();
    expect(values.map((v) => ({ labels: v.labels, value: v.value }))).toEqual([{ labels: { type, service: 'db', plan: 'small' }, value: 1 }]);
  });
});
