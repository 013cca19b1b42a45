// The placeholder language shared by Kubernetes templates and credentials mappings.
//
// A placeholder is `$` + the longest known name at that point; the rest of the word stays text
// (`$idx_and_short_serviceid-server`). `$$` is a literal `$`, and so is a `$` not followed by a
// letter (shell snippets in templates: `${VAR}`, `$1`). Any other `$name` is an error at load.
// Values are inserted as data in a single pass: a value that itself contains `$org` stays as is.
import type { RandomName } from './types.js';
import { RANDOM_NAMES } from './randoms.js';

/**
 * Where a text is used; it decides which names exist. `hook`: a bind or unbind hook Job (a
 * template that also knows `$binding_id`); create and delete hooks are `template`s.
 */
export type Scope = 'template' | 'hook' | 'mapping' | 'node' | 'uri';

export type ValueName =
  | 'org'
  | 'space'
  | 'catalog_service_id'
  | 'catalog_plan_id'
  | 'service_id'
  | 'short_serviceid'
  | 'idx_and_short_serviceid'
  | RandomName
  | 'storage_class'
  | 'namespace'
  | 'hostname'
  | 'name'
  | 'uri'
  | 'nodeName'
  | 'binding_id';

export type Placeholder =
  | { type: 'value'; name: ValueName }
  | { type: 'param'; param: string }
  | { type: 'env'; env: string }
  | { type: 'port'; port: number }
  /** `$hook_<KEY>`: key KEY of the Secret the bind hook wrote for the binding (credentials only). */
  | { type: 'hook'; key: string }
  /** `$base64-`: base64 of the rest of the string, rendered. */
  | { type: 'base64' }
  /** `$nodes`: the rendered node templates, joined by commas (mappings only, outside strings). */
  | { type: 'nodes' };

export type PlaceholderToken = Placeholder & {
  /** The placeholder as written, `$` included: for messages. */
  raw: string;
  /** Offset of the `$` in the tokenized text. */
  offset: number;
};

/** Literal text, or a placeholder. */
export type Token = string | PlaceholderToken;

export interface UnknownPlaceholder {
  raw: string;
  offset: number;
  message: string;
}

const TEMPLATE_NAMES: readonly string[] = [
  'org',
  'space',
  'catalog_service_id',
  'catalog_plan_id',
  'service_id',
  'short_serviceid',
  'idx_and_short_serviceid',
  ...RANDOM_NAMES,
  'storage_class',
  'namespace',
  'base64-',
];
const SCOPE_NAMES: Readonly<Record<Scope, readonly string[]>> = {
  template: TEMPLATE_NAMES,
  hook: [...TEMPLATE_NAMES, 'binding_id'],
  mapping: [...TEMPLATE_NAMES, 'binding_id', 'hostname', 'name', 'uri', 'nodes'],
  node: [...TEMPLATE_NAMES, 'binding_id', 'hostname', 'name', 'nodeName'],
  uri: [...TEMPLATE_NAMES, 'binding_id', 'hostname', 'name'],
};
/** Scopes of credentials texts: `$env_`, `$port_` and `$hook_` exist there. */
const DYNAMIC_SCOPES: ReadonlySet<Scope> = new Set(['mapping', 'node', 'uri']);
/** Longest first, so that the first match is the longest. */
const byLength = (names: readonly string[]) => [...names].sort((a, b) => b.length - a.length);
const SORTED_SCOPE_NAMES: Readonly<Record<Scope, readonly string[]>> = {
  template: byLength(SCOPE_NAMES.template),
  hook: byLength(SCOPE_NAMES.hook),
  mapping: byLength(SCOPE_NAMES.mapping),
  node: byLength(SCOPE_NAMES.node),
  uri: byLength(SCOPE_NAMES.uri),
};

// Sticky: matched at a position without slicing the text.
const ENV_NAME = /env_[A-Za-z0-9_]+/y;
const PORT_NAME = /port_[0-9]+/y;
const HOOK_NAME = /hook_[A-Za-z0-9_]+/y;
const WORD = /[A-Za-z][A-Za-z0-9_]*/y;

// Where a name that is unknown here can be used, for a helpful message.
const ELSEWHERE: Readonly<Record<string, string>> = {
  hostname: 'credentials mappings, node_template.json and uri_cluster_template',
  name: 'credentials mappings, node_template.json and uri_cluster_template',
  uri: 'credentials mappings',
  nodes: 'credentials mappings (outside a string, where the node objects go)',
  nodeName: 'node_template.json',
  env_: 'credentials mappings, node_template.json and uri_cluster_template',
  port_: 'credentials mappings, node_template.json and uri_cluster_template',
  hook_: 'credentials mappings, node_template.json and uri_cluster_template (of a plan with a bind hook)',
  binding_id: 'bind and unbind hooks (hooks/onBindInstance, hooks/onUnbindInstance) and credentials mappings',
};

