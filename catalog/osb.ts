// service.json and plan.json: the OSB fields the broker relies on, checked for presence and
// type. Everything else passes through untouched to `GET /v2/catalog`.
import { isObject } from './json.js';

type FieldType = 'nonEmptyString' | 'string' | 'boolean' | 'object' | 'stringArray' | 'nonNegativeInteger';
interface FieldRule {
  key: string;
  type: FieldType;
  required?: boolean;
}

const SERVICE_FIELDS: readonly FieldRule[] = [
  { key: 'id', type: 'nonEmptyString', required: true },
  { key: 'name', type: 'nonEmptyString', required: true },
  { key: 'description', type: 'nonEmptyString', required: true },
  { key: 'bindable', type: 'boolean', required: true },
  { key: 'tags', type: 'stringArray' },
  { key: 'requires', type: 'stringArray' },
  { key: 'metadata', type: 'object' },
  { key: 'dashboard_client', type: 'object' },
  { key: 'plan_updateable', type: 'boolean' },
  { key: 'instances_retrievable', type: 'boolean' },
  { key: 'bindings_retrievable', type: 'boolean' },
  { key: 'allow_context_updates', type: 'boolean' },
];

const PLAN_FIELDS: readonly FieldRule[] = [
  { key: 'id', type: 'nonEmptyString', required: true },
  { key: 'name', type: 'nonEmptyString', required: true },
  { key: 'description', type: 'nonEmptyString', required: true },
  { key: 'metadata', type: 'object' },
  { key: 'free', type: 'boolean' },
  { key: 'bindable', type: 'boolean' },
  { key: 'plan_updateable', type: 'boolean' },
  { key: 'schemas', type: 'object' },
  { key: 'maximum_polling_duration', type: 'nonNegativeInteger' },
  { key: 'maintenance_info', type: 'object' },
  { key: 'binding_rotatable', type: 'boolean' },
];

const DESCRIPTIONS: Readonly<Record<FieldType, string>> = {
  nonEmptyString: 'a non-empty string',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  stringArray: 'an array of strings',
  nonNegativeInteger: 'a non-negative integer',
};

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'nonEmptyString':
      return typeof value === 'string' && value.trim() !== '';
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isObject(value);
    case 'stringArray':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'nonNegativeInteger':
      return Number.isInteger(value) && (value as number) >= 0;
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

function checkFields(body: Record<string, unknown>, rules: readonly FieldRule[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const rule of rules) {
    const value = body[rule.key];
    if (value === undefined) {
      if (rule.required) problems.push({ field: rule.key, message: `is required (${DESCRIPTIONS[rule.type]})` });
    } else if (!hasType(value, rule.type)) {
      problems.push({ field: rule.key, message: `must be ${DESCRIPTIONS[rule.type]}, got ${JSON.stringify(value)}` });
    }
  }
  return problems;
}

export function checkServiceJson(body: Record<string, unknown>): FieldProblem[] {
  const problems = checkFields(body, SERVICE_FIELDS);
  const client = body.dashboard_client;
  if (isObject(client)) {
    for (const key of ['id', 'secret']) {
      if (typeof client[key] !== 'string') problems.push({ field: `dashboard_client.${key}`, message: 'must be a string' });
    }
    if (client.redirect_uri !== undefined && typeof client.redirect_uri !== 'string') {
      problems.push({ field: 'dashboard_client.redirect_uri', message: 'must be a string' });
    }
  }
  return problems;
}

// OSB requires maintenance_info.version to be a semantic version 2.0.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Schema positions OSB defines: where the plan's JSON Schemas sit. */
export const SCHEMA_PATHS: readonly (readonly string[])[] = [
  ['service_instance', 'create', 'parameters'],
  ['service_instance', 'update', 'parameters'],
  ['service_binding', 'create', 'parameters'],
  ['service_binding', 'create', 'response'],
];

export function checkPlanJson(body: Record<string, unknown>): FieldProblem[] {
  const problems = checkFields(body, PLAN_FIELDS);
  const info = body.maintenance_info;
  if (isObject(info)) {
    if (typeof info.version !== 'string' || !SEMVER.test(info.version)) {
      problems.push({ field: 'maintenance_info.version', message: 'must be a semantic version (1.2.3)' });
    }
    if (info.description !== undefined && typeof info.description !== 'string') {
      problems.push({ field: 'maintenance_info.description', message: 'must be a string' });
    }
  }
  if (isObject(body.schemas)) {
    // Every level above a schema must be an object; the schemas themselves are compiled elsewhere.
    for (const keys of SCHEMA_PATHS) {
      let node: unknown = body.schemas;
      for (let i = 0; i < keys.length - 1 && node !== undefined; i++) {
        const next: unknown = (node as Record<string, unknown>)[keys[i]!];
        if (next !== undefined && !isObject(next)) {
          problems.push({ field: `schemas.${keys.slice(0, i + 1).join('.')}`, message: 'must be an object' });
          node = undefined;
        } else {
          node = next;
        }
      }
    }
  }
  return problems;
}

/** The schema at a path of `schemas`, when present. */
export function schemaAt(schemas: unknown, keys: readonly string[]): unknown {
  let node: unknown = schemas;
  for (const key of keys) {
    if (!isObject(node)) return undefined;
    node = node[key];
  }
  return node;
}
