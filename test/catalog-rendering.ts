// Rendering a loaded catalog the way a running instance would see it, for the tests of the old
// broker's format (catalog/seed.test.ts on its real catalog, catalog/old-format.test.ts on ours):
// objects for a sample instance, the facts the kube module would read back from them, and the
// credentials made from those facts; and the checks every plan of such a catalog must pass.
import { expect, it } from 'vitest';
import { SAMPLE_INSTANCE_ID } from '../catalog/check.js';
import { renderCredentials } from '../catalog/credentials.js';
import type { LoadResult } from '../catalog/load.js';
import { generateRandoms } from '../catalog/randoms.js';
import { renderPlan } from '../catalog/render.js';
import type { InstanceFacts, InstanceValues, KubernetesObject, Plan, ServiceFacts, ServiceOffering } from '../catalog/types.js';

export const NAMESPACE = 'tenant-a';
/** A placeholder left in rendered text (`${VAR}` of shell commands is no placeholder). */
export const LEFTOVER = /\$[A-Za-z_]/;

export type Obj = KubernetesObject & { spec?: any; data?: Record<string, string> };
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

export const values = (over: Partial<InstanceValues> = {}): InstanceValues => ({
  instanceId: SAMPLE_INSTANCE_ID,
  org: '11111111-1111-4111-8111-111111111111',
  space: '22222222-2222-4222-8222-222222222222',
  namespace: NAMESPACE,
  storageClass: '',
  parameters: {},
  randoms: generateRandoms(),
  ...over,
});

/** The cluster DNS name of a Service of the sample instance. */
export const host = (service: string) => `${service}.${NAMESPACE}.svc.cluster.local`;

/** What the kube module would read from the running instance, made from the rendered objects. */
function factsOf(objects: Obj[]): InstanceFacts {
  const secrets = new Map(objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, o.data ?? {}]));
  const configMaps = new Map(objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
  const env: Record<string, string> = {};
  const containerPorts = new Map<string, number>();
  for (const o of objects) {
    const pod = o.kind === 'Pod' ? o.spec : o.spec?.template?.spec;
    for (const c of list(pod?.containers)) {
      for (const p of list(c.ports)) if (p.name) containerPorts.set(p.name, p.containerPort);
      for (const e of list(c.env)) {
        if (typeof e.value === 'string') env[e.name] = e.value;
        const secretRef = e.valueFrom?.secretKeyRef;
        const configRef = e.valueFrom?.configMapKeyRef;
        if (secretRef) {
          const data = secrets.get(secretRef.name)?.[secretRef.key];
          if (data !== undefined) env[e.name] = Buffer.from(data, 'base64').toString();
        }
        if (configRef) {
          const data = configMaps.get(configRef.name)?.[configRef.key];
          if (data !== undefined) env[e.name] = data;
        }
      }
    }
  }
  const services: ServiceFacts[] = objects
    .filter((o) => o.kind === 'Service')
    .map((o) => ({
      name: o.metadata.name,
      hostname: host(o.metadata.name),
      ports: list(o.spec?.ports).flatMap((p) => {
        const target = p.targetPort === undefined ? p.port : typeof p.targetPort === 'number' ? p.targetPort : containerPorts.get(p.targetPort);
        return target === undefined ? [] : [{ port: p.port, targetPort: target }];
      }),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  return { env, services };
}

export function renderAll(service: ServiceOffering, plan: Plan, v = values()) {
  const objects = renderPlan(service, plan, v) as Obj[];
  return { objects, credentials: renderCredentials(service, plan, v, factsOf(objects)) };
}

/** Plans of a catalog loaded in a `beforeAll`: `loaded()` gives it once it is there. */
export function plansOf(loaded: () => LoadResult) {
  const all = () => loaded().catalog.services.flatMap((service) => service.plans.map((plan) => ({ service, plan })));
  const find = (serviceDir: string, planDir: string) => {
    const service = loaded().catalog.services.find((s) => s.dir === serviceDir)!;
    return { service, plan: service.plans.find((p) => p.dir === `${serviceDir}/${planDir}`)! };
  };
  return { all, find };
}

/** The tests every plan of a catalog in the old format must pass once loaded. */
export function itRendersEveryPlan(loaded: () => LoadResult) {
  const { all } = plansOf(loaded);

  it('renders every plan: named, labelled objects with no placeholder left', () => {
    for (const { service, plan } of all()) {
      const { objects } = renderAll(service, plan);
      expect(objects.length, plan.dir).toBeGreaterThan(0);
      for (const o of objects) {
        const where = `${plan.dir} ${o.kind} ${o.metadata.name}`;
        expect(o.apiVersion, where).toMatch(/^(v1|apps\/v1)$/);
        expect(o.kind, where).toBeTruthy();
        expect(o.metadata.name, where).toMatch(/^x[0-9a-z-]+$/);
        expect(o.metadata.labels?.service_id, where).toBe(SAMPLE_INSTANCE_ID);
        expect(o.metadata.labels?.['app.kubernetes.io/managed-by'], where).toBe('kubernetes-broker');
        expect(o.metadata.namespace, where).toBe(NAMESPACE);
        expect(JSON.stringify(o), where).not.toMatch(LEFTOVER);
        if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
          expect(o.spec.template.metadata.labels.service_id, where).toBe(SAMPLE_INSTANCE_ID);
          // apps/v1 needs a selector, and it must select the pods.
          for (const [k, v] of Object.entries(o.spec.selector.matchLabels)) expect(o.spec.template.metadata.labels[k], where).toBe(v);
        }
      }
    }
  });

  it('renders the credentials of every plan', () => {
    for (const { service, plan } of all()) {
      const { credentials } = renderAll(service, plan);
      expect(typeof credentials, plan.dir).toBe('object');
      expect(Object.keys(credentials).length, plan.dir).toBeGreaterThan(0);
      expect(JSON.stringify(credentials), plan.dir).not.toMatch(LEFTOVER);
    }
  });
}

/**
 * The storage class test of a catalog in the old format: `statefulSet` names a plan whose
 * StatefulSet claims with `$storage_class`, `claim` one whose PVC carries the beta annotation.
 */
export function itLetsTheClusterChooseTheStorageClass(
  loaded: () => LoadResult,
  statefulSet: [service: string, plan: string],
  claim: [service: string, plan: string],
  storage: string,
) {
  it('lets the cluster choose the storage class unless one is configured', () => {
    const { find } = plansOf(loaded);
    const { service, plan } = find(...statefulSet);
    const claimOf = (objects: Obj[]) => objects.find((o) => o.kind === 'StatefulSet')!.spec.volumeClaimTemplates[0];
    expect(claimOf(renderAll(service, plan).objects).spec).not.toHaveProperty('storageClassName');
    expect(claimOf(renderAll(service, plan, values({ storageClass: 'ssd' })).objects).spec.storageClassName).toBe('ssd');
    const withClaim = find(...claim);
    const pvc = renderAll(withClaim.service, withClaim.plan).objects.find((o) => o.kind === 'PersistentVolumeClaim')!;
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } });
    expect(pvc.metadata).not.toHaveProperty('annotations');
  });
}
