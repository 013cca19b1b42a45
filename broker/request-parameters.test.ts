import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../catalog/load.js';
import { baseCatalog, deployment, removeCatalog, writeCatalog } from '../catalog/testing.js';
import type { Catalog, Plan, PlanSchemas } from '../catalog/types.js';
import { BrokerError } from './errors.js';
import { assertRenderable, validateRequestParameters } from './request-parameters.js';

const replicas = { type: 'integer', minimum: 1, maximum: 3, default: 1 };
const size = { type: 'string', default: '1Gi' };

/** Only what validateRequestParameters reads of a plan: its name and schemas. */
const plan = (name: string, schemas?: PlanSchemas) => ({ name, ...(schemas ? { schemas } : {}) }) as Plan;

const small = plan('small', {
  service_instance: {
    create: { parameters: { type: 'object', additionalProperties: false, properties: { replicas, size } } },
    // Updates may ask for more replicas than the create schema allows: the merged result decides.
    update: {
      parameters: {
        type: 'object',
        additionalProperties: false,
        properties: { replicas: { type: 'integer', maximum: 9 }, mode: { type: 'string', default: 'rolling' } },
      },
    },
  },
  service_binding: { create: { parameters: { type: 'object', properties: { role: { enum: ['reader', 'writer'], default: 'reader' } } } } },
});

const large = plan('large', {
  service_instance: {
    create: { parameters: { type: 'object', properties: { replicas, size, volume: { type: 'string', default: '10Gi' } } } },
  },
});

function badRequest(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).status).toBe(400);
    return (err as BrokerError).description;
  }
  throw new Error('no 400');
}

describe('validateRequestParameters: provision and bind', () => {
  it("applies the create schema's defaults", () => {
    expect(validateRequestParameters(small, 'provision', undefined)).toEqual({ replicas: 1, size: '1Gi' });
    expect(validateRequestParameters(small, 'provision', { replicas: 2 })).toEqual({ replicas: 2, size: '1Gi' });
  });

  it('does not modify the request', () => {
    const given = { replicas: 2 };
    validateRequestParameters(small, 'provision', given);
    expect(given).toEqual({ replicas: 2 });
  });

  it('400 naming the plan and every problem', () => {
    const description = badRequest(() => validateRequestParameters(small, 'provision', { replicas: 4, colour: 'red' }));
    expect(description).toMatch(/^invalid parameters for plan small: /);
    expect(
      description
        .replace(/^[^:]*: /, '')
        .split('; ')
        .sort(),
    ).toEqual(['parameters.colour is not allowed', 'parameters.replicas must be <= 3']);
  });

  it('bind uses the binding schema', () => {
    expect(validateRequestParameters(small, 'bind', undefined)).toEqual({ role: 'reader' });
    expect(badRequest(() => validateRequestParameters(small, 'bind', { role: 'admin' }))).toContain('parameters.role must be one of "reader", "writer"');
  });

  it('a plan without schemas takes any parameters as they are', () => {
    expect(validateRequestParameters(plan('free'), 'provision', { anything: { goes: [1] } })).toEqual({ anything: { goes: [1] } });
    expect(validateRequestParameters(plan('free'), 'bind', undefined)).toEqual({});
  });
});

