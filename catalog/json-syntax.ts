// Where a JSON text breaks and why, on one line. `JSON.parse` says where only for some errors
// (Node 20: "Unexpected token ','" carries no position, only a multi-line excerpt), so when it
// fails, a small scanner of RFC 8259 JSON finds the first error itself, with V8's wording.

export type JsonParsed = { ok: true; value: unknown } | { ok: false; line: number; message: string };

/** Parses JSON; on failure, the 1-based line of the first error and a one-line message. */
export function parseJsonText(text: string): JsonParsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const found = jsonSyntaxError(text);
    if (found) return { ok: false, ...found };
    // Not expected: the scanner and JSON.parse disagree. Keep Node's message, on one line.
    const message = (err as Error).message.split('\n')[0]!.replace(/ in JSON at position \d+.*$/, '');
    const at = /at position (\d+)/.exec((err as Error).message);
    return { ok: false, line: lineOf(text, at ? Number(at[1]) : text.length), message };
  }
}

/** The first syntax error of a JSON text (line and message), or undefined when it is JSON. */
export function jsonSyntaxError(text: string): { line: number; message: string } | undefined {
  const found = scan(text);
  return found && { line: lineOf(text, found.offset), message: found.message };
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}

interface Found {
  offset: number;
  message: string;
}

const END = 'Unexpected end of JSON input';
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Scans one JSON value and the whitespace around it. Iterative: nesting depth costs no stack. */
function scan(text: string): Found | undefined {
  let i = 0;
  const fail = (message: string, at = i): Found => ({ offset: at, message });
  const skipSpace = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  /** A property name and its colon, at `i` (space skipped); `expected` names what was due. */
  const propertyName = (expected: string): Found | undefined => {
    if (text[i] !== '"') return fail(expected);
    const bad = string();
    if (bad) return bad;
    skipSpace();
    if (text[i] !== ':') return fail("Expected ':' after property name");
    i++;
    return undefined;
  };
  const string = (): Found | undefined => {
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return fail('Bad control character in string literal');
      if (c !== 0x5c) continue;
      const e = text[++i];
      if (e === undefined) return fail(END);
      if (e === 'u') {
        for (let k = 1; k <= 4; k++) {
          if (i + k >= text.length) return fail(END, text.length);
          if (!/[0-9a-fA-F]/.test(text[i + k]!)) return fail('Bad Unicode escape', i + k);
        }
        i += 4;
      } else if (!'"\\/bfnrt'.includes(e)) return fail('Bad escaped character');
    }
    return fail('Unterminated string in JSON', text.length);
  };
  const scalar = (): Found | undefined => {
    const c = text[i]!;
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text)?.[0];
      if (m === undefined) return fail('No number after minus sign', i + 1);
      const after = i + m.length;
      const next = text[after];
      if (/^-?0$/.test(m) && next !== undefined && next >= '0' && next <= '9') return fail('Unexpected number', after);
      const exponent = /[eE]/.test(m);
      if (next === '.' && !m.includes('.') && !exponent) return fail('Unterminated fractional number', after + 1);
      if ((next === 'e' || next === 'E') && !exponent) {
        const sign = text[after + 1] === '+' || text[after + 1] === '-' ? 1 : 0;
        return fail('Exponent part is missing a number', after + 1 + sign);
      }
      i = after;
      return undefined;
    }
    for (const word of ['true', 'false', 'null']) {
      if (c !== word[0]) continue;
      for (let k = 1; k < word.length; k++) {
        if (i + k >= text.length) return fail(END, text.length);
        if (text[i + k] !== word[k]) return fail(`Unexpected token '${text[i + k]}'`, i + k);
      }
      i += word.length;
      return undefined;
    }
    return fail(`Unexpected token '${String.fromCodePoint(text.codePointAt(i)!)}'`);
  };

  /** Open containers: `{` or `[`. */
  const open: string[] = [];
  skipSpace();
  for (;;) {
    // A value is due at `i`.
    if (i >= text.length) return fail(END);
    const c = text[i];
    let closed = false;
    if (c === '{' || c === '[') {
      i++;
      skipSpace();
      if (text[i] === (c === '{' ? '}' : ']')) {
        i++;
        closed = true;
      } else {
        open.push(c);
        if (c === '{') {
          const bad = propertyName("Expected property name or '}'");
          if (bad) return bad;
        }
        skipSpace();
        continue;
      }
    }
    if (!closed) {
      const bad = scalar();
      if (bad) return bad;
    }
    // After a value: close containers, or a comma and the next value.
    for (;;) {
      skipSpace();
      const top = open.at(-1);
      if (top === undefined) return i < text.length ? fail('Unexpected non-whitespace character after JSON') : undefined;
      const ch = text[i];
      if (ch === ',') {
        i++;
        skipSpace();
        if (top === '{') {
          const bad = propertyName('Expected double-quoted property name');
          if (bad) return bad;
          skipSpace();
        }
        break;
      }
      if (ch === (top === '{' ? '}' : ']')) {
        i++;
        open.pop();
        continue;
      }
      return fail(top === '{' ? "Expected ',' or '}' after property value" : "Expected ',' or ']' after array element");
    }
  }
}
