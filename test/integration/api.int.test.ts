import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { handleApiRequest, type ApiDeps } from '../../lambdas/core/api';
import type { HttpRequest } from '../../lambdas/core/http';
import { authentikParser } from '../../lambdas/core/parsers/authentik';
import type { PlatformApplications, PublishInput, PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue, type DeliveryJob } from '../../lambdas/core/queue';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { getDevice } from '../../lambdas/core/store/devices';
import { createHarness, type Harness } from './harness';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const APNS_APP_ARN = 'arn:aws:sns:us-east-1:123456789012:app/APNS/herald-apns';
const FCM_APP_ARN = 'arn:aws:sns:us-east-1:123456789012:app/GCM/herald-fcm';
/** APNS_SANDBOX is left out on purpose: a deployment without sandbox credentials. */
const PLATFORM_APPLICATIONS: PlatformApplications = { APNS: APNS_APP_ARN, GCM: FCM_APP_ARN };
const APNS_TOKEN = '8f2a4c6e0b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a';
const FCM_TOKEN = 'dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_example-registration-token_0123456789';

const FIXTURES = join(__dirname, '../fixtures/authentik');
/** Fixtures are bytes: posted exactly as authentik sent them. */
const LOGIN_FAILED = readFileSync(join(FIXTURES, 'webhook-login-failed.json'));
const TEST_BUTTON = readFileSync(join(FIXTURES, 'webhook-test-button.json'));
const AUTHENTIK_HEADERS = { 'content-type': 'application/json', 'user-agent': 'authentik@2025.10.1' };

/** Herald's own push interface, recording what the API asked of it (no push platform involved). */
class RecordingPushGateway implements PushGateway {
  readonly deletedEndpoints: string[] = [];

  async deleteEndpoint(endpointArn: string): Promise<void> {
    this.deletedEndpoints.push(endpointArn);
  }

  readonly endpointCalls: { platformApplicationArn: string; token: string; knownEndpointArn?: string }[] = [];
  readonly published: PublishInput[] = [];

  async ensureEndpoint(platformApplicationArn: string, token: string, knownEndpointArn?: string): Promise<string> {
    this.endpointCalls.push({ platformApplicationArn, token, knownEndpointArn });
    const platform = platformApplicationArn.split('/')[1];
    return knownEndpointArn ?? `arn:aws:sns:us-east-1:123456789012:endpoint/${platform}/herald/${randomUUID()}`;
  }

  async publish(input: PublishInput): Promise<string> {
    this.published.push(input);
    return randomUUID();
  }
}

let harness: Harness;
let bucketA: CreatedBucket;
let bucketB: CreatedBucket;

beforeAll(async () => {
  harness = await createHarness();
  bucketA = await newBucket();
  bucketB = await newBucket();
});

function newBucket(): Promise<CreatedBucket> {
  return createBucket(harness.store, { name: `api-${randomUUID().slice(0, 8)}` });
}

/** A queue of its own for one test, so "exactly one message" means this test's message. */
async function freshQueue(): Promise<{ queueUrl: string; queue: SqsNotificationQueue }> {
  const { QueueUrl } = await harness.sqs.send(new CreateQueueCommand({ QueueName: `herald-api-${randomUUID().slice(0, 8)}` }));
  return { queueUrl: QueueUrl!, queue: new SqsNotificationQueue(QueueUrl!) };
}

/** Receives (and deletes) every message in the queue, parsed. */
async function takeAllJobs(queueUrl: string): Promise<DeliveryJob[]> {
  const jobs: DeliveryJob[] = [];
  for (;;) {
    const { Messages = [] } = await harness.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }),
    );
    if (Messages.length === 0) return jobs;
    for (const message of Messages) {
      jobs.push(JSON.parse(message.Body!) as DeliveryJob);
      await harness.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
}

