import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AdminEvent } from '../../lambdas/admin';
import { peekDeadLetters, type DeadLetterDeps } from '../../lambdas/core/admin/dead-letters';
import { stampNotification, validateNotification, type Notification } from '../../lambdas/core/notification';
import { PushError, type PublishInput, type PushGateway } from '../../lambdas/core/push/gateway';
import { SqsNotificationQueue } from '../../lambdas/core/queue';
import { getDeliveryFailure, recordDeliveryFailure } from '../../lambdas/core/store/failures';
import { listOutcomes } from '../../lambdas/core/store/outcomes';
import type { Store } from '../../lambdas/core/store/table';
import { lambdaContext } from '../../lambdas/local/lambda-context';
import { LocalMessageMover } from '../../lambdas/local/message-mover';
import { SqsEventSource } from '../../lambdas/local/sqs-event-source';
import { ensureQueues, type LocalQueues } from '../../lambdas/local/stand-ins';
import { waitFor } from '../local/helpers';
import { createHarness, type Harness } from './harness';

/**
 * Dead letters on the stand-ins: the delivery handler records why an attempt failed (best effort),
 * the listing reads the DLQ without consuming it and joins those reasons, and a redrive moves the
 * messages back without pushing any device a second time.
 */

const IOS_ENDPOINT = 'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/herald-apns/ios';
const ANDROID_ENDPOINT = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/herald-fcm/android';

/** Publishes to Android fail (retryable, refused before sending) while `androidDown` is set. */
class FlakyGateway implements PushGateway {
  readonly publishes = new Map<string, number>();
  androidDown = true;
  async ensureEndpoint(): Promise<string> {
    throw new Error('not used');
  }
  async deleteEndpoint(): Promise<void> {}
  async publish(input: PublishInput): Promise<string> {
    if (this.androidDown && input.TargetArn === ANDROID_ENDPOINT) throw new PushError('retryable', 'InternalErrorException');
    this.publishes.set(input.TargetArn, (this.publishes.get(input.TargetArn) ?? 0) + 1);
    return randomUUID();
  }
}

let harness: Harness;

beforeAll(async () => {
  harness = await createHarness({ visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
});

/** A bucket with an iPhone (served first, in id order) and an Android phone. */
async function bucketWithTwoDevices(): Promise<string> {
  const bucketId = randomUUID();
  const now = new Date().toISOString();
  const device = (id: string, platform: string, endpointArn: string) => ({
    PutRequest: { Item: { pk: `BUCKET#${bucketId}`, sk: `DEVICE#${id}`, kind: 'device', bucketId, id, platform, enabled: true, endpointArn, createdAt: now, updatedAt: now } },
  });
  await harness.store.doc.send(
    new BatchWriteCommand({ RequestItems: { [harness.tableName]: [device('a-iphone', 'ios', IOS_ENDPOINT), device('b-pixel', 'android', ANDROID_ENDPOINT)] } }),
  );
  return bucketId;
}

const notificationFor = (bucketId: string, title = 'Failed login for admin'): Notification => stampNotification(validateNotification({ title }), bucketId, 'native');

function sqsEvent(notification: Notification): SQSEvent {
  const record: SQSRecord = {
    messageId: randomUUID(),
    receiptHandle: 'handle',
    body: JSON.stringify({ notification }),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'test', ApproximateFirstReceiveTimestamp: String(Date.now()) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:herald-queue',
    awsRegion: 'us-east-1',
  };
  return { Records: [record] };
}

/** A store whose client fails the commands `fails` picks, with an AWS-style named error. */
function failingStore(fails: (command: unknown) => string | undefined): Store {
  const send = harness.store.doc.send.bind(harness.store.doc) as (command: unknown) => Promise<unknown>;
  return {
    tableName: harness.tableName,
    doc: {
      send: async (command: unknown) => {
        const name = fails(command);
        if (name) throw Object.assign(new Error(`${name} (injected)`), { name });
        return send(command);
      },
    } as unknown as Store['doc'],
  };
}

async function deliveryHandler(overrides: Parameters<typeof import('../../lambdas/delivery').createDeliveryHandler>[0]) {
  const { createDeliveryHandler } = await import('../../lambdas/delivery');
  const handler = createDeliveryHandler(overrides);
  return (event: SQSEvent) => handler(event, lambdaContext('herald-delivery', 60_000)) as Promise<SQSBatchResponse>;
}

describe('the delivery handler records why an attempt failed', () => {
  test('devices to retry: the per-device reasons, and one more attempt counted each time', async () => {
    // GIVEN Android publishes fail
    const notification = notificationFor(await bucketWithTwoDevices());
    const deliver = await deliveryHandler({ gateway: new FlakyGateway(), sleep: async () => {} });
    const event = sqsEvent(notification);

    // WHEN two attempts fail
    const first = await deliver(event);
    await deliver(event);

    // THEN the message is failed each time and the reason is recorded once, counted twice
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(await getDeliveryFailure(harness.store, notification.id)).toEqual({
      notificationId: notification.id,
      reason: '1 device(s) to retry: InternalErrorException',
      attempts: 2,
      lastAt: expect.any(String),
    });
  });

  test('any other error: its name and message', async () => {
    // GIVEN the device listing fails
    const notification = notificationFor(await bucketWithTwoDevices());
    const store = failingStore((command) => (command instanceof QueryCommand ? 'ProvisionedThroughputExceededException' : undefined));
    const deliver = await deliveryHandler({ store, gateway: new FlakyGateway() });

    const result = await deliver(sqsEvent(notification));

    expect(result.batchItemFailures).toHaveLength(1);
    expect((await getDeliveryFailure(harness.store, notification.id))?.reason).toBe('ProvisionedThroughputExceededException: ProvisionedThroughputExceededException (injected)');
  });

  test('a failure to record changes nothing: the same batch result, no error thrown', async () => {
    // GIVEN the record itself cannot be written
    const notification = notificationFor(await bucketWithTwoDevices());
    const store = failingStore((command) => (command instanceof UpdateCommand && (command.input.Key as { sk: string }).sk === 'FAILURE' ? 'InternalServerError' : undefined));
    const deliver = await deliveryHandler({ store, gateway: new FlakyGateway(), sleep: async () => {} });
    const event = sqsEvent(notification);

    const result = await deliver(event);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.messageId }] });
    expect(await getDeliveryFailure(harness.store, notification.id)).toBeUndefined();
  });

  test('a delivered notification records nothing', async () => {
    const notification = notificationFor(await bucketWithTwoDevices());
    const gateway = new FlakyGateway();
    gateway.androidDown = false;
    const deliver = await deliveryHandler({ gateway });

    expect(await deliver(sqsEvent(notification))).toEqual({ batchItemFailures: [] });
    expect(await getDeliveryFailure(harness.store, notification.id)).toBeUndefined();
  });
});

