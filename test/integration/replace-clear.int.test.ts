import { randomUUID } from 'node:crypto';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { deleteBucket } from '../../lambdas/core/admin/delete-bucket';
import { clearNotification } from '../../lambdas/core/clear';
import { deliverNotification } from '../../lambdas/core/delivery';
import { uuidv7 } from '../../lambdas/core/ids';
import { stampNotification, validateNotification } from '../../lambdas/core/notification';
import { SnsPushGateway } from '../../lambdas/core/push/sns-gateway';
import { EnqueueError, type DeliveryJob, type NotificationQueue } from '../../lambdas/core/queue';
import { createBucket, addCredential, type CreatedBucket } from '../../lambdas/core/store/buckets';
import { putDevice, type Device } from '../../lambdas/core/store/devices';
import { getHistory } from '../../lambdas/core/store/history';
import { listOutcomes } from '../../lambdas/core/store/outcomes';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { SqsEventSource } from '../../lambdas/local/sqs-event-source';
import { createHarness, type Harness } from './harness';

/**
 * Replace (collapse id) and clear (DELETE /notifications/{id}) through the real ingest and delivery
 * handlers on the stand-ins; SNS is mocked at the SDK boundary, with the exact Publish requests
 * asserted.
 */
const ACCOUNT = '123456789012';
const endpointArn = (key: 'APNS' | 'GCM', id: string) => `arn:aws:sns:us-east-1:${ACCOUNT}:endpoint/${key}/herald/${id}`;

const sns = mockClient(SNSClient);
let harness: Harness;
let ingest: (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
let delivery: SqsEventSource;

function httpEvent(method: string, rawPath: string, options: { query?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}): APIGatewayProxyEventV2 {
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: new URLSearchParams(options.query ?? {}).toString(),
    headers: { 'content-type': 'application/json', ...options.headers },
    queryStringParameters: options.query,
    requestContext: {
      accountId: ACCOUNT, apiId: 'api', domainName: 'api.example.com', domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.9', userAgent: 'curl/8' },
      requestId: 'req', routeKey: '$default', stage: '$default', time: '', timeEpoch: Date.now(),
    },
    body: body?.toString('base64'),
    isBase64Encoded: body !== undefined,
  };
}

async function invoke(event: APIGatewayProxyEventV2): Promise<{ status: number; body: Record<string, unknown> }> {
  const result = await ingest(event, lambdaContext('herald-ingest', 10_000));
  return { status: result.statusCode!, body: result.body ? JSON.parse(result.body) : {} };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function send(bucket: CreatedBucket, content: Record<string, unknown>): Promise<string> {
  const response = await invoke(httpEvent('POST', '/message', { headers: bearer(bucket.token), body: JSON.stringify(content) }));
  expect(response.status).toBe(201);
  return (response.body.message as { id: string }).id;
}

const clear = (id: string, options: { headers?: Record<string, string>; query?: Record<string, string>; path?: string } = {}) =>
  invoke(httpEvent('DELETE', `${options.path ?? '/notifications'}/${id}`, { headers: options.headers, query: options.query }));

/** Lets the delivery event source run until the queue is empty. */
async function deliverAll(): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    await delivery.pollOnce();
    if ((await delivery.depth()) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the queue did not drain');
}

async function addDevice(bucketId: string, platform: 'ios' | 'android'): Promise<Device> {
  const id = randomUUID().replace(/-/g, '');
  const device: Device = {
    bucketId,
    id,
    platform,
    environment: platform === 'ios' ? 'production' : undefined,
    endpointArn: endpointArn(platform === 'ios' ? 'APNS' : 'GCM', id),
    enabled: true,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  };
  await putDevice(harness.store, device);
  return device;
}

/** A bucket with an iPhone and a Pixel. */
async function bucketWithDevices(): Promise<{ bucket: CreatedBucket; iphone: Device; pixel: Device }> {
  const bucket = await createBucket(harness.store, { name: `clear-${randomUUID().slice(0, 8)}` });
  return { bucket, iphone: await addDevice(bucket.bucket.id, 'ios'), pixel: await addDevice(bucket.bucket.id, 'android') };
}

const publishes = (endpoint: string): PublishCommandInput[] =>
  sns.commandCalls(PublishCommand).map((call) => call.args[0].input).filter((input) => input.TargetArn === endpoint);

const platformPayload = (input: PublishCommandInput) => {
  const message = JSON.parse(input.Message!) as Record<string, string>;
  return JSON.parse(message.APNS ?? message.GCM!) as Record<string, any>;
};
const isClear = (input: PublishCommandInput) => /"(herald_)?action\\?":\\?"clear/.test(input.Message!);

beforeAll(async () => {
  harness = await createHarness({ visibilityTimeoutSeconds: 1 });
  const { handler: ingestHandler } = await import('../../lambdas/ingest');
  const { handler: deliveryHandler } = await import('../../lambdas/delivery');
  ingest = ingestHandler as never;
  delivery = new SqsEventSource({ sqs: harness.sqs, queueUrl: harness.queues.queueUrl, handler: deliveryHandler as never, waitTimeSeconds: 0 });
});

beforeEach(() => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'sns-message-id' });
});

