import { randomUUID } from 'node:crypto';
import { authenticate, requireScope, type Caller } from '../../lambdas/core/auth/authenticate';
import { HeraldError } from '../../lambdas/core/errors';
import type { HttpRequest } from '../../lambdas/core/http';
import { addCredential, createBucket, findBucket, RESERVED_BUCKET_NAMES } from '../../lambdas/core/store/buckets';
import type { Store } from '../../lambdas/core/store/table';
import { createHarness } from './harness';

const INVALID_CREDENTIALS = 'invalid credentials for this bucket';

let store: Store;

beforeAll(async () => {
  ({ store } = await createHarness());
});

/** A bucket with a unique name, so the tests of this file share one table without colliding. */
const newBucket = (prefix = 'auth') => createBucket(store, { name: `${prefix}-${randomUUID().slice(0, 8)}` });

function request(options: { query?: Record<string, string>; headers?: Record<string, string> } = {}): HttpRequest {
  return { method: 'POST', path: '/message', query: options.query ?? {}, headers: options.headers ?? {}, body: Buffer.alloc(0) };
}

/** Awaits a refusal and returns it, so each test asserts code, status and message. */
async function refusal(promise: Promise<unknown>): Promise<HeraldError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof HeraldError)) throw new Error(`expected a HeraldError, got ${String(error)}`);
  return error;
}

function thrownBy(action: () => void): HeraldError {
  try {
    action();
  } catch (error) {
    if (error instanceof HeraldError) return error;
    throw error;
  }
  throw new Error('expected a HeraldError');
}

describe('authenticate, with a token', () => {
  test('accepts Authorization: Bearer', async () => {
    const { bucket, token } = await newBucket();

    const caller = await authenticate(store, request({ headers: { authorization: `Bearer ${token}` } }));

    expect(caller).toEqual({ bucketId: bucket.id, via: 'token', scopes: ['send', 'devices', 'read'] });
  });

  test('accepts ?token=', async () => {
    const { bucket, token } = await newBucket();

    expect((await authenticate(store, request({ query: { token } }))).bucketId).toBe(bucket.id);
  });

  test('accepts ?access_token= (as Zentik does)', async () => {
    const { bucket, token } = await newBucket();

    expect((await authenticate(store, request({ query: { access_token: token } }))).bucketId).toBe(bucket.id);
  });

  test('the Bearer header wins over ?token=', async () => {
    const { bucket, token } = await newBucket();
    const other = await newBucket();

    const caller = await authenticate(store, request({ headers: { authorization: `Bearer ${token}` }, query: { token: other.token } }));

    expect(caller.bucketId).toBe(bucket.id);
  });
});

describe('authenticate, with a magic code', () => {
  test('accepts ?magicCode= with the send scope only', async () => {
    const { bucket, magicCode } = await newBucket();

    const caller = await authenticate(store, request({ query: { magicCode } }));

    expect(caller).toEqual({ bucketId: bucket.id, via: 'magicCode', scopes: ['send'] });
  });

  test('accepts a magic code given in the body', async () => {
    const { bucket, magicCode } = await newBucket();

    expect((await authenticate(store, request(), { magicCode })).bucketId).toBe(bucket.id);
  });

  test('a magic code is not a token', async () => {
    const { magicCode } = await newBucket();

    const error = await refusal(authenticate(store, request({ query: { token: magicCode } })));

    expect(error).toMatchObject({ code: 'unauthorized', status: 401, message: INVALID_CREDENTIALS });
  });
});

describe('authenticate, ?bucketId=', () => {
  test('accepts the bucket id', async () => {
    const { bucket, token } = await newBucket();

    expect((await authenticate(store, request({ query: { token, bucketId: bucket.id } }))).bucketId).toBe(bucket.id);
  });

  test('accepts the bucket name, case-insensitively', async () => {
    const { bucket, magicCode } = await newBucket();

    const caller = await authenticate(store, request({ query: { magicCode, bucketId: bucket.name.toUpperCase() } }));

    expect(caller.bucketId).toBe(bucket.id);
  });

  test('accepts a bucketId given in the body', async () => {
    const { bucket, magicCode } = await newBucket();

    expect((await authenticate(store, request({ query: { magicCode } }), { bucketId: bucket.name })).bucketId).toBe(bucket.id);
  });
});

