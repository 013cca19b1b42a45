import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RenderError } from './errors.js';
import { shortServiceId } from './naming.js';
import { renderPlan } from './render.js';
import { baseCatalog, deployment, temporaryCatalogs } from './testing.js';
import type { InstanceValues, KubernetesObject, Randoms } from './types.js';

const ID = 'a33b4370-50ee-4c1d-9e2f-123456789abc';
const SHORT = 'xa33b437050ee4';
const { load } = temporaryCatalogs();

const randoms = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`random${i}`, `Rnd${i}abcdef`])) as Randoms;
const values = (over: Partial<InstanceValues> = {}): InstanceValues => ({
  instanceId: ID,
  org: 'org-guid',
  space: 'space-guid',
  namespace: 'tenant-a',
  storageClass: 'fast',
  parameters: {},
  randoms,
  ...over,
});
const byKind = (objects: KubernetesObject[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: KubernetesObject[], kind: string) => {
  const found = byKind(objects, kind);
  expect(found).toHaveLength(1);
  return found[0]! as KubernetesObject & { spec: any; data?: any };
};
const b64 = (s: string) => Buffer.from(s, 'base64').toString();

describe('renderPlan', () => {
  it("names objects by the instance's scheme: absent is the old broker's names, hashed the collision-free ones", async () => {
    const { service, plan } = await load(baseCatalog());
    const names = (v: InstanceValues) => renderPlan(service, plan, v).map((o) => [o.metadata.name, o.metadata.labels?.['idx_and_short_serviceid']]);
    expect(names(values())).toEqual(names(values({ nameScheme: 'legacy' })));
    expect(names(values())).toContainEqual([expect.stringMatching(new RegExp(`^${SHORT}`)), `${SHORT}0`]);
    const hashed = shortServiceId(ID, 'hashed');
    expect(hashed).not.toBe(SHORT);
    expect(names(values({ nameScheme: 'hashed' }))).toEqual(
      names(values()).map(([name, label]) => [name!.replace(SHORT, hashed), label!.replace(SHORT, hashed)]),
    );
  });

  it('fills the template placeholders with the instance values', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/k8s/configmap.json': {
          kind: 'ConfigMap',
          apiVersion: 'v1',
          metadata: { name: '$short_serviceid-conf' },
          data: {
            all: '$org|$space|$catalog_service_id|$catalog_plan_id|$service_id|$short_serviceid|$idx_and_short_serviceid|$namespace|$storage_class|$random0|$random9',
            literal: '$$org costs $5 ${HOME}',
          },
        },
      }),
    );
    const objects = renderPlan(service, plan, values());
    const config = one(objects, 'ConfigMap');
    expect(config.metadata.name).toBe(`${SHORT}-conf`);
    expect(config.data.all).toBe(`org-guid|space-guid|db-service-id|db-small-id|${ID}|${SHORT}|${SHORT}0|tenant-a|fast|Rnd0abcdef|Rnd9abcdef`);
    expect(config.data.literal).toBe('$org costs $5 ${HOME}');
  });

  it('uses one value per random name in every file ($random9 included)', async () => {
    const { service, plan } = await load(baseCatalog());
    const objects = renderPlan(service, plan, values());
    const secret = one(objects, 'Secret');
    expect(b64(secret.data.password)).toBe('Rnd1abcdef');
    expect(b64(secret.data.user)).toBe('user');
    // The Deployment reads the Secret that exists: same name in both files.
    const env = one(objects, 'Deployment').spec.template.spec.containers[0].env;
    expect(env[0].valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
  });

  it('returns objects in creation order, indexes counting per kind', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/k8s/account.json': { metadata: { name: '$idx_and_short_serviceid' } },
        'db/small/k8s/deployment-b.json': deployment('$idx_and_short_serviceid-b', { component: 'b' }),
        'db/small/k8s/role.yaml':
          'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: $short_serviceid-role\nrules: []\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: $short_serviceid-cluster\nrules: []\n',
        'db/small/k8s/statefulset.json': {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: '$idx_and_short_serviceid-set' },
          spec: {
            selector: { matchLabels: { c: 's' } },
            serviceName: '$idx_and_short_serviceid',
            template: { metadata: { labels: { c: 's' } }, spec: { containers: [] } },
          },
        },
        'db/small/k8s/claim.json': { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: '$short_serviceid-data' }, spec: {} },
        'db/small/k8s/config.json': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '$short_serviceid-conf' } },
      }),
    );
    const objects = renderPlan(service, plan, values());
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual([
      `ServiceAccount ${SHORT}0`,
      `Secret ${SHORT}-creds`,
      `ConfigMap ${SHORT}-conf`,
      `PersistentVolumeClaim ${SHORT}-data`,
      `ClusterRole ${SHORT}-cluster`,
      `Role ${SHORT}-role`,
      `StatefulSet ${SHORT}0-set`,
      `Deployment ${SHORT}0-b`,
      `Deployment ${SHORT}1`,
      `Service ${SHORT}0`,
    ]);
    expect(plan.templates.map((t) => t.index)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  });

  it('labels every object, its pods and its claims', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/k8s/deployment.json': {
          ...deployment('$idx_and_short_serviceid'),
          metadata: {
            name: '$idx_and_short_serviceid',
            labels: { idx_and_short_serviceid: '$idx_and_short_serviceid-node1', service_id: 'forged', tier: 'db' },
          },
        },
        'db/small/k8s/statefulset.json': {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: '$idx_and_short_serviceid-set' },
          spec: {
            selector: { matchLabels: { c: 's' } },
            serviceName: '$idx_and_short_serviceid',
            template: { metadata: { labels: { c: 's' } }, spec: { containers: [] } },
            volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: '$storage_class' } }],
          },
        },
        'db/small/k8s/job.json': {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: '$short_serviceid-init' },
          spec: { template: { spec: { containers: [], restartPolicy: 'Never' } } },
        },
      }),
    );
    const objects = renderPlan(service, plan, values({ org: '' }));
    const standard = {
      space: 'space-guid',
      catalog_service_id: 'db-service-id',
      catalog_plan_id: 'db-small-id',
      service_id: ID,
      managed_by: 'TAP',
      'app.kubernetes.io/managed-by': 'kubernetes-broker',
    };
    for (const o of objects) {
      expect(o.metadata.labels, o.kind).toMatchObject(standard);
      // An empty org is no valid label value worth having: left out.
      expect(o.metadata.labels, o.kind).not.toHaveProperty('org');
      expect(o.metadata.namespace, o.kind).toBe('tenant-a');
    }
    const dep = one(objects, 'Deployment');
    // The template's own labels win, except the ones the broker finds objects by.
    expect(dep.metadata.labels).toMatchObject({ idx_and_short_serviceid: `${SHORT}0-node1`, tier: 'db', service_id: ID });
    expect(one(objects, 'Secret').metadata.labels!.idx_and_short_serviceid).toBe(`${SHORT}0`);
    const pods = { service_id: ID, 'app.kubernetes.io/managed-by': 'kubernetes-broker' };
    expect(dep.spec.template.metadata.labels).toEqual({ service_id: ID, component: 'main', 'app.kubernetes.io/managed-by': 'kubernetes-broker' });
    const set = one(objects, 'StatefulSet');
    expect(set.spec.template.metadata.labels).toEqual({ c: 's', ...pods });
    expect(set.spec.volumeClaimTemplates[0].metadata.labels).toEqual(pods);
    expect(one(objects, 'Job').spec.template.metadata.labels).toEqual(pods);
  });

  it('drops label values that are not valid, whatever the org or space holds', async () => {
    const { service, plan } = await load(baseCatalog());
    const objects = renderPlan(service, plan, values({ org: 'evil", "x": "y', space: 'a'.repeat(64) }));
    for (const o of objects) {
      expect(o.metadata.labels).not.toHaveProperty('org');
      expect(o.metadata.labels).not.toHaveProperty('space');
      expect(o.metadata.labels!.service_id).toBe(ID);
    }
  });

  it('inserts org and space as data wherever a template uses them', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/k8s/configmap.json': {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: '$short_serviceid-conf' },
          data: { org: '$org', both: '$org/$space' },
        },
      }),
    );
    const org = 'x", "y": {"z": 1}\n---\nkind: Secret\n$service_id ${HOME}';
    const config = one(renderPlan(service, plan, values({ org, space: '}]' })), 'ConfigMap');
    expect(config.data).toEqual({ org, both: `${org}/}]` });
    expect(Object.keys(config)).toEqual(['apiVersion', 'kind', 'metadata', 'data']);
  });

  it('refuses an instance id that cannot be a label value', async () => {
    const { service, plan } = await load(baseCatalog());
    expect(() => renderPlan(service, plan, values({ instanceId: 'not a label' }))).toThrow(RenderError);
    expect(() => renderPlan(service, plan, values({ instanceId: '' }))).toThrow(/cannot be a Kubernetes label value/);
  });

  it('leaves cluster-scoped objects without namespace', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/k8s/rbac.yaml':
          'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: $short_serviceid-reader\n  namespace: somewhere\nrules: []\n',
      }),
    );
    const role = one(renderPlan(service, plan, values()), 'ClusterRole');
    expect(role.metadata).not.toHaveProperty('namespace');
    expect(role.metadata.labels!.service_id).toBe(ID);
  });

  it('makes StatefulSet claims go away with the instance, unless the template says otherwise', async () => {
    const set = (policy?: unknown) => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: '$idx_and_short_serviceid-set' },
      spec: {
        selector: { matchLabels: { c: 's' } },
        serviceName: 'x',
        template: { metadata: { labels: { c: 's' } }, spec: { containers: [] } },
        ...(policy ? { persistentVolumeClaimRetentionPolicy: policy } : {}),
      },
    });
    const a = await load(baseCatalog({ 'db/small/k8s/statefulset.json': set() }));
    expect(one(renderPlan(a.service, a.plan, values()), 'StatefulSet').spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Delete',
      whenScaled: 'Retain',
    });
    const b = await load(baseCatalog({ 'db/small/k8s/statefulset.json': set({ whenDeleted: 'Retain', whenScaled: 'Retain' }) }));
    expect(one(renderPlan(b.service, b.plan, values()), 'StatefulSet').spec.persistentVolumeClaimRetentionPolicy).toEqual({
      whenDeleted: 'Retain',
      whenScaled: 'Retain',
    });
  });

  it('removes storage class fields when no class is configured, so the default class applies', async () => {
    const { service, plan } = await load(
      baseCatalog({
        'db/small/k8s/persistentvolumeclaim.json': {
          kind: 'PersistentVolumeClaim',
          apiVersion: 'v1',
          metadata: { name: '$idx_and_short_serviceid', annotations: { 'volume.beta.kubernetes.io/storage-class': '$storage_class' } },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
        'db/small/k8s/statefulset.json': {
          apiVersion: 'apps/v1beta1',
          kind: 'StatefulSet',
          metadata: { name: '$idx_and_short_serviceid-set' },
          spec: {
            serviceName: 'x',
            template: { metadata: { labels: { c: 's' } }, spec: { containers: [] } },
            volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { storageClassName: '$storage_class', accessModes: ['ReadWriteOnce'] } }],
          },
        },
      }),
    );
    const none = renderPlan(service, plan, values({ storageClass: '' }));
    const claim = one(none, 'PersistentVolumeClaim');
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    expect(claim.metadata).not.toHaveProperty('annotations');
    expect(one(none, 'StatefulSet').spec.volumeClaimTemplates[0].spec).toEqual({ accessModes: ['ReadWriteOnce'] });
    const fast = renderPlan(service, plan, values({ storageClass: 'fast' }));
    expect(one(fast, 'PersistentVolumeClaim').spec.storageClassName).toBe('fast');
    expect(one(fast, 'StatefulSet').spec.volumeClaimTemplates[0].spec.storageClassName).toBe('fast');
  });

  describe('parameters', () => {
    const schemas = {
      service_instance: {
        create: {
          parameters: {
            type: 'object',
            properties: { replicas: { type: 'integer', default: 1 }, motd: { type: 'string' }, debug: { type: 'boolean' }, tags: { type: 'array' } },
          },
        },
      },
    };
    const files = baseCatalog({
      'db/small/plan.json': { id: 'db-small-id', name: 'small', description: 'Small', schemas },
      'db/small/k8s/deployment.json': {
        ...deployment('$idx_and_short_serviceid', {
          replicas: '$param_replicas',
          env: [
            { name: 'MOTD', value: '$param_motd' },
            { name: 'R', value: 'r=$param_replicas' },
          ],
        }),
        metadata: { name: '$idx_and_short_serviceid', annotations: { debug: '$param_debug' } },
      },
    });

    it('keeps the type of a whole-string parameter and makes text of it inside a string', async () => {
      const { service, plan } = await load(files);
      const dep = one(renderPlan(service, plan, values({ parameters: { replicas: 3, motd: 'hi', debug: true } })), 'Deployment');
      expect(dep.spec.replicas).toBe(3);
      expect(dep.spec.template.spec.containers[0].env).toEqual([
        { name: 'MOTD', value: 'hi' },
        { name: 'R', value: 'r=3' },
      ]);
      // Annotations are string maps.
      expect(dep.metadata.annotations).toEqual({ debug: 'true' });
    });

    it('gives a container env value the text of any parameter: Kubernetes takes strings only', async () => {
      const { service, plan } = await load({
        ...files,
        'db/small/k8s/deployment.json': deployment('$idx_and_short_serviceid', {
          env: [
            { name: 'REPLICAS', value: '$param_replicas' },
            { name: 'DEBUG', value: '$param_debug' },
            { name: 'MOTD', value: '$param_motd' },
          ],
        }),
      });
      const dep = one(renderPlan(service, plan, values({ parameters: { replicas: 3, motd: null, debug: false } })), 'Deployment');
      expect(dep.spec.template.spec.containers[0].env).toEqual([
        { name: 'REPLICAS', value: '3' },
        { name: 'DEBUG', value: 'false' },
        { name: 'MOTD', value: '' },
      ]);
    });

    it('inserts parameter values as data, never as structure or placeholders', async () => {
      const { service, plan } = await load(files);
      const evil = '"}, "extra": {"$service_id": 1}\n---\nkind: Secret\n$random1 $$';
      const benign = renderPlan(service, plan, values({ parameters: { replicas: 1, motd: 'x', debug: false } }));
      const rendered = renderPlan(service, plan, values({ parameters: { replicas: 1, motd: evil, debug: false } }));
      const dep = one(rendered, 'Deployment');
      expect(dep.spec.template.spec.containers[0].env[0]).toEqual({ name: 'MOTD', value: evil });
      // Same shape as with a harmless value: no key, no object, no document was added.
      const keys = (o: unknown): unknown =>
        Array.isArray(o) ? o.map(keys) : typeof o === 'object' && o ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, keys(v)])) : typeof o;
      expect(keys(rendered)).toEqual(keys(benign));
      expect(rendered).toHaveLength(benign.length);
      // And the YAML of it is still one document with the value intact.
      expect(stringify(dep)).toContain('kind: Deployment');
    });

    it('refuses a parameter without value, naming the file and the placeholder', async () => {
      const { service, plan } = await load(files);
      let error: unknown;
      try {
        renderPlan(service, plan, values({ parameters: { replicas: 1, debug: false } }));
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(RenderError);
      expect((error as RenderError).file).toBe('db/small/k8s/deployment.json');
      expect((error as Error).message).toBe(
        'db/small/k8s/deployment.json: spec.template.spec.containers[0].env[0].value: $param_motd has no value: the request did not set parameter motd and its schema has no default',
      );
    });

    it('refuses parameters that are not scalars', async () => {
      const { service, plan } = await load(files);
      expect(() => renderPlan(service, plan, values({ parameters: { replicas: [1], motd: 'x', debug: false } }))).toThrow(
        /\$param_replicas: parameter replicas is an array/,
      );
    });

    it('refuses a name that a parameter makes invalid', async () => {
      const { service, plan } = await load({
        ...files,
        'db/small/k8s/configmap.json': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf-$param_motd' } },
      });
      expect(() => renderPlan(service, plan, values({ parameters: { motd: 'Not_Valid', debug: false } }))).toThrow(
        'db/small/k8s/configmap.json: metadata.name "conf-Not_Valid" is not a valid name for a ConfigMap',
      );
    });
  });

  it('never changes the parsed templates: each render starts from them', async () => {
    const { service, plan } = await load(baseCatalog());
    const before = JSON.stringify(plan.templates);
    const a = renderPlan(service, plan, values());
    const b = renderPlan(service, plan, values({ instanceId: 'b33b4370-50ee-4c1d-9e2f-123456789abc' }));
    expect(JSON.stringify(plan.templates)).toBe(before);
    expect(Object.isFrozen(plan.templates[0]!.body)).toBe(true);
    expect(one(a, 'Service').metadata.name).toBe(`${SHORT}0`);
    expect(one(b, 'Service').metadata.name).toBe('xb33b437050ee40');
  });
});
