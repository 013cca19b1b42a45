// Starting a broker operation: the one place that picks its workflow, workflow id and operation
// token, and writes its memo, the search attributes operators find it by, and the started metric.
import { randomBytes } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import type { ApiMetrics } from '../platform/observability/metrics.js';
import { bindingWorkflowId, instanceWorkflowId, operationToken, type OperationType } from '../platform/temporal/ids.js';
import { operationSearchAttributes } from '../platform/temporal/search-attributes.js';
// Types only: loading a workflow module outside a worker throws (workflows/observe.ts creates
// its metrics with the workflow-only metricMeter), so the API names workflows by their export.
import type * as workflows from '../workflows/index.js';
import { WORKFLOW_TYPES, type OperationMemo } from '../workflows/types.js';

type Workflows = typeof workflows;

type WorkflowOf<T extends OperationType> = Workflows[(typeof WORKFLOW_TYPES)[T]];
/** The input of an operation's workflow, as its function declares it. */
export type WorkflowInput<T extends OperationType> = Parameters<WorkflowOf<T>>[0];

/** What an operation acts on, by name: the search attributes and metric labels it carries. */
export interface OperationSubject {
  instanceId: string;
  /** Service and plan NAMES (what operators search and graph by), not ids. */
  service: string;
  plan: string;
  org: string;
  space: string;
}
type SubjectOf<T extends OperationType> = T extends 'bind' | 'unbind' ? OperationSubject & { bindingId: string } : OperationSubject;

export interface StartedOperation<T extends OperationType> {
  operation: string;
  handle: WorkflowHandle<WorkflowOf<T>>;
}

/** A fresh OSB operation token: `deprovision-3f9c0a1b`. */
export const newOperationToken = (type: OperationType) => operationToken(type, randomBytes(4).toString('hex'));

/**
 * How long a workflow task may run before Temporal gives it to another worker. The SDK's 10 s is
 * short for the tasks that run local steps (workflows/activity-options.ts): the worker keeps such
 * a task alive from 80 % of this timeout on, but under CPU starvation that keep-alive came late,
 * the task timed out and its steps ran again (30 of 100 provisions started at once on a loaded
 * machine; docs/performance.md section 2). The price: a task whose worker died is
 * given to another after 30 s instead of 10 s.
 */
export const WORKFLOW_TASK_TIMEOUT = '30 seconds';

export class OperationStarter {
  /**
   * `eagerClient`: a client on the connection of a worker of this process (`serve --with-worker`,
   * dev mode). Starts go through it and ask for an eager start: the first workflow task comes
   * back in the start's answer and goes straight to that worker, one dispatch fewer. Without a
   * free workflow task slot there, or a server that does not allow it, the start is a normal one.
   */
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly metrics: ApiMetrics | undefined,
    private readonly eagerClient?: Client,
  ) {}

  /**
   * Starts a new operation of `type` on `subject` with the workflow input `inputFor` builds around
   * a fresh operation token. Throws WorkflowExecutionAlreadyStartedError when an operation of the
   * same instance (or binding) runs already: the caller decides what that means.
   */
  async start<T extends OperationType>(
    type: T,
    subject: SubjectOf<T>,
    requestDigest: string,
    inputFor: (operation: string) => WorkflowInput<T>,
  ): Promise<StartedOperation<T>> {
    const operation = newOperationToken(type);
    const bindingId = 'bindingId' in subject ? subject.bindingId : undefined;
    const workflowId = bindingId === undefined ? instanceWorkflowId(subject.instanceId) : bindingWorkflowId(bindingId);
    const started = await (this.eagerClient ?? this.client).workflow.start<WorkflowOf<T>>(WORKFLOW_TYPES[type], {
      workflowId,
      taskQueue: this.taskQueue,
      ...(this.eagerClient ? { requestEagerStart: true } : {}),
      // The typed start options spell out a tuple per workflow; every broker workflow takes one input.
      args: [inputFor(operation)] as Parameters<WorkflowOf<T>>,
      workflowIdConflictPolicy: 'FAIL',
      workflowTaskTimeout: WORKFLOW_TASK_TIMEOUT,
      memo: { operation, requestDigest } satisfies OperationMemo,
      typedSearchAttributes: new TypedSearchAttributes(operationSearchAttributes(type, subject)),
    });
    this.counted(type, subject);
    if (started.eagerlyStarted) this.metrics?.operationsStartedEagerly.inc({ type });
    // Later calls on the run (a bind's bounded wait) go through the API's own connection, whose
    // deadlines they rely on: the same handle start() returns, on that client.
    const handle = this.eagerClient
      ? this.client.workflow.getHandle<WorkflowOf<T>>(workflowId, undefined, { firstExecutionRunId: started.firstExecutionRunId })
      : started;
    return { operation, handle };
  }

  /** Counts an operation the API started: by a workflow start, or by a signal (a DELETE during provisioning). */
  counted(type: OperationType, subject: Pick<OperationSubject, 'service' | 'plan'>): void {
    this.metrics?.operationsStarted.inc({ type, service: subject.service, plan: subject.plan });
  }
}
