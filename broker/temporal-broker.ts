// The Broker port backed by Temporal: every OSB endpoint, decided from the durable records and
// the state of Temporal workflows, never touching the instance's Kubernetes objects itself. The
// one class the rest of the code constructs; the work is split by what a request acts on
// (instance-operations.ts, binding-operations.ts) over what both share (broker-core.ts).
import type {
  BindRequest,
  BindResult,
  Broker,
  BindingDetails,
  DeprovisionRequest,
  InstanceDetails,
  LastOperation,
  ProvisionRequest,
  ProvisionResult,
  RemovalResult,
  UnbindRequest,
  UpdateRequest,
  UpdateResult,
} from './service-broker.js';
import { BindingOperations } from './binding-operations.js';
import { BrokerCore, type BrokerDeps } from './broker-core.js';
import { InstanceOperations } from './instance-operations.js';
import { probeReadiness } from './readiness.js';

export class TemporalBroker implements Broker {
  private readonly core: BrokerCore;
  private readonly instances: InstanceOperations;
  private readonly bindings: BindingOperations;

  constructor(deps: BrokerDeps) {
    this.core = new BrokerCore(deps);
    this.instances = new InstanceOperations(this.core);
    this.bindings = new BindingOperations(this.core);
  }

  provision(req: ProvisionRequest): Promise<ProvisionResult> {
    return this.instances.provision(req);
  }

  getInstance(instanceId: string): Promise<InstanceDetails> {
    return this.instances.getInstance(instanceId);
  }

  update(req: UpdateRequest): Promise<UpdateResult> {
    return this.instances.update(req);
  }

  deprovision(req: DeprovisionRequest): Promise<RemovalResult> {
    return this.instances.deprovision(req);
  }

  lastOperation(instanceId: string, operation: string | undefined): Promise<LastOperation> {
    return this.instances.lastOperation(instanceId, operation);
  }

  bind(req: BindRequest): Promise<BindResult> {
    return this.bindings.bind(req);
  }

  getBinding(instanceId: string, bindingId: string): Promise<BindingDetails> {
    return this.bindings.getBinding(instanceId, bindingId);
  }

  unbind(req: UnbindRequest): Promise<RemovalResult> {
    return this.bindings.unbind(req);
  }

  bindingLastOperation(instanceId: string, bindingId: string, operation: string | undefined): Promise<LastOperation> {
    return this.bindings.bindingLastOperation(instanceId, bindingId, operation);
  }

  ready(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    return probeReadiness(this.core.client, this.core.records, this.core.catalog);
  }
}
