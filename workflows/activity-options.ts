// Named activity option profiles: durations and retry policies live here, not at call sites.
import { ActivityCancellationType, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';

/** Short Kubernetes and record writes. Retried with backoff through API server outages. */
export const kubernetesStep: ActivityOptions = {
  // Short: a step whose worker died is retried elsewhere after this long.
  startToCloseTimeout: '30 seconds',
  // An outage longer than this fails the operation (and its compensation retries on its own).
  scheduleToCloseTimeout: '15 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds' },
  // A cancelled operation waits until the step has really stopped: nothing applies behind its back.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

/** Cleanup that must happen: retried much longer, because giving up leaves objects behind. */
export const cleanupStep: ActivityOptions = {
  ...kubernetesStep,
  scheduleToCloseTimeout: '2 hours',
};

/**
 * kubernetesStep as a local activity (the local-steps patch, workflows/VERSIONS.md): the worker that runs the workflow
 * task runs the step itself, with the same timeouts and retries. Retries whose backoff is below
 * localRetryThreshold happen inside the worker (1, 2, 4, 8 s: the SDK keeps the workflow task
 * alive meanwhile); longer ones (16 s, then every 20 s) wait on a durable timer, so an API server
 * outage of minutes is ridden out as before and a worker that dies meanwhile loses nothing.
 * A worker that dies during a local step: its workflow task times out (30 s: broker/operation-start.ts) and another worker
 * runs the step again from its first attempt (every step is idempotent).
 */
export const kubernetesLocalStep: LocalActivityOptions = {
  startToCloseTimeout: kubernetesStep.startToCloseTimeout!,
  scheduleToCloseTimeout: kubernetesStep.scheduleToCloseTimeout!,
  retry: kubernetesStep.retry!,
  localRetryThreshold: '10 seconds',
  cancellationType: kubernetesStep.cancellationType!,
};

/**
 * `options` that give up `seconds` after the step is scheduled: the steps of an operation that
 * has a deadline (the plan's maximum_polling_duration) end by it, instead of retrying an
 * unreachable cluster for the 15 minutes or 2 hours of their profile. Then the step fails with
 * a timeout whose cause is its last attempt's failure (workflows/failure.ts rootMessage).
 */
export function within<T extends ActivityOptions | LocalActivityOptions>(options: T, seconds: number): T {
  return { ...options, scheduleToCloseTimeout: `${Math.max(1, Math.ceil(seconds))} seconds` };
}

/** cleanupStep as a local activity: retried as long. */
export const cleanupLocalStep: LocalActivityOptions = {
  ...kubernetesLocalStep,
  scheduleToCloseTimeout: cleanupStep.scheduleToCloseTimeout!,
};

/**
 * Waiting on Kubernetes (ready, gone, hook Jobs): heartbeats, so a dead worker is noticed within 15 s.
 * The activity ends itself at the operation's deadline, also when every attempt fails
 * (activities/failures.ts byDeadline: the retries below come every 10 s at most).
 */
export function waitStep(timeoutSeconds: number): ActivityOptions {
  return {
    // The safety nets: for one attempt, and for all of them (a worker that never comes back).
    startToCloseTimeout: `${timeoutSeconds + 60} seconds`,
    scheduleToCloseTimeout: `${timeoutSeconds + 120} seconds`,
    heartbeatTimeout: '15 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}