function deps(overrides: Partial<ApiDeps> = {}): ApiDeps & { gateway: RecordingPushGateway } {
  return {
    store: harness.store,
    queue: new SqsNotificationQueue(process.env.QUEUE_URL!),
    gateway: new RecordingPushGateway(),
    platformApplications: PLATFORM_APPLICATIONS,
    vault: new FileVault(),
    now: () => NOW,
    ...overrides,
  } as ApiDeps & { gateway: RecordingPushGateway };
}

interface RequestOptions {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  body?: Buffer | string;
}

function httpRequest(options: RequestOptions): HttpRequest {
  const jsonHeaders: Record<string, string> = options.json === undefined ? {} : { 'content-type': 'application/json' };
  const body = options.json !== undefined ? JSON.stringify(options.json) : (options.body ?? '');
  return {
    method: options.method ?? 'POST',
    path: options.path ?? '/message',
    query: options.query ?? {},
    headers: { ...jsonHeaders, ...options.headers },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  };
}

const bearer = (bucket: CreatedBucket) => ({ authorization: `Bearer ${bucket.token}` });
const parseBody = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe('handleApiRequest, bad input', () => {
  interface BadInputCase {
    name: string;
    request: () => HttpRequest;
    status: number;
    error: string;
    message?: string | RegExp;
    headers?: Record<string, string>;
  }

  const cases: BadInputCase[] = [
    {
      name: 'unknown parser',
      request: () => httpRequest({ path: '/transform', query: { parser: 'nosuchsource', token: bucketA.token }, body: LOGIN_FAILED, headers: AUTHENTIK_HEADERS }),
      status: 400,
      error: 'unknown_parser',
      message: /^unknown parser "nosuchsource"; one of: zitadel, .*\bokta\b.*\bauthentik, ZENTIK_AUTHENTIK$/,
    },
    {
      name: 'no parser and a body no source sends',
      request: () => httpRequest({ path: '/transform', query: { token: bucketA.token }, json: { hello: 'world' } }),
      status: 400,
      error: 'unknown_source',
      message: /^could not tell which source sent this; add \?parser= with one of: zitadel, .*authentik/,
    },
    {
      name: 'no credentials',
      request: () => httpRequest({ json: { title: 'Login' } }),
      status: 401,
      error: 'unauthorized',
      message: /^no credentials: send "Authorization: Bearer <token>", \?token=<token>, or \?magicCode=<code>$/,
    },
    {
      name: 'unknown token',
      request: () => httpRequest({ json: { title: 'Login' }, headers: { authorization: 'Bearer hrld_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }),
      status: 401,
      error: 'unauthorized',
      message: 'invalid credentials for this bucket',
    },
    {
      name: "a token for another bucket than ?bucketId= names",
      request: () => httpRequest({ json: { title: 'Login' }, query: { token: bucketB.token, bucketId: bucketA.bucket.name } }),
      status: 401,
      error: 'unauthorized',
      message: 'invalid credentials for this bucket',
    },
    {
      name: 'a magic code for another bucket than the body bucketId names',
      request: () => httpRequest({ json: { title: 'Login', bucketId: bucketA.bucket.id }, query: { magicCode: bucketB.magicCode } }),
      status: 401,
      error: 'unauthorized',
      message: 'invalid credentials for this bucket',
    },
    {
      name: 'authentik parser, body not JSON',
      request: () =>
        httpRequest({ path: '/transform', query: { parser: 'authentik', magicCode: bucketA.magicCode }, body: 'login_failed: jdoe', headers: AUTHENTIK_HEADERS }),
      status: 400,
      error: 'invalid_body',
      message: /^authentik: /,
    },
    {
      name: 'authentik parser, JSON array body',
      request: () =>
        httpRequest({ path: '/transform', query: { parser: 'authentik', magicCode: bucketA.magicCode }, body: `[${LOGIN_FAILED.toString()}]`, headers: AUTHENTIK_HEADERS }),
      status: 400,
      error: 'invalid_body',
      message: /^authentik: /,
    },
    {
      name: 'message, JSON array body',
      request: () => httpRequest({ json: [{ title: 'Login' }], headers: bearer(bucketA) }),
      status: 400,
      error: 'invalid_body',
      message: 'body must be a JSON object',
    },
    {
      name: 'message, malformed JSON',
      request: () => httpRequest({ body: '{"title": "Login"', headers: { ...bearer(bucketA), 'content-type': 'application/json' } }),
      status: 400,
      error: 'invalid_body',
      message: /^body is not valid JSON: /,
    },
    {
      name: 'message, invalid UTF-8',
      request: () =>
        httpRequest({ body: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: { ...bearer(bucketA), 'content-type': 'application/json' } }),
      status: 400,
      error: 'invalid_body',
      message: 'body is not valid UTF-8',
    },
    {
      name: 'message, missing title',
      request: () => httpRequest({ json: { body: 'no title' }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: 'title: is required',
    },
    {
      name: 'message, unknown deliveryType',
      request: () => httpRequest({ json: { title: 'Login', deliveryType: 'URGENT' }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: /^deliveryType: /,
    },
    {
      name: 'message, tapUrl not http(s)',
      request: () => httpRequest({ json: { title: 'Login', tapUrl: 'javascript:alert(1)' }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: 'tapUrl: must be an http(s) URL',
    },
    {
      name: 'message, title over 256 characters',
      request: () => httpRequest({ json: { title: 'x'.repeat(257) }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: /^title: /,
    },
    {
      name: 'message, unknown field',
      request: () => httpRequest({ json: { title: 'Login', priority: 'high' }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: 'priority: unknown field',
    },
    {
      name: 'GET message, bad deliveryType in the query',
      request: () => httpRequest({ method: 'GET', query: { token: bucketA.token, title: 'Login', deliveryType: 'loud' } }),
      status: 400,
      error: 'validation_failed',
      message: /^deliveryType: /,
    },
    {
      name: 'webhook body over 256 KB',
      request: () => httpRequest({ path: '/transform', query: { parser: 'authentik', token: bucketA.token }, body: Buffer.alloc(256 * 1024 + 1, 'a'), headers: { 'content-type': 'application/json' } }),
      status: 413,
      error: 'payload_too_large',
      message: `body is ${256 * 1024 + 1} bytes; the limit for /transform is ${256 * 1024}`,
    },
    {
      name: 'message body over 64 KB',
      request: () => httpRequest({ body: Buffer.alloc(64 * 1024 + 1, 'a'), headers: { ...bearer(bucketA), 'content-type': 'application/json' } }),
      status: 413,
      error: 'payload_too_large',
      message: `body is ${64 * 1024 + 1} bytes; the limit for /message is ${64 * 1024}`,
    },
    {
      name: 'multipart body',
      request: () =>
        httpRequest({
          body: '--b\r\nContent-Disposition: form-data; name="title"\r\n\r\nLogin\r\n--b--\r\n',
          headers: { ...bearer(bucketA), 'content-type': 'multipart/form-data; boundary=b' },
        }),
      status: 415,
      error: 'unsupported_media_type',
      message: /^content-type "multipart\/form-data" is not accepted here/,
    },
    {
      name: 'GET /transform',
      request: () => httpRequest({ method: 'GET', path: '/transform', query: { parser: 'authentik', token: bucketA.token } }),
      status: 405,
      error: 'method_not_allowed',
      message: '/transform accepts POST',
      headers: { allow: 'POST' },
    },
    {
      name: 'DELETE /message',
      request: () => httpRequest({ method: 'DELETE', query: { token: bucketA.token } }),
      status: 405,
      error: 'method_not_allowed',
      headers: { allow: 'POST, GET' },
    },
    {
      name: 'unknown path',
      request: () => httpRequest({ path: '/api/v2/nothing', json: { title: 'Login' }, headers: bearer(bucketA) }),
      status: 404,
      error: 'not_found',
      message: 'no route POST /api/v2/nothing',
    },
    {
      name: 'magic code on POST /devices',
      request: () => httpRequest({ path: '/devices', query: { magicCode: bucketA.magicCode }, json: { platform: 'ios', token: APNS_TOKEN } }),
      status: 403,
      error: 'forbidden',
      message: /"devices" scope/,
    },
    {
      name: 'device registration without token',
      request: () => httpRequest({ path: '/devices', json: { platform: 'ios' }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: 'token: is required',
    },
    {
      name: 'device registration with an unknown platform',
      request: () => httpRequest({ path: '/devices', json: { platform: 'windows', token: APNS_TOKEN }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: /^platform: /,
    },
    {
      name: 'android device with an APNs environment',
      request: () => httpRequest({ path: '/devices', json: { platform: 'android', token: FCM_TOKEN, environment: 'sandbox' }, headers: bearer(bucketA) }),
      status: 400,
      error: 'validation_failed',
      message: 'environment: only iOS devices have an APNs environment',
    },
  ];

  test.each(cases)('$name → $status $error', async ({ request, status, error, message, headers }) => {
    const testDeps = deps();

    const result = await handleApiRequest(request(), testDeps);

    expect(result.response.status).toBe(status);
    expect(result.response.headers['content-type']).toBe('application/json');
    const body = parseBody(result.response.body);
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
    expect(body.error).toBe(error);
    expect(typeof body.message).toBe('string');
    if (typeof message === 'string') expect(body.message).toBe(message);
    else if (message) expect(body.message).toMatch(message);
    if (headers) expect(result.response.headers).toMatchObject(headers);
    expect(result.accepted).toBeUndefined();
    expect(testDeps.gateway.endpointCalls).toEqual([]);
  });

  test('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  test('queues nothing for any refused request', async () => {
    const { queueUrl, queue } = await freshQueue();

    for (const { request } of cases) await handleApiRequest(request(), deps({ queue }));

    expect(await takeAllJobs(queueUrl)).toEqual([]);
  });
});

describe('handleApiRequest, the message API', () => {
  test('POST /message with JSON answers 201 and queues exactly the notification it reports', async () => {
    const { queueUrl, queue } = await freshQueue();

    const result = await handleApiRequest(
      httpRequest({ json: { title: 'Deploy finished', body: 'api v42 is live', tags: ['deploy'] }, headers: bearer(bucketA) }),
      deps({ queue }),
    );

    expect(result.response.status).toBe(201);
    const body = parseBody(result.response.body);
    expect(body).toEqual({
      message: {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        bucketId: bucketA.bucket.id,
        source: 'native',
        createdAt: NOW.toISOString(),
        title: 'Deploy finished',
        body: 'api v42 is live',
        tags: ['deploy'],
        deliveryType: 'NORMAL',
      },
      notificationsCount: 1,
    });
    expect(result.accepted).toEqual({ source: 'native', count: 1 });
    expect(await takeAllJobs(queueUrl)).toEqual([{ notification: body.message }]);
  });

  test('GET /message with query parameters answers 201', async () => {
    const { queueUrl, queue } = await freshQueue();

    const result = await handleApiRequest(
      httpRequest({ method: 'GET', query: { token: bucketA.token, title: 'Backup failed', deliveryType: 'critical', tags: 'backup,nas' } }),
      deps({ queue }),
    );

    expect(result.response.status).toBe(201);
    expect(parseBody(result.response.body).message).toMatchObject({ title: 'Backup failed', deliveryType: 'CRITICAL', tags: ['backup', 'nas'] });
    expect(await takeAllJobs(queueUrl)).toHaveLength(1);
  });

  test('a form-encoded POST answers 201', async () => {
    const result = await handleApiRequest(
      httpRequest({
        body: 'title=Disk+almost+full&body=%2Fvar+at+91%25&actions=%5B%7B%22type%22%3A%22MARK_AS_READ%22%7D%5D',
        headers: { ...bearer(bucketA), 'content-type': 'application/x-www-form-urlencoded' },
      }),
      deps(),
    );

    expect(result.response.status).toBe(201);
    expect(parseBody(result.response.body).message).toMatchObject({ title: 'Disk almost full', body: '/var at 91%', actions: [{ type: 'MARK_AS_READ' }] });
  });

  test('the Zentik route /api/v1/messages answers as /message', async () => {
    const result = await handleApiRequest(httpRequest({ path: '/api/v1/messages/', json: { title: 'Login' }, headers: bearer(bucketA) }), deps());

    expect(result.response.status).toBe(201);
  });

  test('a magic code and bucket name in the body authenticate, as in Zentik', async () => {
    const result = await handleApiRequest(
      httpRequest({ json: { title: 'Login', magicCode: bucketA.magicCode, bucketId: bucketA.bucket.name } }),
      deps(),
    );

    expect(result.response.status).toBe(201);
    expect(parseBody(result.response.body).message).toMatchObject({ bucketId: bucketA.bucket.id });
  });

  test('names the Zentik fields it ignored', async () => {
    const result = await handleApiRequest(
      httpRequest({ json: { title: 'Login', attachments: [{ mediaType: 'IMAGE', url: 'https://example.com/a.png' }], userIds: ['u1'] }, headers: bearer(bucketA) }),
      deps(),
    );

    expect(result.response.status).toBe(201);
    const body = parseBody(result.response.body);
    expect(body.ignoredFields).toEqual(['attachments', 'userIds']);
    expect(body.message).not.toHaveProperty('attachments');
  });

  test('an Idempotency-Key replay answers 200 duplicate with the first id and queues nothing more', async () => {
    const { queueUrl, queue } = await freshQueue();
    const request = () =>
      httpRequest({ json: { title: 'Invoice paid' }, headers: { ...bearer(bucketA), 'idempotency-key': `invoice-${randomUUID()}` } });
    const sameKey = request();

    const first = await handleApiRequest(sameKey, deps({ queue }));
    const replay = await handleApiRequest(sameKey, deps({ queue }));

    expect(first.response.status).toBe(201);
    const firstId = (parseBody(first.response.body).message as { id: string }).id;
    expect(replay.response.status).toBe(200);
    expect(parseBody(replay.response.body)).toEqual({ message: { id: firstId }, notificationsCount: 0, duplicate: true });
    expect(replay.accepted).toEqual({ source: 'native', count: 0 });
    expect(await takeAllJobs(queueUrl)).toHaveLength(1);
  });

  test('the same Idempotency-Key in another bucket is not a replay', async () => {
    const key = `shared-${randomUUID()}`;

    const inA = await handleApiRequest(httpRequest({ json: { title: 'A' }, headers: { ...bearer(bucketA), 'idempotency-key': key } }), deps());
    const inB = await handleApiRequest(httpRequest({ json: { title: 'B' }, headers: { ...bearer(bucketB), 'idempotency-key': key } }), deps());

    expect([inA.response.status, inB.response.status]).toEqual([201, 201]);
  });
});

describe('handleApiRequest, /transform with the authentik parser', () => {
  const transform = (bucket: CreatedBucket, body: Buffer) =>
    httpRequest({ path: '/transform', query: { parser: 'ZENTIK_AUTHENTIK', magicCode: bucket.magicCode }, headers: AUTHENTIK_HEADERS, body });

  test('a failed login answers 201 with a CRITICAL notification', async () => {
    const bucket = await newBucket();
    const { queueUrl, queue } = await freshQueue();

    const result = await handleApiRequest(transform(bucket, LOGIN_FAILED), deps({ queue }));

    expect(result.response.status).toBe(201);
    const body = parseBody(result.response.body);
    expect(body).toMatchObject({ notificationsCount: 1, message: { bucketId: bucket.bucket.id, source: 'authentik', deliveryType: 'CRITICAL' } });
    expect(result.accepted).toEqual({ source: 'authentik', count: 1 });
    expect(await takeAllJobs(queueUrl)).toEqual([{ notification: body.message }]);
  });

  test('the same webhook posted again answers 200 duplicate and queues no second message', async () => {
    const bucket = await newBucket();
    const { queueUrl, queue } = await freshQueue();

    const first = await handleApiRequest(transform(bucket, LOGIN_FAILED), deps({ queue }));
    const again = await handleApiRequest(transform(bucket, LOGIN_FAILED), deps({ queue }));

    expect(first.response.status).toBe(201);
    expect(again.response.status).toBe(200);
    expect(parseBody(again.response.body)).toEqual({
      message: { id: (parseBody(first.response.body).message as { id: string }).id },
      notificationsCount: 0,
      duplicate: true,
    });
    expect(await takeAllJobs(queueUrl)).toHaveLength(1);
  });

  test("the Test button's webhook is never deduplicated: 201 both times", async () => {
    const bucket = await newBucket();
    const { queueUrl, queue } = await freshQueue();

    const first = await handleApiRequest(transform(bucket, TEST_BUTTON), deps({ queue }));
    const second = await handleApiRequest(transform(bucket, TEST_BUTTON), deps({ queue }));

    expect([first.response.status, second.response.status]).toEqual([201, 201]);
    const ids = [first, second].map((r) => (parseBody(r.response.body).message as { id: string }).id);
    expect(ids[0]).not.toBe(ids[1]);
    expect((await takeAllJobs(queueUrl)).map((job) => job.notification.id).sort()).toEqual([...ids].sort());
  });

  test('a parser that skips the payload answers 204 and queues nothing', async () => {
    // The authentik parser has no skip case today; a spy on the registered parser stands in for one that does.
    const parse = jest.spyOn(authentikParser, 'parse').mockReturnValueOnce({ kind: 'skip', reason: 'event not selected for push' });
    const { queueUrl, queue } = await freshQueue();

    try {
      const result = await handleApiRequest(transform(bucketA, LOGIN_FAILED), deps({ queue }));

      expect(result.response).toEqual({ status: 204, headers: { 'x-herald-skipped': 'event not selected for push' }, body: '' });
      expect(result.accepted).toBeUndefined();
      expect(await takeAllJobs(queueUrl)).toEqual([]);
    } finally {
      parse.mockRestore();
    }
  });

  test('a failure of SQS answers 503 and reports nothing as accepted, and gives the dedupe claim back', async () => {
    const bucket = await newBucket();
    // A real SQS client on the real stand-in, sending to a queue that does not exist.
    const missingQueueUrl = harness.queues.queueUrl.replace(/[^/]+$/, `herald-missing-${randomUUID().slice(0, 8)}`);
    const brokenQueue = new SqsNotificationQueue(missingQueueUrl);
    const { queueUrl, queue } = await freshQueue();

    const failed = await handleApiRequest(transform(bucket, LOGIN_FAILED), deps({ queue: brokenQueue }));
    const retried = await handleApiRequest(transform(bucket, LOGIN_FAILED), deps({ queue }));

    expect(failed.response.status).toBe(503);
    expect(failed.response.headers['retry-after']).toBe('5');
    expect(parseBody(failed.response.body)).toEqual({ error: 'service_unavailable', message: 'the notification could not be queued; retry later' });
    expect(failed.accepted).toBeUndefined();
    expect(failed.error?.cause).toBeInstanceOf(Error);
    // The sender's retry is accepted as new, not answered as a replay of what was never queued.
    expect(retried.response.status).toBe(201);
    expect(await takeAllJobs(queueUrl)).toHaveLength(1);
  });
});

describe('handleApiRequest, /health', () => {
  test('answers 200 without credentials', async () => {
    const result = await handleApiRequest(httpRequest({ method: 'GET', path: '/health' }), deps());

    expect(result.response).toEqual({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"status":"ok"}' });
  });
});

describe('handleApiRequest, POST /devices', () => {
  const register = (bucket: CreatedBucket, registration: Record<string, unknown>) =>
    httpRequest({ path: '/devices', json: registration, headers: bearer(bucket) });

  test('registers an iOS device: 201 with the device, its endpoint made for the APNs application', async () => {
    const bucket = await newBucket();
    const testDeps = deps();

    const result = await handleApiRequest(register(bucket, { platform: 'ios', token: APNS_TOKEN, name: "Jane's iPhone" }), testDeps);

    expect(result.response.status).toBe(201);
    expect(parseBody(result.response.body)).toEqual({
      device: {
        id: expect.stringMatching(/^[0-9a-f]{32}$/),
        platform: 'ios',
        environment: 'production',
        name: "Jane's iPhone",
        enabled: true,
        createdAt: NOW.toISOString(),
        updatedAt: NOW.toISOString(),
      },
    });
    expect(testDeps.gateway.endpointCalls).toEqual([{ platformApplicationArn: APNS_APP_ARN, token: APNS_TOKEN, knownEndpointArn: undefined }]);
  });

  test('registering the same token again answers 200 with the same device, repairing the stored endpoint', async () => {
    const bucket = await newBucket();
    const testDeps = deps();

    const first = await handleApiRequest(register(bucket, { platform: 'ios', token: APNS_TOKEN }), testDeps);
    const again = await handleApiRequest(register(bucket, { platform: 'iOS', token: APNS_TOKEN }), testDeps);

    expect([first.response.status, again.response.status]).toEqual([201, 200]);
    const firstDevice = parseBody(first.response.body).device as { id: string };
    expect(parseBody(again.response.body).device).toEqual(firstDevice);
    const stored = await getDevice(harness.store, bucket.bucket.id, firstDevice.id);
    expect(testDeps.gateway.endpointCalls[1]).toEqual({ platformApplicationArn: APNS_APP_ARN, token: APNS_TOKEN, knownEndpointArn: stored!.endpointArn });
  });

  test('never answers with the token or the endpoint ARN', async () => {
    const bucket = await newBucket();

    const results = [
      await handleApiRequest(register(bucket, { platform: 'android', token: FCM_TOKEN }), deps()),
      await handleApiRequest(register(bucket, { platform: 'android', token: FCM_TOKEN }), deps()),
    ];

    for (const { response } of results) {
      expect(response.body).not.toContain(FCM_TOKEN);
      expect(response.body).not.toContain('arn:aws:sns');
      expect(response.body).not.toContain('endpointArn');
    }
  });

  test('stores the endpoint ARN (never the token) for delivery', async () => {
    const bucket = await newBucket();
    const testDeps = deps();

    const result = await handleApiRequest(register(bucket, { platform: 'android', token: FCM_TOKEN }), testDeps);
    const { id } = parseBody(result.response.body).device as { id: string };

    const stored = await getDevice(harness.store, bucket.bucket.id, id);
    expect(stored).toMatchObject({ platform: 'android', enabled: true, endpointArn: expect.stringMatching(/^arn:aws:sns:us-east-1:123456789012:endpoint\/GCM\//) });
    expect(JSON.stringify(stored)).not.toContain(FCM_TOKEN);
    expect(testDeps.gateway.endpointCalls).toEqual([{ platformApplicationArn: FCM_APP_ARN, token: FCM_TOKEN, knownEndpointArn: undefined }]);
  });

  test('a platform that is not configured: the device is stored with a warning, and no endpoint', async () => {
    const bucket = await newBucket();
    const testDeps = deps();

    const result = await handleApiRequest(register(bucket, { platform: 'ios', environment: 'sandbox', token: APNS_TOKEN }), testDeps);

    expect(result.response.status).toBe(201);
    const body = parseBody(result.response.body) as { device: { id: string; environment: string }; warning: string };
    expect(body.device.environment).toBe('sandbox');
    expect(body.warning).toBe('the APNS_SANDBOX platform is not configured in this deployment; the device is stored but gets no pushes until it is');
    expect(testDeps.gateway.endpointCalls).toEqual([]);
    const stored = await getDevice(harness.store, bucket.bucket.id, body.device.id);
    expect(stored).toMatchObject({ id: body.device.id, enabled: true });
    expect(stored!.endpointArn).toBeUndefined();
  });

  test('accepts a form-encoded registration', async () => {
    const bucket = await newBucket();

    const result = await handleApiRequest(
      httpRequest({
        path: '/devices',
        body: `platform=android&token=${encodeURIComponent(FCM_TOKEN)}`,
        headers: { ...bearer(bucket), 'content-type': 'application/x-www-form-urlencoded' },
      }),
      deps(),
    );

    expect(result.response.status).toBe(201);
  });
});
