import { acceptNotifications } from '../../lambdas/core/accept';
import { HeraldError } from '../../lambdas/core/errors';
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EnqueueError, parseDeliveryJob, SqsNotificationQueue, type DeliveryJob, type NotificationQueue } from '../../lambdas/core/queue';
import { createBucket } from '../../lambdas/core/store/buckets';
import { createHarness, type Harness } from './harness';

/** A queue (Herald's own interface) that takes the first `accept` jobs of a call, then fails. */
class FailingQueue implements NotificationQueue {
  readonly queued: DeliveryJob[] = [];
  constructor(private readonly accept: number) {}
  async enqueue(jobs: readonly DeliveryJob[]): Promise<void> {
    const taken = jobs.slice(0, this.accept);
    this.queued.push(...taken);
    if (taken.length < jobs.length) throw new EnqueueError('queue down', new Set(taken.map((job) => job.notification.id)));
  }
}

describe('acceptNotifications when the queue fails partway', () => {
  let harness: Harness;
  let bucketId: string;

  beforeAll(async () => {
    harness = await createHarness();
    bucketId = (await createBucket(harness.store, { name: 'partial' })).bucket.id;
  });

  const batch = [
    { content: { title: 'first' }, dedupeKey: 'okta:event-1' },
    { content: { title: 'second' }, dedupeKey: 'okta:event-2' },
  ];

  test('answers 503, and the sender\'s retry queues only what was not queued', async () => {
    // GIVEN a queue that takes the first notification and then fails
    const failing = new FailingQueue(1);
    await expect(acceptNotifications({ store: harness.store, queue: failing }, bucketId, 'okta', batch)).rejects.toMatchObject(
      new HeraldError('service_unavailable', 'the notification could not be queued; retry later'),
    );
    expect(failing.queued.map((job) => job.notification.title)).toEqual(['first']);
    // WHEN the sender retries the same batch and the queue works again
    const working = new FailingQueue(10);
    const retried = await acceptNotifications({ store: harness.store, queue: working }, bucketId, 'okta', batch);
    // THEN the first is recognised as a replay and only the second is queued
    expect(retried.queued.map((notification) => notification.title)).toEqual(['second']);
    expect(retried.duplicates).toEqual([failing.queued[0]!.notification.id]);
  });
});

describe('acceptNotifications when SQS loses the reply', () => {
  test('the sender\'s retry queues the same notification id again, and a later replay queues nothing', async () => {
    // GIVEN a real queue on fauxqs whose SendMessageBatch reaches SQS but whose reply is lost
    const harness = await createHarness();
    const { bucket } = await createBucket(harness.store, { name: 'lost-reply' });
    const lossy = { send: async (command: SendMessageBatchCommand) => { await harness.sqs.send(command); throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }); } } as unknown as SQSClient;
    const item = [{ content: { title: 'Login failed: admin' }, dedupeKey: 'zitadel:event-9' }];
    await expect(acceptNotifications({ store: harness.store, queue: new SqsNotificationQueue(harness.queues.queueUrl, lossy) }, bucket.id, 'zitadel', item)).rejects.toMatchObject({ code: 'service_unavailable' });
    // WHEN the sender retries, and later replays once more
    const queue = new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs);
    const retried = await acceptNotifications({ store: harness.store, queue }, bucket.id, 'zitadel', item);
    const replayed = await acceptNotifications({ store: harness.store, queue }, bucket.id, 'zitadel', item);
    // THEN both queued messages carry one notification id (delivery pushes it once per device), and the replay queued nothing
    const bodies = await receiveAll(harness.sqs, harness.queues.queueUrl);
    const ids = bodies.map((body) => parseDeliveryJob(body).notification);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toEqual(ids[0]);
    expect(retried.queued.map((notification) => notification.id)).toEqual([ids[0]!.id]);
    expect(replayed).toMatchObject({ queued: [], duplicates: [ids[0]!.id] });
  });

  test('a batch SQS refused outright gives its claims back: the retry queues it afresh', async () => {
    const harness = await createHarness();
    const { bucket } = await createBucket(harness.store, { name: 'refused' });
    const refusing = { send: async () => ({ Successful: [], Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] }) } as unknown as SQSClient;
    const item = [{ content: { title: 'Password reset' }, dedupeKey: 'zitadel:event-10' }];
    await expect(acceptNotifications({ store: harness.store, queue: new SqsNotificationQueue(harness.queues.queueUrl, refusing) }, bucket.id, 'zitadel', item)).rejects.toMatchObject({ code: 'service_unavailable' });
    const retried = await acceptNotifications({ store: harness.store, queue: new SqsNotificationQueue(harness.queues.queueUrl, harness.sqs) }, bucket.id, 'zitadel', item);
    expect(retried.queued).toHaveLength(1);
    expect(retried.duplicates).toEqual([]);
  });
});

