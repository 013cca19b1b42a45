import { describe, expect, it } from 'vitest';
import { renderCredentials } from './credentials.js';
import { CatalogLoadError, formatProblem, RenderError } from './errors.js';
import { hookEventsOf, renderHookJobs } from './hooks.js';
import { loadCatalog } from './load.js';
import { tokenize } from './placeholders.js';
import { baseCatalog, temporaryCatalogs, type FileContent } from './testing.js';
import type { InstanceValues, Plan, Randoms, Template } from './types.js';

const ID = 'a33b4370-50ee-4c1d-9e2f-123456789abc';
const BINDING = 'b1b2b3b4-0000-4000-8000-000000000001';
const { dir, load } = temporaryCatalogs();

/** The problems of a catalog that must not load, one line each. */
async function problems(files: Record<string, FileContent>): Promise<string[]> {
  try {
    await loadCatalog(dir(files));
  } catch (err) {
    expect(err).toBeInstanceOf(CatalogLoadError);
    return (err as CatalogLoadError).problems.map(formatProblem);
  }
  throw new Error('the catalog loaded');
}

const randoms = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`random${i}`, `Rnd${i}abcdef`])) as Randoms;
const values: InstanceValues = { instanceId: ID, org: 'o', space: 's', namespace: 'ns', storageClass: '', parameters: {}, randoms };

/** A hook Job: one container that runs `args`. */
function job(name: string, args: string[] = ['true'], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { backoffLimit: 0, template: { spec: { containers: [{ name: 'hook', image: 'busybox', args }] } } },
    ...extra,
  };
}

const hooks = (files: Record<string, FileContent>) =>
  baseCatalog(Object.fromEntries(Object.entries(files).map(([file, content]) => [`db/small/hooks/${file}`, content])));

