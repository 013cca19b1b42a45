// Workflow ids and OSB operation tokens. Pure functions: imported by the API and by workflows.
//
// One workflow id per instance (and per binding) for all of its operations, so Temporal itself
// refuses a second concurrent operation and finds the running one for a retried request.
// The workflow type says which operation it is; the OSB `operation` token names the run.

export type OperationType = 'provision' | 'update' | 'deprovision' | 'bind' | 'unbind';

export const instanceWorkflowId = (instanceId: string) => `instance:${instanceId}`;
export const bindingWorkflowId = (bindingId: string) => `binding:${bindingId}`;
/** An operator's rollout of a plan's maintenance_info: one at a time per plan, which a second start joins. */
export const upgradeWorkflowId = (planId: string) => `upgrade-plan:${planId}`;

/** `provision-3f9c0a1b`: the operation's type and a random suffix chosen by the API. */
export function operationToken(type: OperationType, suffix: string): string {
  return `${type}-${suffix}`;
}

export function operationType(token: string): OperationType | undefined {
  const type = token.slice(0, token.lastIndexOf('-'));
  return (['provision', 'update', 'deprovision', 'bind', 'unbind'] as const).find((t) => t === type);
}
