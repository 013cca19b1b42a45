// last_operation from workflow state: one describe of the instance's (or binding's) workflow,
// whose memo names the operation and, on failure, what went wrong. No worker needed, so it
// answers through worker restarts.
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { badRequest, gone, notFound } from '../api/errors.js';
import type { LastOperation } from '../api/broker.js';
import { operationType } from '../temporal/ids.js';
import type { OperationMemo } from '../workflows/types.js';

type Run = Pick<WorkflowExecutionDescription, 'type' | 'status' | 'memo'>;

/** The operation memo a broker workflow carries (see workflows/types.ts). */
export const memoOf = (run: Pick<Run, 'memo'>) => (run.memo ?? {}) as Partial<OperationMemo>;

/** Describes the latest run of a workflow id, or undefined when Temporal knows none. */
export async function describeLatest(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export const isRunning = (run: Run | undefined) => run?.status.name === 'RUNNING';

const carries = (run: Run, operation: string) => {
  const memo = memoOf(run);
  return memo.operation === operation || memo.pendingOperation === operation;
};

/**
 * Concurrent describes of one workflow id share one call, so that many pollers of one operation
 * cost Temporal one request at a time. A shared answer may predate the caller's request: it is
 * used only when it already carries the operation asked about (then at worst it says `in
 * progress` a moment longer); anything else is asked again.
 */
export class SharedDescribes {
  private readonly inFlight = new Map<string, Promise<WorkflowExecutionDescription | undefined>>();
  constructor(private readonly client: Client) {}

  describe(workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
    let pending = this.inFlight.get(workflowId);
    if (!pending) {
      pending = describeLatest(this.client, workflowId).finally(() => this.inFlight.delete(workflowId));
      this.inFlight.set(workflowId, pending);
    }
    return pending;
  }
}

/** Finds the run of `workflowId` that carried `operation` (the latest first, then older ones). */
export async function findOperationRun(client: Client, workflowId: string, operation: string | undefined, shared?: SharedDescribes): Promise<Run | undefined> {
  if (operation && shared) {
    const joined = await shared.describe(workflowId);
    if (joined && carries(joined, operation)) return joined;
  }
  const latest = await describeLatest(client, workflowId);
  if (!latest || !operation) return latest;
  const memo = memoOf(latest);
  if (carries(latest, operation)) return latest;
  // A DELETE signalled to a running provision that has not recorded it yet.
  if (isRunning(latest) && latest.type === 'provisionInstance' && operationType(operation) === 'deprovision') {
    return { ...latest, memo: { ...memo, pendingOperation: operation } };
  }
  // An earlier operation of the same instance: visibility has every run of the id.
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId.replace(/'/g, "\\'")}'` })) {
    if ((run.memo as Partial<OperationMemo> | undefined)?.operation === operation) return run;
  }
  throw badRequest(`operation ${operation} is unknown for this resource`);
}

/** The OSB answer for `operation` (or the latest one) given the run that carries it. */
export function lastOperationOf(run: Run | undefined, operation: string | undefined): LastOperation {
  if (!run) throw notFound('no operation is known for this resource');
  const memo = memoOf(run);
  const asked = operation ?? memo.pendingOperation ?? memo.operation ?? '';
  const type = operationType(asked);
  if (memo.pendingOperation && asked === memo.pendingOperation) {
    return { state: 'in progress', description: 'deprovisioning: stopping the provision first' };
  }
  switch (run.status.name) {
    case 'RUNNING':
      return { state: 'in progress', description: `${type ?? 'operation'} in progress` };
    case 'COMPLETED':
      // OSB: after an asynchronous delete, the resource is gone.
      if (type === 'deprovision' || type === 'unbind') throw gone();
      return { state: 'succeeded' };
    case 'CONTINUED_AS_NEW':
      // The only continuation: a provision that a DELETE interrupted.
      return { state: 'failed', description: 'provisioning was stopped by a delete request' };
    default: {
      const failure = memo.failure;
      const description = failure?.description ?? `${type ?? 'operation'} ${run.status.name.toLowerCase().replace('_', ' ')} (see the workflow in Temporal)`;
      const result: LastOperation = { state: 'failed', description };
      if (type === 'update' || type === 'deprovision') result.instance_usable = failure?.instanceUsable ?? true;
      if (type === 'update') result.update_repeatable = failure?.updateRepeatable ?? true;
      return result;
    }
  }
}