describe('loading lifecycle hooks', () => {
  it('reads hooks/<event>/ into plan.hooks, Jobs in file then document order, JSON and YAML', async () => {
    const { plan, warnings } = await load(
      hooks({
        'onCreateInstance/2-seed.json': job('$short_serviceid-seed'),
        'onCreateInstance/1-schema.yaml': [
          'apiVersion: batch/v1',
          'kind: Job',
          'metadata: { name: $short_serviceid-schema }',
          'spec: { template: { spec: { containers: [ { name: c, image: busybox } ] } } }',
          '---',
          'apiVersion: batch/v1',
          'kind: Job',
          'metadata: { name: $short_serviceid-grants }',
          'spec: { template: { spec: { containers: [ { name: c, image: busybox } ] } } }',
        ].join('\n'),
        'onDeleteInstance/job.json': job('$short_serviceid-drop'),
        'onBindInstance/job.json': job('$short_serviceid-bind-$binding_id', ['create-user', '$binding_id']),
        'onUnbindInstance/job.json': job('$short_serviceid-unbind-$binding_id', ['drop-user', '$binding_id']),
        'onBindInstance/README.md': 'not a template',
      }),
    );
    expect(warnings).toEqual([]);
    expect(Object.keys(plan.hooks ?? {}).sort()).toEqual(['onBindInstance', 'onCreateInstance', 'onDeleteInstance', 'onUnbindInstance']);
    expect(plan.hooks!.onCreateInstance!.map((t) => [t.file, t.index, t.body.metadata.name])).toEqual([
      ['db/small/hooks/onCreateInstance/1-schema.yaml', 0, '$short_serviceid-schema'],
      ['db/small/hooks/onCreateInstance/1-schema.yaml', 1, '$short_serviceid-grants'],
      ['db/small/hooks/onCreateInstance/2-seed.json', 2, '$short_serviceid-seed'],
    ]);
    // Hooks are no templates of the instance: applying the plan does not create them.
    expect(plan.templates.map((t) => t.kind)).toEqual(['Secret', 'Deployment', 'Service']);
  });

  it('a plan without hooks/ has no hooks', async () => {
    const { plan } = await load(baseCatalog());
    expect(plan.hooks).toBeUndefined();
  });

  it('refuses anything but a batch/v1 Job, naming file and field', async () => {
    const found = await problems(
      hooks({
        'onCreateInstance/deployment.json': { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: {} },
        'onCreateInstance/multi.yaml': 'apiVersion: batch/v1\nkind: Job\nmetadata: { name: a }\n---\napiVersion: v1\nkind: Secret\nmetadata: { name: b }\n',
        'onDeleteInstance/old.json': job('$short_serviceid-old', ['true'], { apiVersion: 'batch/v2alpha1' }),
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'db/small/hooks/onCreateInstance/deployment.json kind: lifecycle hooks are Jobs (batch/v1), not Deployment',
        'db/small/hooks/onCreateInstance/multi.yaml document 2 kind: lifecycle hooks are Jobs (batch/v1), not Secret',
        'db/small/hooks/onDeleteInstance/old.json apiVersion: batch/v2alpha1: lifecycle hook Jobs are batch/v1',
      ]),
    );
  });

  it('takes the kind from a job* file name, like templates', async () => {
    const { plan, warnings } = await load(
      hooks({
        'onCreateInstance/job-init.json': {
          metadata: { name: '$short_serviceid-init' },
          spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
        },
      }),
    );
    expect(plan.hooks!.onCreateInstance![0]!.body.apiVersion).toBe('batch/v1');
    expect(warnings.map(formatProblem)).toEqual(['db/small/hooks/onCreateInstance/job-init.json apiVersion: is missing; using batch/v1']);
  });

  it('refuses unknown event folders and files directly in hooks/', async () => {
    const found = await problems(hooks({ 'onCreate/job.json': job('x'), 'job.json': job('y') }));
    expect(found).toEqual([
      'db/small/hooks/job.json: hooks/ holds one folder per event (onCreateInstance, onBindInstance, onUnbindInstance, onDeleteInstance), not files',
      'db/small/hooks/onCreate: is no lifecycle hook event; the events are onCreateInstance, onBindInstance, onUnbindInstance, onDeleteInstance',
    ]);
  });

  it('refuses unknown placeholders and undeclared parameters, like templates', async () => {
    const found = await problems(hooks({ 'onCreateInstance/job.json': job('$short_serviceid-init', ['$nope', '$param_size']) }));
    expect(found).toEqual([
      'db/small/hooks/onCreateInstance/job.json spec.template.spec.containers[0].args[0]: unknown placeholder $nope (write $$ for a literal $)',
      expect.stringMatching(
        /^db\/small\/hooks\/onCreateInstance\/job\.json spec\.template\.spec\.containers\[0\]\.args\[1\]: \$param_size: the plan declares no parameter size/,
      ),
    ]);
  });

  it('$binding_id only in bind and unbind hooks (and credentials mappings)', async () => {
    const found = await problems(
      hooks({
        'onCreateInstance/job.json': job('$short_serviceid-init', ['$binding_id']),
        'onDeleteInstance/job.json': job('$short_serviceid-drop-$binding_id'),
      }),
    );
    const elsewhere = '$binding_id is only available in bind and unbind hooks (hooks/onBindInstance, hooks/onUnbindInstance) and credentials mappings';
    expect(found).toEqual([
      `db/small/hooks/onCreateInstance/job.json spec.template.spec.containers[0].args[0]: ${elsewhere}`,
      `db/small/hooks/onDeleteInstance/job.json metadata.name: ${elsewhere}`,
    ]);
    expect(tokenize('$binding_id', { scope: 'template' }).unknown).toHaveLength(1);
    expect(tokenize('$binding_id', { scope: 'hook' }).tokens).toEqual([{ type: 'value', name: 'binding_id', raw: '$binding_id', offset: 0 }]);
    expect(tokenize('$binding_id', { scope: 'mapping' }).unknown).toEqual([]);
  });

  it('bind and unbind Jobs need $binding_id in their name: bindings run at the same time', async () => {
    const found = await problems(hooks({ 'onBindInstance/job.json': job('$short_serviceid-bind', ['$binding_id']) }));
    expect(found).toEqual([
      'db/small/hooks/onBindInstance/job.json metadata.name: onBindInstance Jobs run once per binding, and bindings of one instance may be made at the same time: the name must contain $binding_id',
    ]);
  });

  it('refuses two Jobs of one name (across events and k8s/ Jobs) and names that cannot be Jobs', async () => {
    const found = await problems(
      hooks({
        'onCreateInstance/job.json': job('$short_serviceid-hook'),
        'onDeleteInstance/job.json': job('$short_serviceid-hook'),
        'onUnbindInstance/job.json': job('$short_serviceid-a-very-long-name-for-a-job-$binding_id'),
      }),
    );
    expect(found).toEqual([
      'db/small/hooks/onUnbindInstance/job.json: metadata.name "x000000c61x35mqnuqi-a-very-long-name-for-a-job-00000000-0000-4000-8000-0000000000b1" is longer than 63 characters: a Job\'s name becomes the label job-name of its pods',
      'db/small/hooks/onDeleteInstance/job.json metadata.name: Job x000000c61x35mqnuqi-hook is also created by db/small/hooks/onCreateInstance/job.json',
    ]);
  });

  it('$hook_<KEY> in a mapping needs a bind hook', async () => {
    const mapping = { 'db/small/credentials-mappings.json': { username: '$hook_username', password: '$hook_password', host: '$hostname' } };
    const found = await problems(baseCatalog(mapping));
    expect(found).toEqual([
      'db/small/credentials-mappings.json: $hook_username: the plan has no bind hook (hooks/onBindInstance/) to write the Secret it reads',
      'db/small/credentials-mappings.json: $hook_password: the plan has no bind hook (hooks/onBindInstance/) to write the Secret it reads',
    ]);
    const { warnings } = await load({ ...hooks({ 'onBindInstance/job.json': job('$short_serviceid-bind-$binding_id') }), ...mapping });
    expect(warnings).toEqual([]);
  });

  it('$hook_ in templates says where it can be used', () => {
    expect(tokenize('$hook_password', { scope: 'template' }).unknown[0]!.message).toBe(
      '$hook_password is only available in credentials mappings, node_template.json and uri_cluster_template (of a plan with a bind hook)',
    );
  });
});

