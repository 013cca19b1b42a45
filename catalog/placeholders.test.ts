import { describe, expect, it } from 'vitest';
import {
  jsonPlaceholders,
  lexJsonTemplate,
  lineOf,
  REMOVE_FIELD,
  renderJsonTemplate,
  renderLeaf,
  substitute,
  tokenize,
  type PlaceholderToken,
  type Token,
} from './placeholders.js';

/** Tokens in a compact form: text as is, placeholders as `{raw}`. */
const shape = (tokens: readonly Token[]) => tokens.map((t) => (typeof t === 'string' ? t : `{${t.raw}}`));

const VALUES: Record<string, string> = {
  $org: 'ORG',
  $space: 'SPACE',
  $catalog_service_id: 'SVC',
  $catalog_plan_id: 'PLAN',
  $service_id: 'ID',
  $short_serviceid: 'xshort',
  $idx_and_short_serviceid: 'xshort0',
  $storage_class: 'fast',
  $namespace: 'ns',
  $random1: 'R1',
  $random9: 'R9',
};
const text = (p: PlaceholderToken) => {
  const v = VALUES[p.raw];
  if (v === undefined) throw new Error(`no value for ${p.raw}`);
  return v;
};

describe('tokenize', () => {
  it('knows every template placeholder', () => {
    const all = Object.keys(VALUES).join(' ');
    const { tokens, unknown } = tokenize(all, { scope: 'template' });
    expect(unknown).toEqual([]);
    expect(substitute(tokens, text)).toBe(Object.values(VALUES).join(' '));
  });

  it('lets the longest known name win and keeps the rest of the word as text', () => {
    const cases: [string, string[]][] = [
      ['$idx_and_short_serviceid-server', ['{$idx_and_short_serviceid}', '-server']],
      ['$idx_and_short_serviceid_MASTER_SERVICE_HOST', ['{$idx_and_short_serviceid}', '_MASTER_SERVICE_HOST']],
      ['$short_serviceid-mysql-credentials', ['{$short_serviceid}', '-mysql-credentials']],
      ['$service_idx', ['{$service_id}', 'x']],
      ['$random10', ['{$random1}', '0']],
      ['$namespace', ['{$namespace}']],
    ];
    for (const [input, expected] of cases) {
      const { tokens, unknown } = tokenize(input, { scope: 'template' });
      expect(unknown, input).toEqual([]);
      expect(shape(tokens), input).toEqual(expected);
    }
    const { tokens } = tokenize('$names', { scope: 'mapping' });
    expect(shape(tokens)).toEqual(['{$name}', 's']);
  });

  it('reads $$ as a literal $ and leaves a $ before a non-letter alone', () => {
    const { tokens, unknown } = tokenize('$$org costs $5, ${HOME} and `$(id)`, ends with $', { scope: 'template' });
    expect(unknown).toEqual([]);
    expect(shape(tokens)).toEqual(['$org costs $5, ${HOME} and `$(id)`, ends with $']);
  });

  it('reports unknown names with their offset', () => {
    const { tokens, unknown } = tokenize('a $foo b $org', { scope: 'template' });
    expect(unknown).toEqual([{ raw: '$foo', offset: 2, message: 'unknown placeholder $foo (write $$ for a literal $)' }]);
    expect(shape(tokens)).toEqual(['a $foo b ', '{$org}']);
  });

  it('says where a mapping-only name can be used', () => {
    const { unknown } = tokenize('$hostname:$port_80 $env_X', { scope: 'template' });
    expect(unknown.map((u) => u.raw)).toEqual(['$hostname', '$port_80', '$env_X']);
    expect(unknown[0]!.message).toContain('only available in credentials mappings');
    expect(tokenize('$nodeName', { scope: 'mapping' }).unknown[0]!.message).toContain('node_template.json');
    expect(tokenize('$nodes', { scope: 'node' }).unknown[0]!.message).toContain('credentials mappings');
    expect(tokenize('$uri', { scope: 'uri' }).unknown[0]!.message).toContain('credentials mappings');
  });

  it('takes $param_ names from the declared parameters, the longest first', () => {
    const { tokens, unknown } = tokenize('$param_db-name/$param_db', { scope: 'template', params: ['db', 'db-name'] });
    expect(unknown).toEqual([]);
    expect(tokens.filter((t) => typeof t !== 'string').map((t) => (t as PlaceholderToken & { type: 'param' }).param)).toEqual(['db-name', 'db']);
    const bad = tokenize('$param_size', { scope: 'template', params: ['replicas'] });
    expect(bad.unknown[0]!.message).toBe(
      '$param_size: the plan declares no parameter size (parameters are the properties of its service_instance create or update schema)',
    );
  });

  it('reads env names with digits and ports in mappings', () => {
    const { tokens, unknown } = tokenize('$env_DB2_PASSWORD_1@$hostname:$port_5432/x', { scope: 'mapping' });
    expect(unknown).toEqual([]);
    const [env, , host, , port] = tokens as PlaceholderToken[];
    expect(env).toMatchObject({ type: 'env', env: 'DB2_PASSWORD_1' });
    expect(host).toMatchObject({ type: 'value', name: 'hostname' });
    expect(port).toMatchObject({ type: 'port', port: 5432 });
  });
});

