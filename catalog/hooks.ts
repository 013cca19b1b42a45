// Lifecycle hooks: Jobs a plan runs when an instance is created or deleted and when a binding is
// created or deleted (the old broker's onCreateInstance, onDeleteInstance, onBindInstance,
// onUnbindInstance). Layout `<plan>/hooks/<event>/*.json|*.yaml|*.yml`, every object a Job; the
// loader reads them (load.ts), this module renders them and checks them at load. Running them
// is activities/lifecycle-hooks.ts; when, the workflows. Format: docs/catalog-format.md.
import type { ProblemSink } from './check.js';
import { SAMPLE_BINDING_ID, sampleValues } from './check.js';
import { RenderError } from './errors.js';
import { BINDING_ID_LABEL, HOOK_LABEL, isValidLabelValue } from './labels.js';
import { declaredParameters } from './parameters.js';
import type { Scope } from './placeholders.js';
import { renderPlan, renderTemplate } from './render.js';
import type { HookEvent, InstanceValues, KubernetesObject, Plan, ServiceOffering } from './types.js';
import { isObject, type Json } from './json.js';

export const HOOKS_DIR = 'hooks';
/** In the order an instance's life meets them. */
export const HOOK_EVENTS: readonly HookEvent[] = ['onCreateInstance', 'onBindInstance', 'onUnbindInstance', 'onDeleteInstance'];
/** Events of one binding: their Jobs know `$binding_id` and carry the binding id label. */
export const BINDING_HOOK_EVENTS: readonly HookEvent[] = ['onBindInstance', 'onUnbindInstance'];

export const isHookEvent = (name: string): name is HookEvent => (HOOK_EVENTS as readonly string[]).includes(name);
export const isBindingHookEvent = (event: HookEvent): boolean => BINDING_HOOK_EVENTS.includes(event);
/** The placeholders a hook's Jobs may use: bind and unbind hooks also know `$binding_id`. */
export const hookScope = (event: HookEvent): Scope => (isBindingHookEvent(event) ? 'hook' : 'template');

/** The events for which the plan has at least one hook Job. */
export function hookEventsOf(plan: Plan): HookEvent[] {
  return (Object.entries(plan.hooks ?? {}) as [HookEvent, unknown[] | undefined][]).filter(([, jobs]) => (jobs?.length ?? 0) > 0).map(([event]) => event);
}

/** The Job controller copies a Job's name into the label `job-name` of its pods: 63 characters at most. */
const MAX_JOB_NAME = 63;

const child = (parent: Json, key: string): Json => {
  const value = parent[key];
  if (isObject(value)) return value;
  const made: Json = {};
  parent[key] = made;
  return made;
};

/**
 * The Jobs of one hook event for an instance (and, for bind and unbind, one binding), in run
 * order; [] when the plan has none. Each carries the instance's standard labels (deprovision's
 * sweep finds leftovers), `kubernetes-broker.io/hook: <event>` and, for bind and unbind,
 * `kubernetes-broker.io/binding-id: <binding id>`, on the Job and on its pod template; it goes to
 * the instance's namespace; its pods get `restartPolicy: Never` unless the template says
 * otherwise. Throws RenderError.
 */
export function renderHookJobs(service: ServiceOffering, plan: Plan, event: HookEvent, values: InstanceValues, bindingId?: string): KubernetesObject[] {
  const templates = plan.hooks?.[event] ?? [];
  if (templates.length === 0) return [];
  if (!values.instanceId || !isValidLabelValue(values.instanceId)) {
    throw new RenderError(`instance id ${JSON.stringify(values.instanceId)} cannot be a Kubernetes label value (at most 63 letters, digits, '-', '_', '.')`);
  }
  const binding = isBindingHookEvent(event);
  const { bindingId: _, ...instanceValues } = values;
  let hookValues: InstanceValues = instanceValues;
  const hookLabels: Record<string, string> = { [HOOK_LABEL]: event };
  if (binding) {
    if (!bindingId || !isValidLabelValue(bindingId)) {
      throw new RenderError(
        `binding id ${JSON.stringify(bindingId ?? '')} cannot be a Kubernetes label value (at most 63 letters, digits, '-', '_', '.', starting and ending with a letter or digit), and the ${event} hook's Jobs and Secret are found by it`,
      );
    }
    hookValues = { ...instanceValues, bindingId };
    hookLabels[BINDING_ID_LABEL] = bindingId;
  }
  const params = declaredParameters(plan.schemas);
  return templates.map((template) => {
    const job = renderTemplate(service, plan, hookValues, template, params, hookScope(event));
    if (job.metadata.name.length > MAX_JOB_NAME) {
      throw new RenderError(
        `metadata.name ${JSON.stringify(job.metadata.name)} is longer than ${MAX_JOB_NAME} characters: a Job's name becomes the label job-name of its pods`,
        template.file,
      );
    }
    job.metadata.labels = { ...job.metadata.labels, ...hookLabels };
    const pod = child(child(job, 'spec'), 'template');
    const podMetadata = child(pod, 'metadata');
    podMetadata.labels = { ...(isObject(podMetadata.labels) ? podMetadata.labels : {}), ...hookLabels };
    // Jobs accept Never or OnFailure only; Never keeps every failed attempt's pod for diagnosis.
    const podSpec = child(pod, 'spec');
    if (podSpec.restartPolicy === undefined) podSpec.restartPolicy = 'Never';
    return job;
  });
}

/**
 * Load-time checks of a plan's hooks, on a sample instance: every hook renders; bind and unbind
 * Jobs have names that differ per binding (two bindings of one instance run at the same time);
 * no two Jobs of the plan (hooks and k8s/ templates) share a name, since a hook deletes its Jobs
 * when done.
 */
export function checkHooksRender(service: ServiceOffering, plan: Plan, sink: ProblemSink): void {
  if (!plan.hooks) return;
  const values = sampleValues(plan);
  const names = new Map<string, string>();
  try {
    renderPlan(service, plan, values).forEach((object, i) => {
      if (object.kind === 'Job') names.set(object.metadata.name, plan.templates[i]!.file);
    });
  } catch (err) {
    // checkPlanRender has said what is wrong with the templates.
    if (!(err instanceof RenderError)) throw err;
  }
  for (const event of HOOK_EVENTS) {
    const templates = plan.hooks[event];
    if (!templates) continue;
    const binding = isBindingHookEvent(event);
    let jobs: KubernetesObject[];
    try {
      jobs = renderHookJobs(service, plan, event, values, binding ? SAMPLE_BINDING_ID : undefined);
    } catch (err) {
      if (!(err instanceof RenderError)) throw err;
      sink.error({ file: err.file ?? `${plan.dir}/${HOOKS_DIR}/${event}`, message: err.detail });
      continue;
    }
    const other = binding ? renderHookJobs(service, plan, event, values, OTHER_SAMPLE_BINDING_ID) : [];
    jobs.forEach((job, i) => {
      const file = templates[i]!.file;
      const name = job.metadata.name;
      if (binding && other[i]?.metadata.name === name) {
        sink.error({
          file,
          field: 'metadata.name',
          message: `${event} Jobs run once per binding, and bindings of one instance may be made at the same time: the name must contain $binding_id`,
        });
      }
      const first = names.get(name);
      if (first) sink.error({ file, field: 'metadata.name', message: `Job ${name} is also created by ${first}` });
      else names.set(name, file);
    });
  }
}

const OTHER_SAMPLE_BINDING_ID = '00000000-0000-4000-8000-0000000000b2';
