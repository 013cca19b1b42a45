// Request parameters against the plan's JSON Schemas, with the schema's defaults applied: what the
// API answers with 400 and what `$param_<name>` placeholders are filled with.
import type { ErrorObject } from 'ajv';
import { compileSchema } from './schemas.js';
import type { Plan, PlanSchemas } from './types.js';

export type ParameterAction = 'provision' | 'update' | 'bind';

/** The schema of an action's parameters, when the plan has one. */
export function parametersSchema(schemas: PlanSchemas | undefined, action: ParameterAction): unknown {
  if (action === 'provision') return schemas?.service_instance?.create?.parameters;
  if (action === 'update') return schemas?.service_instance?.update?.parameters;
  return schemas?.service_binding?.create?.parameters;
}

const declared = new WeakMap<PlanSchemas, readonly string[]>();
const NONE: readonly string[] = Object.freeze([]);

/**
 * Names `$param_<name>` may use: top-level `properties` of the create and update schemas. The
 * same array for the same schemas (placeholders.ts caches tokenized templates by it).
 */
export function declaredParameters(schemas: PlanSchemas | undefined): readonly string[] {
  if (!schemas) return NONE;
  let names = declared.get(schemas);
  if (!names) declared.set(schemas, (names = Object.freeze(collectParameters(schemas))));
  return names;
}

function collectParameters(schemas: PlanSchemas): string[] {
  const names = new Set<string>();
  for (const action of ['provision', 'update'] as const) {
    const schema = parametersSchema(schemas, action);
    const properties = typeof schema === 'object' && schema !== null ? (schema as { properties?: unknown }).properties : undefined;
    if (typeof properties === 'object' && properties !== null && !Array.isArray(properties)) {
      for (const name of Object.keys(properties)) names.add(name);
    }
  }
  return [...names];
}

export type ParametersResult = { ok: true; value: Record<string, unknown> } | { ok: false; errors: string[] };

/**
 * Validates request parameters (absent => {}) for an action. The input is not modified; the
 * returned value is a copy with the schema's defaults filled in.
 */
export function validateParameters(plan: Pick<Plan, 'schemas'>, action: ParameterAction, parameters: unknown): ParametersResult {
  // `null` is how some platforms send "no parameters".
  if (parameters === undefined || parameters === null) parameters = {};
  if (typeof parameters !== 'object' || Array.isArray(parameters)) return { ok: false, errors: ['parameters must be an object'] };
  const value = structuredClone(parameters) as Record<string, unknown>;
  const schema = parametersSchema(plan.schemas, action);
  if (schema === undefined) return { ok: true, value };
  const { validate, errors } = compileSchema(schema);
  // The loader refuses catalogs with invalid schemas; this only happens to hand-built plans.
  if (!validate) return { ok: false, errors: errors.map((e) => `the plan's ${action} parameters schema ${e}`) };
  if (validate(value)) return { ok: true, value };
  return { ok: false, errors: [...new Set((validate.errors ?? []).map(describe))] };
}

/** `parameters.replicas must be <= 5`, `parameters.size is required`. */
function describe(e: ErrorObject): string {
  const path = pathOf(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${child(path, String(params.missingProperty))} is required`;
    case 'additionalProperties':
      return `${child(path, String(params.additionalProperty))} is not allowed`;
    case 'enum':
      return `${path} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${path} must be ${JSON.stringify(params.allowedValue)}`;
    default:
      return `${path} ${e.message ?? 'is invalid'}`;
  }
}

function pathOf(pointer: string): string {
  if (!pointer) return 'parameters';
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce(child, 'parameters');
}

function child(path: string, key: string): string {
  if (/^[0-9]+$/.test(key)) return `${path}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key)) return `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}
