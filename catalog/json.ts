// The one shape check the catalog's readers share: a parsed JSON or YAML object (not an array).
export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
