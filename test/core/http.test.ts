import { HeraldError } from '../../lambdas/core/errors';
import { bearerToken, decodeFields, type HttpRequest } from '../../lambdas/core/http';

function post(body: string | Buffer, contentType?: string): HttpRequest {
  return {
    method: 'POST',
    path: '/message',
    query: {},
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  };
}

function refusal(request: HttpRequest): HeraldError {
  try {
    decodeFields(request);
  } catch (error) {
    if (error instanceof HeraldError) return error;
    throw error;
  }
  throw new Error('expected the body to be refused');
}

describe('decodeFields, JSON', () => {
  test('reads an application/json object', () => {
    expect(decodeFields(post('{"title":"Login","tags":["a"]}', 'application/json'))).toEqual({ title: 'Login', tags: ['a'] });
  });

  test('ignores media type parameters and case', () => {
    expect(decodeFields(post('{"title":"Login"}', 'Application/JSON; charset=utf-8'))).toEqual({ title: 'Login' });
  });

  test('reads text/json', () => {
    expect(decodeFields(post('{"title":"Login"}', 'text/json'))).toEqual({ title: 'Login' });
  });

  test('reads a +json media type', () => {
    expect(decodeFields(post('{"title":"Login"}', 'application/vnd.example+json'))).toEqual({ title: 'Login' });
  });

  test('reads JSON when no content-type is sent', () => {
    expect(decodeFields(post('{"title":"Login"}'))).toEqual({ title: 'Login' });
  });

  test('keeps non-ASCII text', () => {
    expect(decodeFields(post('{"title":"Anmeldung fehlgeschlagen – München ✓"}', 'application/json'))).toEqual({
      title: 'Anmeldung fehlgeschlagen – München ✓',
    });
  });
});

describe('decodeFields, form', () => {
  test('reads application/x-www-form-urlencoded, decoding escapes', () => {
    const request = post('title=New+login&body=from%20203.0.113.7&tags=a%2Cb', 'application/x-www-form-urlencoded');

    expect(decodeFields(request)).toEqual({ title: 'New login', body: 'from 203.0.113.7', tags: 'a,b' });
  });
});

describe('decodeFields, empty bodies', () => {
  test('an empty body is no fields, whatever the content-type', () => {
    expect(decodeFields(post('', 'application/json'))).toEqual({});
  });

  test('a whitespace body without content-type is no fields', () => {
    expect(decodeFields(post('  \n'))).toEqual({});
  });

  test('a whitespace body declared as JSON is refused', () => {
    expect(refusal(post(' ', 'application/json')).code).toBe('invalid_body');
  });
});

describe('decodeFields, refusals', () => {
  test('invalid UTF-8 is invalid_body', () => {
    const error = refusal(post(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]), 'application/json'));

    expect(error.code).toBe('invalid_body');
    expect(error.status).toBe(400);
    expect(error.message).toBe('body is not valid UTF-8');
  });

  test('malformed JSON is invalid_body', () => {
    const error = refusal(post('{"title":', 'application/json'));

    expect(error.code).toBe('invalid_body');
    expect(error.message).toMatch(/^body is not valid JSON: /);
  });

  test.each([
    ['an array', '[{"title":"Login"}]'],
    ['a string', '"Login"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('JSON %s is invalid_body', (_name, text) => {
    const error = refusal(post(text, 'application/json'));

    expect(error.code).toBe('invalid_body');
    expect(error.message).toBe('body must be a JSON object');
  });

  test('multipart/form-data is 415 unsupported_media_type naming what is accepted', () => {
    const error = refusal(post('--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nLogin\r\n--x--', 'multipart/form-data; boundary=x'));

    expect(error.code).toBe('unsupported_media_type');
    expect(error.status).toBe(415);
    expect(error.message).toContain('"multipart/form-data"');
    expect(error.message).toContain('application/json');
    expect(error.message).toContain('application/x-www-form-urlencoded');
  });

  test('text/plain is 415 unsupported_media_type', () => {
    expect(refusal(post('Login', 'text/plain')).code).toBe('unsupported_media_type');
  });
});

describe('bearerToken', () => {
  test('reads the token of a Bearer header', () => {
    expect(bearerToken({ authorization: 'Bearer hrld_abc-DEF_123' })).toBe('hrld_abc-DEF_123');
  });

  test('reads the scheme case-insensitively', () => {
    expect(bearerToken({ authorization: 'bearer hrld_x' })).toBe('hrld_x');
    expect(bearerToken({ authorization: 'BEARER hrld_x' })).toBe('hrld_x');
  });

  test('tolerates extra spaces around the token', () => {
    expect(bearerToken({ authorization: 'Bearer    hrld_x  ' })).toBe('hrld_x');
  });

  test('is undefined without an authorization header', () => {
    expect(bearerToken({})).toBeUndefined();
  });

  test.each([
    ['Basic credentials', 'Basic dXNlcjpwYXNz'],
    ['a bare token', 'hrld_x'],
    ['a scheme without token', 'Bearer '],
    ['two words after the scheme', 'Bearer hrld_x extra'],
    ['no space after the scheme', 'Bearerhrld_x'],
  ])('is undefined for %s', (_name, header) => {
    expect(bearerToken({ authorization: header })).toBeUndefined();
  });
});