describe('renderHookJobs', () => {
  const files = hooks({
    'onCreateInstance/job.json': job('$short_serviceid-init', ['init', '$namespace', '$random1'], {
      spec: {
        backoffLimit: 2,
        template: {
          metadata: { labels: { app: 'hook' } },
          spec: { containers: [{ name: 'hook', image: 'busybox', args: ['init', '$namespace', '$random1'] }] },
        },
      },
    }),
    'onBindInstance/job.json': job('$short_serviceid-bind-$binding_id', ['create-user', '$binding_id']),
    'onUnbindInstance/job.json': job('$short_serviceid-unbind-$binding_id', ['drop-user', '$binding_id'], {
      spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'hook', image: 'busybox' }] } } },
    }),
  });

  it('renders the Jobs with the standard labels, the hook label, the namespace and restartPolicy Never', async () => {
    const { service, plan } = await load(files);
    const [init, ...rest] = renderHookJobs(service, plan, 'onCreateInstance', values);
    expect(rest).toEqual([]);
    expect(init!.metadata).toMatchObject({
      name: 'xa33b437050ee4-init',
      namespace: 'ns',
      labels: {
        service_id: ID,
        'app.kubernetes.io/managed-by': 'kubernetes-broker',
        catalog_plan_id: 'db-small-id',
        managed_by: 'TAP',
        'kubernetes-broker.io/hook': 'onCreateInstance',
      },
    });
    expect(init!.metadata.labels!['kubernetes-broker.io/binding-id']).toBeUndefined();
    const spec = init!.spec as any;
    // The template's own settings are kept.
    expect(spec.backoffLimit).toBe(2);
    expect(spec.template.metadata.labels).toEqual({
      app: 'hook',
      service_id: ID,
      'app.kubernetes.io/managed-by': 'kubernetes-broker',
      'kubernetes-broker.io/hook': 'onCreateInstance',
    });
    expect(spec.template.spec.restartPolicy).toBe('Never');
    expect(spec.template.spec.containers[0].args).toEqual(['init', 'ns', 'Rnd1abcdef']);
  });

  it('bind and unbind Jobs carry the binding id (label of Job and pods, $binding_id); a restartPolicy set stays', async () => {
    const { service, plan } = await load(files);
    const [bind] = renderHookJobs(service, plan, 'onBindInstance', values, BINDING);
    expect(bind!.metadata.name).toBe(`xa33b437050ee4-bind-${BINDING}`);
    expect(bind!.metadata.labels).toMatchObject({ 'kubernetes-broker.io/hook': 'onBindInstance', 'kubernetes-broker.io/binding-id': BINDING, service_id: ID });
    expect((bind!.spec as any).template.metadata.labels).toMatchObject({
      'kubernetes-broker.io/binding-id': BINDING,
      'kubernetes-broker.io/hook': 'onBindInstance',
    });
    expect((bind!.spec as any).template.spec.containers[0].args).toEqual(['create-user', BINDING]);
    const [unbind] = renderHookJobs(service, plan, 'onUnbindInstance', values, BINDING);
    expect((unbind!.spec as any).template.spec.restartPolicy).toBe('OnFailure');
  });

  it('renders nothing for an event without Jobs; refuses a binding id that cannot be a label', async () => {
    const { service, plan } = await load(files);
    expect(renderHookJobs(service, plan, 'onDeleteInstance', values)).toEqual([]);
    expect(() => renderHookJobs(service, plan, 'onBindInstance', values)).toThrow(RenderError);
    expect(() => renderHookJobs(service, plan, 'onBindInstance', values, '_bad_')).toThrow(/binding id "_bad_" cannot be a Kubernetes label value/);
    // A binding id handed to a create hook is not used: it does not know $binding_id.
    expect(
      renderHookJobs(service, plan, 'onCreateInstance', { ...values, bindingId: BINDING })[0]!.metadata.labels!['kubernetes-broker.io/binding-id'],
    ).toBeUndefined();
  });

  it('does not change the parsed templates', async () => {
    const { service, plan } = await load(files);
    const before = JSON.stringify(plan.hooks);
    renderHookJobs(service, plan, 'onCreateInstance', values);
    renderHookJobs(service, plan, 'onBindInstance', values, BINDING);
    expect(JSON.stringify(plan.hooks)).toBe(before);
  });
});

