// Lifecycle hooks: runs the Jobs of a plan's `hooks/<event>/` (catalog/hooks.ts renders them)
// one after another in the instance's namespace, waits with a watch until each is Complete or
// Failed (activities/watch-until.ts), and deletes them once all succeeded. A failed Job stays
// for diagnosis until the next run of the hook, the compensation or deprovision's sweep (it
// carries the instance's labels). Also: the Secret a bind hook writes for its binding, and
// deleting a binding's hook leftovers.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { RenderError } from '../catalog/errors.js';
import { isBindingHookEvent, renderHookJobs } from '../catalog/hooks.js';
import { BINDING_ID_LABEL, HOOK_LABEL, INSTANCE_ID_LABEL, instanceSelector } from '../catalog/labels.js';
import type { Catalog, HookEvent, KubernetesObject, Plan } from '../catalog/types.js';
import type { KubeApi } from '../platform/kube/api.js';
import { KubeApiError } from '../platform/kube/errors.js';
import { withInstallation } from '../platform/kube/installation.js';
import { fieldManagerFor } from './apply-objects.js';
import { instanceValues, type ActivityDeps } from './deps.js';
import { byDeadline, clusterClient, NON_RETRYABLE, step, toActivityFailure } from './failures.js';
import { podDiagnosis, readiness } from '../platform/kube/readiness.js';
import { findPlanNow } from './plans.js';
import { createVerifier } from './verify.js';
import { WATCH_SECONDS, watchUntil } from './watch-until.js';

export interface HookInput {
  instanceId: string;
  event: HookEvent;
  /** Bind and unbind hooks: the binding. */
  bindingId?: string;
  /**
   * The plan the caller believes the instance runs: when it has no Job for the event, nothing is
   * read or run. The hook itself always comes from the plan in the instance's record.
   */
  planId?: string;
  /** Epoch milliseconds: when the hook fails, for every Job of the event together. */
  deadline: number;
  /** Bind hooks (and a failed bind's unbind hook): the bind request's context, whose organization must be the instance's. */
  context?: Record<string, unknown>;
}

export interface HookResult {
  /** Names of the Jobs that ran (none: the plan has no hook for the event, or the instance is gone). */
  jobs: string[];
}

/**
 * On each hook Job: the workflow run that started it. A Job of another run is left from an
 * earlier operation (a failed hook kept for diagnosis) and is replaced, so that retrying the
 * operation runs the hook again; a Job of this run (a retried activity) is waited for as it is.
 */
export const HOOK_RUN_ANNOTATION = 'kubernetes-broker.io/workflow-run';
const JOB = { apiVersion: 'batch/v1', kind: 'Job' } as const;
/** How long a replaced Job may take to disappear before the attempt is retried. */
const GONE_WAIT_MS = 30_000;

