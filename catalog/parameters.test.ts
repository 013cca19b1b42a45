import { describe, expect, it } from 'vitest';
import { declaredParameters, validateParameters } from './parameters.js';
import { compileSchema, draftOf } from './schemas.js';
import type { PlanSchemas } from './types.js';

const create = {
  type: 'object',
  properties: {
    replicas: { type: 'integer', minimum: 1, maximum: 5, default: 1 },
    size: { type: 'string', enum: ['small', 'large'] },
    tls: { type: 'object', properties: { enabled: { type: 'boolean', default: true } }, default: {} },
    'db-name': { type: 'string' },
  },
  required: ['size'],
  additionalProperties: false,
};
const schemas: PlanSchemas = {
  service_instance: {
    create: { parameters: create },
    update: { parameters: { type: 'object', properties: { replicas: { type: 'integer', maximum: 9 }, mode: { type: 'string' } } } },
  },
  service_binding: { create: { parameters: { type: 'object', properties: { role: { const: 'reader' } } } } },
};
const plan = { schemas };

describe('validateParameters', () => {
  it('accepts any object, or nothing, when the plan has no schema', () => {
    expect(validateParameters({}, 'provision', { anything: [1, { b: 2 }] })).toEqual({ ok: true, value: { anything: [1, { b: 2 }] } });
    expect(validateParameters({}, 'provision', undefined)).toEqual({ ok: true, value: {} });
    expect(validateParameters({}, 'bind', null)).toEqual({ ok: true, value: {} });
  });

  it('refuses parameters that are not an object', () => {
    for (const bad of [[1], 'x', 3, true]) {
      expect(validateParameters({}, 'provision', bad)).toEqual({ ok: false, errors: ['parameters must be an object'] });
    }
  });

  it('applies the defaults of the schema to a copy', () => {
    const input = { size: 'small' };
    const result = validateParameters(plan, 'provision', input);
    expect(result).toEqual({ ok: true, value: { size: 'small', replicas: 1, tls: { enabled: true } } });
    expect(input).toEqual({ size: 'small' });
  });

  it('says what is wrong, all of it, readably', () => {
    const result = validateParameters(plan, 'provision', { replicas: 7, size: 'medium', extra: 1, tls: { enabled: 'yes' } });
    expect(result.ok).toBe(false);
    expect(result.ok === false && result.errors.sort()).toEqual([
      'parameters.extra is not allowed',
      'parameters.replicas must be <= 5',
      'parameters.size must be one of "small", "large"',
      'parameters.tls.enabled must be boolean',
    ]);
    expect(validateParameters(plan, 'provision', {})).toEqual({ ok: false, errors: ['parameters.size is required'] });
  });

  it('validates each action against its own schema', () => {
    expect(validateParameters(plan, 'update', { replicas: 7 })).toEqual({ ok: true, value: { replicas: 7 } });
    expect(validateParameters(plan, 'update', { replicas: 10 })).toEqual({ ok: false, errors: ['parameters.replicas must be <= 9'] });
    expect(validateParameters(plan, 'bind', { role: 'admin' })).toEqual({ ok: false, errors: ['parameters.role must be "reader"'] });
    expect(validateParameters(plan, 'bind', { role: 'reader' })).toEqual({ ok: true, value: { role: 'reader' } });
  });

  it('names awkward keys and array items clearly', () => {
    const p = {
      schemas: { service_instance: { create: { parameters: { type: 'object', properties: { 'a b': { type: 'array', items: { type: 'integer' } } } } } } },
    };
    expect(validateParameters(p, 'provision', { 'a b': [1, 'x'] })).toEqual({ ok: false, errors: ['parameters["a b"][1] must be integer'] });
  });

  it('checks formats', () => {
    const p = { schemas: { service_instance: { create: { parameters: { type: 'object', properties: { mail: { type: 'string', format: 'email' } } } } } } };
    expect(validateParameters(p, 'provision', { mail: 'nope' })).toEqual({ ok: false, errors: ['parameters.mail must match format "email"'] });
    expect(validateParameters(p, 'provision', { mail: 'a@b.org' }).ok).toBe(true);
  });
});

describe('declaredParameters', () => {
  it('lists the properties of the create and update schemas, the same array every time', () => {
    expect([...declaredParameters(schemas)].sort()).toEqual(['db-name', 'mode', 'replicas', 'size', 'tls']);
    expect(declaredParameters(schemas)).toBe(declaredParameters(schemas));
    expect(declaredParameters(undefined)).toEqual([]);
  });
});

describe('compileSchema', () => {
  it('compiles each schema once', () => {
    const schema = { type: 'object' };
    const first = compileSchema(schema).validate;
    expect(first).toBeTypeOf('function');
    expect(compileSchema(schema).validate).toBe(first);
  });

  it('chooses the draft by $schema, draft-07 when absent', () => {
    expect(draftOf({})).toBe('draft-07');
    expect(draftOf({ $schema: 'http://json-schema.org/draft-04/schema#' })).toBe('draft-04');
    expect(draftOf({ $schema: 'https://json-schema.org/draft-06/schema' })).toBe('draft-06');
    expect(draftOf({ $schema: 'https://json-schema.org/draft/2019-09/schema' })).toBe('2019-09');
    expect(draftOf({ $schema: 'https://json-schema.org/draft/2020-12/schema' })).toBe('2020-12');
    expect(draftOf({ $schema: 'http://example.com/mine' })).toBeUndefined();
  });

  it('validates by the rules of each draft', () => {
    // draft-04: exclusiveMaximum is a boolean next to maximum.
    const d4 = compileSchema({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'integer', maximum: 5, exclusiveMaximum: true });
    expect(d4.errors).toEqual([]);
    expect(d4.validate!(5)).toBe(false);
    expect(d4.validate!(4)).toBe(true);
    const d6 = compileSchema({ $schema: 'http://json-schema.org/draft-06/schema#', type: 'integer', exclusiveMaximum: 5 });
    expect(d6.errors).toEqual([]);
    expect(d6.validate!(5)).toBe(false);
    const d2019 = compileSchema({ $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object', dependentRequired: { a: ['b'] } });
    expect(d2019.validate!({ a: 1 })).toBe(false);
    const d2020 = compileSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }] });
    expect(d2020.errors).toEqual([]);
    expect(d2020.validate!([1])).toBe(false);
  });

  it('refuses what is not a JSON Schema', () => {
    expect(compileSchema({ type: 'strnig' }).errors[0]).toMatch(/^is not a valid draft-07 JSON Schema: /);
    expect(compileSchema({ $ref: '#/definitions/missing' }).errors[0]).toMatch(/^cannot be compiled: /);
    expect(compileSchema([]).errors).toEqual(['must be a JSON Schema object']);
    expect(compileSchema({ $schema: 'http://example.com/mine' }).errors[0]).toMatch(/^unsupported \$schema/);
  });

  it('warns about unknown keywords instead of failing', () => {
    const check = compileSchema({ type: 'object', propertes: {} });
    expect(check.errors).toEqual([]);
    expect(check.warnings.join()).toContain('propertes');
  });

  it('lets two schemas carry the same $id', () => {
    expect(compileSchema({ $id: 'http://example.com/p', type: 'string' }).errors).toEqual([]);
    const second = compileSchema({ $id: 'http://example.com/p', type: 'integer' });
    expect(second.errors).toEqual([]);
    expect(second.validate!(1)).toBe(true);
  });
});
