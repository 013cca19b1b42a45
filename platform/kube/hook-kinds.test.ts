import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../catalog/load.js';
import type { Catalog, Plan } from '../../catalog/types.js';
import { kindsHooksMayMake } from './hook-kinds.js';
import { kindsOfInstance, kindsToSweep, sweptKinds } from './owned-kinds.js';

const SHIPPED = path.resolve(import.meta.dirname, '../../service-catalog');
let catalog: Catalog;
beforeAll(async () => {
  catalog = (await loadCatalog(SHIPPED)).catalog;
});

const plans = () => catalog.services.flatMap((s) => s.plans);
const kindNames = (kinds: { kind: string }[] | undefined) => kinds?.map((k) => k.kind).sort();
/** A copy of a shipped plan with hooks, for the test to change. */
const hookedPlan = (): Plan => structuredClone(plans().find((p) => p.hooks?.onBindInstance?.length)!);
const objectsOf = (plan: Plan, kind: string) => plan.templates.map((t) => t.body as unknown as Record<string, any>).filter((o) => o.kind === kind);
const bindPod = (plan: Plan) => (plan.hooks!.onBindInstance![0]!.body as unknown as Record<string, any>).spec.template.spec;
const unbindPod = (plan: Plan) => (plan.hooks!.onUnbindInstance![0]!.body as unknown as Record<string, any>).spec.template.spec;

describe('kindsHooksMayMake', () => {
  it("bounds every shipped plan's hooks to their Jobs, Pods and the Secret they hand over", () => {
    const hooked = plans().filter((p) => p.hooks?.onBindInstance?.length);
    expect(hooked.length).toBeGreaterThan(0);
    for (const plan of hooked) expect(kindNames(kindsHooksMayMake(plan)), plan.id).toEqual(['Job', 'Pod', 'Secret']);
  });

  it('keeps the sweep of a hooked plan narrow: not every kind the catalog has', () => {
    const plan = hookedPlan();
    const recorded = kindsOfInstance(
      plan,
      plan.templates.map((t) => t.body),
    );
    const all = sweptKinds(catalog, false);
    expect(recorded).toBeDefined();
    expect(kindsToSweep(all, recorded).length).toBeLessThan(all.length);
  });

  it("is unknown when the hook's Role grants a kind that makes objects", () => {
    const plan = hookedPlan();
    objectsOf(plan, 'Role')[0]!.rules = [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create'] }];
    expect(kindsHooksMayMake(plan)).toBeUndefined();
    expect(
      kindsOfInstance(
        plan,
        plan.templates.map((t) => t.body),
      ),
    ).toBeUndefined();
  });

  it('is unknown when the Role grants a wildcard', () => {
    const plan = hookedPlan();
    objectsOf(plan, 'Role')[0]!.rules = [{ apiGroups: [''], resources: ['*'], verbs: ['*'] }];
    expect(kindsHooksMayMake(plan)).toBeUndefined();
  });

  it("is unknown when the hook's account is bound to a ClusterRole", () => {
    const plan = hookedPlan();
    objectsOf(plan, 'RoleBinding')[0]!.roleRef = { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' };
    expect(kindsHooksMayMake(plan)).toBeUndefined();
  });

  it("is unknown when a hook's pod holds the token of an account the plan does not make", () => {
    const noAccount = hookedPlan();
    delete bindPod(noAccount).serviceAccountName;
    expect(kindsHooksMayMake(noAccount)).toBeUndefined();

    const defaultToken = hookedPlan();
    delete unbindPod(defaultToken).automountServiceAccountToken;
    expect(kindsHooksMayMake(defaultToken)).toBeUndefined();

    const projected = hookedPlan();
    unbindPod(projected).volumes = [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }];
    expect(kindsHooksMayMake(projected)).toBeUndefined();
  });
});