export function createLifecycleHookActivities(deps: ActivityDeps) {
  const { clusters, records, catalog, settings } = deps;
  const verify = createVerifier(deps);

  async function runHook(input: HookInput): Promise<HookResult> {
    const ctx = Context.current();
    if (input.planId !== undefined) {
      // A plan of an offering added at runtime that this worker has not seen yet: look again.
      if (!planById(catalog, input.planId) && catalog.refresh) await catalog.refresh();
      if (!planById(catalog, input.planId)?.hooks?.[input.event]) return { jobs: [] };
    }
    const stored = await step('read the instance record', () => records.getInstance(input.instanceId));
    await verify.hook(input, stored?.record);
    // Deleted meanwhile: there is nothing to run the hook against.
    if (!stored) return { jobs: [] };
    const { record } = stored;
    const found = await findPlanNow(catalog, record.serviceId, record.planId);
    if (!found) {
      throw ApplicationFailure.nonRetryable(
        `plan ${record.planId} of instance ${input.instanceId} is not in the broker's catalog; restore it in the catalog to operate this instance`,
        NON_RETRYABLE.invalidInput,
      );
    }
    if (!found.plan.hooks?.[input.event]) return { jobs: [] };
    const kube = clusterClient(clusters, record.cluster, record.instanceId);
    let jobs: KubernetesObject[];
    try {
      jobs = renderHookJobs(found.service, found.plan, input.event, instanceValues(stored, settings), input.bindingId).map((j) =>
        withInstallation(j, settings.installation),
      );
    } catch (err) {
      if (err instanceof RenderError) throw ApplicationFailure.nonRetryable(`${input.event} hook: ${err.message}`, NON_RETRYABLE.invalidInput);
      throw err;
    }
    // Activities of a workflow always have one; a standalone run (tests) counts as its own run.
    const runId = ctx.info.workflowExecution?.runId ?? ctx.info.activityId;
    const namespace = record.namespace;
    const selector = hookSelector(input.instanceId, input.event, input.bindingId);
    const names = jobs.map((j) => j.metadata.name);
    for (const [i, job] of jobs.entries()) {
      job.metadata.annotations = { ...job.metadata.annotations, [HOOK_RUN_ANNOTATION]: runId };
      await startJob(kube, job, input.event, input.instanceId, runId, input.deadline);
      await waitJob(kube, ctx, {
        event: input.event,
        namespace,
        name: job.metadata.name,
        selector,
        deadline: input.deadline,
        notStarted: names.slice(i + 1),
      });
    }
    // All succeeded: they would only pile up (their pods go with them). By the labels, never by
    // name: a Job of that name may be another instance's.
    await step(`delete the finished ${input.event} Jobs`, () => kube.deleteCollection(JOB.apiVersion, JOB.kind, namespace, selector));
    return { jobs: names };
  }

  return {
    /** Runs the hook's Jobs of the event; a no-op when the plan has none. */
    runHookJobs: (input: HookInput) => byDeadline(input.deadline, () => runHook(input)),

    /**
     * A binding's hook leftovers: its bind and unbind Jobs (and so their pods) and the Secret the
     * bind hook wrote. Unbind and a failed bind call it. A no-op for plans without binding hooks.
     */
    async deleteBindingHookObjects(input: { instanceId: string; bindingId: string; planId?: string }): Promise<void> {
      if (input.planId !== undefined) {
        const plan = planById(catalog, input.planId);
        if (plan && !plan.hooks?.onBindInstance && !plan.hooks?.onUnbindInstance) return;
      }
      const stored = await step('read the instance record', () => records.getInstance(input.instanceId));
      await verify.unbind(input);
      if (!stored) return; // deprovision deleted everything of the instance
      const selector = bindingSelector(input.instanceId, input.bindingId);
      const ns = stored.record.namespace;
      const kube = clusterClient(clusters, stored.record.cluster, input.instanceId);
      await step(`delete the hook Jobs and Secret of binding ${input.bindingId}`, () =>
        Promise.all([kube.deleteCollection(JOB.apiVersion, JOB.kind, ns, selector), kube.deleteCollection('v1', 'Secret', ns, selector)]),
      );
    },
  };
}

