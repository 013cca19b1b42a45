// Inputs and memo of the broker's workflows. Plain types: safe for workflow code and the API.
import type { HookEvent } from '../catalog/types.js';
import type { OperationType } from '../platform/temporal/ids.js';
import type * as workflows from './index.js';

/** An object the broker created, by reference: workflow history never holds object bodies. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** What applyInstance applied, and which hooks the plan has (a provision without a create hook skips that step). */
export interface AppliedInstance {
  objects: ObjectRef[];
  hooks: HookEvent[];
}

interface InstanceOperation {
  instanceId: string;
  /** The OSB operation token the API answered with. */
  operation: string;
}

export interface ProvisionInput extends InstanceOperation {
  serviceId: string;
  planId: string;
  /** Validated against the plan's schema, defaults applied. */
  parameters: Record<string, unknown>;
  context: Record<string, unknown>;
  org: string;
  space: string;
  namespace: string;
  /** The namespace is made for this instance (per-instance strategy) and deleted with it. */
  ownsNamespace: boolean;
  /** The target cluster routing chose (absent in workflows started before clusters existed: the default). */
  cluster?: string;
  maintenanceInfo?: { version: string };
  /** How long the instance may take to become ready. */
  timeoutSeconds: number;
}

export interface UpdateInput extends InstanceOperation {
  planId: string;
  parameters: Record<string, unknown>;
  context: Record<string, unknown>;
  maintenanceInfo?: { version: string };
  timeoutSeconds: number;
}

export interface DeprovisionInput extends InstanceOperation {
  namespace: string;
  /** The instance's recorded cluster (absent: the default cluster). */
  cluster?: string;
  timeoutSeconds: number;
}

export interface BindInput {
  bindingId: string;
  instanceId: string;
  operation: string;
  serviceId: string;
  planId: string;
  parameters: Record<string, unknown>;
  bindResource?: Record<string, unknown>;
  context: Record<string, unknown>;
  /** How long the plan's bind hook may run (absent in workflows started before hooks existed). */
  hookTimeoutSeconds?: number;
}

export interface UnbindInput {
  bindingId: string;
  instanceId: string;
  operation: string;
  /** The binding's plan (absent in workflows started before hooks existed). */
  planId?: string;
  /** How long the plan's unbind hook may run. */
  hookTimeoutSeconds?: number;
}

/**
 * Seconds a bind or unbind hook may run when the plan sets no `maximum_polling_duration`. Not
 * DEFAULT_OPERATION_TIMEOUT (20 minutes for workloads to start): a binding is answered
 * synchronously when it can, and a hook creating a user should take seconds.
 */
export const DEFAULT_BINDING_HOOK_TIMEOUT_SECONDS = 300;

/** An operator's rollout of the plan's current maintenance_info to every instance of the plan. */
export interface UpgradePlanInput {
  planId: string;
  /** The version the operator's catalog has: the worker's must be the same. */
  maintenanceInfo: { version: string };
  /** How many instances update at once. */
  concurrency: number;
  /** Each update's deadline (the plan's maximum_polling_duration, else the broker's default). */
  timeoutSeconds: number;
}

/** One instance's update as the upgrade starts it: what the API would start for the same PATCH. */
export interface PlannedUpgrade {
  input: UpdateInput;
  memo: OperationMemo;
  /** Service and plan names, org and space: the search attributes of the update. */
  subject: { instanceId: string; service: string; plan: string; org: string; space: string };
}

export interface UpgradeOutcome {
  instanceId: string;
  outcome: 'upgraded' | 'current' | 'failed';
  /** Why it failed: the update's own description, or why it could not start. */
  description?: string;
}

/** What the upgrade has done so far (query `upgradeProgress`), and its result when done. */
export interface UpgradeProgress {
  planId: string;
  version: string;
  /** Every instance of the plan when the upgrade began. */
  total: number;
  /** In the order they finished. */
  outcomes: UpgradeOutcome[];
  /** The instances are listed: `total` counts them. */
  listed: boolean;
  done: boolean;
}

/** What a failed operation tells the platform (OSB last_operation fields). */
export interface OperationFailure {
  description: string;
  instanceUsable?: boolean;
  updateRepeatable?: boolean;
}

/**
 * Workflow memo, read by last_operation through one describe call, so it answers
 * without a worker. Never holds parameters or credentials: `requestDigest` stands for them.
 */
export interface OperationMemo {
  operation: string;
  /** sha256 of the request's identifying attributes, to tell an identical retry from a conflict. */
  requestDigest: string;
  /** A DELETE arrived while this provision ran: the token of that deprovision. */
  pendingOperation?: string;
  failure?: OperationFailure;
}

/**
 * Each operation's workflow type: the name its function is exported under in workflows/index.ts,
 * which is the name the worker registers it by. Never rename one: running workflows and recorded
 * histories carry these names.
 */
export const WORKFLOW_TYPES = {
  provision: 'provisionInstance',
  update: 'updateInstance',
  deprovision: 'deprovisionInstance',
  bind: 'bindInstance',
  unbind: 'unbindInstance',
} as const satisfies { [T in OperationType]: keyof typeof workflows };
