// What the broker reads of a workflow's latest run (its type, status, run id, start time and
// memo), from one DescribeWorkflowExecution call. The SDK's describe() decodes the whole answer
// into a description (search attributes, a walk over every payload for external storage) of
// which the broker reads these five fields; here only the memo is decoded, and a memo that one
// run already showed with the same bytes is not decrypted again (MemoCache).
import { isGrpcServiceError, ServiceError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { rethrowKnownErrorTypes } from '@temporalio/client/lib/helpers.js';
import { decodeMapFromPayloads } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import type { Payload } from '@temporalio/common';
import { requiredTsToDate } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';

// A CommonJS module: its named exports are reachable through the default import only.
const { temporal } = proto;
const Status = temporal.api.enums.v1.WorkflowExecutionStatus;
const GRPC_NOT_FOUND = 5;

export type RunDescription = Pick<WorkflowExecutionDescription, 'type' | 'status' | 'memo' | 'runId' | 'startTime'>;

/** The SDK's names of the statuses (CANCELLED where the proto says CANCELED). */
const STATUS_NAMES: Record<number, WorkflowExecutionDescription['status']['name']> = {
  [Status.WORKFLOW_EXECUTION_STATUS_RUNNING]: 'RUNNING',
  [Status.WORKFLOW_EXECUTION_STATUS_COMPLETED]: 'COMPLETED',
  [Status.WORKFLOW_EXECUTION_STATUS_FAILED]: 'FAILED',
  [Status.WORKFLOW_EXECUTION_STATUS_CANCELED]: 'CANCELLED',
  [Status.WORKFLOW_EXECUTION_STATUS_TERMINATED]: 'TERMINATED',
  [Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW]: 'CONTINUED_AS_NEW',
  [Status.WORKFLOW_EXECUTION_STATUS_TIMED_OUT]: 'TIMED_OUT',
  [Status.WORKFLOW_EXECUTION_STATUS_PAUSED]: 'PAUSED',
  [Status.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED]: 'UNSPECIFIED',
};

type MemoFields = Record<string, Payload>;

const EMPTY = new Uint8Array();
const sameBytes = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined) => Buffer.compare(a ?? EMPTY, b ?? EMPTY) === 0;

/** Whether two memos hold the same payloads, byte for byte (data and metadata). */
function sameFields(a: MemoFields, b: MemoFields): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    const x = a[key]!;
    const y = b[key];
    if (!y || !sameBytes(x.data, y.data)) return false;
    const meta = Object.keys(x.metadata ?? {});
    if (meta.length !== Object.keys(y.metadata ?? {}).length || meta.some((m) => !sameBytes(x.metadata![m], y.metadata?.[m]))) return false;
  }
  return true;
}

/**
 * Decoded memos by run, at most `size` runs (the least recently used leave first). An entry is
 * used only for the same workflow id and run id and the very same payload bytes: decoding is a
 * function of those, so an entry is never stale; a memo the run changed (a failure recorded, a
 * DELETE pending) has other bytes and is decoded afresh. A new run of the workflow id (a retry
 * resets into a new run) has another run id. The decoded memo is shared: callers copy, never change it.
 */
export class MemoCache {
  private readonly entries = new Map<string, { workflowId: string; fields: MemoFields; memo: Record<string, unknown> }>();
  constructor(private readonly size = 1000) {}

  get(workflowId: string, runId: string, fields: MemoFields): Record<string, unknown> | undefined {
    const entry = this.entries.get(runId);
    if (!entry || entry.workflowId !== workflowId || !sameFields(entry.fields, fields)) return undefined;
    this.entries.delete(runId);
    this.entries.set(runId, entry);
    return entry.memo;
  }

  set(workflowId: string, runId: string, fields: MemoFields, memo: Record<string, unknown>): void {
    this.entries.delete(runId);
    this.entries.set(runId, { workflowId, fields, memo });
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value!);
  }

  get count(): number {
    return this.entries.size;
  }
}

/** The latest run of `workflowId`, or undefined when Temporal knows none. */
export async function describeRun(client: Client, workflowId: string, memos?: MemoCache): Promise<RunDescription | undefined> {
  const namespace = client.options.namespace;
  let info;
  try {
    ({ workflowExecutionInfo: info } = await client.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } }));
  } catch (err) {
    // As the SDK's describe() does: a missing namespace says so, a missing workflow is none.
    if (!isGrpcServiceError(err)) throw new ServiceError('Unexpected error while making gRPC request', { cause: err as Error });
    rethrowKnownErrorTypes(err);
    if ((err.code as number) === GRPC_NOT_FOUND) return undefined;
    throw new ServiceError('Failed to describe workflow', { cause: err });
  }
  const runId = info?.execution?.runId ?? '';
  const code = info?.status ?? Status.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED;
  const fields: MemoFields = info?.memo?.fields ?? {};
  let memo = memos?.get(workflowId, runId, fields);
  if (!memo) {
    memo = (await decodeMapFromPayloads(client.options.loadedDataConverter, fields, { type: 'workflow', namespace, workflowId })) ?? {};
    memos?.set(workflowId, runId, fields, memo);
  }
  return {
    type: info?.type?.name ?? '',
    runId,
    status: { code, name: STATUS_NAMES[code] ?? 'UNKNOWN' },
    startTime: requiredTsToDate(info?.startTime, 'startTime'),
    memo,
  };
}
