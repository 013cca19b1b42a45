// JSON Schema compilation for plan schemas: one Ajv per draft (chosen by `$schema`, draft-07
// when absent), each schema compiled once and cached by identity. The loader compiles every
// schema at start-up, so requests only ever hit the cache.
import { createRequire } from 'node:module';
import { Ajv, type AnySchema, type AnySchemaObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajv04Module from 'ajv-draft-04';
import ajvFormatsModule from 'ajv-formats';

// CommonJS packages whose typings only declare `default` under NodeNext resolution.
const Ajv04 = ajv04Module.default;
const addFormats = ajvFormatsModule.default;
const require = createRequire(import.meta.url);

export type Draft = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

const DRAFTS: Readonly<Record<string, Draft>> = {
  'http://json-schema.org/draft-04/schema': 'draft-04',
  'http://json-schema.org/draft-06/schema': 'draft-06',
  'http://json-schema.org/draft-07/schema': 'draft-07',
  'http://json-schema.org/draft/2019-09/schema': '2019-09',
  'http://json-schema.org/draft/2020-12/schema': '2020-12',
};

/** The draft a schema declares; undefined for an unsupported `$schema`. */
export function draftOf(schema: unknown): Draft | undefined {
  if (typeof schema !== 'object' || schema === null || !('$schema' in schema)) return 'draft-07';
  const uri = schema.$schema;
  if (typeof uri !== 'string') return undefined;
  return DRAFTS[
    uri
      .trim()
      .replace(/^https:/i, 'http:')
      .replace(/#$/, '')
  ];
}

// Warnings of Ajv (unknown keywords or formats) go to whoever is compiling, never to a console.
let sink: string[] | undefined;
const logger = {
  log: () => {},
  warn: (...args: unknown[]) => sink?.push(args.map(String).join(' ')),
  error: (...args: unknown[]) => sink?.push(args.map(String).join(' ')),
};

const OPTIONS: Options = {
  allErrors: true,
  useDefaults: true,
  // Unknown keywords are common in hand-written schemas: a warning, not a failure.
  strictSchema: 'log',
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  // Schemas are compiled standalone: two plans may carry the same `$id` without clashing.
  addUsedSchema: false,
  logger,
};

/** What is used of an Ajv instance; every draft's class has it. */
type AnyAjv = Pick<Ajv, 'compile' | 'validateSchema' | 'errorsText' | 'errors' | 'addMetaSchema'>;
const instances = new Map<Draft, AnyAjv>();

function ajvFor(draft: Draft): AnyAjv {
  let ajv = instances.get(draft);
  if (!ajv) {
    const created =
      draft === 'draft-04' ? new Ajv04(OPTIONS) : draft === '2019-09' ? new Ajv2019(OPTIONS) : draft === '2020-12' ? new Ajv2020(OPTIONS) : new Ajv(OPTIONS);
    if (draft === 'draft-06') created.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject);
    addFormats(created);
    ajv = created;
    instances.set(draft, ajv);
  }
  return ajv;
}

const cache = new WeakMap<object, ValidateFunction>();
const booleanCache = new Map<boolean, ValidateFunction>();

export interface SchemaCheck {
  validate?: ValidateFunction;
  errors: string[];
  warnings: string[];
}

/** Checks that a value is a JSON Schema of its draft and compiles it (cached). Never throws. */
export function compileSchema(schema: unknown): SchemaCheck {
  if (typeof schema === 'boolean') {
    let validate = booleanCache.get(schema);
    if (!validate) booleanCache.set(schema, (validate = ajvFor('draft-07').compile(schema)));
    return { validate, errors: [], warnings: [] };
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return { errors: ['must be a JSON Schema object'], warnings: [] };
  }
  const cached = cache.get(schema);
  if (cached) return { validate: cached, errors: [], warnings: [] };
  const draft = draftOf(schema);
  if (!draft) {
    return {
      errors: [
        `unsupported $schema ${JSON.stringify((schema as { $schema?: unknown }).$schema)} (draft-04, draft-06, draft-07, 2019-09 and 2020-12 are supported)`,
      ],
      warnings: [],
    };
  }
  const ajv = ajvFor(draft);
  const warnings: string[] = [];
  sink = warnings;
  try {
    const valid = ajv.validateSchema(schema);
    if (!valid) {
      return { errors: [`is not a valid ${draft} JSON Schema: ${ajv.errorsText(ajv.errors, { dataVar: 'schema' })}`], warnings };
    }
    const validate = ajv.compile(schema as AnySchema);
    cache.set(schema, validate);
    return { validate, errors: [], warnings };
  } catch (err) {
    return { errors: [`cannot be compiled: ${(err as Error).message}`], warnings };
  } finally {
    sink = undefined;
  }
}