describe('replace: a collapse id', () => {
  test('two notifications with one collapse id reach APNs and FCM with the same collapse id', async () => {
    // GIVEN
    const { bucket, iphone, pixel } = await bucketWithDevices();
    // WHEN two notifications share a collapse id
    const first = await send(bucket, { title: 'Backup running', body: '10 %', collapseId: 'backup-nas' });
    const second = await send(bucket, { title: 'Backup running', body: '90 %', collapseId: 'backup-nas' });
    await deliverAll();
    // THEN each device got both, and each carries the collapse id where its platform reads it
    const ios = publishes(iphone.endpointArn!);
    expect(ios).toHaveLength(2);
    for (const input of ios) {
      expect(input.MessageAttributes).toEqual({
        'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
        'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
        'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
        'AWS.SNS.MOBILE.APNS.COLLAPSE_ID': { DataType: 'String', StringValue: 'backup-nas' },
      });
    }
    expect(ios.map((input) => platformPayload(input).herald.id).sort()).toEqual([first, second].sort());
    expect(ios.map((input) => platformPayload(input).herald.collapseId)).toEqual(['backup-nas', 'backup-nas']);

    const android = publishes(pixel.endpointArn!);
    expect(android).toHaveLength(2);
    for (const input of android) {
      const message = platformPayload(input).fcmV1Message.message;
      expect(message.android).toMatchObject({ collapse_key: 'backup-nas', notification: { tag: 'backup-nas' } });
      expect(message.data.collapse_id).toBe('backup-nas');
      expect(input.MessageAttributes).toEqual({ 'AWS.SNS.MOBILE.FCM.TTL': { DataType: 'String', StringValue: '86400' } });
    }
  });
});

