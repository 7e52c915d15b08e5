import * as fc from 'fast-check';
import { MAX_PYTHON_LITERAL_DEPTH, parsePythonLiteral } from '../../../lambdas/core/parsers/python-literal';

/** What Python's `repr()` prints for JSON-like values, enough to round-trip them. */
function pythonRepr(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (Object.is(value, -0)) return '-0.0';
    return Number.isSafeInteger(value) ? String(value) : value.toExponential();
  }
  if (typeof value === 'string') return pythonStringRepr(value);
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  return `{${entries.map(([key, item]) => `${pythonStringRepr(key)}: ${pythonRepr(item)}`).join(', ')}}`;
}

/** CPython's rule: single quotes, unless the text has `'` and no `"`. */
function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code >= 0xd800 && code <= 0xdfff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else if (code > 0xffff && code % 7 === 0) out += `\\U${code.toString(16).padStart(8, '0')}`;
    else out += char;
  }
  return `${quote}${out}${quote}`;
}

describe('parsePythonLiteral', () => {
  describe('strings', () => {
    test('reads single-quoted strings', () => {
      expect(parsePythonLiteral("'jdoe'")).toBe('jdoe');
    });

    test('reads the double quotes repr uses for a string holding an apostrophe', () => {
      expect(parsePythonLiteral(`{'username': "O'Brien"}`)).toEqual({ username: "O'Brien" });
    });

    test('reads an escaped quote in a single-quoted string', () => {
      expect(parsePythonLiteral(`'it\\'s "quoted"'`)).toBe(`it's "quoted"`);
    });

    test.each([
      ['\\n', '\n'],
      ['\\t', '\t'],
      ['\\r', '\r'],
      ['\\\\', '\\'],
      ["\\'", "'"],
      ['\\"', '"'],
      ['\\x41', 'A'],
      ['\\xe9', 'é'],
      ['\\u00e9', 'é'],
      ['\\U0001f600', '😀'],
      ['\\0', '\0'],
      ['\\101', 'A'],
      ['\\q', '\\q'],
    ])('decodes the escape %s', (escape, expected) => {
      expect(parsePythonLiteral(`'${escape}'`)).toBe(expected);
    });

    test('reads byte and unicode prefixes as text', () => {
      expect(parsePythonLiteral(`[b'raw', u'text']`)).toEqual(['raw', 'text']);
    });
  });

  describe('scalars', () => {
    test('reads True, False and None', () => {
      expect(parsePythonLiteral('[True, False, None]')).toEqual([true, false, null]);
    });

    test.each([
      ['0', 0],
      ['3320', 3320],
      ['-7', -7],
      ['52.5196', 52.5196],
      ['-13.4069', -13.4069],
      ['1e3', 1000],
      ['-1.5E-3', -0.0015],
      ['1_000', 1000],
      ['0x1f', 31],
      ['0o17', 15],
      ['0b101', 5],
    ])('reads the number %s', (literal, expected) => {
      expect(parsePythonLiteral(literal)).toBe(expected);
    });

    test('keeps the digits of an int too large for a double', () => {
      expect(parsePythonLiteral('123456789012345678901234567890')).toBe('123456789012345678901234567890');
    });

    test('reads inf and nan', () => {
      expect(parsePythonLiteral('[inf, -inf, nan]')).toEqual([Infinity, -Infinity, NaN]);
    });
  });

  describe('containers', () => {
    test('reads nested dicts, lists and tuples', () => {
      const repr = "{'a': {'b': [1, (2, 3), {'c': ()}], 'd': {}}, 'e': (4,)}";
      expect(parsePythonLiteral(repr)).toEqual({ a: { b: [1, [2, 3], { c: [] }], d: {} }, e: [4] });
    });

    test('reads a set as an array', () => {
      expect(parsePythonLiteral("{'x', 'y'}")).toEqual(['x', 'y']);
    });

    test('keys a non-string key by its source text', () => {
      expect(parsePythonLiteral("{1: 'a', (2, 3): 'b', None: 'c'}")).toEqual({ '1': 'a', '(2, 3)': 'b', None: 'c' });
    });

    test('keeps a __proto__ key as an own property', () => {
      const value = parsePythonLiteral("{'__proto__': {'polluted': True}}") as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.keys(value)).toEqual(['__proto__']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    test('accepts trailing commas and whitespace', () => {
      expect(parsePythonLiteral(" { 'a' : [ 1 , 2 , ] , } ")).toEqual({ a: [1, 2] });
    });

    test('reads JSON as well', () => {
      expect(parsePythonLiteral('{"a": [true, false, null], "b": "\\u00e9"}')).toEqual({ a: [true, false, null], b: 'é' });
    });

    test('reads an authentik login_failed context', () => {
      const repr =
        "{'username': 'jdoe', 'password': '********************', 'stage': {'app': 'authentik_stages_password', 'pk': '5b1e'}, 'geo': {'lat': 52.5196, 'city': 'Berlin'}, 'asn': {'asn': 3320}}";
      expect(parsePythonLiteral(repr)).toEqual({
        username: 'jdoe',
        password: '********************',
        stage: { app: 'authentik_stages_password', pk: '5b1e' },
        geo: { lat: 52.5196, city: 'Berlin' },
        asn: { asn: 3320 },
      });
    });
  });

  describe('calls', () => {
    test('renders UUID(…) as its text', () => {
      expect(parsePythonLiteral("UUID('0d4c6a1e-9b7f-4e2a-8c3d-5f6a7b8c9d0e')")).toBe('0d4c6a1e-9b7f-4e2a-8c3d-5f6a7b8c9d0e');
    });

    test('renders datetime.datetime(…) in UTC as ISO 8601', () => {
      const repr = 'datetime.datetime(2025, 10, 31, 10, 12, 3, 512094, tzinfo=datetime.timezone.utc)';
      expect(parsePythonLiteral(repr)).toBe('2025-10-31T10:12:03.512094+00:00');
    });

    test('renders datetime.date(…) as ISO 8601', () => {
      expect(parsePythonLiteral('datetime.date(2025, 1, 2)')).toBe('2025-01-02');
    });

    test('renders any other call as its source text', () => {
      expect(parsePythonLiteral("{'t': Decimal(1, prec=2)}")).toEqual({ t: 'Decimal(1, prec=2)' });
    });
  });

  describe('malformed input', () => {
    test.each([
      ['empty input', ''],
      ['an unterminated string', "{'a': 'b"],
      ['a missing value', "{'a': }"],
      ['a missing colon', "{'a': 1, 'b' 2}"],
      ['an unclosed dict', "{'a': 1"],
      ['text after the value', "{'a': 1} trailing"],
      ['an unknown name', "{'a': undefined}"],
      ['a bad \\x escape', "'\\x4'"],
      ['a \\U escape beyond Unicode', "'\\U00110000'"],
      ['a complex number', '1j'],
      ['an object repr', '<User: jdoe>'],
    ])('throws an Error for %s', (_, text) => {
      expect(() => parsePythonLiteral(text)).toThrow(/^python literal: /);
    });

    test(`accepts nesting ${MAX_PYTHON_LITERAL_DEPTH} deep`, () => {
      const text = '['.repeat(MAX_PYTHON_LITERAL_DEPTH) + ']'.repeat(MAX_PYTHON_LITERAL_DEPTH);
      expect(() => parsePythonLiteral(text)).not.toThrow();
    });

    test(`refuses nesting deeper than ${MAX_PYTHON_LITERAL_DEPTH}`, () => {
      const text = '['.repeat(MAX_PYTHON_LITERAL_DEPTH + 1) + ']'.repeat(MAX_PYTHON_LITERAL_DEPTH + 1);
      expect(() => parsePythonLiteral(text)).toThrow(/nesting deeper than/);
    });

    test('refuses hostile nesting with an Error, not a stack overflow', () => {
      expect(() => parsePythonLiteral("{'a': ".repeat(100_000))).toThrow(/nesting deeper than/);
    });
  });

  describe('properties', () => {
    test('reads back what repr() prints', () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
          expect(parsePythonLiteral(pythonRepr(value))).toEqual(value);
        }),
        { numRuns: 2000 },
      );
    });

    test('returns or throws an Error for any text, promptly', () => {
      const alphabet = fc.constantFrom(...`{}[](),:'"\\ xuU0123456789abcdefTrueFalseNone.-+eE=_`.split(''));
      const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: alphabet, maxLength: 200 }));
      fc.assert(
        fc.property(text, (input) => {
          const started = Date.now();
          try {
            parsePythonLiteral(input);
          } catch (error) {
            expect(error).toBeInstanceOf(Error);
            expect((error as Error).message).toMatch(/^python literal: /);
          }
          expect(Date.now() - started).toBeLessThan(1000);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