async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (Messages.length === 0) empty += 1;
    bodies.push(...Messages.map((message) => message.Body!));
  }
  return bodies;
}

describe('routine events', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await createHarness();
  });

  const batch = [
    { content: { title: 'Login failed: jdoe' }, dedupeKey: 'auth0:a' },
    { content: { title: 'Logout: jdoe' }, dedupeKey: 'auth0:b', routine: true },
  ];

  test('are dropped for a bucket that did not opt in', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'no-routine' });
    const queue = new FailingQueue(10);
    const accepted = await acceptNotifications({ store: harness.store, queue }, bucket.id, 'auth0', batch);
    expect(queue.queued.map((job) => job.notification.title)).toEqual(['Login failed: jdoe']);
    expect(accepted.routineDropped).toBe(1);
  });

  test('are queued for a bucket that opted in to that source', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'with-routine', routineSources: ['auth0'] });
    const queue = new FailingQueue(10);
    await acceptNotifications({ store: harness.store, queue }, bucket.id, 'auth0', batch);
    expect(queue.queued.map((job) => job.notification.title)).toEqual(['Login failed: jdoe', 'Logout: jdoe']);
  });

  test('of another source are still dropped', async () => {
    const { bucket } = await createBucket(harness.store, { name: 'okta-routine', routineSources: ['okta'] });
    const queue = new FailingQueue(10);
    await acceptNotifications({ store: harness.store, queue }, bucket.id, 'auth0', batch);
    expect(queue.queued).toHaveLength(1);
  });
});

describe('dedupe claims under lost answers', () => {
  test('a put retried after its answer was lost is still our own claim, not a replay', async () => {
    const harness = await createHarness();
    const { claimDedupeKey } = await import('../../lambdas/core/store/dedupe');
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'notification-1')).toBeUndefined();
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'notification-1')).toBeUndefined();
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'notification-2')).toEqual({ notificationId: 'notification-1' });
  });

  test('a release removes only our own claim', async () => {
    const harness = await createHarness();
    const { claimDedupeKey, releaseDedupeKey } = await import('../../lambdas/core/store/dedupe');
    await claimDedupeKey(harness.store, 'b', 'k', 'first');
    await releaseDedupeKey(harness.store, 'b', 'k', 'second');
    expect(await claimDedupeKey(harness.store, 'b', 'k', 'third')).toEqual({ notificationId: 'first' });
  });

  test('job bodies reach SQS as ASCII, characters outside the BMP included', async () => {
    const { messageBody, parseDeliveryJob } = await import('../../lambdas/core/queue');
    const job = { notification: { id: 'n', bucketId: 'b', title: 'Disk full 😀 — café', source: 'native', createdAt: '', deliveryType: 'NORMAL' as const } };
    const body = messageBody(job);
    expect(/^[\x20-\x7e]*$/.test(body)).toBe(true);
    expect(parseDeliveryJob(body)).toEqual(job);
  });
});