describe('clear: DELETE /notifications/{id}', () => {
  test('sends every device one silent clear push, with the exact SNS requests, and marks history', async () => {
    // GIVEN a delivered notification
    const { bucket, iphone, pixel } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Login_failed: jdoe', deliveryType: 'critical', collapseId: 'login-jdoe' });
    await deliverAll();
    sns.resetHistory();
    // WHEN it is cleared
    const response = await clear(id, { headers: bearer(bucket.token) });
    await deliverAll();
    // THEN 202 with when, and one clear push per device
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ id, cleared: true, clearedAt: expect.any(String) });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
    expect(publishes(iphone.endpointArn!)).toEqual([
      {
        TargetArn: iphone.endpointArn,
        MessageStructure: 'json',
        Message: JSON.stringify({
          default: `Herald: notification ${id} cleared`,
          APNS: JSON.stringify({ aps: { 'content-available': 1 }, herald: { action: 'clear', id, bucketId: bucket.bucket.id, collapseId: 'login-jdoe' } }),
        }),
        MessageAttributes: {
          'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'background' },
          'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '5' },
          'AWS.SNS.MOBILE.APNS.TTL': { DataType: 'String', StringValue: '86400' },
        },
      },
    ]);
    expect(publishes(pixel.endpointArn!)).toEqual([
      {
        TargetArn: pixel.endpointArn,
        MessageStructure: 'json',
        Message: JSON.stringify({
          default: `Herald: notification ${id} cleared`,
          GCM: JSON.stringify({
            fcmV1Message: {
              validate_only: false,
              message: { data: { herald_action: 'clear', herald_id: id, bucket_id: bucket.bucket.id, collapse_id: 'login-jdoe' }, android: { priority: 'normal', ttl: '86400s' } },
            },
          }),
        }),
        MessageAttributes: { 'AWS.SNS.MOBILE.FCM.TTL': { DataType: 'String', StringValue: '86400' } },
      },
    ]);
    // AND history says it was cleared, keeping its delivery outcomes
    const entry = await getHistory(harness.store, bucket.bucket.id, id);
    expect(entry).toMatchObject({ clearedAt: response.body.clearedAt, outcomes: { sent: 2 } });
    const own = await invoke(httpEvent('GET', `/notifications/${id}`, { headers: bearer(bucket.token) }));
    expect(own.body).toMatchObject({ clearedAt: response.body.clearedAt });
    // AND the clear outcomes are kept beside the notification's, under their own key
    expect([...(await listOutcomes(harness.store, `${id}#clear`)).values()].map((outcome) => outcome.status)).toEqual(['sent', 'sent']);
  });

  test('clearing twice answers the same and sends no second wave', async () => {
    // GIVEN a cleared notification
    const { bucket } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Disk full' });
    await deliverAll();
    const first = await clear(id, { headers: bearer(bucket.token) });
    await deliverAll();
    sns.resetHistory();
    // WHEN it is cleared again, on Zentik's path too
    const again = await clear(id, { headers: bearer(bucket.token) });
    const zentik = await clear(id, { headers: bearer(bucket.token), path: '/api/v1/messages' });
    await deliverAll();
    // THEN
    expect([first.status, again.status, zentik.status]).toEqual([202, 202, 202]);
    expect(again.body).toEqual(first.body);
    expect(zentik.body).toEqual(first.body);
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
  });

  test('a NO_PUSH notification is cleared in history only: no device ever had it', async () => {
    const { bucket } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Audit only', deliveryType: 'NO_PUSH' });
    await deliverAll();
    const response = await clear(id, { headers: bearer(bucket.token) });
    await deliverAll();
    expect(response).toMatchObject({ status: 202, body: { id, cleared: true } });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect((await getHistory(harness.store, bucket.bucket.id, id))?.clearedAt).toBe(response.body.clearedAt);
  });

  test('a magic code may clear, like it may send', async () => {
    const { bucket } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Backup done' });
    await deliverAll();
    sns.resetHistory();
    const response = await clear(id, { query: { magicCode: bucket.magicCode } });
    await deliverAll();
    expect(response.status).toBe(202);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 2);
  });

  test('needs credentials, and a token with the send scope', async () => {
    // GIVEN a delivered notification and a read-only token of its bucket
    const { bucket } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Deploy finished' });
    await deliverAll();
    const readOnly = `hrld_${randomUUID().replace(/-/g, '')}`;
    await addCredential(harness.store, { bucketId: bucket.bucket.id, kind: 'token', secret: readOnly, scopes: ['read'] });
    sns.resetHistory();
    // WHEN / THEN
    const anonymous = await clear(id);
    expect(anonymous).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    const reader = await clear(id, { headers: bearer(readOnly) });
    expect(reader).toMatchObject({ status: 403, body: { error: 'forbidden' } });
    await deliverAll();
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect((await getHistory(harness.store, bucket.bucket.id, id))?.clearedAt).toBeUndefined();
  });

  test("another bucket's notification is not found, as an unknown id is: ids leak nothing", async () => {
    // GIVEN a notification bucket A was sent yesterday, and bucket B's token
    const a = await bucketWithDevices();
    const b = await bucketWithDevices();
    const yesterday = new Date(Date.now() - 24 * 60 * 60 * 1000);
    const notification = stampNotification(validateNotification({ title: 'Secret' }), a.bucket.bucket.id, 'native', yesterday);
    await deliverNotification({ store: harness.store, gateway: new SnsPushGateway(new SNSClient({})), now: () => yesterday }, notification);
    sns.resetHistory();
    // WHEN B tries to clear it, or ids that were never sent
    const foreign = await clear(notification.id, { headers: bearer(b.bucket.token) });
    const old = await clear(uuidv7(new Date('2024-01-01T00:00:00Z')), { headers: bearer(b.bucket.token) });
    const notAnId = await clear('no-such-notification', { headers: bearer(b.bucket.token) });
    await deliverAll();
    // THEN all three are the same 404, and A's notification stays
    for (const response of [foreign, old, notAnId]) {
      expect(response).toEqual({ status: 404, body: { error: 'notification_not_found', message: expect.stringMatching(/^no notification \S+ in this bucket$/) } });
    }
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect(await getHistory(harness.store, a.bucket.bucket.id, notification.id)).toMatchObject({ outcomes: { sent: 2 } });
    expect((await getHistory(harness.store, a.bucket.bucket.id, notification.id))?.clearedAt).toBeUndefined();
  });

  test("a recent id of another bucket is answered like one on its way, and touches only the caller's bucket", async () => {
    // GIVEN a notification bucket A has just been sent
    const a = await bucketWithDevices();
    const b = await bucketWithDevices();
    const id = await send(a.bucket, { title: 'Secret' });
    await deliverAll();
    sns.resetHistory();
    // WHEN B clears its id
    const response = await clear(id, { headers: bearer(b.bucket.token) });
    await deliverAll();
    // THEN B gets what any recent unknown id gets (a pending clear of its own), and A is untouched
    const unknown = await clear(uuidv7(), { headers: bearer(b.bucket.token) });
    expect(response).toMatchObject({ status: 202, body: { pending: true } });
    expect(unknown).toMatchObject({ status: 202, body: { pending: true } });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    expect((await getHistory(harness.store, a.bucket.bucket.id, id))?.clearedAt).toBeUndefined();
    expect(await getHistory(harness.store, b.bucket.bucket.id, id)).toBeUndefined();
  });
});

