// Retrying a failed operation: Temporal's reset to the first workflow task, so the operation
// runs again from the start with its original input under the same workflow id and operation
// token (a platform still polling sees it in progress again). The broker's steps are
// idempotent, so running them again is safe; resetting to a later point is left to Temporal's
// UI and CLI (`temporal workflow reset`), for operators who know which steps to skip.
import { randomUUID } from 'node:crypto';
import { bindingWorkflowId, instanceWorkflowId } from '../../platform/temporal/ids.js';
import type { AdminDeps } from './deps.js';

export class RetryError extends Error {
  override readonly name = 'RetryError';
}

export async function retryOperation(
  deps: AdminDeps,
  target: { instanceId: string } | { bindingId: string },
): Promise<{ workflowId: string; runId: string; type: string }> {
  const workflowId = 'bindingId' in target ? bindingWorkflowId(target.bindingId) : instanceWorkflowId(target.instanceId);
  const service = deps.client.workflowService;
  const namespace = deps.settings.temporalNamespace;
  let description;
  try {
    description = await deps.client.workflow.getHandle(workflowId).describe();
  } catch {
    throw new RetryError(`no operation is known for ${workflowId}`);
  }
  const status = description.status.name;
  if (status === 'RUNNING') throw new RetryError(`${description.type} of ${workflowId} is still running; nothing to retry`);
  if (status === 'COMPLETED') throw new RetryError(`the last operation of ${workflowId} (${description.type}) succeeded; nothing to retry`);
  const execution = { workflowId, runId: description.runId };
  // Raw history: only event ids and types are needed, no payload decoding.
  const { history } = await service.getWorkflowExecutionHistory({ namespace, execution });
  const firstTask = history?.events?.find((e) => e.workflowTaskCompletedEventAttributes);
  if (!firstTask?.eventId) throw new RetryError(`${workflowId} has no completed workflow task to reset to`);
  const { runId } = await service.resetWorkflowExecution({
    namespace,
    workflowExecution: execution,
    reason: `kubernetes-broker retry of a ${status.toLowerCase()} ${description.type}`,
    workflowTaskFinishEventId: firstTask.eventId,
    requestId: randomUUID(),
  });
  return { workflowId, runId: runId ?? '', type: description.type };
}
