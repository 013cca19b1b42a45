// last_operation from workflow state: one describe of the instance's (or binding's) workflow,
// whose memo names the operation and, on failure, what went wrong. No worker needed, so it
// answers through worker restarts.
import { WorkflowContinuedAsNewError, WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import proto from '@temporalio/proto';
import { badRequest, gone, notFound } from './errors.js';
import type { LastOperation } from './service-broker.js';
import { ranOutOfTime } from '../platform/temporal/deadline.js';
import { operationType } from '../platform/temporal/ids.js';
import type { OperationMemo } from '../workflows/types.js';
import { describeRun, MemoCache, type RunDescription } from './run-description.js';

// A CommonJS module: its named exports are reachable through the default import only.
const { temporal } = proto;

type Run = RunDescription;

/** The operation memo a broker workflow carries (see workflows/types.ts). */
export const memoOf = (run: Pick<Run, 'memo'>) => (run.memo ?? {}) as Partial<OperationMemo>;

/** Describes the latest run of a workflow id, or undefined when Temporal knows none (all of it: the endpoints that act read its search attributes). */
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
 * How a wait for a run ended: the run completed, closed another way (failed, continued as new,
 * cancelled, terminated, timed out) or was still running when the time ran out.
 */
export type CloseOutcome = 'completed' | 'closed' | 'running';

/**
 * Waits until one run of a workflow closes, at most until `until`. One long poll of the run's
 * history for its close event (the client's `result()`, bounded by a deadline), so nothing keeps
 * polling after the caller has its answer.
 */
export async function waitForClose(client: Client, workflowId: string, runId: string, until: Date): Promise<CloseOutcome> {
  if (until.getTime() <= Date.now()) return 'running';
  try {
    await client.connection.withDeadline(until, () => client.workflow.getHandle(workflowId, runId, { followRuns: false }).result());
    return 'completed';
  } catch (err) {
    if (ranOutOfTime(err, until.getTime())) return 'running';
    if (err instanceof WorkflowFailedError || err instanceof WorkflowContinuedAsNewError || err instanceof WorkflowNotFoundError) return 'closed';
    throw err;
  }
}

/**
 * A run described while it was running, once its wait said it completed. Its memo still holds:
 * a workflow changes its memo only to record a failure or a DELETE that stops it, and neither
 * ends in a completion.
 */
export function completedRun<R extends Run>(run: R): R {
  return { ...run, status: { code: temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED, name: 'COMPLETED' } };
}

/**
 * Concurrent polls of one operation share their Temporal calls, so that many pollers of one
 * operation cost Temporal one request at a time.
 * - Describes of one workflow id: a shared answer may predate the caller's request, so it is used
 *   only when it already carries the operation asked about (then at worst it says `in progress` a
 *   moment longer); anything else is asked again.
 * - Waits for one run to close: every poller of a run waits until the same moment (see
 *   BrokerCore.operationRun), so they share one long poll.
 */
export class SharedPolls {
  private readonly describes = new Map<string, Promise<Run | undefined>>();
  private readonly waits = new Map<string, Promise<CloseOutcome>>();
  /** Decoded memos of the runs polled lately: a poll decrypts a memo only when it is new. */
  readonly memos = new MemoCache();
  constructor(private readonly client: Client) {}

  describe(workflowId: string): Promise<Run | undefined> {
    return share(this.describes, workflowId, () => describeRun(this.client, workflowId, this.memos));
  }

  waitForClose(workflowId: string, runId: string, until: Date): Promise<CloseOutcome> {
    return share(this.waits, runId, () => waitForClose(this.client, workflowId, runId, until));
  }
}

function share<T>(inFlight: Map<string, Promise<T>>, key: string, call: () => Promise<T>): Promise<T> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = call().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return pending;
}

/** Finds the run of `workflowId` that carried `operation` (the latest first, then older ones). */
export async function findOperationRun(client: Client, workflowId: string, operation: string | undefined, shared?: SharedPolls): Promise<Run | undefined> {
  if (operation && shared) {
    const joined = await shared.describe(workflowId);
    if (joined && carries(joined, operation)) return joined;
  }
  const latest = await describeRun(client, workflowId, shared?.memos);
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
