import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { handleApiRequest, type ApiDeps } from '../../lambdas/core/api';
import type { HttpRequest } from '../../lambdas/core/http';
import type { PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue, type DeliveryJob } from '../../lambdas/core/queue';
import { FileVault } from '../../lambdas/core/sources/vault';
import { createBucket, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { createHarness, type Harness } from './harness';

/** ntfy-compatible publishing, through the real router, store and queue. */
const unusedGateway: PushGateway = {
  ensureEndpoint: () => Promise.reject(new Error('not used')),
  publish: () => Promise.reject(new Error('not used')),
  deleteEndpoint: () => Promise.reject(new Error('not used')),
};

let harness: Harness;
let deps: ApiDeps;
let alerts: CreatedBucket;
let other: CreatedBucket;

beforeAll(async () => {
  harness = await createHarness();
  deps = { store: harness.store, queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs), gateway: unusedGateway, platformApplications: {}, vault: new FileVault() };
  alerts = await createBucket(harness.store, { name: 'alerts' });
  other = await createBucket(harness.store, { name: 'other' });
});

function request(method: string, path: string, options: { headers?: Record<string, string>; query?: Record<string, string>; body?: string } = {}): HttpRequest {
  return { method, path, query: options.query ?? {}, headers: options.headers ?? {}, body: Buffer.from(options.body ?? '') };
}

async function send(req: HttpRequest): Promise<{ status: number; body: Record<string, unknown> }> {
  const { response } = await handleApiRequest(req, deps);
  return { status: response.status, body: response.body ? (JSON.parse(response.body) as Record<string, unknown>) : {} };
}