describe('credentials from a bind hook', () => {
  const files = {
    ...hooks({ 'onBindInstance/job.json': job('$short_serviceid-bind-$binding_id') }),
    'db/small/credentials-mappings.json': {
      hostname: '$hostname',
      username: 'u_$binding_id',
      password: '$hook_password',
      uri: 'postgres://$hook_user_name:$hook_password@$hostname:$port_5432/db',
    },
  };
  const facts = { env: {}, services: [{ name: 'db', hostname: 'db.ns.svc.cluster.local', ports: [{ port: 5432, targetPort: 5432 }] }] };

  it('fills $hook_<KEY> from the Secret the hook wrote, $binding_id from the binding', async () => {
    const { service, plan } = await load(files);
    const creds = renderCredentials(service, plan, { ...values, bindingId: BINDING }, { ...facts, hookSecret: { password: 'p"w', user_name: 'alice' } });
    expect(creds).toEqual({
      hostname: 'db.ns.svc.cluster.local',
      username: `u_${BINDING}`,
      password: 'p"w',
      uri: 'postgres://alice:p"w@db.ns.svc.cluster.local:5432/db',
    });
  });

  it('says what the bind hook should have written when the Secret or a key is missing', async () => {
    const { service, plan } = await load(files);
    const render = (hookSecret?: Record<string, string>) => () =>
      renderCredentials(service, plan, { ...values, bindingId: BINDING }, { ...facts, ...(hookSecret ? { hookSecret } : {}) });
    expect(render()).toThrow(
      "db/small/credentials-mappings.json: $hook_password: the bind hook (hooks/onBindInstance) wrote no Secret for this binding; its Job must create one in the instance's namespace, labelled kubernetes-broker.io/binding-id=<binding id> and service_id=<instance id>, with key password",
    );
    expect(render({ password: 'x' })).toThrow(
      'db/small/credentials-mappings.json: $hook_user_name: the Secret the bind hook wrote for this binding has no key user_name (keys: password)',
    );
  });
});

describe('hookEventsOf', () => {
  const job = {} as Template;
  const plan = (hooks?: Plan['hooks']) => ({ hooks }) as unknown as Plan;

  it('names the events for which the plan has at least one hook Job', () => {
    expect(hookEventsOf(plan({ onCreateInstance: [job], onDeleteInstance: [job, job], onBindInstance: [] }))).toEqual(['onCreateInstance', 'onDeleteInstance']);
  });

  it('is empty for a plan without hooks: provision and deprovision then skip their hook step', () => {
    expect(hookEventsOf(plan())).toEqual([]);
    expect(hookEventsOf(plan({}))).toEqual([]);
  });
});
