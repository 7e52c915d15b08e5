import { HeraldError } from '../../lambdas/core/errors';
import { LIMITS, stampNotification, validateNotification } from '../../lambdas/core/notification';

/** Runs validation expecting a refusal; returns the error so each test can assert code and message. */
function refusal(input: unknown): HeraldError {
  try {
    validateNotification(input);
  } catch (error) {
    if (error instanceof HeraldError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('validateNotification, defaults', () => {
  test('a title alone is a NORMAL notification', () => {
    expect(validateNotification({ title: 'Login' })).toEqual({ title: 'Login', deliveryType: 'NORMAL' });
  });

  test('trims the title', () => {
    expect(validateNotification({ title: '  Login  ' }).title).toBe('Login');
  });
});

describe('validateNotification, title', () => {
  test('a missing title is refused as "title: is required"', () => {
    const error = refusal({ body: 'no title' });

    expect(error.code).toBe('validation_failed');
    expect(error.status).toBe(400);
    expect(error.message).toBe('title: is required');
  });

  test('an empty title is refused as "title: is required"', () => {
    expect(refusal({ title: '' }).message).toBe('title: is required');
  });

  test('a blank title is refused as "title: is required"', () => {
    expect(refusal({ title: '   ' }).message).toBe('title: is required');
  });

  test('a title that is not a string is refused naming the field', () => {
    expect(refusal({ title: 42 }).message).toMatch(/^title: /);
  });
});

describe('validateNotification, deliveryType', () => {
  test.each(['critical', 'Critical', ' CRITICAL '])('reads %j as CRITICAL', (given) => {
    expect(validateNotification({ title: 't', deliveryType: given }).deliveryType).toBe('CRITICAL');
  });

  test.each(['SILENT', 'NORMAL', 'NO_PUSH'])('accepts %s', (given) => {
    expect(validateNotification({ title: 't', deliveryType: given }).deliveryType).toBe(given);
  });

  test('refuses an unknown delivery type naming the field and the choices', () => {
    const error = refusal({ title: 't', deliveryType: 'loud' });

    expect(error.code).toBe('validation_failed');
    expect(error.message).toMatch(/^deliveryType: /);
    expect(error.message).toContain('CRITICAL');
  });
});

describe('validateNotification, tags', () => {
  test('reads a CSV string as a list, trimming and dropping empty parts', () => {
    expect(validateNotification({ title: 't', tags: 'login, authentik,,  alert ' }).tags).toEqual(['login', 'authentik', 'alert']);
  });

  test('accepts a JSON array as is', () => {
    expect(validateNotification({ title: 't', tags: ['a', 'b'] }).tags).toEqual(['a', 'b']);
  });

  test(`refuses more than ${LIMITS.tags} tags`, () => {
    const tags = Array.from({ length: LIMITS.tags + 1 }, (_, i) => `t${i}`).join(',');

    expect(refusal({ title: 't', tags }).message).toMatch(/^tags: /);
  });

  test(`refuses a tag longer than ${LIMITS.tag} characters, naming its index`, () => {
    expect(refusal({ title: 't', tags: `ok,${'x'.repeat(LIMITS.tag + 1)}` }).message).toMatch(/^tags\.1: /);
  });
});

describe('validateNotification, actions', () => {
  test('reads actions given as JSON text', () => {
    const actions = [{ type: 'NAVIGATE', value: 'https://idp.example.com/if/admin/', title: 'Open' }];

    expect(validateNotification({ title: 't', actions: JSON.stringify(actions) }).actions).toEqual(actions);
  });

  test('accepts actions given as an array', () => {
    const actions = [{ type: 'MARK_AS_READ' }];

    expect(validateNotification({ title: 't', actions }).actions).toEqual(actions);
  });

  test('refuses text that is not JSON, naming the field', () => {
    expect(refusal({ title: 't', actions: 'open the admin page' }).message).toMatch(/^actions: /);
  });

  test('refuses an unknown action type, naming the action', () => {
    expect(refusal({ title: 't', actions: '[{"type":"EXPLODE"}]' }).message).toMatch(/^actions\.0\.type: /);
  });

  test(`refuses more than ${LIMITS.actions} actions`, () => {
    const actions = Array.from({ length: LIMITS.actions + 1 }, () => ({ type: 'DELETE' }));

    expect(refusal({ title: 't', actions }).message).toMatch(/^actions: /);
  });
});

describe('validateNotification, URLs', () => {
  test.each(['https://idp.example.com/if/admin/', 'http://localhost:9000/x', 'HTTPS://EXAMPLE.COM'])('accepts %s', (url) => {
    expect(validateNotification({ title: 't', tapUrl: url, imageUrl: url })).toMatchObject({ tapUrl: url, imageUrl: url });
  });

  test.each([
    ['javascript', 'javascript:alert(1)'],
    ['ftp', 'ftp://files.example.com/a'],
    ['a relative path', '/if/admin/'],
    ['a URL with a space', 'https://example.com/a b'],
    ['a bare scheme', 'https://'],
  ])('refuses %s as tapUrl', (_name, url) => {
    expect(refusal({ title: 't', tapUrl: url }).message).toBe('tapUrl: must be an http(s) URL');
  });

  test('refuses a non-http imageUrl naming it', () => {
    expect(refusal({ title: 't', imageUrl: 'data:image/png;base64,AAAA' }).message).toBe('imageUrl: must be an http(s) URL');
  });

  test(`refuses a URL longer than ${LIMITS.url} characters`, () => {
    const url = `https://example.com/${'a'.repeat(LIMITS.url)}`;

    expect(refusal({ title: 't', tapUrl: url }).message).toMatch(/^tapUrl: /);
  });
});

describe('validateNotification, length limits', () => {
  test.each([
    ['title', LIMITS.title],
    ['subtitle', LIMITS.subtitle],
    ['body', LIMITS.body],
    ['sound', LIMITS.sound],
    ['groupId', LIMITS.groupId],
    ['collapseId', LIMITS.collapseId],
  ] as const)('%s accepts %i characters and refuses one more', (field, limit) => {
    const base = { title: 't' };

    expect(validateNotification({ ...base, [field]: 'x'.repeat(limit) })[field]).toHaveLength(limit);
    expect(refusal({ ...base, [field]: 'x'.repeat(limit + 1) }).message).toMatch(new RegExp(`^${field}: `));
  });

  test('refuses an empty collapseId', () => {
    expect(refusal({ title: 't', collapseId: '' }).message).toMatch(/^collapseId: /);
  });
});

describe('validateNotification, unknown fields', () => {
  test('refuses an unknown field naming it', () => {
    const error = refusal({ title: 't', priority: 'high' });

    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe('priority: unknown field');
  });

  test('names every unknown field', () => {
    expect(refusal({ title: 't', priority: 'high', color: 'red' }).message).toBe('priority, color: unknown fields');
  });
});

describe('validateNotification, the body as a whole', () => {
  test.each([
    ['null', null],
    ['an array', [{ title: 't' }]],
    ['a string', 'title=t'],
  ])('refuses %s', (_name, input) => {
    expect(refusal(input).message).toMatch(/^\(body\): /);
  });
});

describe('stampNotification', () => {
  test('adds id, bucket, source and creation time to the content', () => {
    const now = new Date('2025-06-01T12:00:00.000Z');

    const stamped = stampNotification(validateNotification({ title: 'Login' }), 'bucket-1', 'native', now);

    expect(stamped).toEqual({
      title: 'Login',
      deliveryType: 'NORMAL',
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      bucketId: 'bucket-1',
      source: 'native',
      createdAt: '2025-06-01T12:00:00.000Z',
    });
  });

  test('gives each notification its own id', () => {
    const content = validateNotification({ title: 'Login' });

    expect(stampNotification(content, 'b', 'native').id).not.toBe(stampNotification(content, 'b', 'native').id);
  });
});
