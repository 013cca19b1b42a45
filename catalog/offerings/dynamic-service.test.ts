import { describe, expect, it } from 'vitest';
import { renderCredentials } from '../credentials.js';
import { renderPlan } from '../render.js';
import { sampleValues } from '../check.js';
import { dynamicPlanId, dynamicServiceFiles, dynamicServiceId, isDynamicServiceBody, nameUuid } from './dynamic-service.js';
import { offeringFiles } from './body.js';
import { OfferingRejected } from './files.js';
import { MONGO_DYNAMIC_SERVICE } from './testing.js';
import { loadOffering } from './validate.js';

const parse = (files: Record<string, string>, name: string) => JSON.parse(files[name]!);

function rejected(body: unknown): OfferingRejected {
  try {
    dynamicServiceFiles(body as { dynamicService: unknown });
  } catch (err) {
    if (err instanceof OfferingRejected) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('the old PUT /v2/dynamicservice body', () => {
  it('is recognised by its dynamicService field', () => {
    expect(isDynamicServiceBody(MONGO_DYNAMIC_SERVICE)).toBe(true);
    expect(isDynamicServiceBody({ files: {} })).toBe(false);
  });

  it('becomes a service folder: service.json, plan.json, a Deployment, a Service and the mapping', () => {
    const files = dynamicServiceFiles(MONGO_DYNAMIC_SERVICE);
    expect(Object.keys(files).sort()).toEqual([
      'plan/credentials-mappings.json',
      'plan/k8s/deployment.json',
      'plan/k8s/service.json',
      'plan/plan.json',
      'service.json',
    ]);
    expect(parse(files, 'service.json')).toMatchObject({ id: dynamicServiceId('dynamic-mongo'), name: 'dynamic-mongo', bindable: true });
    expect(parse(files, 'plan/plan.json')).toMatchObject({ id: dynamicPlanId('dynamic-mongo', 'dynamic-mongo'), name: 'dynamic-mongo', free: true });
    const container = parse(files, 'plan/k8s/deployment.json').spec.template.spec.containers[0];
    // The Go client's empty values are dropped; the rest is the container as sent.
    expect(container).toEqual({
      name: 'k-mongodb30',
      image: 'frodenas/mongodb:3.0',
      ports: [{ containerPort: 27017, protocol: 'TCP' }],
      env: MONGO_DYNAMIC_SERVICE.dynamicService.containers[0]!.env,
    });
    // port → the containerPort of the same number (targetPort 0 meant "the same").
    expect(parse(files, 'plan/k8s/service.json').spec.ports).toEqual([{ name: 'port-27017', protocol: 'TCP', port: 27017, targetPort: 27017 }]);
    expect(parse(files, 'plan/credentials-mappings.json')).toEqual(MONGO_DYNAMIC_SERVICE.dynamicService.credentialMappings);
  });

  it('gives the same ids every time (name-based UUIDs), other ids for other names', () => {
    expect(dynamicServiceFiles(MONGO_DYNAMIC_SERVICE)).toEqual(dynamicServiceFiles(structuredClone(MONGO_DYNAMIC_SERVICE)));
    expect(nameUuid('a')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(dynamicServiceId('a')).not.toBe(dynamicServiceId('b'));
    expect(dynamicPlanId('a', 'x')).not.toBe(dynamicPlanId('b', 'x'));
  });

  it('loads as a valid catalog service that renders and binds like a file one', () => {
    const { service } = loadOffering(dynamicServiceFiles(MONGO_DYNAMIC_SERVICE));
    const plan = service.plans[0]!;
    const values = sampleValues(plan);
    const objects = renderPlan(service, plan, values);
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`)).toEqual(['Deployment x000000c61x35mqnuqi', 'Service x000000c61x35mqnuqi']);
    expect(objects[0]!.metadata.labels).toMatchObject({ service_id: values.instanceId, 'app.kubernetes.io/managed-by': 'kubernetes-broker' });
    const creds = renderCredentials(service, plan, values, {
      env: { MONGODB_DBNAME: 'test', MONGODB_PASSWORD: 'user', MONGODB_USERNAME: 'password' },
      services: [{ name: 'x000000c61x35mqnuqi', hostname: 'x000000c61x35mqnuqi.default.svc.cluster.local', ports: [{ port: 27017, targetPort: 27017 }] }],
    });
    expect(creds).toEqual({
      dbname: 'test',
      hostname: 'x000000c61x35mqnuqi.default.svc.cluster.local',
      password: 'user',
      port: '27017',
      ports: { '27017/tcp': '27017' },
      uri: 'mongodb://password:user@x000000c61x35mqnuqi.default.svc.cluster.local:27017/test',
      username: 'password',
    });
  });

  it('takes the ports of the containers when servicePorts is empty, and makes no Service without ports', () => {
    const noServicePorts = structuredClone(MONGO_DYNAMIC_SERVICE) as any;
    noServicePorts.dynamicService.servicePorts = [];
    expect(JSON.parse(dynamicServiceFiles(noServicePorts)['plan/k8s/service.json']!).spec.ports).toEqual([
      { name: 'port-27017', protocol: 'TCP', port: 27017, targetPort: 27017 },
    ]);
    delete noServicePorts.dynamicService.containers[0].ports;
    expect(dynamicServiceFiles(noServicePorts)['plan/k8s/service.json']).toBeUndefined();
  });

  it('names every missing or wrong field at once', () => {
    const err = rejected({ dynamicService: { planName: '', containers: [{ name: 'Bad_Name' }, 'x'], servicePorts: [{ port: 0 }], credentialMappings: [] } });
    expect(err.status).toBe(400);
    expect(err.problems.map((p) => p.field)).toEqual([
      'serviceName',
      'planName',
      'containers[0].name',
      'containers[0].image',
      'containers[1]',
      'servicePorts[0].port',
      'credentialMappings',
    ]);
    expect(err.problems.every((p) => p.file === 'dynamicService')).toBe(true);
    expect(rejected({ dynamicService: 'x' }).problems).toEqual([{ file: 'dynamicService', message: 'must be an object' }]);
    expect(rejected({ dynamicService: { serviceName: 's', planName: 'p' } }).message).toContain('containers');
  });

  it('leaves placeholders in env values to the catalog rules: an unknown one is refused by the loader', () => {
    const body = structuredClone(MONGO_DYNAMIC_SERVICE) as any;
    body.dynamicService.containers[0].env.push({ name: 'PASS', value: '$random1' }, { name: 'BAD', value: '$nonsense' });
    let error: unknown;
    try {
      loadOffering(dynamicServiceFiles(body));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OfferingRejected);
    expect((error as OfferingRejected).problems).toEqual([
      expect.objectContaining({ file: 'plan/k8s/deployment.json', message: expect.stringContaining('$nonsense') }),
    ]);
  });
});

describe('offeringFiles', () => {
  it('refuses a dynamicservice body larger than one ConfigMap holds with a 400, before storing anything', () => {
    const body = structuredClone(MONGO_DYNAMIC_SERVICE);
    body.dynamicService.containers[0]!.env.push({ name: 'BLOB', value: 'x'.repeat(1024 * 1024) });
    let rejected: unknown;
    try {
      offeringFiles(body);
    } catch (err) {
      rejected = err;
    }
    expect(rejected).toBeInstanceOf(OfferingRejected);
    expect((rejected as OfferingRejected).status).toBe(400);
    expect((rejected as OfferingRejected).problems[0]!.message).toMatch(/bytes as stored .* at most 921600/);
  });
});
