// The boundary between the HTTP layer and the broker's behaviour: one method per OSB endpoint.
// Provision and bind requests arrive checked (broker/request-checks.ts: catalog ids, parameter
// schemas, maintenance_info, a trial render); an update's checks need the instance's record, so
// the implementation runs them (checkUpdate). Methods throw BrokerError for OSB failures. The
// Temporal-backed implementation is broker/temporal-broker.ts.
import type { Plan, ServiceOffering } from '../catalog/types.js';

export type Operation = { operation: string };

export interface ProvisionRequest {
  instanceId: string;
  service: ServiceOffering;
  plan: Plan;
  parameters: Record<string, unknown>;
  context: Record<string, unknown>;
  org: string;
  space: string;
  maintenanceInfo?: { version: string };
  acceptsIncomplete: boolean;
}
export type ProvisionResult = { status: 'accepted'; operation: string } | { status: 'exists' };

export interface UpdateRequest {
  instanceId: string;
  service: ServiceOffering;
  /** The plan after the update (the current one when the request names none). */
  plan?: Plan;
  /** Absent: parameters stay as they are. */
  parameters?: Record<string, unknown>;
  context: Record<string, unknown>;
  maintenanceInfo?: { version: string };
  acceptsIncomplete: boolean;
}
export type UpdateResult = { status: 'accepted'; operation: string } | { status: 'unchanged' };

export interface DeprovisionRequest {
  instanceId: string;
  serviceId: string;
  planId: string;
  /**
   * The catalog serves `serviceId`. A DELETE naming a service the catalog no longer has (an
   * offering removed meanwhile) still deprovisions an instance that exists: unknown services
   * are a 400 only when there is nothing to delete.
   */
  serviceKnown: boolean;
  acceptsIncomplete: boolean;
}

export interface LastOperation {
  state: 'in progress' | 'succeeded' | 'failed';
  description?: string;
  instance_usable?: boolean;
  update_repeatable?: boolean;
}

export interface InstanceDetails {
  service_id: string;
  plan_id: string;
  parameters: Record<string, unknown>;
  maintenance_info?: { version: string };
  /** The context of the last provision or update (an extension: OSB's fetch answer has no such field). */
  context: Record<string, unknown>;
  metadata: { labels: Record<string, string>; attributes: Record<string, string> };
}

export interface BindRequest {
  instanceId: string;
  bindingId: string;
  service: ServiceOffering;
  plan: Plan;
  /** Absent only for a rotation, which then inherits the predecessor's. */
  parameters?: Record<string, unknown>;
  bindResource?: Record<string, unknown>;
  context: Record<string, unknown>;
  /** Rotation: the binding this one succeeds. */
  predecessorBindingId?: string;
  acceptsIncomplete: boolean;
}

export interface BindingDetails {
  credentials: Record<string, unknown>;
  endpoints?: { host: string; ports: string[]; protocol?: string }[];
  parameters: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}
export type BindResult = ({ status: 'created' } & BindingDetails) | ({ status: 'exists' } & BindingDetails) | { status: 'accepted'; operation: string };

export interface UnbindRequest {
  instanceId: string;
  bindingId: string;
  acceptsIncomplete: boolean;
}
export type RemovalResult = { status: 'accepted'; operation: string } | { status: 'done' };

export interface Broker {
  /** PUT /v2/service_instances/:instance_id */
  provision(req: ProvisionRequest): Promise<ProvisionResult>;
  /** GET /v2/service_instances/:instance_id */
  getInstance(instanceId: string): Promise<InstanceDetails>;
  /** PATCH /v2/service_instances/:instance_id */
  update(req: UpdateRequest): Promise<UpdateResult>;
  /** DELETE /v2/service_instances/:instance_id */
  deprovision(req: DeprovisionRequest): Promise<RemovalResult>;
  /** GET /v2/service_instances/:instance_id/last_operation */
  lastOperation(instanceId: string, operation: string | undefined): Promise<LastOperation>;
  /** PUT /v2/service_instances/:instance_id/service_bindings/:binding_id */
  bind(req: BindRequest): Promise<BindResult>;
  /** GET /v2/service_instances/:instance_id/service_bindings/:binding_id */
  getBinding(instanceId: string, bindingId: string): Promise<BindingDetails>;
  /** DELETE /v2/service_instances/:instance_id/service_bindings/:binding_id */
  unbind(req: UnbindRequest): Promise<RemovalResult>;
  /** GET /v2/service_instances/:instance_id/service_bindings/:binding_id/last_operation */
  bindingLastOperation(instanceId: string, bindingId: string, operation: string | undefined): Promise<LastOperation>;
  /** Whether Temporal and Kubernetes answer (GET /readyz). */
  ready(): Promise<{ ok: boolean; checks: Record<string, string> }>;
}