export interface TokenizeOptions {
  scope: Scope;
  /** Parameter names the plan declares (`$param_<name>`). */
  params?: readonly string[];
}

export interface Tokenized {
  readonly tokens: readonly Token[];
  readonly unknown: readonly UnknownPlaceholder[];
}

// Templates are rendered again and again from the same strings: tokenize each once. Keyed by the
// plan's parameter list (one array per plan schema, see declaredParameters), then scope and text.
const NO_PARAMS: readonly string[] = [];
const cache = new WeakMap<readonly string[], Map<string, Tokenized>>();

/**
 * Splits a text into literal text and placeholders; unknown `$names` are reported (and kept as
 * text). Results are cached and shared: never modify them.
 */
export function tokenize(text: string, options: TokenizeOptions): Tokenized {
  const params = options.params ?? NO_PARAMS;
  let byText = cache.get(params);
  if (!byText) cache.set(params, (byText = new Map<string, Tokenized>()));
  const key = `${options.scope}\0${text}`;
  let result = byText.get(key);
  if (!result) byText.set(key, (result = tokenizeText(text, options.scope, params)));
  return result;
}

function tokenizeText(text: string, scope: Scope, declared: readonly string[]): Tokenized {
  const names = SORTED_SCOPE_NAMES[scope];
  const params = [...declared].sort((a, b) => b.length - a.length);
  const dynamic = DYNAMIC_SCOPES.has(scope);
  const tokens: Token[] = [];
  const unknown: UnknownPlaceholder[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      literal += '$';
      i = dollar + 2;
      continue;
    }
    if (next === undefined || !isLetter(next)) {
      literal += '$';
      i = dollar + 1;
      continue;
    }
    const match = longestMatch(text, dollar + 1, names, params, dynamic);
    if (!match) {
      const raw = `$${stickyMatch(WORD, text, dollar + 1) ?? ''}`;
      unknown.push({ raw, offset: dollar, message: unknownMessage(raw, scope) });
      literal += raw;
      i = dollar + raw.length;
      continue;
    }
    if (literal) tokens.push(literal);
    literal = '';
    tokens.push({ ...match.placeholder, raw: text.slice(dollar, dollar + 1 + match.length), offset: dollar });
    i = dollar + 1 + match.length;
  }
  if (literal) tokens.push(literal);
  return { tokens, unknown };
}

const isLetter = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

function stickyMatch(re: RegExp, text: string, at: number): string | undefined {
  re.lastIndex = at;
  return re.exec(text)?.[0];
}

/** The longest placeholder name starting at `at` (just after the `$`). */
function longestMatch(
  text: string,
  at: number,
  names: readonly string[],
  params: readonly string[],
  dynamic: boolean,
): { placeholder: Placeholder; length: number } | undefined {
  let best: { placeholder: Placeholder; length: number } | undefined;
  const offer = (placeholder: Placeholder, length: number) => {
    if (!best || length > best.length) best = { placeholder, length };
  };
  const name = names.find((n) => text.startsWith(n, at));
  if (name) offer(staticPlaceholder(name), name.length);
  if (params.length && text.startsWith('param_', at)) {
    const param = params.find((p) => text.startsWith(p, at + 'param_'.length));
    if (param !== undefined) offer({ type: 'param', param }, 'param_'.length + param.length);
  }
  if (dynamic) {
    const env = stickyMatch(ENV_NAME, text, at);
    if (env) offer({ type: 'env', env: env.slice('env_'.length) }, env.length);
    const port = stickyMatch(PORT_NAME, text, at);
    if (port) offer({ type: 'port', port: Number(port.slice('port_'.length)) }, port.length);
    const hook = stickyMatch(HOOK_NAME, text, at);
    if (hook) offer({ type: 'hook', key: hook.slice('hook_'.length) }, hook.length);
  }
  return best;
}

function staticPlaceholder(name: string): Placeholder {
  if (name === 'base64-') return { type: 'base64' };
  if (name === 'nodes') return { type: 'nodes' };
  return { type: 'value', name: name as ValueName };
}

