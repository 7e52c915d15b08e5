/**
 * A small, tolerant reader of Python literal reprs: what `repr()` of a dict prints, as authentik
 * sends it in `Event.summary` (`f"{action}: {context}"`, idp-formats.md §1 "How `body` is built").
 *
 * Reads dicts, lists, tuples, sets (as arrays), strings in either quote with Python's escapes,
 * ints, floats, `True`/`False`/`None` (and JSON's `true`/`false`/`null`), and calls such as
 * `UUID('…')` or `datetime.datetime(…)`, which it turns into text. It never converts by replacing
 * quotes: `repr()` switches to double quotes for a string holding `'` (`"O'Brien"`).
 *
 * Every loop consumes input or throws, and nesting is bounded, so hostile input can neither hang
 * the reader nor exhaust the stack. Malformed input throws a plain `Error` naming the position.
 */

/** Containers and calls nested deeper than this are refused. */
export const MAX_PYTHON_LITERAL_DEPTH = 64;

export function parsePythonLiteral(text: string): unknown {
  const reader = new LiteralReader(String(text));
  reader.skipWhitespace();
  const value = reader.readValue(0);
  reader.skipWhitespace();
  if (!reader.atEnd()) reader.fail('unexpected text after the value');
  return value;
}

const IDENTIFIER_START = /[A-Za-z_]/;
const IDENTIFIER_PART = /[A-Za-z0-9_]/;
/** Python's own whitespace between tokens; repr only ever prints spaces. */
const WHITESPACE = new Set([' ', '\t', '\n', '\r', '\f', '\v']);
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  '/': '/', // JSON's escape; Python never prints it
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};
const NAMED_CONSTANTS: Readonly<Record<string, unknown>> = {
  True: true,
  False: false,
  None: null,
  true: true,
  false: false,
  null: null,
  inf: Infinity,
  nan: NaN,
  Ellipsis: '...',
};

/** A call's arguments, kept apart so the call can be rendered as text. */
interface CallArguments {
  positional: unknown[];
  keyword: Map<string, unknown>;
}

class LiteralReader {
  private pos = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  fail(reason: string, at: number = this.pos): never {
    const found = at < this.text.length ? JSON.stringify(this.text.slice(at, at + 12)) : 'end of input';
    throw new Error(`python literal: ${reason} at offset ${at} (found ${found})`);
  }

  skipWhitespace(): void {
    while (this.pos < this.text.length && WHITESPACE.has(this.text[this.pos])) this.pos += 1;
  }

  readValue(depth: number): unknown {
    this.skipWhitespace();
    if (this.atEnd()) this.fail('expected a value');
    const char = this.text[this.pos];
    switch (char) {
      case '{':
        return this.readDictOrSet(depth + 1);
      case '[':
        return this.readSequence(depth + 1, ']');
      case '(':
        return this.readParenthesized(depth + 1);
      case "'":
      case '"':
        return this.readString();
      default:
        break;
    }
    if (char === '-' || char === '+' || char === '.' || (char >= '0' && char <= '9')) return this.readNumber();
    if (IDENTIFIER_START.test(char)) return this.readName(depth);
    return this.fail('unexpected character');
  }

