// For unit tests: a Temporal client whose DescribeWorkflowExecution answers as the test says, with
// the broker's data converter (so memos go through the codec when keys are given).
import { Client, type Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { clientDataConverter } from '../platform/temporal/codec.js';

const { temporal } = proto;
type Response = proto.temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;

/** A client whose describe calls `answer`; memos decoded with CODEC_KEYS when given. */
export function describingClient(answer: (workflowId: string) => Promise<Response>, codecKeys?: string): Client {
  const connection = {
    workflowService: {
      describeWorkflowExecution: ({ execution }: { execution: { workflowId: string } }) => answer(execution.workflowId),
    },
  } as unknown as Connection;
  const dataConverter = codecKeys ? clientDataConverter({ CODEC_KEYS: codecKeys }) : undefined;
  return new Client({ connection, namespace: 'default', ...(dataConverter ? { dataConverter } : {}) });
}

/** A DescribeWorkflowExecution answer: a provision run with `memo` (its payloads as given, or JSON). */
export function describeResponse(
  runId: string,
  memo: Record<string, unknown> | { fields: Record<string, proto.temporal.api.common.v1.IPayload> },
  status = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
): Response {
  const fields = 'fields' in memo ? memo.fields : Object.fromEntries(Object.entries(memo).map(([k, v]) => [k, defaultPayloadConverter.toPayload(v)]));
  // fromObject: the timestamps as Longs, as the gRPC client gives them.
  return temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.fromObject({
    workflowExecutionInfo: {
      execution: { workflowId: 'w', runId },
      type: { name: 'provisionInstance' },
      status,
      startTime: { seconds: 1_700_000_000, nanos: 500_000_000 },
      memo: { fields },
    },
  });
}