describe('clear, and deleting the bucket', () => {
  test("deleting a bucket removes its cleared notifications' clear outcomes too", async () => {
    // GIVEN a cleared notification
    const { bucket } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Disk full' });
    await deliverAll();
    await clear(id, { headers: bearer(bucket.token) });
    await deliverAll();
    expect((await listOutcomes(harness.store, `${id}#clear`)).size).toBe(2);
    // WHEN
    const vault = { get: async () => undefined, put: async () => undefined, delete: async () => undefined };
    await deleteBucket({ store: harness.store, gateway: new SnsPushGateway(new SNSClient({})), vault }, bucket.bucket);
    // THEN
    expect((await listOutcomes(harness.store, id)).size).toBe(0);
    expect((await listOutcomes(harness.store, `${id}#clear`)).size).toBe(0);
  });
});

describe('clear, failures', () => {
  test('a clear SQS refuses is a 503 and taken back, so the retry queues it', async () => {
    // GIVEN a delivered notification, and a queue that refuses once
    const { bucket } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Disk full' });
    await deliverAll();
    const queued: DeliveryJob[] = [];
    let refuse = true;
    const queue: NotificationQueue = {
      async enqueue(jobs) {
        if (refuse) throw new EnqueueError('SQS refused the batch: ServiceUnavailable', new Set());
        queued.push(...jobs);
      },
    };
    // WHEN
    const refused = await clearNotification({ store: harness.store, queue }, bucket.bucket.id, id).catch((error: unknown) => error);
    const clearedAfterRefusal = (await getHistory(harness.store, bucket.bucket.id, id))?.clearedAt;
    refuse = false;
    const retried = await clearNotification({ store: harness.store, queue }, bucket.bucket.id, id);
    // THEN
    expect(refused).toMatchObject({ code: 'service_unavailable', status: 503, headers: { 'retry-after': '5' } });
    expect(clearedAfterRefusal).toBeUndefined();
    expect(retried).toEqual({ id, cleared: true, clearedAt: expect.any(String) });
    expect(queued).toEqual([{ kind: 'clear', notification: expect.objectContaining({ id, title: 'Disk full' }) }]);
  });

  test('a throttled clear is retried for that device alone', async () => {
    // GIVEN SNS throttles the first clear to the Pixel
    const { bucket, iphone, pixel } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Disk full' });
    await deliverAll();
    sns.resetHistory();
    let pixelClears = 0;
    sns.on(PublishCommand, { TargetArn: pixel.endpointArn }).callsFake(() => {
      pixelClears += 1;
      if (pixelClears === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException', $metadata: { httpStatusCode: 400 } });
      return { MessageId: 'retried' };
    });
    // WHEN
    await clear(id, { headers: bearer(bucket.token) });
    await deliverAll();
    // THEN the iPhone got its clear once; the Pixel once it went through
    expect(publishes(iphone.endpointArn!).map(isClear)).toEqual([true]);
    expect(publishes(pixel.endpointArn!).map(isClear)).toEqual([true, true]);
    expect([...(await listOutcomes(harness.store, `${id}#clear`)).values()].map((outcome) => outcome.detail).sort()).toEqual(['retried', 'sns-message-id']);
  });
});

describe('clear racing delivery', () => {
  test('a notification cleared before it is delivered is never pushed', async () => {
    // GIVEN a notification queued but not delivered yet
    const { bucket } = await bucketWithDevices();
    const id = await send(bucket, { title: 'Build failed', deliveryType: 'critical' });
    // WHEN it is cleared at once
    const response = await clear(id, { headers: bearer(bucket.token) });
    await deliverAll();
    // THEN the answer says it is pending, no device gets anything, and history has it as cleared
    expect(response).toMatchObject({ status: 202, body: { id, cleared: true, pending: true } });
    expect(sns).not.toHaveReceivedCommand(PublishCommand);
    const entry = await getHistory(harness.store, bucket.bucket.id, id);
    expect(entry).toMatchObject({ notification: { id, title: 'Build failed' }, clearedAt: response.body.clearedAt, outcomes: {} });
    // AND a repeat, now that it is in history, answers the same clear time without pending
    const again = await clear(id, { headers: bearer(bucket.token) });
    expect(again.body).toEqual({ id, cleared: true, clearedAt: response.body.clearedAt });
  });

  test('a bucket delivered page by page in one call is cleared on every page', async () => {
    // GIVEN three devices, one per page, and no continuation queue; the clear comes mid-delivery
    const { bucket, iphone, pixel } = await bucketWithDevices();
    const third = await addDevice(bucket.bucket.id, 'ios');
    const notification = stampNotification(validateNotification({ title: 'Paged' }), bucket.bucket.id, 'native');
    const published: string[] = [];
    const gateway = {
      ensureEndpoint: async () => 'unused',
      deleteEndpoint: async () => undefined,
      async publish(input: { TargetArn: string; Message: string }) {
        if (published.length === 0) await clearNotification({ store: harness.store, queue: { enqueue: async () => undefined } }, bucket.bucket.id, notification.id);
        published.push(`${input.TargetArn}${/clear/.test(input.Message) ? '#clear' : ''}`);
        return 'message-id';
      },
    };
    // WHEN
    await deliverNotification({ store: harness.store, gateway, pageSize: 1 }, notification);
    // THEN every device got the notification once and its clear once
    const endpoints = [iphone, pixel, third].map((device) => device.endpointArn!);
    expect(published.filter((target) => !target.endsWith('#clear')).sort()).toEqual([...endpoints].sort());
    expect(published.filter((target) => target.endsWith('#clear')).sort()).toEqual(endpoints.map((endpoint) => `${endpoint}#clear`).sort());
  });

  test('a notification cleared while it is being pushed is cleared from each device right after', async () => {
    // GIVEN the DELETE arrives during the first publish
    const { bucket, iphone, pixel } = await bucketWithDevices();
    let deleted: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    let id = '';
    sns.on(PublishCommand).callsFake(async (input: PublishCommandInput) => {
      if (!deleted && !isClear(input)) {
        deleted = clear(id, { headers: bearer(bucket.token) });
        await deleted;
      }
      return { MessageId: 'sns-message-id' };
    });
    // WHEN
    id = await send(bucket, { title: 'Certificate expires', collapseId: 'cert' });
    await deliverAll();
    // THEN the DELETE saw it pending, and each device got the notification once, then its clear once
    expect(await deleted).toMatchObject({ status: 202, body: { pending: true } });
    for (const device of [iphone, pixel]) {
      const inputs = publishes(device.endpointArn!);
      expect(inputs.map(isClear)).toEqual([false, true]);
    }
    expect(await getHistory(harness.store, bucket.bucket.id, id)).toMatchObject({ clearedAt: expect.any(String), outcomes: { sent: 2 } });
  });
});
