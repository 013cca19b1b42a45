// What the template placeholders stand for for one instance: the part of the placeholder
// language that templates and credentials mappings share.
import { RenderError } from './errors.js';
import { idxAndShortServiceId, nameSchemeOf, shortServiceId } from './naming.js';
import type { PlaceholderToken } from './placeholders.js';
import type { InstanceValues, Plan, ServiceOffering } from './types.js';

export interface ValueScope {
  service: Pick<ServiceOffering, 'id' | 'name'>;
  plan: Pick<Plan, 'id'>;
  values: InstanceValues;
  /** The template's index among the plan's templates of its kind (0 in mappings). */
  index: number;
  /** File to blame in errors. */
  file: string;
}

/**
 * Text of a template placeholder (the ones every scope knows), or undefined for the
 * mapping-only ones, which the caller resolves.
 */
export function templateValueText(p: PlaceholderToken, s: ValueScope): string | undefined {
  const v = s.values;
  switch (p.type) {
    case 'param':
      return paramText(p, s);
    case 'value':
      switch (p.name) {
        case 'org':
          return v.org;
        case 'space':
          return v.space;
        case 'catalog_service_id':
          return s.service.id;
        case 'catalog_plan_id':
          return s.plan.id;
        case 'service_id':
          return v.instanceId;
        case 'short_serviceid':
          return shortServiceId(v.instanceId, nameSchemeOf(v));
        case 'idx_and_short_serviceid':
          return idxAndShortServiceId(v.instanceId, s.index, nameSchemeOf(v));
        case 'storage_class':
          return v.storageClass;
        case 'namespace':
          return v.namespace;
        case 'hostname':
        case 'name':
        case 'uri':
        case 'nodeName':
          return undefined;
        case 'binding_id':
          if (v.bindingId === undefined)
            throw new RenderError(`${p.raw} has no value here: only bind and unbind hooks and credentials mappings know the binding`, s.file);
          return v.bindingId;
        default: {
          const random = v.randoms[p.name];
          if (typeof random !== 'string' || random === '') throw new RenderError(`${p.raw}: the instance has no value for it`, s.file);
          return random;
        }
      }
    default:
      return undefined;
  }
}

/** A parameter's value, checked: it must exist and be a scalar. */
export function paramValue(p: PlaceholderToken & { type: 'param' }, s: ValueScope): string | number | boolean | null {
  const value = s.values.parameters[p.param];
  if (value === undefined) {
    throw new RenderError(`${p.raw} has no value: the request did not set parameter ${p.param} and its schema has no default`, s.file);
  }
  if (value !== null && typeof value === 'object') {
    throw new RenderError(
      `${p.raw}: parameter ${p.param} is ${Array.isArray(value) ? 'an array' : 'an object'}; only strings, numbers and booleans can be placed in templates`,
      s.file,
    );
  }
  return value as string | number | boolean | null;
}

function paramText(p: PlaceholderToken & { type: 'param' }, s: ValueScope): string {
  const value = paramValue(p, s);
  return value === null ? '' : String(value);
}