describe('validateRequestParameters: update', () => {
  const current = { replicas: 2, size: '5Gi' };

  it('keeps the parameters the request does not name', () => {
    expect(validateRequestParameters(small, 'update', { replicas: 3 }, current)).toEqual({ replicas: 3, size: '5Gi' });
  });

  it('without parameters, the current ones stay', () => {
    expect(validateRequestParameters(small, 'update', undefined, current)).toEqual(current);
  });

  it("does not add the update schema's defaults for parameters the request does not name", () => {
    // `mode` has a default in the update schema only; the create schema (which the result must meet) does not know it.
    expect(validateRequestParameters(small, 'update', { replicas: 3 }, current)).not.toHaveProperty('mode');
  });

  it('checks what the request names against the update schema', () => {
    expect(badRequest(() => validateRequestParameters(small, 'update', { size: '2Gi' }, current))).toBe(
      'invalid parameters for plan small: parameters.size is not allowed',
    );
    expect(badRequest(() => validateRequestParameters(small, 'update', { replicas: 10 }, current))).toContain('parameters.replicas must be <= 9');
  });

  it('checks the merged result against the create schema', () => {
    // 5 passes the update schema (<= 9), not the create schema (<= 3).
    expect(badRequest(() => validateRequestParameters(small, 'update', { replicas: 5 }, current))).toBe(
      'invalid parameters for plan small: parameters.replicas must be <= 3',
    );
  });

  it("applies the create schema's defaults for parameters the instance does not have yet", () => {
    expect(validateRequestParameters(small, 'update', undefined, { replicas: 2 })).toEqual({ replicas: 2, size: '1Gi' });
  });

  it('after a plan change, drops the parameters the target plan does not declare', () => {
    const onLarge = { replicas: 2, size: '5Gi', volume: '20Gi' };
    expect(validateRequestParameters(small, 'update', undefined, onLarge)).toEqual({ replicas: 2, size: '5Gi' });
    expect(validateRequestParameters(small, 'update', { replicas: 1 }, onLarge)).toEqual({ replicas: 1, size: '5Gi' });
  });

  it('to a plan that declares more, the new parameters get their defaults', () => {
    expect(validateRequestParameters(large, 'update', undefined, { replicas: 2, size: '5Gi' })).toEqual({ replicas: 2, size: '5Gi', volume: '10Gi' });
  });

  it('a plan without an update schema takes what the create schema allows', () => {
    expect(validateRequestParameters(large, 'update', { volume: '30Gi' }, { replicas: 2, size: '5Gi', volume: '20Gi' })).toEqual({
      replicas: 2,
      size: '5Gi',
      volume: '30Gi',
    });
  });

  it('a target plan without schemas keeps every current parameter', () => {
    expect(validateRequestParameters(plan('free'), 'update', { b: 2 }, { a: 1 })).toEqual({ a: 1, b: 2 });
  });
});

describe('assertRenderable', () => {
  let dir: string;
  let catalog: Catalog;

  beforeAll(async () => {
    const templated = deployment('$idx_and_short_serviceid', { replicas: '$param_replicas' });
    (templated['metadata'] as Record<string, unknown>)['annotations'] = { tag: '$param_tag' };
    dir = writeCatalog(
      baseCatalog({
        'db/small/plan.json': {
          id: 'db-small-id',
          name: 'small',
          description: 'Small',
          free: true,
          schemas: {
            service_instance: {
              create: {
                parameters: {
                  type: 'object',
                  properties: { replicas: { type: 'integer', default: 1 }, tag: { type: 'string' }, labels: { type: 'object' } },
                },
              },
            },
          },
        },
        'db/small/k8s/deployment.json': templated,
      }),
    );
    catalog = (await loadCatalog(dir)).catalog;
  });
  afterAll(() => removeCatalog(dir));

  const serviceAndPlan = () => {
    const service = catalog.services[0]!;
    return { service, plan: service.plans[0]! };
  };

  it('passes parameters the templates can take', () => {
    const { service, plan } = serviceAndPlan();
    expect(() => assertRenderable(service, plan, 'inst-1', { replicas: 2, tag: 'blue' })).not.toThrow();
  });

  it('400 when a template needs a parameter the request did not set and the schema has no default for', () => {
    const { service, plan } = serviceAndPlan();
    const description = badRequest(() => assertRenderable(service, plan, 'inst-1', { replicas: 2 }));
    expect(description).toMatch(/^plan small cannot be rendered with these parameters: /);
    expect(description).toContain('$param_tag has no value: the request did not set parameter tag');
  });

  it('400 when a parameter cannot be placed in a template (an object)', () => {
    const { service, plan } = serviceAndPlan();
    expect(badRequest(() => assertRenderable(service, plan, 'inst-1', { replicas: 2, tag: { nested: true } }))).toContain(
      'only strings, numbers and booleans can be placed in templates',
    );
  });

  it('400 for an instance id that cannot label the objects', () => {
    const { service, plan } = serviceAndPlan();
    expect(badRequest(() => assertRenderable(service, plan, 'a b', { replicas: 2, tag: 'x' }))).toContain('cannot be a Kubernetes label value');
  });
});

describe('validateRequestParameters: plans that declare no instance parameters', () => {
  it('keep the current parameters on update (nothing is declared, so nothing is dropped)', () => {
    const bindingOnly = plan('binding-only', { service_binding: { create: { parameters: { type: 'object' } } } });
    expect(validateRequestParameters(bindingOnly, 'update', { bar: 2 }, { foo: 1 })).toEqual({ foo: 1, bar: 2 });
    expect(validateRequestParameters(plan('none'), 'update', { bar: 2 }, { foo: 1 })).toEqual({ foo: 1, bar: 2 });
  });
});