function unknownMessage(raw: string, scope: Scope): string {
  const word = raw.slice(1);
  if (word.startsWith('param_')) {
    return `${raw}: the plan declares no parameter ${word.slice('param_'.length)} (parameters are the properties of its service_instance create or update schema)`;
  }
  const key = ['env_', 'port_', 'hook_'].find((prefix) => word.startsWith(prefix)) ?? word;
  const elsewhere = ELSEWHERE[key];
  if (elsewhere && !SCOPE_NAMES[scope].includes(key)) return `${raw} is only available in ${elsewhere}`;
  return `unknown placeholder ${raw} (write $$ for a literal $)`;
}

/** Substitutes placeholders as text; `$base64-` encodes everything after it, rendered. */
export function substitute(tokens: readonly Token[], text: (p: PlaceholderToken) => string): string {
  let out = '';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (typeof t === 'string') out += t;
    else if (t.type === 'base64') return out + Buffer.from(substitute(tokens.slice(i + 1), text), 'utf8').toString('base64');
    else out += text(t);
  }
  return out;
}

/** Returned by `renderLeaf` when the field holding the string is to be removed. */
export const REMOVE_FIELD: unique symbol = Symbol('remove field');

export interface LeafContext {
  /** Any placeholder's value as text (a function, not a method: it is handed on detached). */
  text: (p: PlaceholderToken) => string;
  /** A parameter's own value (validated, defaults applied); undefined when it has none. */
  param(name: string): unknown;
  storageClass: string;
}

/**
 * Mode (a), a string value of a Kubernetes template. A string that is exactly `$param_<name>`
 * takes the parameter's own type (scalars only); exactly `$storage_class` with no class
 * configured removes the field, so the cluster's default class applies.
 */
export function renderLeaf(tokens: readonly Token[], ctx: LeafContext): unknown {
  const only = tokens.length === 1 ? tokens[0] : undefined;
  if (only !== undefined && typeof only !== 'string') {
    if (only.type === 'param') {
      const value = ctx.param(only.param);
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value;
    }
    if (only.type === 'value' && only.name === 'storage_class' && ctx.storageClass === '') return REMOVE_FIELD;
  }
  return substitute(tokens, ctx.text);
}

// ---- Mode (b): JSON text templates (credentials mappings, node templates) ----

/** A piece of a JSON text template. */
export type JsonSegment =
  /** JSON structure between strings, copied as is. */
  | { type: 'raw'; text: string }
  /** A JSON string literal: its decoded content as tokens; rendered, then JSON-encoded again. */
  | { type: 'string'; tokens: Token[] }
  /** A placeholder outside any string: `$nodes`, or `$port_N` as a number. */
  | { type: 'bare'; placeholder: PlaceholderToken };

export interface LexedJson {
  segments: JsonSegment[];
  unknown: UnknownPlaceholder[];
  /** Other mistakes (placeholder outside a string, broken string literal), by offset. */
  problems: { offset: number; message: string }[];
  /** Offsets of the commas dropped because they stood right before `}` or `]`. */
  trailingCommas: number[];
  /** Offsets of object keys with placeholders in them: keys are kept as written. */
  keysWithPlaceholders: number[];
}

/**
 * Splits a JSON text template into structure, string literals and bare placeholders. Values go
 * into string literals only, and each literal is JSON-encoded after substitution, so no value
 * can end its string or add structure. Only `$nodes` (made of JSON objects the broker built
 * and re-encoded itself) and `$port_N` (an integer) may stand outside a string.
 */
export function lexJsonTemplate(text: string, options: TokenizeOptions): LexedJson {
  // Bindings render the same mapping again and again: lex it once (results are shared, read-only).
  const params = options.params ?? NO_PARAMS;
  let byText = lexCache.get(params);
  if (!byText) lexCache.set(params, (byText = new Map<string, LexedJson>()));
  const key = `${options.scope}\0${text}`;
  let lexed = byText.get(key);
  if (!lexed) byText.set(key, (lexed = lexJsonText(text, { scope: options.scope, params })));
  return lexed;
}

const lexCache = new WeakMap<readonly string[], Map<string, LexedJson>>();