describe('substitute', () => {
  it('encodes the rest of the string after $base64-, rendered', () => {
    const { tokens } = tokenize('$base64-$random1', { scope: 'template' });
    expect(substitute(tokens, text)).toBe(Buffer.from('R1').toString('base64'));
    const prefixed = tokenize('pre-$base64-$service_id:$random9', { scope: 'template' }).tokens;
    expect(substitute(prefixed, text)).toBe(`pre-${Buffer.from('ID:R9').toString('base64')}`);
    const literal = tokenize('$base64-gcomm://', { scope: 'template' }).tokens;
    expect(Buffer.from(substitute(literal, text), 'base64').toString()).toBe('gcomm://');
  });

  it('inserts values as data: a value that looks like a placeholder stays as it is', () => {
    const { tokens } = tokenize('a-$org-b', { scope: 'template' });
    expect(substitute(tokens, () => '$service_id')).toBe('a-$service_id-b');
  });
});

describe('renderLeaf (templates)', () => {
  const params: Record<string, unknown> = { replicas: 3, debug: false, name: 'db', nothing: null, obj: { a: 1 } };
  const ctx = (storageClass = '') => ({
    storageClass,
    param: (n: string) => params[n],
    text: (p: PlaceholderToken) => (p.type === 'param' ? String(params[p.param]) : text(p)),
  });
  const leaf = (s: string, storageClass = '') => renderLeaf(tokenize(s, { scope: 'template', params: Object.keys(params) }).tokens, ctx(storageClass));

  it('keeps the type of a parameter that is the whole string', () => {
    expect(leaf('$param_replicas')).toBe(3);
    expect(leaf('$param_debug')).toBe(false);
    expect(leaf('$param_name')).toBe('db');
    expect(leaf('$param_nothing')).toBeNull();
  });

  it('makes text of a parameter inside a longer string', () => {
    expect(leaf('r=$param_replicas')).toBe('r=3');
    expect(leaf('$param_replicas ')).toBe('3 ');
  });

  it('removes a field that is exactly $storage_class when no class is configured', () => {
    expect(leaf('$storage_class')).toBe(REMOVE_FIELD);
    expect(leaf('$storage_class', 'fast')).toBe('fast');
    expect(leaf('class-$storage_class')).toBe('class-fast');
  });
});

