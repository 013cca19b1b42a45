// Renders an instance's plan and applies every object with server-side apply. The field
// manager is the instance's own and conflicts are not forced: if another instance or a
// person owns an object of the same name, the apply fails instead of taking it over.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { RenderError } from '../catalog/errors.js';
import { renderPlan } from '../catalog/render.js';
import { hookEventsOf } from '../catalog/hooks.js';
import type { KubernetesObject, Plan } from '../catalog/types.js';
import type { KubeApi } from '../platform/kube/api.js';
import type { InstanceRecord } from '../platform/kube/records.js';
import { KubeApiError } from '../platform/kube/errors.js';
import type { AppliedInstance, ObjectRef } from '../workflows/types.js';
import { instanceValues, type ActivityDeps } from './deps.js';
import { clusterClient, NON_RETRYABLE, step, toActivityFailure } from './failures.js';
import { instanceExtras } from './instance-extras.js';
import { justCreated } from './just-created.js';
import { describeRef, refOf } from './refs.js';
import { coversKinds, kindsOfInstance, unionKinds } from '../platform/kube/owned-kinds.js';
import { findPlanNow } from './plans.js';
import { withInstallation } from '../platform/kube/installation.js';
import { createVerifier } from './verify.js';
import { applyBatches } from '../catalog/apply-batches.js';

export const fieldManagerFor = (instanceId: string) => `kubernetes-broker/${instanceId}`;

export interface ApplyInput {
  instanceId: string;
  planId: string;
  parameters: Record<string, unknown>;
  /** Ask the API server to validate everything without persisting anything. */
  dryRun?: boolean;
}

export function createApplyActivities(deps: ActivityDeps) {
  const { clusters, records, catalog, settings } = deps;
  const verify = createVerifier(deps);
  /** The instance's objects as its plan renders them today, in creation order, and the client of its cluster. */
  async function renderInstance(input: { instanceId: string; planId: string; parameters: Record<string, unknown> }) {
    const stored =
      justCreated.take(Context.current().info.workflowExecution?.runId, input.instanceId) ??
      (await step('read the instance record', () => records.getInstance(input.instanceId)));
    if (!stored) throw ApplicationFailure.nonRetryable(`instance ${input.instanceId} has no record`, NON_RETRYABLE.missingInstance);
    const { record } = stored;
    await verify.apply(input, record);
    const found = await findPlanNow(catalog, record.serviceId, input.planId);
    if (!found) {
      throw ApplicationFailure.nonRetryable(
        `plan ${input.planId} of service ${record.serviceId} is not in the broker's catalog; restore it in the catalog to operate this instance`,
        NON_RETRYABLE.invalidInput,
      );
    }
    let objects: KubernetesObject[];
    try {
      objects = renderPlan(found.service, found.plan, instanceValues(stored, settings, { parameters: input.parameters }));
    } catch (err) {
      if (err instanceof RenderError) throw ApplicationFailure.nonRetryable(err.message, NON_RETRYABLE.invalidInput);
      throw err;
    }
    objects.unshift(...instanceExtras(settings, record, found.plan));
    // Objects applied before installations were labelled get the label here, on the instance's next apply.
    objects = objects.map((o) => withInstallation(o, settings.installation));
    return { objects, plan: found.plan, record, kube: clusterClient(clusters, record.cluster, record.instanceId) };
  }

  /**
   * Before objects of a kind the record does not list yet are applied (an update to a plan with
   * other kinds), the record lists it: the deprovision deletes only the kinds it lists. A plan
   * with hooks may make anything: the record then lists none, for good, and its deprovision
   * deletes every kind, as for a record written before records listed kinds.
   */
  async function recordKinds(record: InstanceRecord, plan: Plan, objects: KubernetesObject[]): Promise<void> {
    const kinds = kindsOfInstance(plan, objects);
    if (!record.kinds || (kinds && coversKinds(record.kinds, kinds))) return;
    await step('record the kinds the instance gets', () =>
      records.updateInstance(record.instanceId, ({ kinds: had, ...r }) => (had && kinds ? { ...r, kinds: unionKinds(had, kinds) } : r)),
    );
  }

  async function applyOne(kube: KubeApi, obj: KubernetesObject, instanceId: string, dryRun: boolean): Promise<void> {
    try {
      await kube.apply(obj, { fieldManager: fieldManagerFor(instanceId), force: false, dryRun });
    } catch (err) {
      const ref = describeRef(refOf(obj));
      if (err instanceof KubeApiError && err.status === 409) {
        throw ApplicationFailure.nonRetryable(
          `${ref} exists already and is managed by someone else (${err.message}); delete it or rename it in the template`,
          NON_RETRYABLE.conflict,
        );
      }
      throw toActivityFailure(err, `apply ${ref}`);
    }
  }

  async function apply(input: ApplyInput): Promise<{ refs: ObjectRef[]; plan: Plan }> {
    const { objects, plan, record, kube } = await renderInstance(input);
    if (!input.dryRun) await verify.ownedNamespace(kube, record);
    if (!input.dryRun) await recordKinds(record, plan, objects);
    // In creation order, so what a workload references exists before it; what needs nothing of
    // each other goes at once (catalog/apply-batches.ts).
    for (const batch of applyBatches(objects)) {
      await Promise.all(batch.map((o) => applyOne(kube, o, input.instanceId, input.dryRun ?? false)));
    }
    return { refs: objects.map(refOf), plan };
  }

  return {
    async applyInstanceObjects(input: ApplyInput): Promise<ObjectRef[]> {
      return (await apply(input)).refs;
    },

    /** applyInstanceObjects, and which lifecycle hooks the plan has (provisions under the local-steps patch). */
    async applyInstance(input: ApplyInput): Promise<AppliedInstance> {
      const { refs, plan } = await apply(input);
      return { objects: refs, hooks: hookEventsOf(plan) };
    },
  };
}