  private checkDepth(depth: number): void {
    if (depth > MAX_PYTHON_LITERAL_DEPTH) this.fail(`nesting deeper than ${MAX_PYTHON_LITERAL_DEPTH}`);
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`expected '${char}'`);
    this.pos += 1;
  }

  /** `{}` is an empty dict; `{a: b, …}` a dict; `{a, b}` a set, returned as an array. */
  private readDictOrSet(depth: number): unknown {
    this.checkDepth(depth);
    this.expect('{');
    this.skipWhitespace();
    const dict: Record<string, unknown> = {};
    if (this.text[this.pos] === '}') {
      this.pos += 1;
      return dict;
    }
    const firstStart = this.pos;
    const first = this.readValue(depth);
    this.skipWhitespace();
    if (this.text[this.pos] !== ':') {
      return this.finishSequence(depth, '}', [first]);
    }
    let key = this.keyText(first, firstStart);
    for (;;) {
      this.expect(':');
      setOwn(dict, key, this.readValue(depth));
      this.skipWhitespace();
      if (this.text[this.pos] === '}') {
        this.pos += 1;
        return dict;
      }
      this.expect(',');
      this.skipWhitespace();
      if (this.text[this.pos] === '}') {
        this.pos += 1;
        return dict;
      }
      const keyStart = this.pos;
      key = this.keyText(this.readValue(depth), keyStart);
      this.skipWhitespace();
    }
  }

  /** Python keys may be any hashable; non-string keys keep their source text (`1`, `(1, 2)`). */
  private keyText(key: unknown, start: number): string {
    return typeof key === 'string' ? key : this.text.slice(start, this.pos).trim();
  }

  private readSequence(depth: number, close: string): unknown[] {
    this.checkDepth(depth);
    this.pos += 1; // the opening bracket, checked by the caller
    this.skipWhitespace();
    if (this.text[this.pos] === close) {
      this.pos += 1;
      return [];
    }
    return this.finishSequence(depth, close, [this.readValue(depth)]);
  }

  /** Reads `, item` repeatedly after the first item, up to `close`; a trailing comma is allowed. */
  private finishSequence(depth: number, close: string, items: unknown[]): unknown[] {
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] === close) {
        this.pos += 1;
        return items;
      }
      this.expect(',');
      this.skipWhitespace();
      if (this.text[this.pos] === close) {
        this.pos += 1;
        return items;
      }
      items.push(this.readValue(depth));
    }
  }

  /** `()` and `(a, b)` are tuples (arrays); `(a)` is just `a`, as in Python. */
  private readParenthesized(depth: number): unknown {
    this.checkDepth(depth);
    this.expect('(');
    this.skipWhitespace();
    if (this.text[this.pos] === ')') {
      this.pos += 1;
      return [];
    }
    const first = this.readValue(depth);
    this.skipWhitespace();
    if (this.text[this.pos] === ')') {
      this.pos += 1;
      return first;
    }
    return this.finishSequence(depth, ')', [first]);
  }

  /** A quoted string at `pos`, optionally after a prefix already consumed (`b`, `u`, `r`, …). */
  private readString(raw = false): string {
    const quote = this.text[this.pos];
    const start = this.pos;
    this.pos += 1;
    let out = '';
    let chunkStart = this.pos;
    while (this.pos < this.text.length) {
      const char = this.text[this.pos];
      if (char === quote) {
        out += this.text.slice(chunkStart, this.pos);
        this.pos += 1;
        return out;
      }
      if (char !== '\\') {
        this.pos += 1;
        continue;
      }
      out += this.text.slice(chunkStart, this.pos);
      if (this.pos + 1 >= this.text.length) break;
      if (raw) {
        // A raw string keeps the backslash, and `\'` does not end it.
        out += this.text.slice(this.pos, this.pos + 2);
        this.pos += 2;
      } else {
        out += this.readEscape();
      }
      chunkStart = this.pos;
    }
    return this.fail('unterminated string', start);
  }

  /** One backslash escape at `pos`, as Python's string literal rules read it. */
  private readEscape(): string {
    const escapeStart = this.pos;
    const kind = this.text[this.pos + 1];
    this.pos += 2;
    if (kind in SIMPLE_ESCAPES) return SIMPLE_ESCAPES[kind];
    if (kind === '\n') return ''; // a line continuation
    if (kind === '\r') {
      if (this.text[this.pos] === '\n') this.pos += 1;
      return '';
    }
    if (kind === 'x') return String.fromCharCode(this.readHex(2, escapeStart));
    if (kind === 'u') return String.fromCharCode(this.readHex(4, escapeStart));
    if (kind === 'U') {
      const codePoint = this.readHex(8, escapeStart);
      if (codePoint > 0x10ffff) this.fail('\\U escape beyond U+10FFFF', escapeStart);
      return String.fromCodePoint(codePoint);
    }
    if (kind >= '0' && kind <= '7') {
      // Octal: up to three digits, the first already read.
      let digits = kind;
      while (digits.length < 3 && /[0-7]/.test(this.text[this.pos] ?? '')) {
        digits += this.text[this.pos];
        this.pos += 1;
      }
      return String.fromCharCode(parseInt(digits, 8));
    }
    // Python keeps unknown escapes (and `\N{…}`, which would need the Unicode name table) as written.
    return `\\${kind}`;
  }

  private readHex(length: number, escapeStart: number): number {
    const digits = this.text.slice(this.pos, this.pos + length);
    if (digits.length !== length || !/^[0-9A-Fa-f]+$/.test(digits)) {
      this.fail(`expected ${length} hex digits in escape`, escapeStart);
    }
    this.pos += length;
    return parseInt(digits, 16);
  }

  /** Ints (also `0x…`, `0o…`, `0b…`, `1_000`), floats, and signed `inf`/`nan`. */
  private readNumber(): number | string {
    const start = this.pos;
    const rest = this.text.slice(start, start + 512);
    const match =
      /^[-+]?0[xX][0-9A-Fa-f_]+|^[-+]?0[oO][0-7_]+|^[-+]?0[bB][01_]+|^[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d[\d_]*)?|^[-+]?(?:inf|nan)(?![A-Za-z0-9_])/.exec(
        rest,
      );
    if (!match) return this.fail('malformed number');
    const literal = match[0];
    this.pos += literal.length;
    if (this.pos < this.text.length && IDENTIFIER_PART.test(this.text[this.pos])) {
      this.fail('malformed number', start); // e.g. `1j` or `12abc`
    }
    const clean = literal.replace(/_/g, '');
    const negative = clean.startsWith('-');
    const unsigned = clean.replace(/^[-+]/, '');
    if (unsigned === 'inf') return negative ? -Infinity : Infinity;
    if (unsigned === 'nan') return NaN;
    // BigInt reads `123`, `0x1f`, `0o17` and `0b101` alike.
    if (/^(?:\d+|0[xX][0-9A-Fa-f]+|0[oO][0-7]+|0[bB][01]+)$/.test(unsigned)) {
      const magnitude = BigInt(unsigned);
      return integerValue(negative ? -magnitude : magnitude, clean);
    }
    const value = Number(clean);
    if (Number.isNaN(value)) this.fail('malformed number', start);
    return value;
  }

  /** `True`/`False`/`None`, `inf`/`nan`, or a call such as `UUID('…')` rendered as text. */
  private readName(depth: number): unknown {
    const start = this.pos;
    this.readIdentifier();
    while (this.text[this.pos] === '.' && IDENTIFIER_START.test(this.text[this.pos + 1] ?? '')) {
      this.pos += 1;
      this.readIdentifier();
    }
    const name = this.text.slice(start, this.pos);
    const isPrefix = /^(?:[rRbBuU]|[rR][bB]|[bB][rR])$/.test(name);
    if (isPrefix && (this.text[this.pos] === "'" || this.text[this.pos] === '"')) {
      return this.readString(/r/i.test(name));
    }
    if (this.text[this.pos] === '(') {
      const args = this.readCallArguments(depth + 1);
      return renderCall(name, args, this.text.slice(start, this.pos));
    }
    if (Object.prototype.hasOwnProperty.call(NAMED_CONSTANTS, name)) return NAMED_CONSTANTS[name];
    // A dotted name such as `datetime.timezone.utc` (a call's argument) stands for itself.
    if (name.includes('.')) return name;
    return this.fail(`unknown name '${name.slice(0, 40)}'`, start);
  }

  private readIdentifier(): void {
    if (!IDENTIFIER_START.test(this.text[this.pos] ?? '')) this.fail('expected a name');
    while (this.pos < this.text.length && IDENTIFIER_PART.test(this.text[this.pos])) this.pos += 1;
  }

  private readCallArguments(depth: number): CallArguments {
    this.checkDepth(depth);
    this.expect('(');
    const args: CallArguments = { positional: [], keyword: new Map() };
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] === ')') {
        this.pos += 1;
        return args;
      }
      const keyword = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/.exec(this.text.slice(this.pos, this.pos + 256));
      if (keyword) {
        this.pos += keyword[0].length;
        args.keyword.set(keyword[1], this.readValue(depth));
      } else {
        args.positional.push(this.readValue(depth));
      }
      this.skipWhitespace();
      if (this.text[this.pos] !== ')') this.expect(',');
    }
  }
}

