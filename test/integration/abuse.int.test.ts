import { handleApiRequest, type ApiDeps } from '../../lambdas/core/api';
import { AUTH_FAILURE_LIMITS } from '../../lambdas/core/auth/abuse';
import type { HttpRequest } from '../../lambdas/core/http';
import type { PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue } from '../../lambdas/core/queue';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { createHarness, type Harness } from './harness';

/** Failed-authentication limits and per-route body limits, on the real store and queue. */
const noGateway: PushGateway = {
  ensureEndpoint: () => Promise.reject(new Error('unused')),
  publish: () => Promise.reject(new Error('unused')),
  deleteEndpoint: () => Promise.reject(new Error('unused')),
};

let harness: Harness;
let deps: ApiDeps;
let bucket: CreatedBucket;

beforeAll(async () => {
  harness = await createHarness();
  deps = { store: harness.store, queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs), gateway: noGateway, platformApplications: {}, vault: new FileVault() };
  bucket = await createBucket(harness.store, { name: 'abuse' });
});

const message = (token: string, sourceIp: string, body = '{"title":"x"}', path = '/message'): HttpRequest => ({
  method: 'POST',
  path,
  query: {},
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body: Buffer.from(body),
  sourceIp,
});

describe('failed authentication limits', () => {
  test(`past ${AUTH_FAILURE_LIMITS.ip} failures from one address, it gets 429 with Retry-After`, async () => {
    const statuses: number[] = [];
    for (let i = 0; i <= AUTH_FAILURE_LIMITS.ip; i += 1) statuses.push((await handleApiRequest(message(`hrld_guess-${i}`, '203.0.113.50'), deps)).response.status);
    expect(statuses.slice(0, AUTH_FAILURE_LIMITS.ip).every((status) => status === 401)).toBe(true);
    const limited = await handleApiRequest(message('hrld_guess-last', '203.0.113.50'), deps);
    expect(limited.response.status).toBe(429);
    expect(JSON.parse(limited.response.body).error).toBe('rate_limited');
    expect(Number(limited.response.headers['retry-after'])).toBeGreaterThan(0);
  });

  test('another address is not affected', async () => {
    expect((await handleApiRequest(message('hrld_guess', '203.0.113.51'), deps)).response.status).toBe(401);
  });

  test('a successful request from a limited address costs nothing and succeeds', async () => {
    expect((await handleApiRequest(message(bucket.token, '203.0.113.50'), deps)).response.status).toBe(201);
  });

  test('unknown and wrong-bucket credentials give the same status and message', async () => {
    const other = await createBucket(harness.store, { name: 'abuse-other' });
    const unknown = await handleApiRequest({ ...message('hrld_nope', '198.51.100.7'), query: { bucketId: 'abuse' } }, deps);
    const wrong = await handleApiRequest({ ...message(other.token, '198.51.100.8'), query: { bucketId: 'abuse' } }, deps);
    expect([unknown.response.status, wrong.response.status]).toEqual([401, 401]);
    expect(unknown.response.body).toBe(wrong.response.body);
  });
});

describe('body limits per route', () => {
  test('a message over 64 KB is refused with 413', async () => {
    const big = JSON.stringify({ title: 'x', body: 'a'.repeat(70 * 1024) });
    const result = await handleApiRequest(message(bucket.token, '192.0.2.1', big), deps);
    expect(result.response.status).toBe(413);
    expect(JSON.parse(result.response.body).error).toBe('payload_too_large');
  });

  test('a webhook of 200 KB is read (sources batch events)', async () => {
    const big = JSON.stringify({ body: 'x'.repeat(200 * 1024), severity: 'notice', user_email: 'a@example.com', user_username: 'a' });
    const result = await handleApiRequest({ ...message(bucket.token, '192.0.2.1', big, '/transform'), query: { parser: 'authentik' } }, deps);
    expect(result.response.status).not.toBe(413);
  });
});

describe('malformed paths', () => {
  test.each(['/webhooks/%E0%A4%A', '/%ZZ', '/devices/%E0%A4%A/token', '/admin/buckets/%'])('%s is a typed 4xx, never a 5xx', async (path) => {
    const result = await handleApiRequest({ ...message(bucket.token, '192.0.2.9'), path, method: path.startsWith('/devices') ? 'PUT' : 'POST' }, deps);
    expect(result.response.status).toBeGreaterThanOrEqual(400);
    expect(result.response.status).toBeLessThan(500);
    expect(Object.keys(JSON.parse(result.response.body)).sort()).toEqual(['error', 'message']);
  });
});
