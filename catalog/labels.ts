// Labels the broker owns. Deprovision, status and orphan clean-up all find an instance's
// objects through these, so every module takes them from here.

/** Label carrying the service instance id (the old broker's name, kept so its tooling still works). */
export const INSTANCE_ID_LABEL = 'service_id';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'kubernetes-broker';
/** The old broker's marker, still set on every object for operators' existing selectors. */
export const LEGACY_MANAGED_BY_LABEL = 'managed_by';
export const LEGACY_MANAGED_BY = 'TAP';

/** On lifecycle hook Jobs and their pods: the event (`onCreateInstance`, ...). */
export const HOOK_LABEL = 'kubernetes-broker.io/hook';
/**
 * On bind and unbind hook Jobs and their pods, and on the Secret a bind hook writes: the binding
 * id. (The same key as the binding records' label; those live in the broker's namespace.)
 */
export const BINDING_ID_LABEL = 'kubernetes-broker.io/binding-id';

/** Label selector of every object of one instance. */
export function instanceSelector(instanceId: string): string {
  return `${INSTANCE_ID_LABEL}=${instanceId},${MANAGED_BY_LABEL}=${MANAGED_BY}`;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** A Kubernetes label value: at most 63 characters, alphanumerics with `-_.` inside. '' is valid. */
export function isValidLabelValue(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 63 && LABEL_VALUE.test(value);
}