describe('peekDeadLetters', () => {
  let queues: LocalQueues;
  let deps: DeadLetterDeps & { store: Store };

  beforeEach(async () => {
    queues = await ensureQueues(harness.sqs, `herald-peek-${randomUUID().slice(0, 8)}`, { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    deps = { sqs: harness.sqs, deadLetterQueueUrl: queues.deadLetterQueueUrl, store: harness.store, redrive: new LocalMessageMover(harness.sqs, queues.deadLetterQueueUrl, queues.queueUrl) };
  });

  const putInDlq = (body: string) => harness.sqs.send(new SendMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, MessageBody: body }));
  const depth = async () => {
    const { Attributes = {} } = await harness.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.deadLetterQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes.ApproximateNumberOfMessages), hidden: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
  };

  test('a Herald job shows its notification with the recorded reason; any other message its body', async () => {
    // GIVEN a failed notification and a poison message in the DLQ
    const notification = notificationFor(randomUUID(), 'Admin login from a new country');
    await recordDeliveryFailure(harness.store, notification.id, '1 device(s) to retry: InternalErrorException');
    const { MessageId: jobId } = await putInDlq(JSON.stringify({ notification }));
    const { MessageId: poisonId } = await putInDlq('{"not":"a herald job"}');

    // WHEN listed
    const listing = await peekDeadLetters(deps, 50);

    // THEN
    expect(listing.approximateCount).toBe(2);
    const byId = new Map(listing.deadLetters.map((letter) => [letter.messageId, letter]));
    expect(byId.get(jobId!)).toEqual({
      messageId: jobId,
      notificationId: notification.id,
      bucketId: notification.bucketId,
      title: 'Admin login from a new country',
      receiveCount: 1,
      firstReceivedAt: expect.any(String),
      sentAt: expect.any(String),
      reason: '1 device(s) to retry: InternalErrorException',
      attempts: 1,
      lastFailedAt: expect.any(String),
    });
    expect(byId.get(poisonId!)).toMatchObject({ messageId: poisonId, reason: 'not a Herald delivery job: queued message is not a Herald delivery job', body: '{"not":"a herald job"}' });
    expect(byId.get(poisonId!)?.notificationId).toBeUndefined();
  });

  test('a scheduled job (queued by EventBridge Scheduler) shows its notification and bucket ids', async () => {
    const id = randomUUID();
    const { MessageId } = await putInDlq(JSON.stringify({ kind: 'scheduled', notification: { id, bucketId: 'bucket-1' } }));

    const [letter] = (await peekDeadLetters(deps, 50)).deadLetters;

    expect(letter).toEqual({ messageId: MessageId, notificationId: id, bucketId: 'bucket-1', receiveCount: 1, firstReceivedAt: expect.any(String), sentAt: expect.any(String) });
  });

  test('a body that is not JSON says so, and a long one is cut', async () => {
    await putInDlq(`<html>${'x'.repeat(1000)}</html>`);

    const [letter] = (await peekDeadLetters(deps, 50)).deadLetters;

    expect(letter?.reason).toBe('not a Herald delivery job: its body is not JSON');
    expect(letter?.body).toHaveLength(256);
    expect(letter?.body?.endsWith('…')).toBe(true);
  });

  test('removes nothing and hides nothing: the messages are visible again at once', async () => {
    for (let i = 0; i < 3; i += 1) await putInDlq(JSON.stringify({ notification: notificationFor(randomUUID(), `n${i}`) }));

    const first = await peekDeadLetters(deps, 50);
    const second = await peekDeadLetters(deps, 50);

    expect(first.deadLetters).toHaveLength(3);
    expect(second.deadLetters.map((letter) => letter.messageId).sort()).toEqual(first.deadLetters.map((letter) => letter.messageId).sort());
    expect(await depth()).toEqual({ visible: 3, hidden: 0 });
  });

  test('lists up to the limit, each message once, across receives of 10', async () => {
    for (let i = 0; i < 23; i += 1) await putInDlq(JSON.stringify({ notification: notificationFor(randomUUID(), `n${i}`) }));

    const listing = await peekDeadLetters(deps, 21);

    expect(listing.deadLetters).toHaveLength(21);
    expect(new Set(listing.deadLetters.map((letter) => letter.messageId)).size).toBe(21);
    expect(listing.approximateCount).toBe(23);
  });

  test('an empty DLQ is an empty list, without waiting on a receive', async () => {
    const started = Date.now();

    expect(await peekDeadLetters(deps, 50)).toEqual({ deadLetters: [], approximateCount: 0 });
    expect(Date.now() - started).toBeLessThan(900);
  });
});