/** Safe integers become numbers; larger ones keep their digits as text rather than lose precision. */
function integerValue(value: bigint, literal: string): number | string {
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : literal.replace(/^\+/, '');
}

/** Never let a key such as `__proto__` reach an object's prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A call as text: `UUID('ab…')` → `'ab…'`, `datetime.datetime(2025, 10, 31, 10, 12, 3)` →
 * `2025-10-31T10:12:03`, anything else → its source text.
 */
function renderCall(name: string, args: CallArguments, source: string): string {
  const callee = name.split('.').pop() ?? name;
  if (args.positional.length === 1 && args.keyword.size === 0 && typeof args.positional[0] === 'string') {
    return args.positional[0];
  }
  const ints = args.positional.filter((arg): arg is number => Number.isSafeInteger(arg));
  const allInts = ints.length === args.positional.length;
  if (callee === 'date' && allInts && ints.length === 3 && args.keyword.size === 0) {
    return isoDate(ints);
  }
  if (callee === 'datetime' && allInts && ints.length >= 3 && ints.length <= 7) {
    const tz = args.keyword.get('tzinfo');
    const onlyTz = [...args.keyword.keys()].every((key) => key === 'tzinfo');
    if (onlyTz && (tz === undefined || isUtc(tz))) return `${isoDateTime(ints)}${tz === undefined ? '' : '+00:00'}`;
  }
  return source;
}

function isUtc(tz: unknown): boolean {
  return typeof tz === 'string' && /\butc\b|tzutc\(\)/i.test(tz);
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

function isoDate([year, month, day]: number[]): string {
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

function isoDateTime(parts: number[]): string {
  const [hour = 0, minute = 0, second = 0, micro] = parts.slice(3);
  const fraction = micro === undefined || micro === 0 ? '' : `.${pad(micro, 6)}`;
  return `${isoDate(parts)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}`;
}
