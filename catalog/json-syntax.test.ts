import { describe, expect, it } from 'vitest';
import { jsonSyntaxError, parseJsonText } from './json-syntax.js';

const SECRET = `{
  "apiVersion": "v1",
  "kind": "Secret",
  "metadata": {
    "name": "$short_serviceid-redis"
  },
  "type": "Opaque",
  "data": {
    "password": "$base64-$random1"
  }
}
`;

/** What JSON.parse throws for a text, or undefined. */
function v8Error(text: string): Error | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}

describe('jsonSyntaxError', () => {
  it('finds the line of errors whose message has no position (Node 20: "Unexpected token")', () => {
    const text = SECRET.replace('"type": "Opaque"', '"type",, "Opaque"');
    expect(v8Error(text)!.message).not.toMatch(/at position/);
    expect(jsonSyntaxError(text)).toEqual({ line: 7, message: "Expected ':' after property name" });
    expect(jsonSyntaxError(SECRET.replace('"v1"', 'v1'))).toEqual({ line: 2, message: "Unexpected token 'v'" });
    expect(jsonSyntaxError(SECRET.replace('"Opaque"', 'NaN'))).toEqual({ line: 7, message: "Unexpected token 'N'" });
  });

  it('puts every message on one line', () => {
    for (const text of [SECRET.replace('"type": "Opaque"', '"type",, "Opaque"'), SECRET.replace('"Secret"', '"Sec\nret"'), SECRET.slice(0, 40), '']) {
      expect(jsonSyntaxError(text)!.message).not.toContain('\n');
    }
  });

  it('reports the end of the text for a truncated one', () => {
    expect(jsonSyntaxError(SECRET.slice(0, SECRET.indexOf('"Secret"')))).toEqual({ line: 3, message: 'Unexpected end of JSON input' });
    expect(jsonSyntaxError('')).toEqual({ line: 1, message: 'Unexpected end of JSON input' });
  });

  it('is undefined for valid JSON', () => {
    for (const text of [SECRET, '1', ' "a\\u00e9\\n" ', '[]', '{"a":[1,-2.5e+3,true,false,null,{}]}']) expect(jsonSyntaxError(text)).toBeUndefined();
  });

  it('agrees with JSON.parse on whether a text is JSON, and on where, wherever Node says', () => {
    const base = JSON.stringify({ a: [1, -2.5e3, 'x\\"y', true, null], b: { 'c d': {}, e: [] }, f: 'é' }, null, 1);
    const edits = [',', ':', '{', '}', '[', ']', '"', 'x', ' ', '0', '-', '.', 'e', '\\', '\n', '\u0001', 't'];
    let checked = 0;
    for (let i = 0; i <= base.length; i++) {
      const texts = [base.slice(0, i) + base.slice(i + 1), ...edits.map((c) => base.slice(0, i) + c + base.slice(i))];
      for (const text of texts) {
        const err = v8Error(text);
        const found = jsonSyntaxError(text);
        expect(found === undefined, JSON.stringify(text)).toBe(err === undefined);
        const at = err && /at position (\d+)/.exec(err.message);
        if (at && found) {
          const line = text.slice(0, Number(at[1])).split('\n').length;
          expect(found.line, `${JSON.stringify(text)}: ${err.message}`).toBe(line);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });
});

describe('parseJsonText', () => {
  it('parses, or says where and why not on one line', () => {
    expect(parseJsonText('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJsonText('{\n"a": 1\n"b": 2}')).toEqual({ ok: false, line: 3, message: "Expected ',' or '}' after property value" });
  });
});