describe('redrive', () => {
  test('a notification whose first device was served, dead-lettered, then redriven: the served device is not pushed again', async () => {
    // GIVEN Android is down: the iPhone is served, the Android phone fails on every attempt
    const notification = notificationFor(await bucketWithTwoDevices(), 'Someone failed to log in as admin');
    const gateway = new FlakyGateway();
    const { createDeliveryHandler } = await import('../../lambdas/delivery');
    const delivery = new SqsEventSource({
      sqs: harness.sqs,
      queueUrl: harness.queues.queueUrl,
      handler: createDeliveryHandler({ gateway, sleep: async () => {}, claimTimeoutMs: 1000 }) as never,
      waitTimeSeconds: 0,
    });
    await new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs).enqueue([{ notification }]);
    const deps = { sqs: harness.sqs, deadLetterQueueUrl: harness.queues.deadLetterQueueUrl, store: harness.store };

    // WHEN it is received until SQS dead-letters it (maxReceiveCount 2)
    const dead = await waitFor('the notification in the DLQ', async () => {
      await delivery.pollOnce();
      const { deadLetters } = await peekDeadLetters(deps, 10);
      return deadLetters.find((letter) => letter.notificationId === notification.id);
    }, 30_000);

    // THEN the listing says why
    expect(dead).toMatchObject({ reason: '1 device(s) to retry: InternalErrorException', attempts: 2 });
    expect(gateway.publishes.get(IOS_ENDPOINT)).toBe(1);
    expect(gateway.publishes.get(ANDROID_ENDPOINT)).toBeUndefined();

    // WHEN Android is back and the DLQ is redriven
    gateway.androidDown = false;
    const mover = new LocalMessageMover(harness.sqs, harness.queues.deadLetterQueueUrl, harness.queues.queueUrl);
    await mover.start();
    await mover.idle();
    expect(await mover.list()).toEqual([expect.objectContaining({ status: 'COMPLETED', messagesMoved: 1, messagesToMove: 1 })]);
    await waitFor('the Android phone served', async () => {
      await delivery.pollOnce();
      return gateway.publishes.get(ANDROID_ENDPOINT);
    });
    for (let i = 0; i < 3; i += 1) await delivery.pollOnce(); // anything left would show up now

    // THEN each device got it exactly once, and both outcomes are final
    expect(gateway.publishes.get(IOS_ENDPOINT)).toBe(1);
    expect(gateway.publishes.get(ANDROID_ENDPOINT)).toBe(1);
    expect([...(await listOutcomes(harness.store, notification.id)).values()].map((outcome) => outcome.status)).toEqual(['sent', 'sent']);
    expect(await delivery.depth()).toBe(0);
  });
});