/** The notification queued by the last request (and nothing else). */
async function queued(): Promise<DeliveryJob['notification']> {
  const { Messages = [] } = await harness.sqs.send(new ReceiveMessageCommand({ QueueUrl: harness.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
  expect(Messages).toHaveLength(1);
  await harness.sqs.send(new DeleteMessageCommand({ QueueUrl: harness.queues.queueUrl, ReceiptHandle: Messages[0]!.ReceiptHandle! }));
  return (JSON.parse(Messages[0]!.Body!) as DeliveryJob).notification;
}

const bearer = () => ({ authorization: `Bearer ${alerts.token}` });

describe('ntfy publishing', () => {
  test('PUT /<topic> with a text body and X- headers', async () => {
    const result = await send(request('PUT', '/alerts', {
      headers: { ...bearer(), 'x-title': 'Disk full', 'x-priority': '5', 'x-tags': 'warning,skull', 'x-click': 'https://grafana.example.com/d/1', 'content-type': 'text/plain' },
      body: 'Disk /var is at 98 %',
    }));
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ event: 'message', topic: 'alerts', title: 'Disk full', message: 'Disk /var is at 98 %', priority: 5, tags: ['warning', 'skull'], click: 'https://grafana.example.com/d/1' });
    expect(await queued()).toMatchObject({ title: 'Disk full', body: 'Disk /var is at 98 %', deliveryType: 'CRITICAL', tags: ['warning', 'skull'], tapUrl: 'https://grafana.example.com/d/1', source: 'ntfy', bucketId: alerts.bucket.id });
  });

  test('POST /<topic> with un-prefixed headers; no title means the topic', async () => {
    const result = await send(request('POST', '/alerts', { headers: { ...bearer(), priority: 'min' }, body: 'backup done' }));
    expect(result.status).toBe(200);
    expect(await queued()).toMatchObject({ title: 'alerts', body: 'backup done', deliveryType: 'SILENT' });
  });

  test('JSON to the root URL, as authentik\'s webhook mapping sends it', async () => {
    const result = await send(request('POST', '/', {
      headers: { ...bearer(), 'content-type': 'application/json' },
      body: JSON.stringify({ topic: 'alerts', title: 'Login_failed: jdoe', message: 'from Berlin', priority: 4, tags: ['authentik'], actions: [{ action: 'view', label: 'Open audit log', url: 'https://auth.example.com/if/admin/#/events/log' }] }),
    }));
    expect(result.status).toBe(200);
    expect(await queued()).toMatchObject({ title: 'Login_failed: jdoe', deliveryType: 'CRITICAL', actions: [{ type: 'NAVIGATE', title: 'Open audit log', value: 'https://auth.example.com/if/admin/#/events/log' }] });
  });

  test('a JSON message posted to the topic URL is read as JSON, not shown as text', async () => {
    await send(request('POST', '/alerts', { headers: { ...bearer(), 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Deploy', message: 'v2 is live' }) }));
    expect(await queued()).toMatchObject({ title: 'Deploy', body: 'v2 is live' });
  });

  test('the answer echoes the ntfy priority as sent', async () => {
    const result = await send(request('POST', '/alerts', { headers: { ...bearer(), priority: 'high' }, body: 'x' }));
    expect(result.body.priority).toBe(4);
    expect((await queued()).deliveryType).toBe('CRITICAL');
  });

  test('a broadcast action (an Android intent) is left out, not refused', async () => {
    await send(request('POST', '/alerts', { headers: { ...bearer(), actions: 'broadcast, Take picture, extras.cmd=pic; view, Open, https://example.com' }, body: 'x' }));
    expect((await queued()).actions).toEqual([{ type: 'NAVIGATE', title: 'Open', value: 'https://example.com' }]);
  });

  test('ntfy action text in a header', async () => {
    await send(request('POST', '/alerts', { headers: { ...bearer(), actions: 'view, Open portal, https://portal.example.com, clear=true; http, Restart, https://api.example.com/restart, method=PUT' }, body: 'x' }));
    expect((await queued()).actions).toEqual([
      { type: 'NAVIGATE', title: 'Open portal', value: 'https://portal.example.com' },
      { type: 'BACKGROUND_CALL', title: 'Restart', value: 'PUT::https://api.example.com/restart' },
    ]);
  });

  test('basic auth: the password is the token', async () => {
    const basic = Buffer.from(`anyone:${alerts.token}`).toString('base64');
    expect((await send(request('POST', '/alerts', { headers: { authorization: `Basic ${basic}` }, body: 'via basic' }))).status).toBe(200);
    expect((await queued()).body).toBe('via basic');
  });

  test('?auth= carries the base64 of the Authorization header', async () => {
    const auth = Buffer.from(`Bearer ${alerts.token}`).toString('base64url');
    expect((await send(request('POST', '/alerts', { query: { auth }, body: 'via auth param' }))).status).toBe(200);
    expect((await queued()).body).toBe('via auth param');
  });

  test('GET /<topic>/publish?message=…', async () => {
    expect((await send(request('GET', '/alerts/publish', { query: { message: 'from a GET', title: 'Webhook', token: alerts.token } }))).status).toBe(200);
    expect(await queued()).toMatchObject({ title: 'Webhook', body: 'from a GET' });
  });

  test.each([
    ['no credentials', 401, 'unauthorized', () => request('POST', '/alerts', { body: 'x' })],
    ['a token of another bucket', 401, 'unauthorized', () => request('POST', '/alerts', { headers: { authorization: `Bearer ${other.token}` }, body: 'x' })],
    ['a topic that is no bucket', 401, 'unauthorized', () => request('POST', '/nosuchbucket', { headers: bearer(), body: 'x' })],
    ['a bad priority', 400, 'validation_failed', () => request('POST', '/alerts', { headers: { ...bearer(), priority: '9' }, body: 'x' })],
    ['an unknown action kind', 400, 'validation_failed', () => request('POST', '/alerts', { headers: { ...bearer(), actions: 'launch, Go, https://x.example.com' }, body: 'x' })],
    ['JSON without a topic', 400, 'validation_failed', () => request('POST', '/', { headers: { ...bearer(), 'content-type': 'application/json' }, body: '{"message":"x"}' })],
    ['a route name as topic', 405, 'method_not_allowed', () => request('POST', '/health', { headers: bearer(), body: 'x' })],
  ])('%s → %i %s', async (_name, status, error, req) => {
    const result = await send(req());
    expect(result.status).toBe(status);
    expect(result.body.error).toBe(error);
    expect(typeof result.body.message).toBe('string');
  });
});