describe('authenticate, refusals', () => {
  test('an unknown token and a token for another bucket get the same 401', async () => {
    const mine = await newBucket();
    const theirs = await newBucket();

    const unknown = await refusal(authenticate(store, request({ query: { token: 'hrld_not-a-real-token-000000000000000000000', bucketId: mine.bucket.name } })));
    const wrongBucket = await refusal(authenticate(store, request({ query: { token: theirs.token, bucketId: mine.bucket.name } })));

    expect(unknown).toMatchObject({ code: 'unauthorized', status: 401, message: INVALID_CREDENTIALS });
    expect(wrongBucket).toMatchObject({ code: 'unauthorized', status: 401, message: INVALID_CREDENTIALS });
  });

  test('a magic code for another bucket gets the same 401', async () => {
    const mine = await newBucket();
    const theirs = await newBucket();

    const error = await refusal(authenticate(store, request({ query: { magicCode: theirs.magicCode, bucketId: mine.bucket.id } })));

    expect(error).toMatchObject({ code: 'unauthorized', message: INVALID_CREDENTIALS });
  });

  test('a bucketId that names no bucket gets the same 401', async () => {
    const { token } = await newBucket();

    const error = await refusal(authenticate(store, request({ query: { token, bucketId: 'no-such-bucket' } })));

    expect(error).toMatchObject({ code: 'unauthorized', message: INVALID_CREDENTIALS });
  });

  test('no credentials: 401 naming every way to send them', async () => {
    const error = await refusal(authenticate(store, request({ query: { bucketId: 'anything' } })));

    expect(error.code).toBe('unauthorized');
    expect(error.status).toBe(401);
    expect(error.message).toContain('Authorization: Bearer <token>');
    expect(error.message).toContain('?token=');
    expect(error.message).toContain('?magicCode=');
  });

  test('a non-Bearer Authorization header is no credential', async () => {
    const error = await refusal(authenticate(store, request({ headers: { authorization: 'Basic dXNlcjpwYXNz' } })));

    expect(error.message).toMatch(/^no credentials/);
  });
});

describe('requireScope', () => {
  test('lets a token with the scope through', async () => {
    const { token } = await newBucket();
    const caller = await authenticate(store, request({ query: { token } }));

    expect(() => requireScope(caller, 'devices')).not.toThrow();
  });

  test('a magic code lacks the devices scope: 403 forbidden naming it', async () => {
    const { magicCode } = await newBucket();
    const caller: Caller = await authenticate(store, request({ query: { magicCode } }));

    const error = thrownBy(() => requireScope(caller, 'devices'));

    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect(error.message).toContain('"devices"');
    expect(error.message).toContain('magic code');
  });

  test('a token created without a scope is refused naming the scope', async () => {
    const { bucket } = await newBucket();
    const sendOnly = `hrld_${randomUUID()}`;
    await addCredential(store, { bucketId: bucket.id, kind: 'token', secret: sendOnly, scopes: ['send'] });
    const caller = await authenticate(store, request({ headers: { authorization: `Bearer ${sendOnly}` } }));

    const error = thrownBy(() => requireScope(caller, 'devices'));

    expect(error).toMatchObject({ code: 'forbidden', message: 'this token lacks the "devices" scope; use a token with the "devices" scope' });
  });
});

describe('createBucket', () => {
  test('stores the bucket under its id and its lower-cased name', async () => {
    const name = `Ops-${randomUUID().slice(0, 8)}`;

    const { bucket } = await createBucket(store, { name, displayName: 'Operations' });

    expect(bucket.name).toBe(name.toLowerCase());
    expect(await findBucket(store, bucket.id)).toEqual(bucket);
    expect(await findBucket(store, name)).toEqual(bucket);
  });

  test('refuses a name that is taken, whatever its case', async () => {
    const { bucket } = await newBucket('dup');

    const error = await refusal(createBucket(store, { name: bucket.name.toUpperCase() }));

    expect(error).toMatchObject({ code: 'validation_failed', status: 400, message: `name: a bucket named "${bucket.name}" already exists` });
  });

  test('keeps the first bucket of a name when two creations race', async () => {
    const name = `race-${randomUUID().slice(0, 8)}`;

    const results = await Promise.allSettled([createBucket(store, { name }), createBucket(store, { name })]);

    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'validation_failed' } });
  });

  test.each(['transform', 'devices', 'health', 'webhooks', 'message', 'api', 'Transform'])('refuses the reserved name %j', async (name) => {
    const error = await refusal(createBucket(store, { name }));

    expect(error.code).toBe('validation_failed');
    expect(error.message).toBe(`name: "${name.toLowerCase()}" is one of Herald's routes; choose another name`);
  });

  test('reserves every route name it lists', () => {
    expect([...RESERVED_BUCKET_NAMES]).toEqual(expect.arrayContaining(['transform', 'devices', 'health', 'webhooks']));
  });

  test.each([
    ['an empty name', ''],
    ['a leading dash', '-ops'],
    ['a space', 'my bucket'],
    ['a slash', 'ops/alerts'],
    ['a dot', 'ops.alerts'],
    ['65 characters', 'a'.repeat(65)],
    ['non-ASCII letters', 'büro'],
  ])('refuses %s, naming the value', async (_name, name) => {
    const error = await refusal(createBucket(store, { name }));

    expect(error.code).toBe('validation_failed');
    expect(error.message).toMatch(/^name: must be 1–64 characters/);
    expect(error.message).toContain(`(given "${name}")`);
  });
});