describe('the admin handler\'s dead-letter routes', () => {
  function adminEvent(method: string, path: string, query = ''): AdminEvent {
    return {
      version: '2.0',
      routeKey: 'ANY /admin/{proxy+}',
      rawPath: path,
      rawQueryString: query,
      headers: { host: 'abc123.execute-api.us-east-1.amazonaws.com' },
      ...(query ? { queryStringParameters: Object.fromEntries(new URLSearchParams(query)) } : {}),
      pathParameters: { proxy: path.replace(/^\/admin\//, '') },
      requestContext: {
        accountId: '123456789012', apiId: 'abc123', domainName: 'abc123.execute-api.us-east-1.amazonaws.com', domainPrefix: 'abc123',
        http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'herald-cli' },
        requestId: randomUUID(), routeKey: 'ANY /admin/{proxy+}', stage: '$default', time: new Date().toUTCString(), timeEpoch: Date.now(),
        authorizer: { iam: { accessKey: 'ASIAEXAMPLE', accountId: '123456789012', callerId: 'AROA:op', cognitoIdentity: null, principalOrgId: '', userArn: 'arn:aws:sts::123456789012:assumed-role/Op/op', userId: 'AROA:op' } },
      },
      isBase64Encoded: false,
    } as AdminEvent;
  }

  async function invoke(handler: ReturnType<typeof import('../../lambdas/admin').createAdminHandler>, event: AdminEvent) {
    const result = await handler(event, lambdaContext('herald-admin', 10_000));
    return { status: result.statusCode, json: JSON.parse(result.body ?? 'null') as Record<string, any> };
  }

  test('list, redrive, then the redrive\'s status', async () => {
    // GIVEN a DLQ with one poison message, and the admin handler given it
    const queues = await ensureQueues(harness.sqs, `herald-routes-${randomUUID().slice(0, 8)}`, { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 });
    await harness.sqs.send(new SendMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, MessageBody: 'poison' }));
    const redrive = new LocalMessageMover(harness.sqs, queues.deadLetterQueueUrl, queues.queueUrl);
    const { createAdminHandler } = await import('../../lambdas/admin');
    const handler = createAdminHandler({ deadLetters: { sqs: harness.sqs, deadLetterQueueUrl: queues.deadLetterQueueUrl, redrive } });

    // WHEN / THEN
    const listed = await invoke(handler, adminEvent('GET', '/admin/dead-letters', 'limit=5'));
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual({ approximateCount: 1, deadLetters: [expect.objectContaining({ body: 'poison', receiveCount: 1 })] });

    const started = await invoke(handler, adminEvent('POST', '/admin/dead-letters/redrive'));
    expect(started).toEqual({ status: 202, json: { taskHandle: expect.any(String), alreadyRunning: false } });
    await redrive.idle();

    const status = await invoke(handler, adminEvent('GET', '/admin/dead-letters/redrive'));
    expect(status).toEqual({ status: 200, json: { tasks: [{ status: 'COMPLETED', startedAt: expect.any(String), messagesMoved: 1, messagesToMove: 1 }] } });
    const { Attributes } = await harness.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(Attributes?.ApproximateNumberOfMessages).toBe('1');
  });

  test('a limit outside 1–100 is a 400 validation_failed', async () => {
    const { createAdminHandler } = await import('../../lambdas/admin');
    const handler = createAdminHandler({ deadLetters: { sqs: harness.sqs, deadLetterQueueUrl: harness.queues.deadLetterQueueUrl, redrive: new LocalMessageMover(harness.sqs, harness.queues.deadLetterQueueUrl, harness.queues.queueUrl) } });

    const listed = await invoke(handler, adminEvent('GET', '/admin/dead-letters', 'limit=500'));

    expect(listed.status).toBe(400);
    expect(listed.json.error).toBe('validation_failed');
  });

  test('without a dead-letter queue configured: 503, saying which setting is missing', async () => {
    delete process.env.DEAD_LETTER_QUEUE_URL;
    const { createAdminHandler } = await import('../../lambdas/admin');

    const listed = await invoke(createAdminHandler(), adminEvent('GET', '/admin/dead-letters'));

    expect(listed.status).toBe(503);
    expect(listed.json).toEqual({ error: 'service_unavailable', message: expect.stringContaining('DEAD_LETTER_QUEUE_URL') });
  });
});