describe('JSON templates (mappings)', () => {
  const lex = (s: string, scope: 'mapping' | 'node' = 'mapping') => lexJsonTemplate(s, { scope });

  it('escapes every value, so none can end its string or add structure', () => {
    const lexed = lex('{"a": "$env_A", "b": "x-$env_B-y", "c": ["$env_C"]}');
    expect(lexed.unknown).toEqual([]);
    expect(lexed.problems).toEqual([]);
    const evil: Record<string, string> = {
      A: '", "admin": true, "x": "',
      B: '}\n{"$service_id": "\\u0022',
      C: '"]}, {"extra": 1',
    };
    const out = JSON.parse(renderJsonTemplate(lexed, { text: (p) => (p.type === 'env' ? evil[p.env]! : ''), nodes: () => '' }));
    expect(out).toEqual({ a: evil.A, b: `x-${evil.B}-y`, c: [evil.C] });
    expect(Object.keys(out)).toEqual(['a', 'b', 'c']);
  });

  it('decodes escapes of the literal text and keeps non-placeholder dollars', () => {
    const lexed = lex('{"q": "say \\"hi\\" \\u0041 $$ $1 $env_X"}');
    const out = JSON.parse(renderJsonTemplate(lexed, { text: () => 'v', nodes: () => '' }));
    expect(out).toEqual({ q: 'say "hi" A $ $1 v' });
  });

  it('takes $nodes outside strings only', () => {
    const ok = lex('{"nodes": [\n  $nodes\n]}');
    expect(ok.problems).toEqual([]);
    expect(JSON.parse(renderJsonTemplate(ok, { text: () => '', nodes: () => '{"a":1},{"a":2}' }))).toEqual({ nodes: [{ a: 1 }, { a: 2 }] });
    expect(lex('{"nodes": "$nodes"}').problems[0]!.message).toContain('$nodes inside a string');
  });

  it('takes $port_N bare as a number, and refuses other bare placeholders', () => {
    const ok = lex('{"port": $port_80}');
    expect(ok.problems).toEqual([]);
    expect(JSON.parse(renderJsonTemplate(ok, { text: () => '30080', nodes: () => '' }))).toEqual({ port: 30080 });
    expect(JSON.parse(renderJsonTemplate(ok, { text: () => '', nodes: () => '' }))).toEqual({ port: null });
    const bad = lex('{"x": [$env_A]}');
    expect(bad.problems).toEqual([{ offset: 7, message: '$env_A stands outside a JSON string: put it in quotes (only $nodes and $port_N may stand bare)' }]);
  });

  it('drops a trailing comma before } or ] and tells where', () => {
    const source = '{\n  "a": "1",\n  "b": ["2",],\n}';
    const lexed = lex(source);
    expect(lexed.trailingCommas.map((o) => lineOf(source, o))).toEqual([3, 3]);
    expect(JSON.parse(renderJsonTemplate(lexed, { text: () => '', nodes: () => '' }))).toEqual({ a: '1', b: ['2'] });
  });

  it('reports unknown placeholders and broken strings with offsets', () => {
    const source = '{\n "a": "$nope"\n}';
    const lexed = lex(source);
    expect(lexed.unknown.map((u) => [u.raw, lineOf(source, u.offset)])).toEqual([['$nope', 2]]);
    expect(lex('{"a": "open\n}').problems[0]!.message).toBe('unterminated string');
  });

  it('keeps object keys as written, placeholders and all', () => {
    const lexed = lex('{"$hostname": "$hostname", "plain" : "x"}');
    expect(lexed.keysWithPlaceholders).toEqual([1]);
    expect(JSON.parse(renderJsonTemplate(lexed, { text: () => 'h', nodes: () => '' }))).toEqual({ $hostname: 'h', plain: 'x' });
  });

  it('lists placeholders in text order', () => {
    const lexed = lex('{"u": "$hostname:$port_3306", "n": [$nodes]}');
    expect(jsonPlaceholders(lexed).map((p) => p.raw)).toEqual(['$hostname', '$port_3306', '$nodes']);
  });

  it('knows $nodeName in node templates only', () => {
    expect(lex('{"n": "$nodeName"}', 'node').unknown).toEqual([]);
    expect(lex('{"n": "$nodeName"}').unknown).toHaveLength(1);
  });
});
