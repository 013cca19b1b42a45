// What workflows tell operators beyond their history: a one-line summary on each activity (the
// event history then reads like the operation's story in the Temporal UI) and operation metrics
// through the SDK's metric meter (exported by the worker's Prometheus endpoint, never emitted
// during replay).
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import { KbPlan, KbService } from '../platform/temporal/search-attributes.js';

/** Runs an activity with a summary for the UI: `run(steps.applyInstanceObjects, 'apply plan small', input)`. */
export function run<A extends unknown[], R>(
  activity: ((...args: A) => Promise<R>) & { executeWithOptions(options: { summary: string }, args: A): Promise<R> },
  summary: string,
  ...args: A
): Promise<R> {
  return activity.executeWithOptions({ summary }, args);
}

const finished = metricMeter.createCounter('broker_operations_finished', 'operations', 'Broker operations that finished, by type, service, plan and outcome');
const duration = metricMeter.createHistogram('broker_operation_duration', 'int', 'ms', 'Duration of broker operations from start to finish');

/** Counts a finished operation and its duration, labelled with the service and plan names. */
export function operationFinished(type: string, outcome: 'succeeded' | 'failed'): void {
  const info = workflowInfo();
  const attributes = {
    type,
    outcome,
    service: info.typedSearchAttributes.get(KbService) ?? '',
    plan: info.typedSearchAttributes.get(KbPlan) ?? '',
  };
  finished.add(1, attributes);
  duration.record(Date.now() - info.runStartTime.getTime(), attributes);
}