/** The Secret the bind hook wrote for a binding, its data decoded; undefined when there is none. */
export async function readBindingHookSecret(
  kube: KubeApi,
  namespace: string,
  instanceId: string,
  bindingId: string,
): Promise<Record<string, string> | undefined> {
  const selector = bindingSelector(instanceId, bindingId);
  const list = await kube.list<KubernetesObject & { data?: Record<string, string> }>('v1', 'Secret', namespace, { labelSelector: selector });
  if (list.items.length === 0) return undefined;
  if (list.items.length > 1) {
    throw ApplicationFailure.nonRetryable(
      `the bind hook wrote ${list.items.length} Secrets labelled ${selector} in ${namespace} (${list.items
        .map((s) => s.metadata.name)
        .sort()
        .join(', ')}); $hook_ placeholders read exactly one`,
      NON_RETRYABLE.invalidInput,
    );
  }
  const data = list.items[0]!.data ?? {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** The instance's Jobs of one hook event (of one binding, for bind and unbind). */
function hookSelector(instanceId: string, event: HookEvent, bindingId: string | undefined): string {
  const binding = isBindingHookEvent(event) && bindingId ? `,${BINDING_ID_LABEL}=${bindingId}` : '';
  return `${instanceSelector(instanceId)},${HOOK_LABEL}=${event}${binding}`;
}

/** What belongs to one binding of an instance. Not the managed-by label: the hook's Secret is written by the Job. */
function bindingSelector(instanceId: string, bindingId: string): string {
  return `${INSTANCE_ID_LABEL}=${instanceId},${BINDING_ID_LABEL}=${bindingId}`;
}

/** Plan ids are unique across the catalog. */
function planById(catalog: Catalog, planId: string): Plan | undefined {
  for (const service of catalog.services) {
    const plan = service.plans.find((p) => p.id === planId);
    if (plan) return plan;
  }
  return undefined;
}

const describeJob = (job: KubernetesObject) => `Job ${job.metadata.namespace}/${job.metadata.name}`;

/**
 * Creates the Job by server-side apply, unless this run created it already. A Job left by another
 * run of this instance is deleted first: a Job's pod template cannot change, and its outcome is
 * not this run's. A Job of that name that is not the instance's (another instance's, whose names
 * collide, or a person's) is never deleted: the hook fails instead.
 */
async function startJob(kube: KubeApi, job: KubernetesObject, event: HookEvent, instanceId: string, runId: string, deadline: number): Promise<void> {
  const { namespace, name } = job.metadata;
  const what = describeJob(job);
  const existing = await step(`read ${what}`, () => kube.get(JOB.apiVersion, JOB.kind, namespace, name));
  if (existing && existing.metadata.labels?.[INSTANCE_ID_LABEL] !== instanceId) {
    // Whose it is stays unsaid: the description reaches this instance's user.
    throw ApplicationFailure.nonRetryable(
      `${event} hook: ${what} exists already and is not this instance's, so the hook does not replace it; name the Job after $short_serviceid in the hook template, or ask the operator to remove the other Job`,
      NON_RETRYABLE.conflict,
    );
  }
  if (existing && !existing.metadata.deletionTimestamp && existing.metadata.annotations?.[HOOK_RUN_ANNOTATION] === runId) return;
  if (existing) {
    // This very Job: if another took its name meanwhile, the delete fails and the retry reads again.
    await step(`delete the earlier ${what}`, () => kube.delete(JOB.apiVersion, JOB.kind, namespace, name, existing.metadata.uid as string | undefined));
    const until = Math.min(deadline, Date.now() + GONE_WAIT_MS);
    while (await step(`read ${what}`, () => kube.get(JOB.apiVersion, JOB.kind, namespace, name))) {
      if (Date.now() >= until) throw ApplicationFailure.retryable(`the earlier ${what} is still being deleted`, 'HookJobNotGone');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    await kube.apply(job, { fieldManager: fieldManagerFor(instanceId), force: false });
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 409 && err.reason === 'Conflict') {
      throw ApplicationFailure.nonRetryable(
        `${what} exists already and is managed by someone else (${err.message}); delete it or rename it in the hook template`,
        NON_RETRYABLE.conflict,
      );
    }
    throw toActivityFailure(err, `apply ${what}`);
  }
}

interface JobWait {
  event: HookEvent;
  namespace: string;
  name: string;
  /** Selects the event's Jobs (a watch per Job name would need a field selector per Job). */
  selector: string;
  deadline: number;
  /** Jobs of the event after this one, for the deadline's message. */
  notStarted: string[];
}

/** Waits until the Job is Complete; fails (non-retryable) when it failed or at the deadline. */
async function waitJob(kube: KubeApi, ctx: Context, w: JobWait): Promise<void> {
  const label = `${w.event} hook: Job ${w.namespace}/${w.name}`;
  let job: KubernetesObject | undefined;
  let deleted = false;
  const status = () => (job ? readiness(job).detail : deleted ? `${label} was deleted` : `${label}: not found yet`);
  await watchUntil(ctx, {
    watches: [
      {
        what: `watch the ${w.event} Jobs`,
        open: (onEvent, signal) =>
          kube.watch(JOB.apiVersion, JOB.kind, w.namespace, { labelSelector: w.selector, timeoutSeconds: WATCH_SECONDS }, onEvent, signal),
        onEvent: (type, obj) => {
          if (obj.metadata?.name !== w.name) return;
          if (type === 'DELETED') deleted = true;
          else if (type !== 'BOOKMARK') job = { ...obj, ...JOB };
        },
      },
    ],
    verdict: () => {
      // Someone deleted it while it ran: the retry creates it again.
      if (deleted) return { fail: ApplicationFailure.retryable(`${label} was deleted before it finished`, 'HookJobDeleted') };
      if (!job) return 'waiting';
      const r = readiness(job);
      if (r.ready) return 'done';
      if (!r.failed) return 'waiting';
      return {
        fail: diagnosis(kube, job).then((pods) =>
          ApplicationFailure.nonRetryable(`${w.event} hook failed: ${r.detail}${pods ? `; ${pods}` : ''}`, NON_RETRYABLE.hookFailed),
        ),
      };
    },
    deadline: w.deadline,
    atDeadline: async () => {
      const pods = job ? await diagnosis(kube, job) : '';
      return ApplicationFailure.nonRetryable(
        `${w.event} hook did not finish within its deadline: ${status()}${pods ? `; ${pods}` : ''}${w.notStarted.length ? `; not started: Jobs ${w.notStarted.join(', ')}` : ''}`,
        NON_RETRYABLE.hookFailed,
      );
    },
    progress: () => ({ hook: w.event, job: w.name, status: status() }),
  });
}

/** What the Job's pods say (scheduling, image pulls, exit codes); '' when nothing can be read. */
async function diagnosis(kube: KubeApi, job: KubernetesObject): Promise<string> {
  const uid = job.metadata.uid;
  if (typeof uid !== 'string') return '';
  try {
    const pods = await kube.list('v1', 'Pod', job.metadata.namespace, { labelSelector: `batch.kubernetes.io/controller-uid=${uid}` });
    return pods.items
      .map((p) => podDiagnosis({ ...p, kind: 'Pod' }))
      .filter((d): d is string => d !== undefined)
      .slice(0, 3)
      .join('; ');
  } catch {
    return ''; // the failure is still clear without the pods
  }
}