function lexJsonText(text: string, options: TokenizeOptions): LexedJson {
  const segments: JsonSegment[] = [];
  const unknown: UnknownPlaceholder[] = [];
  const problems: { offset: number; message: string }[] = [];
  const trailingCommas: number[] = [];
  const keysWithPlaceholders: number[] = [];

  const pushRaw = (raw: string, offset: number) => {
    // An old catalog's unambiguous trailing comma (nginx/simple): drop it, the loader warns.
    const fixed = raw.replace(/,(\s*[}\]])/g, (_all, closing: string, at: number) => {
      trailingCommas.push(offset + at);
      return closing;
    });
    if (fixed) segments.push({ type: 'raw', text: fixed });
  };

  let i = 0;
  let rawStart = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      pushRaw(text.slice(rawStart, i), rawStart);
      const end = stringEnd(text, i);
      if (end < 0) {
        problems.push({ offset: i, message: 'unterminated string' });
        return { segments, unknown, problems, trailingCommas, keysWithPlaceholders };
      }
      if (/^\s*:/.test(text.slice(end + 1, end + 64))) {
        // An object key: structure, kept as written (as in templates, keys are never filled).
        if (tokenize(text.slice(i + 1, end), options).tokens.some((t) => typeof t !== 'string')) keysWithPlaceholders.push(i);
        segments.push({ type: 'raw', text: text.slice(i, end + 1) });
      } else {
        segments.push({ type: 'string', tokens: lexString(text.slice(i + 1, end), i + 1, options, unknown, problems) });
      }
      i = end + 1;
      rawStart = i;
    } else if (c === '$' && isLetter(text[i + 1] ?? '')) {
      pushRaw(text.slice(rawStart, i), rawStart);
      const lineEnd = text.indexOf('\n', i);
      const { tokens, unknown: bad } = tokenize(text.slice(i, lineEnd < 0 ? undefined : lineEnd), options);
      const first = tokens[0];
      if (first === undefined || typeof first === 'string') {
        // Unknown name: tokenize reported it at offset 0 and kept it as text.
        const u = bad[0]!;
        unknown.push({ ...u, offset: i });
        i += u.raw.length;
      } else {
        if (first.type === 'nodes' || first.type === 'port') {
          segments.push({ type: 'bare', placeholder: { ...first, offset: i } });
        } else {
          problems.push({ offset: i, message: `${first.raw} stands outside a JSON string: put it in quotes (only $nodes and $port_N may stand bare)` });
        }
        i += first.raw.length;
      }
      rawStart = i;
    } else {
      i++;
    }
  }
  pushRaw(text.slice(rawStart), rawStart);
  return { segments, unknown, problems, trailingCommas, keysWithPlaceholders };
}

/** Index of the quote closing the string opened at `start`, or -1. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
    else if (text[i] === '\n') return -1;
  }
  return -1;
}

/** Tokenizes the raw content of a string literal, decoding JSON escapes in its literal pieces. */
function lexString(
  raw: string,
  offset: number,
  options: TokenizeOptions,
  unknown: UnknownPlaceholder[],
  problems: { offset: number; message: string }[],
): Token[] {
  const { tokens, unknown: bad } = tokenize(raw, options);
  unknown.push(...bad.map((u) => ({ ...u, offset: u.offset + offset })));
  const out: Token[] = [];
  for (const t of tokens) {
    if (typeof t !== 'string') {
      if (t.type === 'nodes')
        problems.push({ offset: offset + t.offset, message: '$nodes inside a string: it stands for JSON objects and goes unquoted inside an array' });
      out.push({ ...t, offset: offset + t.offset });
      continue;
    }
    try {
      out.push(JSON.parse(`"${t}"`) as string);
    } catch {
      problems.push({ offset, message: 'invalid character or escape in string' });
      out.push(t);
    }
  }
  return out;
}

export interface JsonContext {
  /** Any placeholder's value as text, inserted JSON-escaped (a function, not a method: it is handed on detached). */
  text: (p: PlaceholderToken) => string;
  /** The JSON objects `$nodes` stands for, already encoded and joined by commas. */
  nodes(): string;
}

/** Mode (b): renders a lexed JSON template to JSON text; the caller parses it. */
export function renderJsonTemplate(lexed: LexedJson, ctx: JsonContext): string {
  let out = '';
  for (const seg of lexed.segments) {
    if (seg.type === 'raw') out += seg.text;
    else if (seg.type === 'string') out += JSON.stringify(substitute(seg.tokens, ctx.text));
    else if (seg.placeholder.type === 'nodes') out += ctx.nodes();
    else {
      // A bare port is a number; one the plan can never fill is null.
      const port = ctx.text(seg.placeholder);
      out += /^[0-9]+$/.test(port) ? port : 'null';
    }
  }
  return out;
}

/** Placeholders of a token list (for checks: which env names, which ports a text uses). */
export function placeholdersOf(tokens: readonly Token[]): PlaceholderToken[] {
  return tokens.filter((t): t is PlaceholderToken => typeof t !== 'string');
}

/** Placeholders of a lexed JSON template, in text order. */
export function jsonPlaceholders(lexed: LexedJson): PlaceholderToken[] {
  return lexed.segments.flatMap((s) => (s.type === 'string' ? placeholdersOf(s.tokens) : s.type === 'bare' ? [s.placeholder] : []));
}

/** 1-based line of an offset, for messages about text templates. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}
