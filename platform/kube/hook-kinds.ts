// What a plan's lifecycle hook Jobs can leave behind, read from the plan's own RBAC. A hook runs
// the catalog's code, so in general it may make anything and a deprovision has to sweep every
// kind (about 40 requests). But a hook whose pod holds no token, or the token of an account the
// plan makes and binds only to its own Roles granting Secrets or ConfigMaps, can make nothing
// else: then the sweep can stay narrow (about 15 requests).
import type { KubernetesObject, Plan } from '../../catalog/types.js';
import type { KindRef } from './owned-kinds.js';
import { isObject, type Json } from '../../catalog/json.js';

const objectAt = (v: unknown, ...path: string[]): Json | undefined => {
  let at: unknown = v;
  for (const key of path) at = isObject(at) ? at[key] : undefined;
  return isObject(at) ? at : undefined;
};
const listAt = (v: Json | undefined, key: string): unknown[] => (Array.isArray(v?.[key]) ? (v[key] as unknown[]) : []);

/** Resources a hook's Role may grant, and the kinds they are. Each makes nothing of its own. */
const GRANTABLE: Record<string, KindRef> = {
  secrets: { apiVersion: 'v1', kind: 'Secret' },
  configmaps: { apiVersion: 'v1', kind: 'ConfigMap' },
};

const JOB_KINDS: KindRef[] = [
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'v1', kind: 'Pod' },
];

/** Whether the pod can reach the API server as anyone: a mounted or projected account token. */
function holdsToken(pod: Json): boolean {
  const projectsToken = listAt(pod, 'volumes').some((v) => listAt(objectAt(v, 'projected'), 'sources').some((s) => isObject(s) && 'serviceAccountToken' in s));
  return pod['automountServiceAccountToken'] !== false || projectsToken;
}

/**
 * The kinds of objects the plan's hooks may make: their Jobs and Pods, and what the plan's own
 * Roles let the hooks' account create. Undefined when that cannot be known from the plan: a
 * hook's pod holds the token of an account the plan does not make (the namespace's `default`,
 * bound by whoever), or the account is bound to a ClusterRole or to a Role that grants more than
 * Secrets and ConfigMaps. (A binding of the plan's account made outside the catalog is not seen.)
 */
export function kindsHooksMayMake(plan: Plan): KindRef[] | undefined {
  const templates: KubernetesObject[] = plan.templates.map((t) => t.body);
  const named = (kind: string) => new Map(templates.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o as unknown as Json]));
  const accounts = named('ServiceAccount');
  const roles = named('Role');
  const kinds: KindRef[] = [...JOB_KINDS];
  const hookAccounts = new Set<string>();
  for (const job of Object.values(plan.hooks ?? {}).flatMap((jobs) => jobs ?? [])) {
    if (job.body.kind !== 'Job') return undefined;
    const pod = objectAt(job.body, 'spec', 'template', 'spec');
    if (!pod) return undefined;
    const account = pod['serviceAccountName'];
    if (!holdsToken(pod)) continue;
    if (typeof account !== 'string' || !accounts.has(account)) return undefined;
    hookAccounts.add(account);
  }
  for (const binding of templates.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const subjects = listAt(binding, 'subjects');
    const bindsHookAccount = subjects.some((s) => isObject(s) && s['kind'] === 'ServiceAccount' && hookAccounts.has(String(s['name'])));
    if (!bindsHookAccount) continue;
    const ref = objectAt(binding, 'roleRef');
    const role = binding.kind === 'RoleBinding' && ref?.['kind'] === 'Role' ? roles.get(String(ref['name'])) : undefined;
    if (!role) return undefined;
    for (const rule of listAt(role, 'rules')) {
      const groups = listAt(isObject(rule) ? rule : undefined, 'apiGroups');
      const resources = listAt(isObject(rule) ? rule : undefined, 'resources');
      if (groups.some((g) => g !== '') || resources.length === 0) return undefined;
      for (const resource of resources) {
        const kind = GRANTABLE[String(resource)];
        if (!kind) return undefined;
        kinds.push(kind);
      }
    }
  }
  return kinds;
}
